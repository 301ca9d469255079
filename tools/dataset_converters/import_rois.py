"""Import expert ROIs from annotation tools into the shoulder CSV (mask PNGs + ROI columns).

FORMAT is one of ``coco``, ``labelme``, ``cvat``, ``label-studio``, ``dicom-seg``, ``dicom-sr``
(docs/data_preparation.md has a section on each). Items are matched to CSV rows by file name
(DICOM-SEG/SR: by SOPInstanceUID); every item without a row is listed. Existing ROI cells and
mask files are kept unless ``--overwrite`` is given.

Examples:
    python tools/dataset_converters/import_rois.py cvat export/annotations.xml \
        --ann-file data/shoulder/labels.csv --out-dir data/shoulder/roi_masks
    python tools/dataset_converters/import_rois.py dicom-seg slicer_exports/ \
        --ann-file data/shoulder/labels.csv --out-dir data/shoulder/roi_masks --label Humerus
"""
import argparse
import sys
import traceback

from osteo_mm.datasets.annotations import FORMATS, import_rois
from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.utils.cli import UserInputError, cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Import expert ROIs into the shoulder CSV')
    parser.add_argument('format', choices=sorted(FORMATS), help='annotation format')
    parser.add_argument('src', help='annotation file (or folder: labelme, dicom-seg, dicom-sr)')
    parser.add_argument('--ann-file', required=True, help='shoulder CSV to fill (in place)')
    parser.add_argument('--out-dir', required=True, help='folder for the mask PNGs')
    parser.add_argument('--data-root', help="root of the CSV's image paths "
                        '(default: the CSV folder)')
    parser.add_argument('--label', action='append',
                        help='import only shapes with this label (repeatable; default: all)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing roi_mask/roi_bbox cells and mask files')
    parser.add_argument('--strict', action='store_true',
                        help='exit 2, writing nothing, when an item matches no CSV row')
    parser.add_argument('--debug', action='store_true', help='show tracebacks')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        items = FORMATS[args.format](args.src, set(args.label) if args.label else None)
        report = import_rois(items, args.ann_file, args.out_dir, data_root=args.data_root,
                             overwrite=args.overwrite, strict=args.strict)
    except XrayDataError as err:
        if args.debug:
            traceback.print_exc()
        raise UserInputError(str(err)) from None
    for line in report.ignored:
        print(f'ignored: {line}')
    for line in report.unmatched:
        print(f'unmatched: {line}', file=sys.stderr)
    print(f'{len(report.written)} mask(s) written to {args.out_dir}, {args.ann_file} updated; '
          f'{len(report.unmatched)} unmatched item(s), {len(report.ignored)} ignored shape(s)')


if __name__ == '__main__':
    main()
