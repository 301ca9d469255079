"""Batched Grad-CAM over a dataset split: overlays, raw maps and per-image causality.

Writes ``OUT/causality.csv`` (joinable with ``tools/test.py --out preds.csv`` on ``img_id``),
``OUT/maps/<img_id>.npz`` and ``OUT/vis/<img_id>.png``; a killed run resumes where it stopped.

Example:
    python tools/analysis/gradcam.py CONFIG CKPT --split test --method gradcam++ \
        --target gt --out-dir work_dirs/x/gradcam --num-vis 32
"""
import argparse

from mmengine.config import DictAction

from osteo_mm.explain import CAM_SCORES, METHODS, parse_target
from osteo_mm.explain.analysis import build_split, load_classifier, run_gradcam
from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Grad-CAM maps and causality for a split')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--split', default='test', choices=['test', 'val', 'train'])
    parser.add_argument('--method', default='gradcam', choices=METHODS,
                        help='a CAM (at --target-layers) or an input attribution: occlusion, '
                        'integrated-gradients, input-x-gradient; ViTs: attention-rollout, '
                        'transformer-attribution')
    parser.add_argument('--occlusion-window', type=int,
                        help='occlusion window in px (default 1/8 of the side, stride half)')
    parser.add_argument('--ig-steps', type=int, default=32, help='Integrated-Gradients steps')
    parser.add_argument('--faithfulness-steps', type=int, default=0,
                        help='steps of the deletion/insertion curves (RISE) whose AUCs join '
                        'causality.csv; 0 skips them (2 * (steps + 1) forwards per image)')
    parser.add_argument('--score', default='logit', choices=CAM_SCORES,
                        help="explained score of the target class: the raw 'logit' or its "
                        "'log-odds' against the other classes (drops what all logits share)")
    parser.add_argument('--target', default='gt', help="'gt', 'pred' or a class index")
    parser.add_argument('--target-layers', nargs='+', help='e.g. backbone.layer3')
    parser.add_argument('--out-dir', default='work_dirs/gradcam')
    parser.add_argument('--num-vis', type=int, default=16, help='overlays to write')
    parser.add_argument('--tolerance', type=int, default=0, help='pointing-game tolerance (px)')
    parser.add_argument('--top-fraction', type=float, default=0.2,
                        help='pixel share for top-k IoU/Dice')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    require_file(args.checkpoint, 'checkpoint')
    if args.faithfulness_steps < 0:
        raise UserInputError(f'--faithfulness-steps must be >= 0, got {args.faithfulness_steps}')
    try:
        target = parse_target(args.target)
        dataset, loader_cfg = build_split(cfg, args.split)
        model, _ = load_classifier(cfg, args.checkpoint, args.device)
        table = run_gradcam(model, dataset, loader_cfg, args.out_dir, method=args.method,
                            target=target, num_vis=args.num_vis,
                            target_layers=args.target_layers, tolerance=args.tolerance,
                            top_fraction=args.top_fraction, score=args.score,
                            attribution_options=dict(
                                occlusion_window=args.occlusion_window,
                                occlusion_stride=(args.occlusion_window // 2 or 1
                                                  if args.occlusion_window else None),
                                ig_steps=args.ig_steps),
                            faithfulness_steps=args.faithfulness_steps)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    print(f'{len(table)} images -> {args.out_dir}/causality.csv')


if __name__ == '__main__':
    main()
