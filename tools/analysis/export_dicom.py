"""Export Grad-CAM evidence maps (and expert ROIs) as DICOM beside the source films.

Reads the ``maps/<img_id>.npz`` files of ``tools/analysis/gradcam.py --out-dir CAM_DIR`` and the
source DICOMs listed in the shoulder CSV, and writes one object per image into the film's
study: a fractional DICOM-SEG (``--format seg``, default) or an RGB Secondary Capture overlay
(``--format sc``). The objects carry the patient/study module of their film (as DICOM requires)
and are meant to be sent to the PACS; the manifest and the messages carry only image ids.
Existing outputs are kept, so an interrupted export resumes.

Examples:
    python tools/analysis/export_dicom.py work_dirs/cam --ann-file data/shoulder/labels.csv \
        --out-dir work_dirs/cam_dicom
    python tools/analysis/export_dicom.py work_dirs/cam --ann-file data/shoulder/labels.csv \
        --out-dir work_dirs/cam_sc --format sc --no-roi
"""
import argparse

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.explain.dicom_export import EXPORT_FORMATS, ExportError, export_dicom
from osteo_mm.utils.cli import UserInputError, cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export CAMs and ROIs as DICOM SEG / SC')
    parser.add_argument('cam_dir', help='--out-dir of tools/analysis/gradcam.py')
    parser.add_argument('--ann-file', required=True, help='shoulder CSV of the source films')
    parser.add_argument('--out-dir', required=True, help='folder for the DICOM files')
    parser.add_argument('--data-root', help="root of the CSV's paths (default: CSV folder)")
    parser.add_argument('--format', choices=EXPORT_FORMATS, default='seg',
                        help='seg: fractional DICOM-SEG; sc: Secondary Capture overlay')
    parser.add_argument('--no-roi', action='store_true', help='leave the expert ROI out')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        counts = export_dicom(args.cam_dir, args.ann_file, args.out_dir, fmt=args.format,
                              data_root=args.data_root, with_roi=not args.no_roi,
                              progress=not args.no_progress)
    except (ExportError, XrayDataError) as err:
        raise UserInputError(str(err)) from None
    print(f'{counts["written"]} written, {counts["skipped"]} already there, in {args.out_dir}')


if __name__ == '__main__':
    main()
