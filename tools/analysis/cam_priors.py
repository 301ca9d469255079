"""Baselines for every causality score: trivial prior maps and a randomised-weights model.

Writes, for the images of ``--split``, ``OUT/uniform.csv``, ``OUT/centre.csv`` and
``OUT/dataset_roi.csv`` (the mean TRAINING ROI mask in network-input coordinates) in the layout
of ``causality.csv``, ``OUT/priors.npz`` (the maps) and, with a checkpoint,
``OUT/random_weights/causality.csv``: the same CAM method on a copy of the model with every
layer re-initialised (Adebayo et al. 2018). Feed them to ``compare_models.py --priors`` and
``--random-cam``.

Example:
    python tools/analysis/cam_priors.py CONFIG --checkpoint CKPT --split test \\
        --method gradcam --out-dir work_dirs/x/priors
"""
import argparse
import os.path as osp

from mmengine.config import DictAction

from osteo_mm.explain import CAM_SCORES, METHODS, parse_target
from osteo_mm.explain.analysis import build_split, load_classifier, run_gradcam
from osteo_mm.explain.priors import RANDOM_PRIOR, randomized_copy, write_priors
from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Prior maps and a random-weights baseline')
    parser.add_argument('config', help='config file path (its test pipeline is used)')
    parser.add_argument('--checkpoint', help='trained checkpoint: also explain a randomised-'
                        'weights copy of it with --method')
    parser.add_argument('--split', default='test', choices=['test', 'val'],
                        help='images the priors are scored on')
    parser.add_argument('--prior-split', default='train', choices=['train', 'val'],
                        help='split whose mean ROI mask is the dataset ROI prior')
    parser.add_argument('--method', default='gradcam', choices=METHODS)
    parser.add_argument('--score', default='logit', choices=CAM_SCORES)
    parser.add_argument('--target', default='gt', help="'gt', 'pred' or a class index")
    parser.add_argument('--target-layers', nargs='+', help='e.g. backbone.layer3')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random weights')
    parser.add_argument('--out-dir', default='work_dirs/cam_priors')
    parser.add_argument('--num-vis', type=int, default=8, help='overlays of the random model')
    parser.add_argument('--tolerance', type=int, default=0, help='pointing-game tolerance (px)')
    parser.add_argument('--top-fraction', type=float, default=0.2,
                        help='pixel share for top-k IoU/Dice')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.split == args.prior_split:
        parser.error('--prior-split must differ from --split (a prior never sees the scored '
                     'images)')
    return args


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if args.checkpoint:
        require_file(args.checkpoint, 'checkpoint')
    try:
        dataset, loader_cfg = build_split(cfg, args.split)
        written = write_priors(cfg, dataset, args.out_dir, args.prior_split,
                               args.tolerance, args.top_fraction)
        if args.checkpoint:
            model, _ = load_classifier(cfg, args.checkpoint, args.device)
            out = osp.join(args.out_dir, RANDOM_PRIOR)
            run_gradcam(randomized_copy(model, args.seed), dataset, loader_cfg, out,
                        method=args.method, target=parse_target(args.target),
                        num_vis=args.num_vis, target_layers=args.target_layers,
                        tolerance=args.tolerance, top_fraction=args.top_fraction,
                        score=args.score)
            written[RANDOM_PRIOR] = osp.join(out, 'causality.csv')
    except ValueError as err:
        raise UserInputError(str(err)) from None
    for name, path in written.items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    main()
