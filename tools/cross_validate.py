"""Repeated, patient-grouped k-fold cross-validation of a binary shoulder config.

Examples:
    python tools/cross_validate.py configs/resnet/resnet18_phantom-shoulder-binary.py \
        --folds 5 --repeats 2 --seed 0 --work-dir work_dirs/cv_resnet18
    # nested selection of a grid point inside every training fold
    python tools/cross_validate.py CONFIG --folds 5 --grid grid.yaml \
        --select-metric binary/roc_auc --work-dir work_dirs/cv_nested
    # print the per-fold training commands (then re-run without --launcher to test and pool)
    python tools/cross_validate.py CONFIG --folds 5 --work-dir D --launcher slurm --gpus 8

Re-run with the same arguments to resume: finished folds are never retrained. Two runs with the
same data, --folds and --seed share their folds, so their ``oof_preds.csv`` files can be
compared image by image with tools/analysis/compare_models.py.
"""
import argparse

from mmengine.config import DictAction

from osteo_mm.experiments.cross_validation import DEFAULT_SELECT_METRIC, CrossValidation
from osteo_mm.experiments.grid_search import load_grid
from osteo_mm.utils.cli import cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Patient-grouped k-fold cross-validation')
    parser.add_argument('config', help='binary shoulder config; its training CSV is the pool')
    parser.add_argument('--folds', type=int, required=True, help='number of folds K')
    parser.add_argument('--repeats', type=int, default=1, help='repeats R (seed + r each)')
    parser.add_argument('--seed', type=int, default=0, help='base seed of folds and training')
    parser.add_argument('--val-fraction', type=float, default=0.15,
                        help='patients of each training fold carved out for validation')
    parser.add_argument('--work-dir', required=True, help='output directory')
    parser.add_argument('--grid', help='nested selection: YAML grid (grid_search.py format)')
    parser.add_argument('--set', action='append', default=[], metavar='KEY=V1,V2',
                        help='add a nested-selection grid axis (repeatable)')
    parser.add_argument('--select-metric', default=DEFAULT_SELECT_METRIC,
                        help='validation metric that picks the grid point (higher is better)')
    parser.add_argument('--recalibrate', choices=['platt', 'isotonic'],
                        help='recalibrate each fold on its validation predictions')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides written into every fold config')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help="'none' runs the folds here; 'pytorch'/'slurm' print commands")
    parser.add_argument('--gpus', type=int, default=1, help='GPUs per training (printed)')
    parser.add_argument('--partition', default='PARTITION', help='Slurm partition')
    parser.add_argument('--train-args', nargs=argparse.REMAINDER, default=[],
                        help='arguments passed on to tools/train.py (put last)')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    grid = load_grid(args.grid, args.set) if (args.grid or args.set) else None
    cv = CrossValidation(args.config, args.work_dir, args.folds, args.repeats, args.seed,
                         args.val_fraction, grid, args.select_metric, args.cfg_options,
                         args.train_args, recalibrate=args.recalibrate)
    summary = cv.run(args.launcher, args.gpus, args.partition)
    if summary is not None:
        avg = summary['repeat_averaged']
        print(f'out-of-fold AUC (repeat-averaged) {avg["auc"]:.3f} '
              f'[{avg["auc_ci_low"]:.3f}, {avg["auc_ci_high"]:.3f}]; '
              f'summary: {args.work_dir}/cv_summary.md')


if __name__ == '__main__':
    main()
