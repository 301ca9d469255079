"""Array cache vs PNG cache: storage formats, build speed, training-pipeline rate, worker RSS.

All comparisons run side by side in one process on the same synthetic films:

1. ``formats``: random reads of fixed-size 256 px uint8 films from a numpy ``.npy`` memory
   map, an LMDB database (if ``lmdb`` is installed), a tar shard read sequentially
   (webdataset-style; tar has no random access) and one PNG file per film.
2. ``build``: ``prepare_xray`` (PNG cache) vs ``build_array_cache`` on the same 12-bit 2048 px
   DICOMs, both in-process (1 worker), per CPU-second.
3. ``pipeline``: the training pipeline (load -> XrayRandomResizedCrop(224) -> XrayRandomFlip
   -> PackXrayInputs) from the PNG cache and from the array cache at the same long side, and
   the on-device-augmentation loader (letterboxed slot -> PackXrayInputs only).
4. ``rss`` (``--rss``): a synthetic 112,120-film array cache (``--rss-side`` px) read through an
   NIHChestXray14Dataset + DataLoader with 4 workers for ``--rss-films`` films; peak RSS and
   PSS (shared pages divided among the processes that map them) of the workers.

Rates are per CPU-second of this process (``time.process_time``).

    python benchmarks/array_cache_speed.py [--num-images 24] [--rss --rss-side 64]
"""
import argparse
import io
import os
import tarfile
import tempfile
import time
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from mmcv.transforms import Compose

from osteo_mm.datasets.tools import build_array_cache, prepare_xray
from osteo_mm.datasets.tools.array_cache import INDEX_FILE, MATRIX_COLUMNS, META_FILE
from osteo_mm.datasets.transforms import (
    LoadXrayFromArrayCache,
    LoadXrayFromFile,
    PackXrayInputs,
    XrayRandomFlip,
    XrayRandomResizedCrop,
)


def cpu_rate(call, n: int) -> float:
    t0 = time.process_time()
    call()
    return n / (time.process_time() - t0)


def run(pipe, items: list[dict]) -> None:
    for item in items:
        pipe(dict(item))


def bench_formats(tmp: Path, n: int = 2000, side: int = 256, reads: int = 4000) -> None:
    rng = np.random.default_rng(0)
    films = rng.integers(0, 255, (n, side, side), dtype=np.uint8)
    order = rng.integers(0, n, reads)
    np.save(tmp / 'films.npy', films)
    arr = np.load(tmp / 'films.npy', mmap_mode='r').view(np.ndarray)
    rows = {'.npy shard, memory map (slice + copy), first touch': cpu_rate(
        lambda: [np.array(arr[i]) for i in order], reads)}
    rows['.npy shard, memory map, pages already mapped'] = cpu_rate(
        lambda: [np.array(arr[i]) for i in order], reads)
    fd, offset = os.open(tmp / 'films.npy', os.O_RDONLY), np.load(tmp / 'films.npy',
                                                                 mmap_mode='r').offset

    def pread():
        for i in order:
            buf = np.empty((side, side), np.uint8)
            os.preadv(fd, [buf], offset + int(i) * side * side)
    rows['.npy shard, os.preadv into a new array (the loader default)'] = cpu_rate(pread, reads)
    os.close(fd)
    try:
        import lmdb
        env = lmdb.open(str(tmp / 'films.lmdb'), map_size=2 * films.nbytes, readahead=False)
        with env.begin(write=True) as txn:
            for i in range(n):
                txn.put(f'{i:08d}'.encode(), films[i].tobytes())

        def read_lmdb():
            with env.begin() as txn:
                for i in order:
                    np.frombuffer(txn.get(f'{i:08d}'.encode()), np.uint8).reshape(side, side)
        rows['LMDB (get + frombuffer, read-only)'] = cpu_rate(read_lmdb, reads)
    except ImportError:
        rows['LMDB'] = float('nan')
    with tarfile.open(tmp / 'films.tar', 'w') as tar:
        for i in range(n):
            data = films[i].tobytes()
            info = tarfile.TarInfo(f'{i:08d}.raw')
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    def read_tar():
        with tarfile.open(tmp / 'films.tar') as tar:
            for member in tar:
                np.frombuffer(tar.extractfile(member).read(), np.uint8).reshape(side, side)
    rows['tar shard, sequential only (webdataset-style)'] = cpu_rate(read_tar, n)
    (tmp / 'png').mkdir()
    for i in range(min(n, 500)):
        cv2.imwrite(str(tmp / 'png' / f'{i}.png'), films[i])
    rows['one PNG per film (decode)'] = cpu_rate(
        lambda: [cv2.imread(str(tmp / 'png' / f'{i % 500}.png'), 0) for i in order[:1000]], 1000)
    print(f'\n| storage ({n} films of {side}x{side} uint8; {reads} random reads) '
          '| films per CPU-second |\n| --- | --- |')
    for name, rate in rows.items():
        print(f'| {name} | {rate:,.0f} |')


