"""Grid search: one inheriting child config per point, run sequentially or printed.

Examples:
    python tools/grid_search.py configs/mae/mae_deit-tiny_phantom-chest-128px.py \
        --grid configs/grids/mae_mask_lr_epochs.yaml --work-dir work_dirs/grid_mae
    python tools/grid_search.py BASE.py --set optim_wrapper.optimizer.lr=1e-3,1e-4 \
        --set train_cfg.max_epochs=5,10 --launcher slurm --gpus 8 --partition gpu

Interrupted and re-run with the same arguments, it skips finished points and resumes the
point that was training.
"""
import argparse

from osteo_mm.experiments.grid_search import load_grid, run_grid
from osteo_mm.utils.cli import cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Grid search over config settings')
    parser.add_argument('config', help='base config every grid point inherits')
    parser.add_argument('--grid', help='YAML file: dotted config key -> list of values')
    parser.add_argument('--set', action='append', default=[], metavar='KEY=V1,V2',
                        help='add a grid axis (repeatable)')
    parser.add_argument('--work-dir', required=True, help='root directory of the grid runs')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help="'none' runs the points here; 'pytorch'/'slurm' print commands")
    parser.add_argument('--gpus', type=int, default=1, help='GPUs per point (printed commands)')
    parser.add_argument('--partition', default='PARTITION', help='Slurm partition')
    parser.add_argument('--sort-by', help='metric to sort the results table by (descending)')
    parser.add_argument('--train-args', nargs=argparse.REMAINDER, default=[],
                        help='arguments passed on to tools/train.py (put last)')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    grid = load_grid(args.grid, args.set)
    rows = run_grid(args.config, grid, args.work_dir, launcher=args.launcher, gpus=args.gpus,
                    partition=args.partition, sort_by=args.sort_by, train_args=args.train_args)
    if rows:
        print(f'results: {args.work_dir}/results.md ({len(rows)} points)')


if __name__ == '__main__':
    main()
