"""Count images and patients per split, class and view of a config's datasets.

Examples:
    python tools/analysis/dataset_stats.py configs/_base_/datasets/shoulder_xray.py \
        --cfg-options data_root=data/shoulder --out work_dirs/shoulder_stats.csv
"""
import argparse

from mmengine.config import DictAction
from mmpretrain.registry import DATASETS

import osteo_mm  # noqa: F401  (registers the datasets)
from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.tools import atomic_write_csv, dataset_stats
from osteo_mm.utils.cli import UserInputError, cli_main, load_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Dataset counts per split/class/view/patient')
    parser.add_argument('config', help='config with train/val/test dataloaders')
    parser.add_argument('--splits', nargs='+', default=['train', 'val', 'test'],
                        help='dataloaders to count (default: train val test)')
    parser.add_argument('--out', help='also write the table to this CSV')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. data_root=...')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    datasets = {}
    for split in args.splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            raise UserInputError(f'config {args.config} has no {split}_dataloader')
        ds_cfg = dict(loader['dataset'], pipeline=[])
        if 'data_root' in (args.cfg_options or {}):
            ds_cfg['data_root'] = args.cfg_options['data_root']
        try:
            datasets[split] = DATASETS.build(ds_cfg)
        except XrayDataError as err:
            raise UserInputError(str(err)) from None
    table = dataset_stats(datasets)
    print(table.to_string(index=False))
    if args.out:
        atomic_write_csv(table, args.out)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
