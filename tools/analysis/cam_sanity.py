"""Model-parameter randomisation sanity check of CAMs (Adebayo et al., NeurIPS 2018).

Randomises the classifier cascading from the head down and compares each step's maps with the
trained model's (Spearman rank correlation and SSIM). Writes ``OUT/cam_sanity.csv`` and
``OUT/cam_sanity.png``.

Example:
    python tools/analysis/cam_sanity.py CONFIG CKPT --method gradcam --num-images 32 \
        --out-dir work_dirs/x/cam_sanity
"""
import argparse

from mmengine.config import DictAction

from osteo_mm.explain import CAM_METHODS, CAM_SCORES, parse_target
from osteo_mm.explain.analysis import build_split, load_classifier
from osteo_mm.explain.sanity import run_cam_sanity
from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Cascading randomisation test of CAMs')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--split', default='test', choices=['test', 'val', 'train'])
    parser.add_argument('--method', default='gradcam', choices=sorted(CAM_METHODS))
    parser.add_argument('--score', default='logit', choices=CAM_SCORES,
                        help="explained score of the target class: the raw 'logit' or its "
                        "'log-odds' against the other classes (drops what all logits share)")
    parser.add_argument('--target', default='pred', help="'gt', 'pred' or a class index")
    parser.add_argument('--target-layers', nargs='+', help='e.g. backbone.layer3')
    parser.add_argument('--num-images', type=int, default=32)
    parser.add_argument('--seed', type=int, default=0, help='seed of the re-initialisation')
    parser.add_argument('--out-dir', default='work_dirs/cam_sanity')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    require_file(args.checkpoint, 'checkpoint')
    if args.num_images < 1:
        raise UserInputError(f'--num-images must be >= 1, got {args.num_images}')
    try:
        target = parse_target(args.target)
        dataset, loader_cfg = build_split(cfg, args.split)
        model, _ = load_classifier(cfg, args.checkpoint, args.device)
        table = run_cam_sanity(model, dataset, loader_cfg, args.out_dir, method=args.method,
                               target=target, num_images=args.num_images,
                               target_layers=args.target_layers, seed=args.seed,
                               score=args.score)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    summary = table.groupby(['step', 'randomized_block'])[['spearman', 'ssim']].mean()
    print(summary.to_string(float_format='%.3f'))


if __name__ == '__main__':
    main()
