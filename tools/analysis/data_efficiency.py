"""Data-efficiency study: label fractions x initialisations x backbones x seeds -> AUC table.

Examples:
    python tools/analysis/data_efficiency.py \
        --backbone resnet18=configs/resnet/resnet18_phantom-shoulder-binary.py \
        --backbone deit-t=configs/vit/deit-tiny_phantom-shoulder-binary.py \
        --init scratch \
        --init chest-spark@resnet18=work_dirs/spark/epoch_20.pth \
        --init chest-mae@deit-t=work_dirs/mae/epoch_20.pth \
        --fractions 0.1 0.25 1 --seeds 0 1 2 --work-dir work_dirs/data_efficiency

Writes ``results.csv`` (one row per run), ``summary.csv`` / ``summary.md`` (mean and 95 %
t-interval over seeds) and ``learning_curve.png`` in the work dir. Finished runs are skipped,
so the same command resumes an interrupted study.
"""
import argparse
import os

from mmengine.config import DictAction

from osteo_mm.experiments.data_efficiency import (
    parse_inits,
    plan_runs,
    run_study,
    write_outputs,
)
from osteo_mm.utils.cli import UserInputError, cli_main, load_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Data-efficiency study (AUC vs labels)')
    parser.add_argument('--backbone', action='append', required=True, metavar='NAME=CONFIG',
                        help='a shoulder classifier config, repeatable')
    parser.add_argument('--init', action='append', required=True,
                        metavar='NAME[@BACKBONE][=CKPT]',
                        help='an initialisation: a name alone trains from scratch; with =CKPT '
                        "the checkpoint's backbone.* weights initialise the model; @BACKBONE "
                        'restricts it to one backbone. Repeatable')
    parser.add_argument('--fractions', nargs='+', type=float, default=[0.1, 0.25, 1.0],
                        help='fractions of labelled training patients')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--metric', default='binary/roc_auc', help='test metric to collect')
    parser.add_argument('--work-dir', default='work_dirs/data_efficiency')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every backbone config, key=value')
    return parser.parse_args(argv)


def _split(item: str, flag: str) -> tuple:
    name, sep, value = item.partition('=')
    if not name or (sep and not value):
        raise UserInputError(f'{flag} {item!r}: expected NAME=VALUE')
    return name, value or None


@cli_main
def main() -> None:
    args = parse_args()
    configs = {}
    for item in args.backbone:
        name, path = _split(item, '--backbone')
        if path is None:
            raise UserInputError(f'--backbone {item!r}: expected NAME=CONFIG')
        configs[name] = load_config(path, args.cfg_options)
    try:
        runs = plan_runs(configs, parse_inits(args.init), args.fractions, args.seeds)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    os.makedirs(args.work_dir, exist_ok=True)
    results = run_study(configs, runs, args.work_dir, args.metric)
    summary = write_outputs(results, args.work_dir, args.metric)
    print(summary.to_string(index=False, float_format='%.3f'))
    print(f'wrote results.csv, summary.csv, summary.md, learning_curve.png in {args.work_dir}')


if __name__ == '__main__':
    main()
