"""Causal effect of the expert ROI on a classifier's decision, with seeded control regions.

For each image of a split the ROI is replaced by a neutral fill and the target class's log-odds
change is recorded, likewise for K control regions of the ROI's shape on the anatomy that do
not touch it (``osteo_mm.explain.intervention``). Writes ``OUT/roi_intervention.csv``
(``img_id, patient_id, target_class, roi_effect, control_effect, n_controls, ...``; joinable
with ``causality.csv`` and ``preds.csv`` on ``img_id``) and
``OUT/roi_intervention_summary.json`` (ROI minus control effect over patients, patient-level
bootstrap CI, Wilcoxon test of per-patient means). A killed run resumes.

Example:
    python tools/analysis/roi_intervention.py CONFIG CKPT --split test --fill blur \
        --controls 4 --out-dir work_dirs/x/roi_intervention
"""
import argparse
import os.path as osp

from mmengine.config import DictAction

from osteo_mm.explain import parse_target
from osteo_mm.explain.analysis import build_split, load_classifier
from osteo_mm.explain.intervention import FILLS, build_reference_split, run_roi_intervention
from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ROI intervention: does the decision depend '
                                     'on the expert region?')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--split', default='test', choices=['test', 'val', 'train'])
    parser.add_argument('--out-dir', default='work_dirs/roi_intervention')
    parser.add_argument('--fill', default='blur', choices=FILLS,
                        help="what replaces the region; 'reference' (shoulder phantoms only): "
                        'the same film rendered at the reference bone quality')
    parser.add_argument('--controls', type=int, default=4, help='control regions per image (K)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the control placement')
    parser.add_argument('--target', default='gt', help="'gt', 'pred' or a class index")
    parser.add_argument('--anatomy', default='foreground', choices=['foreground', 'all'],
                        help='where controls may lie: the Otsu foreground or the whole image')
    parser.add_argument('--min-anatomy', type=float, default=0.9,
                        help='smallest share of a control on the anatomy')
    parser.add_argument('--blur-sigma', type=float, help='blur fill sigma in px (side / 32)')
    parser.add_argument('--reference-root',
                        help="counterfactual phantom folder (default OUT/reference_phantom)")
    parser.add_argument('--n-boot', type=int, default=2000, help='bootstrap resamples')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    require_file(args.checkpoint, 'checkpoint')
    if args.controls < 0:
        raise UserInputError(f'--controls must be >= 0, got {args.controls}')
    if not 0 <= args.min_anatomy <= 1:
        raise UserInputError(f'--min-anatomy must be in [0, 1], got {args.min_anatomy}')
    try:
        target = parse_target(args.target)
        dataset, loader_cfg = build_split(cfg, args.split)
        reference = None
        if args.fill == 'reference':
            root = args.reference_root or osp.join(args.out_dir, 'reference_phantom')
            reference = build_reference_split(cfg, args.split, root)
        model, _ = load_classifier(cfg, args.checkpoint, args.device)
        _, summary = run_roi_intervention(
            model, dataset, loader_cfg, args.out_dir, fill=args.fill, controls=args.controls,
            seed=args.seed, target=target, reference_dataset=reference, anatomy=args.anatomy,
            min_anatomy=args.min_anatomy, blur_sigma=args.blur_sigma, n_boot=args.n_boot)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    print(f"{summary['n_images']} images ({summary['n_patients']} patients used; "
          f"{summary['n_no_region']} without ROI, {summary['n_no_controls']} without controls)"
          f" -> {args.out_dir}")
    s = summary
    print(f"ROI effect {s['mean_roi_effect']:.3f}, control {s['mean_control_effect']:.3f}; "
          f"difference {s['difference']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}] "
          f"(patient bootstrap), Wilcoxon p = {s['p_value']:.3g}")


if __name__ == '__main__':
    main()
