"""Guided vs plain training on the shortcut shoulder phantom, with ROIs on a fraction of images.

Thin command line over :mod:`osteo_mm.experiments.guided_shortcut` (its docstring has the
protocol); results in docs/benchmarks.md, "Expert-guided learning".

Example::

    nice -n 10 python tools/analysis/guided_shortcut.py data/phantom_sc work_dirs/guided_sc \\
        --run plain=configs/resnet/resnet18_shoulder-binary.py:1.0 \\
        --run cam=configs/guided/resnet18_phantom-shoulder+guided-cam.py:0.25
"""
import argparse

from osteo_mm.experiments.guided_shortcut import run
from osteo_mm.utils.cli import UserInputError, cli_main


@cli_main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='Guided vs plain training on the shortcut '
                                     'phantom')
    parser.add_argument('data_root', help='shortcut phantom from make_phantom.py shoulder')
    parser.add_argument('work_dir')
    parser.add_argument('--run', action='append', required=True, metavar='NAME=CONFIG:FRACTION',
                        help='a run: its name, config and the share of training patients '
                        'with ROI (repeatable; the first is the reference)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='config overrides for every run (key=value)')
    args = parser.parse_args(argv)
    for spec in args.run:
        if '=' not in spec or ':' not in spec.split('=', 1)[1]:
            raise UserInputError(f'--run {spec!r}: expected NAME=CONFIG:FRACTION')
    print(f"report: {run(args.data_root, args.work_dir, args.run, args.cfg_options)}")


if __name__ == '__main__':
    main()
