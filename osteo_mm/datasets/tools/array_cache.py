"""Training-ready array cache: fixed-size uint8 films in a few memory-mapped shard files.

Layout of ``out_dir``::

    array_cache.json        long side, shard size, window, format version, counts
    index.csv               one row per film: image (key), shard, slot, height, width,
                            ori_height, ori_width, has_roi, m00 m01 m02 m10 m11 m12 and the
                            other columns of the annotation CSV
    images_00000.npy ...    uint8 (n, S, S) arrays, S = long side; film k of a shard is
                            ``arr[k, :height, :width]``, the rest is zero (letterbox padding
                            on the right/bottom, so the film starts at pixel (0, 0))
    masks_00000.npy ...     same shape, 0/1 ROI masks (only when the source CSV names masks)

Each film is resized exactly as the PNG cache resizes it (``LoadXrayFromFile.read`` -> 8 bit
-> ``cv2.INTER_AREA``; never enlarged) and keeps its ``transform_matrix`` (original pixel
centre -> cached pixel centre, the matrix ``XrayResize`` would record), so CAMs computed on
cached inputs map back to original coordinates.

Why ``.npy`` memory maps (measured in ``benchmarks/array_cache_formats.py``, numbers in
docs/benchmarks.md): a film is a fixed-size slice, so reading one is an offset computation and a
page-cache copy with no decoding and no per-record lookup; the file is shared between loader
workers through the page cache (workers do not copy the data), and ``np.load(mmap_mode='r')``
needs no extra dependency. LMDB adds a B-tree lookup and a bytes copy per read for no gain on
fixed-size records; tar shards (webdataset) are sequential-only, which breaks random sampling.

The build is resumable per shard: each shard (array + its part of the index) is written
atomically, and a rerun skips shards whose files already exist for the same sources.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import os.path as osp

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from ..errors import XrayDataError
from ..transforms.loading import LoadXrayFromFile, read_raster
from .io import atomic_write_bytes, atomic_write_csv
from .prepare import list_sources

META_FILE = 'array_cache.json'
INDEX_FILE = 'index.csv'
FORMAT_VERSION = 1
MATRIX_COLUMNS = ('m00', 'm01', 'm02', 'm10', 'm11', 'm12')
_WORKER: dict = {}


def resize_matrix(ori_hw: tuple[int, int], hw: tuple[int, int]) -> np.ndarray:
    """The 3x3 pixel-centre matrix of a resize from ``ori_hw`` to ``hw`` (as ``XrayResize``).

    Args:
        ori_hw (tuple[int, int]): Original (H, W).
        hw (tuple[int, int]): Resized (H, W).

    Returns:
        np.ndarray: float64 3x3 matrix mapping original to resized pixel centres.
    """
    sx, sy = hw[1] / ori_hw[1], hw[0] / ori_hw[0]
    return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]])


def cached_size(ori_hw: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(H, W) of a film in the cache: long side ``long_side``, never enlarged."""
    h0, w0 = ori_hw
    scale = min(1.0, long_side / max(h0, w0))
    return max(1, round(h0 * scale)), max(1, round(w0 * scale))


def _init_worker(window: str, long_side: int) -> None:
    cv2.setNumThreads(0)
    _WORKER.update(loader=LoadXrayFromFile(window=window, channels=1), long_side=long_side)


def _convert(job: tuple[str, str]) -> tuple:
    """Read, window and resize one film (and its mask); runs in a worker process."""
    source, mask_path = job
    try:
        img = _WORKER['loader'].read(source)
        h0, w0 = img.shape
        h, w = cached_size((h0, w0), _WORKER['long_side'])
        img = np.rint(img * 255).astype(np.uint8)
        if (h, w) != (h0, w0):
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        mask = None
        if mask_path:
            raw = read_raster(mask_path, _WORKER['loader'].max_side)
            if raw.shape != (h0, w0):
                raise XrayDataError(f'{mask_path}: ROI mask size {raw.shape[::-1]} differs '
                                    f'from the image size {(w0, h0)} of {source}')
            mask = cv2.resize((raw > 0).astype(np.uint8), (w, h),
                              interpolation=cv2.INTER_NEAREST_EXACT)
        return img, mask, (h0, w0), ''
    except XrayDataError as err:
        return None, None, None, str(err)
    except OSError as err:
        return None, None, None, f'{source}: {err}'


