"""Export a classifier checkpoint to ONNX (dynamic batch) with the metadata a service needs.

Embeds the test pipeline and normalisation, the class names, the validation threshold and its
provenance, then checks parity on the test split: onnxruntime logits within ``--atol`` of
PyTorch fp32 and the same class for every image (written to ``OUT.parity.json``; exit code 1
when parity fails). CNNs with global pooling and a linear head also output their last feature
map and class activation maps.

Example:
    python tools/deployment/export_onnx.py CONFIG work_dirs/x/epoch_8.pth --out model.onnx
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import DictAction

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.explain.analysis import load_classifier
from osteo_mm.explain.predict import class_names
from osteo_mm.serving.export import check_parity, export_onnx
from osteo_mm.serving.provenance import (
    THRESHOLD_FILE,
    fixed_threshold,
    model_version,
    read_threshold_record,
)
from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file
from osteo_mm.utils.io import dump_json_atomic


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export a classifier to ONNX')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument('--threshold-file', help=f'validation threshold record (default: '
                        f'{THRESHOLD_FILE} beside the checkpoint)')
    parser.add_argument('--threshold', type=float, help='fixed threshold instead of the record')
    parser.add_argument('--model-name', help='reported model name (default: config name)')
    parser.add_argument('--split', default='test', help='split for the parity check')
    parser.add_argument('--atol', type=float, default=1e-4)
    parser.add_argument('--max-images', type=int, help='parity on the first N images only')
    parser.add_argument('--no-verify', action='store_true', help='skip the parity check')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    require_file(args.checkpoint, 'checkpoint')
    try:
        if args.threshold is not None:
            threshold = fixed_threshold(args.threshold)
        else:
            path = args.threshold_file or osp.join(osp.dirname(osp.abspath(args.checkpoint)),
                                                   THRESHOLD_FILE)
            threshold = read_threshold_record(path, args.checkpoint)
        model, meta = load_classifier(cfg, args.checkpoint)
        names = class_names(meta, cfg, model.head.num_classes)
        name = args.model_name or osp.splitext(osp.basename(args.config))[0]
        outputs = export_onnx(model, cfg, args.out, dict(
            model_name=name, model_version=model_version(args.checkpoint), class_names=names,
            threshold=threshold), opset=args.opset)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    print(f'wrote {args.out} (outputs: {", ".join(outputs)})')
    if args.no_verify:
        return
    try:
        report = check_parity(model, cfg, args.out, args.split, args.atol, args.max_images)
    except (ValueError, XrayDataError) as err:
        raise UserInputError(f'parity check on {args.split}: {err}') from None
    dump_json_atomic(report, args.out + '.parity.json')
    print(json.dumps(report))
    if not report['passed']:
        print(f'error: ONNX parity failed on {args.split}: max |diff| {report["max_abs_diff"]:.3g}'
              f', {report["class_mismatches"]} class mismatches', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
