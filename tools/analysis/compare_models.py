"""Compare models on accuracy/AUC and Grad-CAM causality with CIs and paired tests.

Reads per-image prediction files (``tools/test.py --out``) and, optionally, causality files
(``tools/analysis/gradcam.py``), one per model in the same order, and writes tables
(CSV/JSON/Markdown), plots and a self-contained ``report.html`` into ``--out``.

Example:
    python tools/analysis/compare_models.py --preds cnn.csv vit.csv --names CNN ViT \\
        --cam cnn_cam/causality.csv vit_cam/causality.csv \\
        --images-dir cnn_cam vit_cam --out work_dirs/compare
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
    parser.add_argument('--weight-auc', type=float, default=0.5,
                        help='ranking = w * AUC + (1 - w) * mean causality score')
    parser.add_argument('--rank-metric', help='causality score used for the ranking '
                        '(default: the first score column)')
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
                                 weight_auc=args.weight_auc, rank_metric=args.rank_metric,
                                 n_boot=args.n_boot, alpha=args.alpha, seed=args.seed,
                                 max_gallery=args.max_gallery, cam_test=args.cam_test)
    except RecordError as err:
        raise UserInputError(str(err)) from None
    print(f"Report written to {written['html']}")


if __name__ == '__main__':
    main()