def _write_npy(path: str, arr: np.ndarray) -> None:
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        np.save(f, arr)
    os.replace(tmp, path)


def build_array_cache(src_root: str,
                      out_dir: str,
                      ann_file: str | None = None,
                      long_side: int = 256,
                      shard_size: int = 8192,
                      workers: int = 1,
                      window: str = 'file',
                      progress: bool = True) -> dict[str, int]:
    """Build (or resume) the array cache of ``src_root`` in ``out_dir``.

    Args:
        src_root (str): Root of the source images (DICOM/PNG/JPEG, or a PNG cache).
        out_dir (str): Cache folder.
        ann_file (str, optional): CSV listing the images (``image`` column, optional
            ``roi_mask``); its other columns are carried into ``index.csv``. Default: a
            folder scan of ``src_root``.
        long_side (int): Side S of the square slots; films are resized so that their long
            side is S (smaller films are not enlarged). Defaults to 256.
        shard_size (int): Films per shard file. Defaults to 8192 (512 MiB at S=256).
        workers (int): Worker processes (1 = in-process). Defaults to 1.
        window (str): Intensity window of :class:`LoadXrayFromFile`. Defaults to 'file'.
        progress (bool): Show a tqdm progress bar. Defaults to True.

    Returns:
        dict[str, int]: Counts of ``converted``, ``skipped`` (films in finished shards) and
        ``failed``.

    Raises:
        ValueError: On inconsistent options or a cache built with other settings.
        XrayDataError: On a malformed annotation CSV or source folder, or unreadable films
            (all are listed in ``errors.csv``; the shard holding them is not written).
    """
    if long_side < 1 or shard_size < 1 or workers < 1:
        raise ValueError('long_side, shard_size and workers must be positive')
    sources = list_sources(src_root, ann_file)
    has_masks = 'roi_mask' in sources
    meta = dict(format_version=FORMAT_VERSION, long_side=long_side, shard_size=shard_size,
                window=window, num_films=len(sources), masks=has_masks)
    os.makedirs(out_dir, exist_ok=True)
    meta_path = osp.join(out_dir, META_FILE)
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            old = json.load(f)
        if {k: old.get(k) for k in meta} != meta:
            raise ValueError(f'{out_dir} holds an array cache built with {old}; '
                             f'asked for {meta}. Use another folder.')
    atomic_write_bytes(meta_path, json.dumps(meta, indent=1).encode())
    masks = sources['roi_mask'].str.strip() if has_masks else None
    counts = dict(converted=0, skipped=0, failed=0)
    failures: list[dict] = []
    parts = []
    pool = None
    if workers > 1:
        pool = multiprocessing.get_context('fork').Pool(workers, _init_worker,
                                                        (window, long_side))
    else:
        _init_worker(window, long_side)
    bar = tqdm(total=len(sources), desc='array cache', disable=not progress)
    try:
        for shard, start in enumerate(range(0, len(sources), shard_size)):
            chunk = sources.iloc[start:start + shard_size].reset_index(drop=True)
            part = _shard_paths(out_dir, shard)
            if _shard_done(part, chunk):
                parts.append(pd.read_csv(part['index'], dtype=str, keep_default_na=False))
                counts['skipped'] += len(chunk)
                bar.update(len(chunk))
                continue
            jobs = [(osp.join(src_root, rel),
                     osp.join(src_root, masks.iat[start + i])
                     if masks is not None and masks.iat[start + i] else '')
                    for i, rel in enumerate(chunk['image'])]
            results = (pool.imap(_convert, jobs, chunksize=16) if pool is not None
                       else map(_convert, jobs))
            table, shard_failures = _write_shard(part, shard, chunk, results, long_side,
                                                 has_masks, bar)
            if shard_failures:
                failures += shard_failures
                counts['failed'] += len(shard_failures)
                continue
            parts.append(table)
            counts['converted'] += len(chunk)
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
    errors_path = osp.join(out_dir, 'errors.csv')
    if failures:
        atomic_write_csv(pd.DataFrame(failures), errors_path)
        raise XrayDataError(f'{len(failures)} film(s) could not be read, e.g. '
                            f'{failures[0]["error"]}; all are listed in {errors_path} (their '
                            'shards were not written; fix or drop them and run again)')
    if osp.isfile(errors_path):
        os.remove(errors_path)
    atomic_write_csv(pd.concat(parts, ignore_index=True), osp.join(out_dir, INDEX_FILE))
    return counts


