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


def images_per_second(arch: str, guidance: Optional[dict], size: int, batch_size: int,
                      steps: int) -> float:
    """Time ``steps`` SGD steps after one warm-up step and return images per second."""
    torch.manual_seed(0)
    cfg = dict(ARCHS[arch](size), data_preprocessor=dict(
        type='ClsDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3))
    if guidance is None:
        cfg['type'] = 'ImageClassifier'
    else:
        cfg.update(type='GuidedImageClassifier', guidance=copy.deepcopy(guidance))
    model = MODELS.build(cfg).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    batch = make_batch(batch_size, size)
    for step in range(steps + 1):
        if step == 1:
            start = time.perf_counter()
        data = model.data_preprocessor(batch, training=True)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', choices=sorted(ARCHS), default='resnet18')
    parser.add_argument('--size', type=int, default=128, help='square input size in pixels')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--steps', type=int, default=5, help='timed steps after one warm-up')
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    plain = None
    print(f'arch={args.arch} size={args.size} batch={args.batch_size} steps={args.steps} '
          f'threads={args.threads}')
    for name, guidance in GUIDANCES.items():
        rate = images_per_second(args.arch, guidance, args.size, args.batch_size, args.steps)
        plain = plain or rate
        print(f'{name:24s} {rate:8.2f} img/s   ratio to plain {rate / plain:.2f}')


if __name__ == '__main__':
    main()
