"""Cost of the ROI intervention against the batched forward passes it needs.

With K controls the intervention evaluates 2 + K copies of every image (original, ROI filled,
K controls filled). This script times ``RegionIntervention`` on a batch and, separately, the
same 2 + K batched forward passes alone, on the same model and inputs; the ratio is the
overhead of placing the controls and filling the regions. Target (issue 19): K = 4 costs no
more than 1.25x its forward passes. Also reported against 1 + K passes, the count the issue
text names, and, for a caller that already has the original logits (``original_logits=``, 1 + K
passes), that variant against 1 + K passes. Results go to the "Interventions and attributions"
section of docs/benchmarks.md.

Example::

    OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python benchmarks/intervention_speed.py \
        --size 128 --batch 16 --controls 4 --fill blur --repeats 5
"""
import argparse
import os
import statistics
import time

import numpy as np
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401
from osteo_mm.explain.intervention import FILLS, RegionIntervention


def build(arch: str, size: int) -> torch.nn.Module:
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    if arch == 'resnet18':
        cfg = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18),
                   neck=dict(type='GlobalAveragePooling'),
                   head=dict(type='LinearClsHead', num_classes=2, in_channels=512))
    else:
        cfg = dict(type='ImageClassifier',
                   backbone=dict(type='VisionTransformer', arch='deit-t', img_size=size,
                                 patch_size=16),
                   head=dict(type='VisionTransformerClsHead', num_classes=2, in_channels=192))
    return MODELS.build(cfg).eval()


def phantom_like(batch: int, size: int, seed: int = 0):
    """Films with a bright 'anatomy' band on a dark background and an ROI on the band."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, size, size, generator=gen) * 0.2 - 1.0
    images[:, :, :, size // 4:3 * size // 4] += 2.0
    regions = np.zeros((batch, size, size), bool)
    regions[:, size // 3:size // 2, size // 3:size // 2] = True
    return images, regions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', default='resnet18', choices=['resnet18', 'deit-t'])
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--controls', type=int, default=4)
    parser.add_argument('--fill', default='blur', choices=FILLS)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    model = build(args.arch, args.size).to(args.device)
    images, regions = phantom_like(args.batch, args.size)
    images = images.to(args.device)
    reference = images.flip(-1) if args.fill == 'reference' else None
    intervention = RegionIntervention(model, fill=args.fill, controls=args.controls)
    passes = 2 + args.controls

    def sync():
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()

    def forwards(n):
        with torch.no_grad():
            for _ in range(n):
                model(images)
        sync()

    def intervene(original_logits=None):
        intervention(images, regions, [1] * args.batch, keys=range(args.batch),
                     reference=reference, original_logits=original_logits)
        sync()

    with torch.no_grad():
        known = model(images)

    intervene()
    forwards(1)  # warm-up
    rows = {'intervention': [], 'known logits': [], f'{passes} forwards': [],
            f'{passes - 1} forwards': []}
    cpu = {k: [] for k in rows}
    for _ in range(args.repeats):  # interleaved, so load changes hit all alike
        for name, fn in (('intervention', intervene),
                         ('known logits', lambda: intervene(known)),
                         (f'{passes} forwards', lambda: forwards(passes)),
                         (f'{passes - 1} forwards', lambda: forwards(passes - 1))):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            rows[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    med = {k: statistics.median(v) for k, v in rows.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(f'{args.arch} {args.size} px, batch {args.batch}, K={args.controls}, fill '
          f'{args.fill}, {args.device}, {args.repeats} repeats (load average '
          f'{os.getloadavg()[0]:.1f}, torch threads {torch.get_num_threads()})')
    for name in rows:
        print(f'  {name:>14}: wall median {med[name]:.3f} s (min {min(rows[name]):.3f} s), '
              f'CPU median {med_cpu[name]:.3f} s')
    for top, name in (('intervention', f'{passes} forwards'),
                      ('intervention', f'{passes - 1} forwards'),
                      ('known logits', f'{passes - 1} forwards')):
        print(f'  {top} / {name}: wall {med[top] / med[name]:.2f}x '
              f'(min/min {min(rows[top]) / min(rows[name]):.2f}x), CPU '
              f'{med_cpu[top] / med_cpu[name]:.2f}x')


if __name__ == '__main__':
    main()
