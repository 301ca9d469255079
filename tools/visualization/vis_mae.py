"""Draw original | masked | reconstruction rows for an MAE or SparK pretraining checkpoint.

Examples:
    python tools/visualization/vis_mae.py \
        configs/mae/mae_deit-t-p16_1xb32-coslr-8e_phantom-chest-128px.py \
        work_dirs/mae/epoch_8.pth data/phantom_chest/images/0000000[1-4]_000.png --out grid.png

With norm-pix targets (MAE and SparK defaults) masked patches are shown with the true patch
brightness and contrast: the model predicts the pattern within a patch, not its mean.
"""
import argparse
import os
import os.path as osp

import cv2
from mmengine.config import DictAction

from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file
from osteo_mm.visualization.mim import render_reconstructions


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Visualise MAE / SparK reconstructions')
    parser.add_argument('config', help='pretraining config file (MAE or SparK)')
    parser.add_argument('checkpoint', help='pretraining checkpoint')
    parser.add_argument('images', nargs='+', help='image files (PNG, JPEG or DICOM), one row each')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random masks')
    parser.add_argument('--device', default='cpu', help='torch device, e.g. cpu or cuda:0')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


@cli_main
def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    if cfg.model.get('type') not in ('MAE', 'SparK'):
        raise UserInputError(f'{args.config}: model type must be MAE or SparK, '
                             f'got {cfg.model.get("type")!r}')
    require_file(args.checkpoint, 'checkpoint')
    for path in args.images:
        require_file(path, 'image')
    if not args.out.lower().endswith('.png'):
        raise UserInputError(f'--out must be a .png file, got {args.out}')
    grid = render_reconstructions(cfg, args.checkpoint, args.images, args.seed, args.device)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = f'{args.out}.tmp.png'
    cv2.imwrite(tmp, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    os.replace(tmp, args.out)
    print(f'wrote {args.out} ({len(args.images)} rows: original | masked | reconstruction)')


if __name__ == '__main__':
    main()
