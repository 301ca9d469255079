"""The whole study end-to-end on the built-in phantoms (see osteo_mm/experiments/demo.py).

    python tools/demo.py [--work-dir work_dirs/demo] [--full] [--seed 0]

Re-running after an interruption skips the finished steps.
"""
import argparse
import time

from osteo_mm.experiments.demo import Demo
from osteo_mm.utils.cli import cli_main


@cli_main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='End-to-end demo on phantom data')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--full', action='store_true', help='research scale (GPU recommended)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    start = time.time()
    scale = 'full' if args.full else 'small'
    report = Demo(args.work_dir, scale=scale, seed=args.seed).run()
    print(f'[demo] finished in {time.time() - start:.0f} s')
    print(f'[demo] report: {report}')


if __name__ == '__main__':
    main()
