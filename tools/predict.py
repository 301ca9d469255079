"""Predict single X-ray films (DICOM/PNG/JPEG) with a CAM overlay.

For each FILE writes ``OUT/<name>.json`` (probabilities, predicted class, CAM method) and
``OUT/<name>.png`` (film | CAM overlay | map with its colour scale, original pixels).
No DICOM identifier is ever written.

Example:
    python tools/predict.py CONFIG CKPT film1.dcm film2.png --out-dir predictions/
"""
import argparse

from mmengine.config import DictAction

from osteo_mm.explain import CAM_METHODS, CAM_SCORES
from osteo_mm.explain.analysis import load_classifier
from osteo_mm.explain.predict import class_names, predict_files
from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Predict X-ray films with a CAM overlay')
    parser.add_argument('config', help='config file path (its test pipeline is used)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('files', nargs='+', help='DICOM, PNG or JPEG files')
    parser.add_argument('--out-dir', default='work_dirs/predict')
    parser.add_argument('--method', default='gradcam', choices=sorted(CAM_METHODS))
    parser.add_argument('--score', default='logit', choices=CAM_SCORES,
                        help="explained score of the target class: the raw 'logit' or its "
                        "'log-odds' against the other classes (drops what all logits share)")
    parser.add_argument('--target-layers', nargs='+', help='e.g. backbone.layer3')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    require_file(args.checkpoint, 'checkpoint')
    for path in args.files:
        require_file(path, 'input')
    try:
        model, meta = load_classifier(cfg, args.checkpoint, args.device)
        names = class_names(meta, cfg, model.head.num_classes)
        records = predict_files(model, cfg.test_dataloader.dataset.pipeline, args.files,
                                args.out_dir, names, method=args.method,
                                target_layers=args.target_layers, score=args.score)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    for rec in records:
        print(f"{rec['file']}: {rec['pred_class']} "
              f"(p={rec['probabilities'][rec['pred_class']]:.3f})")


if __name__ == '__main__':
    main()
