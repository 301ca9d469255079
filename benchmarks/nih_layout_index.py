"""Indexing the NIH archive as downloaded: 112,120 films in images_001/images ... images_012.

Creates the nested layout with empty files (the real folder sizes: 4,999 films in the first
folder, 10,000 in the next ten, 7,121 in the last), then times, wall and CPU seconds:
building the path index from a folder scan (no cached index yet; the directory entries are in
the OS cache since the files were just created), reading the cached index, and resolving all
112,120 names of Data_Entry with ``locate_nih_images`` as the dataset does.

    python benchmarks/nih_layout_index.py [--tmp DIR]
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from osteo_mm.datasets.nih_layout import INDEX_NAME, build_image_index, locate_nih_images

SIZES = [4_999] + [10_000] * 10 + [7_121]


def timed(call):
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tmp', help='scratch folder (default: the system temp folder)')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        root = Path(tmp)
        names = []
        for f, count in enumerate(SIZES, 1):
            folder = root / f'images_{f:03d}' / 'images'
            folder.mkdir(parents=True)
            for _ in range(count):
                name = f'{len(names) // 8:08d}_{len(names) % 8:03d}.png'
                open(folder / name, 'wb').close()
                names.append(name)
        print(f'{len(names):,} films in {len(SIZES)} folders')
        rows = [('index from a folder scan (no cached index)',
                 timed(lambda: build_image_index(tmp)))]
        assert (root / INDEX_NAME).is_file()
        rows.append(('index from the cached index file', timed(lambda: build_image_index(tmp))))
        order = np.random.default_rng(0).permutation(np.array(names, dtype=object))
        rows.append(('locate_nih_images for all names (cached index)',
                     timed(lambda: locate_nih_images(tmp, order))))
        os.remove(root / INDEX_NAME)
        rows.append(('locate_nih_images for all names (no cached index)',
                     timed(lambda: locate_nih_images(tmp, order))))
        print('| step | wall s | CPU s |\n| --- | --- | --- |')
        for name, (wall, cpu, out) in rows:
            assert len(out) == len(names)
            print(f'| {name} | {wall:.3f} | {cpu:.3f} |')


if __name__ == '__main__':
    main()
