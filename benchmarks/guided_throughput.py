"""Training throughput of expert-guided vs plain classifiers (images/s, one process).

Times full training steps (data preprocessor, forward, backward, SGD step) of the same model
with and without each guidance penalty, every image carrying an ROI (the worst case: batches
without ROI skip the penalty). Results go to the "Expert-guided learning" section of
docs/benchmarks.md.

Example::

    nice -n 10 .venv/bin/python benchmarks/guided_throughput.py --arch resnet18 --size 128
"""
import argparse
import copy
import statistics
import time
from typing import Optional

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import osteo_mm  # noqa: F401  (registers the guided classifier)

ARCHS = {
    'resnet18': lambda size: dict(
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=512)),
    'deit-t': lambda size: dict(
        backbone=dict(type='VisionTransformer', arch='deit-t', img_size=size, patch_size=16),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=2, in_channels=192)),
}
GUIDANCES = {
    'plain': None,
    'InputGradientGuidance': dict(type='InputGradientGuidance', weight=1.0),
    'CAMAlignmentGuidance': dict(type='CAMAlignmentGuidance', weight=1.0),
}


def make_batch(batch_size: int, size: int) -> dict:
    """Random uint8 images, each with an ROI over its central quarter."""
    samples = []
    for index in range(batch_size):
        mask = torch.zeros(size, size, dtype=torch.uint8)
        mask[size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
        sample = DataSample(metainfo=dict(img_id=str(index), has_roi=True))
        sample.set_gt_label(index % 2)
        sample.set_field(mask, 'roi_mask')
        samples.append(sample)
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8) for _ in samples]
    return dict(inputs=inputs, data_samples=samples)


def build_model(arch: str, guidance: Optional[dict], size: int) -> torch.nn.Module:
    """The plain ``ImageClassifier`` (``guidance=None``) or the guided one, seeded."""
    torch.manual_seed(0)
    cfg = dict(ARCHS[arch](size), data_preprocessor=dict(
        type='ClsDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3))
    if guidance is None:
        cfg['type'] = 'ImageClassifier'
    else:
        cfg.update(type='GuidedImageClassifier', guidance=copy.deepcopy(guidance))
    return MODELS.build(cfg).train()


def seconds_per_step(model: torch.nn.Module, batch: dict, steps: int) -> float:
    """Mean wall time of ``steps`` SGD steps."""
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(steps):
        data = model.data_preprocessor(batch, training=True)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', choices=sorted(ARCHS), default='resnet18')
    parser.add_argument('--size', type=int, default=128, help='square input size in pixels')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--steps', type=int, default=2, help='timed steps per repeat')
    parser.add_argument('--repeats', type=int, default=3,
                        help='rounds over all variants (interleaved, so that load from other '
                        'processes hits every variant alike); the median is reported')
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    batch = make_batch(args.batch_size, args.size)
    models = {name: build_model(args.arch, guidance, args.size)
              for name, guidance in GUIDANCES.items()}
    for model in models.values():
        seconds_per_step(model, batch, steps=1)  # warm-up
    times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            times[name].append(seconds_per_step(model, batch, args.steps))
    print(f'arch={args.arch} size={args.size} batch={args.batch_size} steps={args.steps} '
          f'repeats={args.repeats} threads={args.threads}')
    plain = statistics.median(times['plain'])
    for name, values in times.items():
        median = statistics.median(values)
        print(f'{name:24s} {args.batch_size / median:8.2f} img/s   '
              f'ratio to plain {plain / median:.3f}')


if __name__ == '__main__':
    main()
