"""Generate the built-in shoulder or chest radiograph phantom.

Examples:
    python tools/dataset_converters/make_phantom.py shoulder --out data/phantom_shoulder \
        --num-patients 1000 --size 256 --seed 0
    python tools/dataset_converters/make_phantom.py shoulder --out data/phantom_shortcut \
        --num-patients 600 --size 128 --shortcut-rate 0.9 --shortcut-splits train,val
    python tools/dataset_converters/make_phantom.py chest --out data/phantom_chest \
        --num-patients 500 --images-per-patient 3 --size 256

Interrupted and re-run with the same arguments, it resumes where it stopped.
"""
import argparse
import sys

from osteo_mm.datasets.phantom import POSE_SHIFT, generate_chest, generate_shoulder
from osteo_mm.utils.cli import UserInputError, cli_main

_SHOULDER_ONLY = {'format', 'split_ratios', 'shortcut_rate', 'shortcut_splits',
                  'shortcut_elsewhere', 'signal_region', 'pose_shift'}
_CHEST_ONLY = {'test_ratio'}


def _fractions(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected comma-separated numbers, got {text!r}') from None


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Generate a synthetic radiograph phantom')
    parser.add_argument('kind', choices=['shoulder', 'chest'], help='which phantom')
    parser.add_argument('--out', required=True, help='output folder (empty, or a run to resume)')
    parser.add_argument('--num-patients', type=int, required=True, help='number of patients')
    parser.add_argument('--size', type=int, default=256, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='random seed (same seed, same bytes)')
    parser.add_argument('--images-per-patient', type=int,
                        help='films per patient (default: 1 shoulder, 3 chest follow-ups)')
    parser.add_argument('--unlabeled', action='store_true',
                        help='write images only (self-supervised pretraining)')
    parser.add_argument('--workers', type=int, default=1,
                        help='worker processes (the output is the same for any number)')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    shoulder = parser.add_argument_group('shoulder only')
    shoulder.add_argument('--format', choices=['dicom', 'png'],
                          help='image format (default dicom; chest is always PNG, as NIH)')
    shoulder.add_argument('--split-ratios', type=_fractions, metavar='TRAIN,VAL,TEST',
                          help='patient fractions per split (default 0.7,0.15,0.15)')
    shoulder.add_argument('--shortcut-rate', type=float,
                          help='burn in a marker agreeing with the osteoporosis label at this '
                          'rate (0.5 = uncorrelated)')
    shoulder.add_argument('--shortcut-splits',
                          help='splits carrying the correlated marker (default train,val)')
    shoulder.add_argument('--shortcut-elsewhere', choices=['absent', 'flipped'],
                          help='the marker in the other splits (default absent)')
    shoulder.add_argument('--signal-region', choices=['anatomy', 'roi'],
                          help="where the T-score shows: 'anatomy' (default: whole diaphyseal "
                          "cortex, head and metaphysis) or 'roi' (only inside the expert ROI)")
    shoulder.add_argument('--pose-shift', type=float,
                          help='largest translation of the anatomy per axis, in film sides '
                          '(default 0.06; at most 0.25)')
    chest = parser.add_argument_group('chest only')
    chest.add_argument('--test-ratio', type=float,
                       help='fraction of patients in test_list.txt (default 0.2)')
    return parser.parse_args(argv)


def run(argv=None) -> str:
    """Parse ``argv`` and generate the phantom; bad values raise :class:`UserInputError`.

    Args:
        argv (list[str], optional): Command-line arguments (``sys.argv[1:]`` when None).

    Returns:
        str: Path of the written annotation file (image folder for ``--unlabeled``).
    """
    args = parse_args(argv)
    given = {name for name, value in vars(args).items() if value is not None}
    misplaced = sorted(given & (_CHEST_ONLY if args.kind == 'shoulder' else _SHOULDER_ONLY))
    if misplaced:
        flags = ', '.join('--' + name.replace('_', '-') for name in misplaced)
        raise UserInputError(f'{flags}: not an option of the {args.kind} phantom')
    if args.shortcut_rate is None and given & {'shortcut_splits', 'shortcut_elsewhere'}:
        raise UserInputError('--shortcut-splits/--shortcut-elsewhere need --shortcut-rate')
    try:
        if args.kind == 'shoulder':
            return generate_shoulder(
                args.out, args.num_patients, size=args.size, seed=args.seed,
                images_per_patient=args.images_per_patient or 1, fmt=args.format or 'dicom',
                split_ratios=args.split_ratios or (0.7, 0.15, 0.15),
                shortcut_rate=args.shortcut_rate,
                shortcut_splits=[s.strip() for s in (args.shortcut_splits or 'train,val')
                                 .split(',')],
                shortcut_elsewhere=args.shortcut_elsewhere or 'absent', unlabeled=args.unlabeled,
                signal_region=args.signal_region or 'anatomy',
                pose_shift=POSE_SHIFT if args.pose_shift is None else args.pose_shift,
                workers=args.workers,
                progress=not args.no_progress)
        return generate_chest(
            args.out, args.num_patients, size=args.size, seed=args.seed,
            images_per_patient=args.images_per_patient or 3,
            test_ratio=0.2 if args.test_ratio is None else args.test_ratio,
            unlabeled=args.unlabeled, workers=args.workers, progress=not args.no_progress)
    except ValueError as err:
        raise UserInputError(str(err)) from None


@cli_main
def main() -> None:
    print(f'wrote {run(sys.argv[1:])}')


if __name__ == '__main__':
    main()
