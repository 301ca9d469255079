"""Extract the backbone of an MAE / SparK (or any MMPretrain) checkpoint and check it loads.

Writes ``{'state_dict': {'backbone.*': ...}, 'meta': ...}`` without decoder, mask tokens and
optimizer state; with ``--config`` it also loads the weights into that classifier's backbone
and prints which tensors were filled (``--strict``: exit 2 unless all were).

Examples:
    python tools/model_converters/mim2backbone.py work_dirs/mae/epoch_400.pth \
        checkpoints/mae_deit-t_backbone.pth --config configs/vit/deit-tiny_shoulder-binary.py
"""
import argparse
import os
import os.path as osp

import torch
from mmpretrain.registry import MODELS

from osteo_mm.models.converters import backbone_state_dict, check_load, with_prefix
from osteo_mm.utils.checkpoint import safe_load
from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Extract and check pretrained backbone weights')
    parser.add_argument('src', help='pretraining checkpoint (MAE, SparK, proxy task, ...)')
    parser.add_argument('dst', help='output checkpoint with backbone.* weights only')
    parser.add_argument('--config', help='classifier config whose backbone must load them')
    parser.add_argument('--strict', action='store_true',
                        help='fail unless every backbone tensor of --config loads')
    return parser.parse_args(argv)


@cli_main
def main() -> None:
    args = parse_args()
    require_file(args.src, 'checkpoint')
    try:
        weights = backbone_state_dict(safe_load(args.src, map_location='cpu'))
    except KeyError as err:
        raise UserInputError(f'{args.src}: {err.args[0]}') from None
    if args.config:
        cfg = load_config(args.config)
        cfg.model.get('backbone', {}).pop('init_cfg', None)
        backbone = MODELS.build(cfg.model).backbone
        report = check_load(backbone, weights)
        print(f'{args.src} -> {type(backbone).__name__} of {args.config}')
        print(report.summary())
        if args.strict and not report.complete:
            raise UserInputError(f'{args.src} does not fill every backbone tensor of '
                                 f'{args.config} (see the report above)')
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    ckpt = with_prefix(weights)
    ckpt['meta'] = dict(source=osp.basename(args.src), converter='mim2backbone')
    tmp = f'{args.dst}.tmp'
    torch.save(ckpt, tmp)
    os.replace(tmp, args.dst)
    print(f'wrote {len(weights)} backbone tensors to {args.dst}')


if __name__ == '__main__':
    main()
