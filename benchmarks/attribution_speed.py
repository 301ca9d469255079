"""Images per second of the attribution methods through ``BatchCAM`` (CPU or GPU).

Times whole batches of random inputs on a random-weight ResNet-18 (or DeiT-tiny) and reports
images/s by wall time and by CPU (process) time, so a shared box's load is visible. Occlusion
uses the default window (1/8 of the side, stride half of it: 15 x 15 windows at 128 px) and
Integrated Gradients 32 steps, as ``tools/analysis/gradcam.py`` does by default. Results go to
the "Interventions and attributions" section of docs/benchmarks.md.

Example::

    OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python benchmarks/attribution_speed.py \
        --methods gradcam occlusion integrated-gradients --size 128 --batch 8 --repeats 3
"""
import argparse
import os
import statistics
import time

import torch
from intervention_speed import build  # same folder (benchmarks/)

import osteo_mm  # noqa: F401
from osteo_mm.explain import METHODS, BatchCAM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', default='resnet18', choices=['resnet18', 'deit-t'])
    parser.add_argument('--methods', nargs='+', default=['gradcam', 'occlusion',
                                                          'integrated-gradients'],
                        choices=METHODS)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    model = build(args.arch, args.size).to(args.device)
    images = torch.randn(args.batch, 3, args.size, args.size,
                         generator=torch.Generator().manual_seed(0)).to(args.device)
    print(f'{args.arch} {args.size} px, batch {args.batch}, {args.device}, {args.repeats} '
          f'repeats (load average {os.getloadavg()[0]:.1f}, torch threads '
          f'{torch.get_num_threads()})')
    for method in args.methods:
        explainer = BatchCAM(model, method=method, score='log-odds')
        explainer(images[:2], [1, 1])  # warm-up
        wall, cpu = [], []
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            explainer(images, [1] * args.batch)
            if args.device.startswith('cuda'):
                torch.cuda.synchronize()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        print(f'  {method:>24}: {args.batch / statistics.median(wall):7.2f} img/s wall '
              f'(best {args.batch / min(wall):.2f}), {args.batch / statistics.median(cpu):7.2f} '
              'img per CPU-second')


if __name__ == '__main__':
    main()
