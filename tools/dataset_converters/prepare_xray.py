"""Convert DICOM/PNG/JPEG X-rays into a resized PNG cache, or a memory-mapped array cache.

Examples:
    python tools/dataset_converters/prepare_xray.py data/raw_dicoms data/cache \
        --ann-file data/raw_dicoms/labels.csv --max-side 1024 --workers 8
    python tools/dataset_converters/prepare_xray.py /archive/shoulder data/cache_deid \
        --deidentify --mapping-file private/deid_mapping.csv

    python tools/dataset_converters/prepare_xray.py data/nih_cxr14 data/nih_array256 \
        --format array --max-side 256 --workers 8      # training-ready shards + index.csv

Re-running the same command after an interruption converts only what is missing.
"""
import argparse

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.tools import build_array_cache, prepare_xray
from osteo_mm.utils.cli import UserInputError, cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Build a resized PNG cache of X-ray images')
    parser.add_argument('src_root', help='root folder of the source images')
    parser.add_argument('out_dir', help='cache folder (manifest.csv is written here)')
    parser.add_argument('--ann-file', help='shoulder-schema CSV listing the images '
                        '(default: every DICOM/PNG/JPEG under src_root)')
    parser.add_argument('--format', choices=['png', 'array'], default='png',
                        help='png: one PNG per film + manifest.csv; array: fixed-size uint8 '
                        'films in memory-mapped shards + index.csv (training-ready)')
    parser.add_argument('--max-side', type=int, default=1024,
                        help='longest output side (array: the square slot side)')
    parser.add_argument('--shard-size', type=int, default=8192, help='array: films per shard')
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
        if args.format == 'array':
            if args.deidentify:
                raise ValueError('--deidentify applies to the PNG cache; build the array '
                                 'cache from a de-identified PNG cache instead')
            counts = build_array_cache(args.src_root, args.out_dir, ann_file=args.ann_file,
                                       long_side=args.max_side, shard_size=args.shard_size,
                                       workers=args.workers, window=args.window,
                                       progress=not args.no_progress)
            print(', '.join(f'{k}: {v}' for k, v in counts.items()))
            return
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
