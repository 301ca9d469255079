"""Compare models on accuracy/AUC and Grad-CAM causality with CIs and paired tests.

Reads per-image prediction files (``tools/test.py --out``) and, optionally, causality files
(``tools/analysis/gradcam.py``), their baselines (``tools/analysis/cam_priors.py``: trivial
priors and randomised-weights maps) and ROI interventions (``tools/analysis/roi_intervention.py``),
one per model in the same order, and writes tables (CSV/JSON/Markdown), plots and a
self-contained ``report.html`` that opens with a results summary into ``--out``.

Example:
    python tools/analysis/compare_models.py --preds cnn.csv vit.csv --names CNN ViT \\
        --cam cnn_cam/causality.csv vit_cam/causality.csv \\
        --images-dir cnn_cam vit_cam --priors cnn_priors vit_priors \\
        --roi-effects cnn_roi/roi_intervention.csv vit_roi/roi_intervention.csv \\
        --out work_dirs/compare
"""
import argparse

from osteo_mm.report import RecordError, compare_models
from osteo_mm.utils.cli import UserInputError, cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Statistical comparison of models')
    parser.add_argument('--preds', nargs='+', required=True,
                        help='per-image predictions (.csv/.json), one per model')
    parser.add_argument('--names', nargs='+', help='model names (default: file names)')
    parser.add_argument('--cam', nargs='+', help='causality files, one per model, same order')
    parser.add_argument('--images-dir', nargs='+',
                        help='gradcam.py --out-dir (overlays in vis/), one per model, same order')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--positive-class', default='osteoporosis',
                        help='class whose prob_<class> column is the positive score')
    parser.add_argument('--priors', nargs='+',
                        help='cam_priors.py --out-dir folders, one per model (same order; '
                        'their random_weights/ maps are the random-model baseline) or one for '
                        'all')
    parser.add_argument('--roi-effects', nargs='+', help='roi_intervention.csv, one per model, '
                        'same order')
    parser.add_argument('--rank-metric', help='causality score of the ranking (default: '
                        'energy_pointing_game if present, else the first score column); '
                        'models are ranked by the mean of their AUC rank and their rank on '
                        "this score's lift over the best prior")
    parser.add_argument('--cam-test', choices=['wilcoxon', 'permutation'], default='wilcoxon',
                        help='paired test of per-image causality scores')
    parser.add_argument('--n-boot', type=int, default=2000, help='bootstrap resamples')
    parser.add_argument('--alpha', type=float, default=0.05, help='1 - confidence level')
    parser.add_argument('--seed', type=int, default=0, help='bootstrap seed')
    parser.add_argument('--max-gallery', type=int, default=8,
                        help='at most this many images in the CAM gallery')
    args = parser.parse_args(argv)
    if args.n_boot < 1:
        parser.error('--n-boot must be >= 1')
    if not 0 < args.alpha < 1:
        parser.error('--alpha must lie in (0, 1)')
    return args


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        written = compare_models(args.preds, args.out, names=args.names, cam_paths=args.cam,
                                 images_dirs=args.images_dir,
                                 positive_class=args.positive_class,
                                 rank_metric=args.rank_metric,
                                 n_boot=args.n_boot, alpha=args.alpha, seed=args.seed,
                                 max_gallery=args.max_gallery, cam_test=args.cam_test,
                                 prior_dirs=args.priors, roi_effect_paths=args.roi_effects)
    except RecordError as err:
        raise UserInputError(str(err)) from None
    print(f"Report written to {written['html']}")


if __name__ == '__main__':
    main()
