"""Data efficiency on the phantoms at CPU scale: shoulder test AUC vs labelled fraction.

Thin command line over :mod:`osteo_mm.experiments.data_efficiency_phantom` (scratch vs
chest-MAE, chest-SparK and proxy-task inits); results in docs/benchmarks.md.

Example:
    nice -n 10 python tools/analysis/data_efficiency_phantom.py \\
        --shoulder-root data/phantom_shoulder --spark-ckpt work_dirs/spark/epoch_8.pth \\
        --work-dir work_dirs/data_efficiency_phantom
"""
import argparse

from osteo_mm.experiments.data_efficiency_phantom import BACKBONES, run
from osteo_mm.utils.cli import cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Data efficiency on the phantoms (CPU scale)')
    parser.add_argument('--shoulder-root', required=True)
    parser.add_argument('--mae-ckpt', help='chest-MAE DeiT-tiny checkpoint (init chest-mae)')
    parser.add_argument('--spark-ckpt', help='chest-SparK ResNet-18 checkpoint (chest-spark)')
    parser.add_argument('--init', action='append', default=[], metavar='NAME[@BACKBONE]=CKPT',
                        help='another initialisation, as in tools/analysis/data_efficiency.py '
                        '(repeatable)')
    parser.add_argument('--backbones', nargs='+', choices=sorted(BACKBONES),
                        default=sorted(BACKBONES))
    parser.add_argument('--work-dir', default='work_dirs/data_efficiency_phantom')
    parser.add_argument('--img-size', type=int, default=64)
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--fractions', nargs='+', type=float, default=[0.1, 0.25, 1.0])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1])
    return parser.parse_args(argv)



@cli_main
def main(argv=None) -> None:
    run(parse_args(argv))


if __name__ == '__main__':
    main()