def _shard_paths(out_dir: str, shard: int) -> dict[str, str]:
    return dict(images=osp.join(out_dir, f'images_{shard:05d}.npy'),
                masks=osp.join(out_dir, f'masks_{shard:05d}.npy'),
                index=osp.join(out_dir, f'index_{shard:05d}.csv'))


def _shard_done(part: dict[str, str], chunk: pd.DataFrame) -> bool:
    """A shard is finished when its index part exists and lists the same sources."""
    if not (osp.isfile(part['index']) and osp.isfile(part['images'])):
        return False
    done = pd.read_csv(part['index'], dtype=str, keep_default_na=False, usecols=['image'])
    return done['image'].tolist() == chunk['image'].tolist()


def _write_shard(part: dict[str, str], shard: int, chunk: pd.DataFrame, results, long_side: int,
                 has_masks: bool, bar: tqdm) -> tuple[pd.DataFrame, list[dict]]:
    """Fill one shard from worker results; write it only if every film was read."""
    n = len(chunk)
    images = np.zeros((n, long_side, long_side), dtype=np.uint8)
    mask_arr = np.zeros_like(images) if has_masks else None
    geometry = np.zeros((n, 4), dtype=np.int64)
    has_roi = np.zeros(n, dtype=bool)
    failures = []
    for k, (img, mask, ori, error) in enumerate(results):
        bar.update()
        if error:
            failures.append(dict(source=chunk['image'].iat[k], error=error))
            continue
        h, w = img.shape
        images[k, :h, :w] = img
        if mask is not None:
            mask_arr[k, :h, :w] = mask
            has_roi[k] = True
        geometry[k] = (h, w, *ori)
    if failures:
        return chunk, failures
    matrices = np.stack([resize_matrix(tuple(g[2:]), tuple(g[:2]))[:2].ravel()
                         for g in geometry])
    table = pd.DataFrame({'image': chunk['image'], 'shard': shard, 'slot': np.arange(n),
                          'height': geometry[:, 0], 'width': geometry[:, 1],
                          'ori_height': geometry[:, 2], 'ori_width': geometry[:, 3],
                          'has_roi': has_roi.astype(int)})
    for j, col in enumerate(MATRIX_COLUMNS):
        table[col] = [repr(float(v)) for v in matrices[:, j]]
    for col in chunk.columns:
        if col not in table and col != 'roi_mask':
            table[col] = chunk[col].to_numpy()
    _write_npy(part['images'], images)
    if has_masks:
        _write_npy(part['masks'], mask_arr)
    atomic_write_csv(table.astype(str), part['index'])  # written last: marks the shard done
    return table.astype(str), []


def read_array_index(cache_dir: str) -> tuple[dict, pd.DataFrame]:
    """Read a cache's settings and index.

    Args:
        cache_dir (str): The cache folder.

    Returns:
        tuple[dict, pd.DataFrame]: ``array_cache.json`` and ``index.csv`` (typed columns).

    Raises:
        XrayDataError: If the folder holds no finished array cache.
    """
    meta_path, index_path = osp.join(cache_dir, META_FILE), osp.join(cache_dir, INDEX_FILE)
    if not (osp.isfile(meta_path) and osp.isfile(index_path)):
        raise XrayDataError(f'{cache_dir}: not a finished array cache (no {META_FILE} and '
                            f'{INDEX_FILE}; build it with prepare_xray.py --format array)')
    with open(meta_path) as f:
        meta = json.load(f)
    if meta.get('format_version') != FORMAT_VERSION:
        raise XrayDataError(f'{meta_path}: format version {meta.get("format_version")}, '
                            f'this osteo_mm reads {FORMAT_VERSION}')
    index = pd.read_csv(index_path, dtype=str, keep_default_na=False)
    for col in ('shard', 'slot', 'height', 'width', 'ori_height', 'ori_width', 'has_roi'):
        index[col] = index[col].astype(np.int64)
    for col in MATRIX_COLUMNS:
        index[col] = index[col].astype(np.float64)
    return meta, index