def write_dicoms(folder: Path, n: int, size: int) -> None:
    from data_loading_speed import write_dicoms as write
    folder.mkdir()
    write(folder, n, size, compress=False)


def bench_build_and_pipeline(tmp: Path, n: int, size: int, sides: list[int]) -> None:
    write_dicoms(tmp / 'dicom', n, size)
    print(f'\n| build from {n} DICOMs {size} px, 1 worker | long side | images per CPU-second |'
          '\n| --- | --- | --- |')
    for side in sides:
        rate_png = cpu_rate(partial(prepare_xray, str(tmp / 'dicom'), str(tmp / f'png{side}'),
                                    max_side=side, progress=False), n)
        rate_arr = cpu_rate(partial(build_array_cache, str(tmp / 'dicom'),
                                    str(tmp / f'arr{side}'), long_side=side, progress=False), n)
        print(f'| PNG cache (`prepare_xray`) | {side} | {rate_png:.1f} |')
        print(f'| array cache (`--format array`) | {side} | {rate_arr:.1f} |')
    tail = [XrayRandomResizedCrop(scale=224), XrayRandomFlip(prob=0.5), PackXrayInputs()]
    reps = 40
    print('\n| training pipeline -> 224 px (random crop, flip, pack) | long side | channels '
          '| images per CPU-second |\n| --- | --- | --- | --- |')
    for side in sides:
        names = [f'{i:03d}.dcm' for i in range(n)] * reps
        for channels in (3, 1):
            png = Compose([LoadXrayFromFile(channels=channels)] + tail)
            png_items = [dict(img_path=str(tmp / f'png{side}' / f'{name[:-4]}.png'))
                         for name in names[:n * 4]]
            arr = Compose([LoadXrayFromArrayCache(str(tmp / f'arr{side}'), channels=channels)]
                          + tail)
            arr_items = [dict(img_id=name) for name in names]
            arr(dict(arr_items[0]))
            rate_png = cpu_rate(partial(run, png, png_items), len(png_items))
            rate_arr = cpu_rate(partial(run, arr, arr_items), len(arr_items))
            print(f'| PNG cache | {side} | {channels} | {rate_png:,.0f} |')
            print(f'| array cache | {side} | {channels} | {rate_arr:,.0f} '
                  f'(**{rate_arr / rate_png:.0f}x** the PNG cache) |')
        slot = Compose([LoadXrayFromArrayCache(str(tmp / f'arr{side}'), channels=1,
                                               letterbox=True), PackXrayInputs()])
        rate = cpu_rate(partial(run, slot, arr_items), len(arr_items))
        print(f'| array cache, letterboxed slot only (crop/flip on the device) | {side} | 1 '
              f'| {rate:,.0f} |')


def write_synthetic_cache(root: Path, n: int, side: int, shard_size: int = 16384) -> list[str]:
    """A cache in the on-disk format of build_array_cache, written directly (no sources)."""
    rng = np.random.default_rng(0)
    names = [f'images/{i // 4:08d}_{i % 4:03d}.png' for i in range(n)]
    parts = []
    for shard, start in enumerate(range(0, n, shard_size)):
        count = min(shard_size, n - start)
        arr = np.lib.format.open_memmap(root / f'images_{shard:05d}.npy', mode='w+',
                                        dtype=np.uint8, shape=(count, side, side))
        block = rng.integers(0, 255, (side, side), dtype=np.uint8)
        for k in range(count):
            arr[k] = np.roll(block, k)
        arr.flush()
        del arr
        part = pd.DataFrame({'image': names[start:start + count], 'shard': shard,
                             'slot': np.arange(count), 'height': side, 'width': side,
                             'ori_height': 1024, 'ori_width': 1024, 'has_roi': 0})
        for col, value in zip(MATRIX_COLUMNS, (side / 1024, 0, side / 2048 - 0.5, 0,
                                               side / 1024, side / 2048 - 0.5)):
            part[col] = value
        parts.append(part)
    pd.concat(parts).to_csv(root / INDEX_FILE, index=False)
    (root / META_FILE).write_text(f'{{"format_version": 1, "long_side": {side}, '
                                  f'"shard_size": {shard_size}, "masks": false}}')
    return names


