"""Grad-CAM causality on the shoulder phantom: trained vs random vs priors, clean vs shortcut.

Thin command line over :mod:`osteo_mm.experiments.cam_phantom_causality` (see its docstring for
the steps; results in docs/benchmarks.md, "Grad-CAM and causality").

Example (CPU, small)::

    nice -n 10 python tools/analysis/cam_phantom_causality.py /tmp/cam_phantom \\
        --num-patients 400 --epochs 6
"""
import argparse

from osteo_mm.datasets.phantom import POSE_SHIFT
from osteo_mm.experiments.cam_phantom_causality import OUTPUT_STRIDES, run
from osteo_mm.explain import CAM_SCORES
from osteo_mm.models.guidance import CAMAlignmentGuidance
from osteo_mm.utils.cli import cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument('--num-patients', type=int, default=400)
    parser.add_argument('--phantom-size', type=int, default=128, help='side of the films')
    parser.add_argument('--img-size', type=int, default=64, help='network input side')
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=0, help='dataloader workers')
    parser.add_argument('--gen-workers', type=int, default=1, help='phantom writer processes')
    parser.add_argument('--amp', action='store_true', help='train with mixed precision')
    parser.add_argument('--init-ckpt', help='initialise both trained models\' backbones from '
                        'this checkpoint (e.g. chest SparK); the random model stays random')
    parser.add_argument('--output-stride', type=int, default=32, choices=sorted(OUTPUT_STRIDES),
                        help='ResNet output stride; 16 or 8 dilate the last stage(s), so the '
                        'default CAM layer is 2x or 4x finer')
    parser.add_argument('--shortcut-rate', type=float, default=0.95)
    parser.add_argument('--signal-region', choices=['anatomy', 'roi'], default='anatomy',
                        help="phantom variant: 'roi' confines the bone signal to the expert ROI")
    parser.add_argument('--pose-shift', type=float, default=POSE_SHIFT,
                        help='largest translation of the anatomy per axis, in film sides: '
                        'larger values move the expert ROI away from the film centre')
    parser.add_argument('--no-shortcut', action='store_true',
                        help='only the clean and random models (half the training)')
    parser.add_argument('--guided-weight', type=float,
                        help='also train a model on the clean phantom with the CAM-alignment '
                        'penalty of this weight (expert-guided learning) and explain it')
    parser.add_argument('--guided-loss', default='outside_mass',
                        choices=CAMAlignmentGuidance.LOSSES,
                        help='the penalty: CAM mass outside the ROI, or 1 - correlation or '
                        'cosine of the map with the ROI on the CAM grid')
    parser.add_argument('--method', default='gradcam')
    parser.add_argument('--score', default='logit', choices=CAM_SCORES,
                        help='explained score of the ground-truth class')
    parser.add_argument('--target-layers', nargs='+', help='default: last backbone stage')
    return parser.parse_args(argv)



@cli_main
def main(argv=None) -> None:
    run(parse_args(argv))


if __name__ == '__main__':
    main()
