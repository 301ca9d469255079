"""Time the shoulder phantom generator end to end (render + DICOM/PNG + masks + CSV).

Example:
    nice -n 10 python benchmarks/phantom_speed.py --num-patients 2000 --size 256
"""
import argparse
import os
import tempfile
import time

from osteo_mm.datasets.phantom import generate_shoulder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-patients', type=int, default=2000, help='one film each')
    parser.add_argument('--size', type=int, default=256, help='image side in pixels')
    parser.add_argument('--format', choices=['dicom', 'png'], default='dicom')
    parser.add_argument('--workers', type=int, default=1, help='worker processes')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        cpu_start = time.process_time()
        generate_shoulder(os.path.join(out, 'phantom'), args.num_patients, size=args.size,
                          seed=0, fmt=args.format, workers=args.workers)
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        children = os.times()
        cpu += children.children_user + children.children_system
    print(f'{args.num_patients} shoulder films at {args.size} px ({args.format}, '
          f'{args.workers} worker(s)): '
          f'{wall:.1f} s wall, {cpu:.1f} s CPU, {args.num_patients / wall:.1f} films/s')


if __name__ == '__main__':
    main()
