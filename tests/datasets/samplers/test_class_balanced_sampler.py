from collections import Counter

import pytest
from mmpretrain.registry import DATA_SAMPLERS

import osteo_mm  # noqa: F401


class ToyDataset:
    """Minimal stand-in with MMPretrain's ``get_data_info`` interface."""

    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, idx):
        return dict(gt_label=self.labels[idx])


def test_minority_class_is_drawn_about_as_often_as_majority():
    dataset = ToyDataset([0] * 90 + [1] * 10)
    sampler = DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', num_samples=4000, seed=0),
                                  default_args=dict(dataset=dataset))
    counts = Counter(dataset.labels[i] for i in sampler)
    assert len(sampler) == 4000
    assert 0.45 < counts[1] / 4000 < 0.55


def test_epochs_differ_but_are_reproducible():
    sampler = DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', seed=3),
                                  default_args=dict(dataset=ToyDataset([0, 1, 1, 2] * 5)))
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) == first != second


def test_multilabel_dataset_is_rejected():
    with pytest.raises(ValueError, match='image 1'):
        DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', seed=0),
                            default_args=dict(dataset=ToyDataset([0, [0, 1]])))


def _rank_indices(rank, world_size, port, out_dir, dataset_len, num_samples):
    """One gloo rank: iterate the sampler with a collective per step, as DDP does."""
    import datetime
    import json

    import torch
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=30))
    try:
        sampler = DATA_SAMPLERS.build(
            dict(type='ClassBalancedSampler', num_samples=num_samples, seed=0),
            default_args=dict(dataset=ToyDataset([0] * (dataset_len - 2) + [1, 1])))
        indices = []
        for index in sampler:  # a rank with more indices than another would block here
            step = torch.ones(1)
            dist.all_reduce(step)
            assert step.item() == world_size
            indices.append(index)
        with open(f'{out_dir}/rank{rank}.json', 'w') as f:
            json.dump(dict(len=len(sampler), indices=indices), f)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize('dataset_len, num_samples', [(7, None), (9, 5)])
def test_two_gloo_ranks_get_equally_many_indices(tmp_path, dataset_len, num_samples):
    """A real 2-process gloo run on an odd dataset: ranks yield the same number of indices
    (the draw is padded to a multiple of the world size) and no rank waits on the other."""
    import json
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.start_processes(_rank_indices, args=(2, port, str(tmp_path), dataset_len, num_samples),
                       nprocs=2, join=True, start_method='fork')
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)]
    expected = -(-(num_samples or dataset_len) // 2)
    assert [r['len'] for r in ranks] == [expected, expected]
    assert [len(r['indices']) for r in ranks] == [expected, expected]
    assert all(0 <= i < dataset_len for r in ranks for i in r['indices'])
