"""Write contact sheets of the shoulder and chest phantoms (ground truth outlined).

Example:
    python tools/visualization/phantom_contact_sheet.py --out-dir docs/images
"""
import argparse
import os
import os.path as osp

import cv2

from osteo_mm.datasets.phantom.contact_sheet import chest_contact_sheet, shoulder_contact_sheet
from osteo_mm.datasets.phantom.writers import write_bytes_atomic
from osteo_mm.utils.cli import UserInputError, cli_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Phantom contact sheets')
    parser.add_argument('--out-dir', default='docs/images', help='folder for the PNGs')
    parser.add_argument('--size', type=int, default=256, help='film side in pixels')
    parser.add_argument('--per-class', type=int, default=4, help='shoulder films per class')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    if args.size < 64 or args.per_class < 1:
        raise UserInputError('--size must be >= 64 and --per-class >= 1')
    os.makedirs(args.out_dir, exist_ok=True)
    sheets = {'phantom_contact_sheet.png': shoulder_contact_sheet(args.per_class, args.size,
                                                                  args.seed),
              'phantom_chest_contact_sheet.png': chest_contact_sheet(args.size, args.seed)}
    for name, sheet in sheets.items():
        ok, data = cv2.imencode('.png', sheet)
        path = osp.join(args.out_dir, name)
        write_bytes_atomic(path, data.tobytes())
        print(f'wrote {path}')


if __name__ == '__main__':
    main()
