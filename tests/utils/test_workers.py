"""Persistent dataloader workers are stopped when a tool finishes."""
from types import SimpleNamespace

import torch
from mmengine.runner import BaseLoop
from torch.utils.data import DataLoader, TensorDataset

from osteo_mm.utils.workers import stop_dataloader_workers


class _Loop(BaseLoop):
    def run(self) -> None:
        for _ in self.dataloader:
            pass


def test_built_loops_lose_their_persistent_workers_and_unbuilt_ones_are_left_alone():
    loader = DataLoader(TensorDataset(torch.arange(8.0)), batch_size=4, num_workers=2,
                        persistent_workers=True)
    loop = _Loop(runner=None, dataloader=loader)
    loop.run()
    workers = list(loader._iterator._workers)
    assert all(w.is_alive() for w in workers)  # persistent: still up after the epoch
    unbuilt = dict(type='ValLoop')  # a loop config the runner never built
    runner = SimpleNamespace(_train_loop=loop, _val_loop=unbuilt, _test_loop=None)
    assert stop_dataloader_workers(runner) == 2
    assert not any(w.is_alive() for w in workers)
    assert loader._iterator is None and runner._val_loop is unbuilt
    assert stop_dataloader_workers(runner) == 0  # idempotent
    loop.run()  # the loader still works: it starts new workers