def proc_memory(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, USS) in bytes from /proc (Linux); USS = private clean + dirty pages."""
    values = {}
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            parts = line.split()
            if parts[0] in ('Rss:', 'Pss:', 'Private_Clean:', 'Private_Dirty:'):
                values[parts[0]] = int(parts[1]) * 1024
    return values['Rss:'], values['Pss:'], values['Private_Clean:'] + values['Private_Dirty:']


def write_nih_entry(root: Path, names: list[str]) -> None:
    header = ('Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,'
              'View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],')
    lines = [f'{n},No Finding,0,{i // 4},050Y,M,PA,1024,1024,0.143,0.143,'
             for i, n in enumerate(names)]
    (root / 'Data_Entry_2017.csv').write_text(header + '\n' + '\n'.join(lines) + '\n')


def bench_rss(tmp: Path, side: int, films: int, workers: int = 4) -> None:
    import torch
    from mmengine.dataset import pseudo_collate

    from osteo_mm.datasets import NIHChestXray14Dataset
    cache = tmp / 'rss_cache'
    cache.mkdir()
    t0 = time.perf_counter()
    names = write_synthetic_cache(cache, 112_120, side)
    size = sum(f.stat().st_size for f in cache.glob('images_*.npy'))
    print(f'\nsynthetic cache: {len(names):,} films at {side} px, {size / 2**30:.2f} GiB in '
          f'{len(list(cache.glob("images_*.npy")))} shards, written in '
          f'{time.perf_counter() - t0:.0f} s')
    write_nih_entry(tmp, [n.split('/')[1] for n in names])
    crop = max(8, side * 7 // 8)
    dataset = NIHChestXray14Dataset(
        str(tmp), split=None, check_images=False,
        pipeline=[dict(type='LoadXrayFromArrayCache', cache_dir=str(cache)),
                  dict(type='XrayRandomResizedCrop', scale=crop),
                  dict(type='XrayRandomFlip', prob=0.5), dict(type='PackXrayInputs')])
    sampler = torch.utils.data.RandomSampler(dataset, num_samples=films)
    loader = torch.utils.data.DataLoader(dataset, batch_size=256, num_workers=workers,
                                         sampler=sampler, collate_fn=pseudo_collate,
                                         persistent_workers=False)
    first = peak = None
    seen = 0
    t0 = time.perf_counter()
    it = iter(loader)
    for batch in it:
        seen += len(batch['inputs'])
        mem = np.array([proc_memory(w.pid) for w in it._workers]).sum(0)
        first = mem if first is None else first
        peak = mem if peak is None else np.maximum(peak, mem)
    wall = time.perf_counter() - t0
    main_mem = proc_memory(os.getpid())
    gib = 2.0**30
    print(f'{workers} workers read {seen:,} films ({crop} px crops) in {wall:.0f} s wall. '
          f'Summed over the workers (GiB), after the first batch / peak: '
          f'RSS {first[0] / gib:.2f} / {peak[0] / gib:.2f}, PSS {first[1] / gib:.2f} / '
          f'{peak[1] / gib:.2f}, USS {first[2] / gib:.2f} / {peak[2] / gib:.2f}. Main '
          f'process RSS {main_mem[0] / gib:.2f}, USS {main_mem[2] / gib:.2f}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-images', type=int, default=24)
    parser.add_argument('--size', type=int, default=2048)
    parser.add_argument('--sides', type=int, nargs='+', default=[256, 512])
    parser.add_argument('--skip', nargs='*', default=[], choices=['formats', 'pipeline'])
    parser.add_argument('--rss', action='store_true')
    parser.add_argument('--rss-side', type=int, default=64)
    parser.add_argument('--rss-films', type=int, default=112_120)
    parser.add_argument('--tmp', help='scratch folder (default: the system temp folder)')
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        tmp = Path(tmp)
        if 'formats' not in args.skip:
            (tmp / 'fmt').mkdir()
            bench_formats(tmp / 'fmt')
        if 'pipeline' not in args.skip:
            bench_build_and_pipeline(tmp, args.num_images, args.size, args.sides)
        if args.rss:
            bench_rss(tmp, args.rss_side, args.rss_films)


if __name__ == '__main__':
    main()
