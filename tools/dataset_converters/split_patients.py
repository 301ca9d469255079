"""Split a shoulder-schema CSV into patient-disjoint, label-stratified train/val/test or folds.

Examples:
    python tools/dataset_converters/split_patients.py data/shoulder/labels.csv \
        --out-dir data/shoulder/splits --fractions 0.7,0.15,0.15 --seed 0
    python tools/dataset_converters/split_patients.py data/shoulder/labels.csv \
        --add-column data/shoulder/labels_split.csv
    python tools/dataset_converters/split_patients.py data/shoulder/labels.csv \
        --out-dir data/shoulder/cv5 --folds 5
"""
import argparse

from osteo_mm.datasets.csv_io import read_csv
from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.tools import assign_folds, assign_splits, write_splits
from osteo_mm.utils.cli import UserInputError, cli_main


def _fractions(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected TRAIN,VAL,TEST numbers, got {text!r}') from None


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Patient-grouped, stratified dataset splits')
    parser.add_argument('ann_file', help='CSV with image, patient_id and label/t_score')
    parser.add_argument('--out-dir', help='write train/val/test.csv (or fold_k/) here')
    parser.add_argument('--add-column', metavar='OUT_CSV',
                        help='write the input plus a split (or fold) column to this file')
    parser.add_argument('--fractions', type=_fractions, default=[0.7, 0.15, 0.15],
                        metavar='TRAIN,VAL,TEST', help='patient fractions (default 0.7,0.15,0.15)')
    parser.add_argument('--folds', type=int, help='make K folds instead of train/val/test')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--overwrite', action='store_true', help='replace existing outputs')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.out_dir and not args.add_column:
        raise UserInputError('give --out-dir and/or --add-column')
    try:
        df = read_csv(args.ann_file)
        if args.folds is not None:
            assignment = assign_folds(df, args.ann_file, args.folds, args.seed)
        else:
            assignment = assign_splits(df, args.ann_file, args.fractions, args.seed)
        written = write_splits(df, assignment, args.out_dir, args.add_column, args.overwrite)
    except (XrayDataError, ValueError) as err:
        raise UserInputError(str(err)) from None
    patients = df['patient_id'].str.strip()
    for name in sorted(assignment.unique()):
        rows = assignment == name
        print(f'{assignment.name} {name}: {int(rows.sum())} images, '
              f'{patients[rows].nunique()} patients')
    print('patient overlap between splits: none')
    print('wrote ' + ', '.join(written))


if __name__ == '__main__':
    main()
