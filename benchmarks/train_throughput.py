"""Training images/s of ``tools/train.py`` (MMEngine Runner) vs a plain PyTorch loop.

Both train the same model (built from ``configs/_base_/models/<model>_xray.py``) on the same
in-memory uint8 tensors with the same batch size, normalisation, loss and SGD settings, in one
process. The Runner run goes through ``tools/train.py`` itself (argv, config file, hooks,
logging, data preprocessor, checkpoint hook); a probe hook time-stamps every iteration. The
first ``--warmup`` iterations of each run are excluded; runs are interleaved and the median of
``--repeats`` is reported. Throughput is given per wall-clock second and per CPU second of the
process (``time.process_time``, all threads): on a machine shared with other jobs the wall-clock
figure swings with their load, the CPU-time figure much less. Results go to the
"Classification" section of docs/benchmarks.md.

Example::

    nice -n 10 .venv/bin/python benchmarks/train_throughput.py --model resnet18 --img-size 64
"""
import argparse
import importlib.util
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import List, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmpretrain.registry import DATASETS, HOOKS, MODELS
from mmpretrain.structures import DataSample
from torch.utils.data import DataLoader, Dataset, TensorDataset

import osteo_mm  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MEAN, STD = 127.5, 64.0
_ITER_TIMES: List[Tuple[float, float]] = []
#: (images uint8 N x 3 x H x W, labels N) shared by both loops; set in main().
_DATA: dict = {}


@DATASETS.register_module()
class BenchmarkTensorDataset(Dataset):
    """The benchmark's shared tensors, already packed as MMPretrain samples (no decoding)."""

    metainfo = dict(classes=('not_osteoporosis', 'osteoporosis'))

    def __init__(self) -> None:
        self.images, self.labels = _DATA['images'], _DATA['labels']

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=self.images[idx],
                    data_samples=DataSample().set_gt_label(int(self.labels[idx])))


@HOOKS.register_module()
class ThroughputProbeHook(Hook):
    """Record a timestamp after every training iteration."""

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        _ITER_TIMES.append(_now())


def _now() -> Tuple[float, float]:
    """(wall-clock seconds, CPU seconds of this process)."""
    return time.perf_counter(), time.process_time()


def images_per_s(stamps: List[Tuple[float, float]], warmup: int,
                 batch_size: int) -> Tuple[float, float]:
    """Images per wall-clock second and per CPU second over the iterations after ``warmup``."""
    timed = stamps[warmup:]
    images = (len(timed) - 1) * batch_size
    return tuple(images / (timed[-1][i] - timed[0][i]) for i in range(2))


def write_config(args, work_dir: str) -> str:
    """A config inheriting the model base and the runtime, training on the shared tensors.

    Iteration-based training uses MMEngine's ``InfiniteSampler``: with a finite sampler the
    loop restarts the dataloader every epoch and sleeps 2 s each time.
    """
    path = osp.join(work_dir, f'bench_{args.model}.py')
    with open(path, 'w') as f:
        f.write(f"""_base_ = ['{ROOT}/configs/_base_/models/{args.model}_xray.py',
          '{ROOT}/configs/_base_/default_runtime.py']
data_preprocessor = dict(num_classes=2, mean=[{MEAN}] * 3, std=[{STD}] * 3, to_rgb=False)
train_dataloader = dict(batch_size={args.batch_size}, num_workers=0,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(type='BenchmarkTensorDataset'))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(by_epoch=False, max_iters={args.iters})
default_hooks = dict(checkpoint=dict(by_epoch=False, interval={args.iters}, save_last=False),
                     logger=dict(interval=10))
custom_hooks = [dict(type='RunInfoHook'), dict(type='ThroughputProbeHook')]
""")
        if args.model.startswith(('deit', 'vit')):
            f.write(f'model = dict(backbone=dict(img_size={args.img_size}))\n')
    return path


def run_toolkit(train_tool, config: str, work_dir: str, args) -> Tuple[float, float]:
    """One ``tools/train.py`` run in this process; returns images/s after warm-up."""
    _ITER_TIMES.clear()
    argv = sys.argv
    sys.argv = ['tools/train.py', config, '--work-dir', work_dir, '--no-validate']
    try:
        train_tool.main()
    finally:
        sys.argv = argv
    return images_per_s(_ITER_TIMES, args.warmup, args.batch_size)


def run_plain(config: str, args) -> Tuple[float, float]:
    """The same model, tensors and optimiser in a hand-written PyTorch loop."""
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(TensorDataset(_DATA['images'], _DATA['labels']),
                        batch_size=args.batch_size, shuffle=True)
    stamps = []
    while len(stamps) < args.iters:
        for images, labels in loader:
            logits = model((images.float() - MEAN) / STD, mode='tensor')
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            stamps.append(_now())
            if len(stamps) == args.iters:
                break
    return images_per_s(stamps, args.warmup, args.batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', default='resnet18',
                        choices=['resnet18', 'resnet34', 'resnet50', 'deit-tiny', 'deit-small',
                                 'vit-base'])
    parser.add_argument('--img-size', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-images', type=int, default=256)
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location('train_tool', osp.join(ROOT, 'tools/train.py'))
    train_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_tool)
    generator = torch.Generator().manual_seed(0)
    _DATA.update(
        images=torch.randint(0, 256, (args.num_images, 3, args.img_size, args.img_size),
                             dtype=torch.uint8, generator=generator),
        labels=torch.randint(0, 2, (args.num_images, ), generator=generator))
    plain, toolkit = [], []
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(args, tmp)
        for repeat in range(args.repeats):
            plain.append(run_plain(config, args))
            toolkit.append(run_toolkit(train_tool, config, osp.join(tmp, str(repeat)), args))
    print(f'model={args.model} img_size={args.img_size} batch={args.batch_size} '
          f'iters={args.iters} (warm-up {args.warmup}) repeats={args.repeats} '
          f'threads={torch.get_num_threads()}')
    for i, unit in enumerate(('wall-clock s', 'CPU s')):
        p = [run[i] for run in plain]
        t = [run[i] for run in toolkit]
        print(f'images per {unit}: plain {[round(v, 1) for v in p]} median '
              f'{statistics.median(p):.1f}; tools/train {[round(v, 1) for v in t]} median '
              f'{statistics.median(t):.1f}; toolkit / plain = '
              f'{100 * statistics.median(t) / statistics.median(p):.1f} %')


if __name__ == '__main__':
    main()
