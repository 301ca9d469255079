"""Convert DICOM/PNG/JPEG X-rays into a resized PNG cache with a manifest (resumable).

Examples:
    python tools/dataset_converters/prepare_xray.py data/raw_dicoms data/cache \
        --ann-file data/raw_dicoms/labels.csv --max-side 1024 --workers 8
    python tools/dataset_converters/prepare_xray.py /archive/shoulder data/cache_deid \
        --deidentify --mapping-file private/deid_mapping.csv

Re-running the same command after an interruption converts only what is missing.
"""
import argparse

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.tools import prepare_xray
from osteo_mm.utils.cli import UserInputError, cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Build a resized PNG cache of X-ray images')
    parser.add_argument('src_root', help='root folder of the source images')
    parser.add_argument('out_dir', help='cache folder (manifest.csv is written here)')
    parser.add_argument('--ann-file', help='shoulder-schema CSV listing the images '
                        '(default: every DICOM/PNG/JPEG under src_root)')
    parser.add_argument('--max-side', type=int, default=1024, help='longest output side')
    parser.add_argument('--workers', type=int, default=1, help='worker processes')
    parser.add_argument('--window', choices=['file', 'percentile'], default='file',
                        help='DICOM intensity window')
    parser.add_argument('--deidentify', action='store_true',
                        help='hash-named outputs and pseudonymous patient ids')
    parser.add_argument('--mapping-file',
                        help='private CSV linking sources to pseudonyms (outside out_dir)')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        counts = prepare_xray(args.src_root, args.out_dir, ann_file=args.ann_file,
                              max_side=args.max_side, workers=args.workers,
                              deidentify=args.deidentify, mapping_file=args.mapping_file,
                              window=args.window, progress=not args.no_progress)
    except (XrayDataError, ValueError) as err:
        raise UserInputError(str(err)) from None
    print(', '.join(f'{k}: {v}' for k, v in counts.items()))
    if counts['failed'] or counts['duplicates']:
        print('see errors.csv for the files that were not converted')


if __name__ == '__main__':
    main()
