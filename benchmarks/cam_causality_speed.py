"""Time of all causality scores (and the all-zero-map count) on 1,000 CAM-like maps at 224 px
(target: < 2 s).

Maps are 7x7 random grids upsampled bilinearly to 224 px (what Grad-CAM on a ResNet's last stage
gives); masks are one box per map at a random position. Reports the median and min wall time and
the median CPU time (process time) over repeats.
Results go to the "Grad-CAM and causality" section of docs/benchmarks.md.

Example::

    nice -n 10 .venv/bin/python benchmarks/cam_causality_speed.py --repeats 5
"""
import argparse
import os
import statistics
import time

import cv2
import numpy as np

from osteo_mm.evaluation.metrics.causality import causality_scores, zero_maps


def make_batch(n: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    maps = np.stack([cv2.resize(g, (size, size)) for g in rng.random((n, 7, 7), np.float32)])
    masks = np.zeros((n, size, size), np.uint8)
    for mask, (y, x) in zip(masks, rng.integers(0, size // 2, (n, 2))):
        mask[y:y + size // 3, x:x + size // 4] = 1
    return maps, masks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-maps', type=int, default=1000)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--tolerance', type=int, default=15)
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    maps, masks = make_batch(args.num_maps, args.size)
    times, cpu = [], []
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        scores = causality_scores(maps, masks, tolerance=args.tolerance)
        zero = zero_maps(maps)  # the all-zero-map count that joins every table
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    # CPU time is what the computation costs; wall time also counts waiting for a shared core.
    print(f'{args.num_maps} maps at {args.size} px, {len(scores)} scores, tolerance '
          f'{args.tolerance} px: wall median {statistics.median(times):.2f} s (min '
          f'{min(times):.2f} s), CPU median {statistics.median(cpu):.2f} s over {args.repeats} '
          f'runs (load average {os.getloadavg()[0]:.1f})')
    print({k: round(float(np.nanmean(v)), 3) for k, v in scores.items()},
          f'zero maps: {int(zero.sum())}')


if __name__ == '__main__':
    main()
