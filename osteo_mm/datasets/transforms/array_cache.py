"""Load films from the memory-mapped array cache (``prepare_xray.py --format array``)."""
from __future__ import annotations

import os
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ..errors import XrayDataError
from .geometry import _commit
from .loading import rasterize_boxes


@TRANSFORMS.register_module()
class LoadXrayFromArrayCache(BaseTransform):
    """Load a film from the array cache instead of its file.

    The result equals what ``LoadXrayFromFile`` (+ ``LoadRoiMask``) followed by
    ``XrayResize(scale=(w, h), interpolation='area')`` gives on the source file, where (w, h)
    is the film's cached size: ``img`` (uint8, or float32 with ``to_float32``), ``img_shape``,
    ``ori_shape`` (the original size), ``transform_matrix`` (original -> cached pixel centres),
    ``gt_bboxes`` moved by that matrix, and ``roi_mask`` when the film has one.

    Reading a film is one ``pread`` of its rows from a shard file (no decoding, no per-film
    file): the data stay in the OS page cache, shared by every loader worker, and a worker's
    own memory holds only the film it is working on. ``io_backend='mmap'`` slices a memory map
    of the shard instead (measured slower here: page faults per first touch, and the mapped
    pages count in each worker's RSS; see docs/benchmarks.md).

    **Required Keys:** the ``key`` field (``img_id`` by default: the path relative to the
    dataset root, which is how the cache names films when it was built from that root)

    **Added Keys:** ``img``, ``img_shape``, ``ori_shape``, ``transform_matrix``, ``valid_shape``
    (the film's (H, W) inside its slot), optional ``roi_mask``

    Args:
        cache_dir (str): The array cache folder.
        key (str): Results field naming the film in the cache's ``image`` column.
            Defaults to 'img_id'.
        channels (int): 3 repeats the gray film (as ``LoadXrayFromFile``), 1 keeps (H, W).
            Defaults to 3.
        to_float32 (bool): float32 in [0, 255] instead of uint8. Defaults to False.
        letterbox (bool): Return the whole S x S slot (film at the top-left, zero padding)
            so that every sample of a batch has the same size, e.g. for on-device
            augmentation; ``valid_shape`` says where the film is. Defaults to False.
        with_roi (bool): Add ``roi_mask`` (from the cached mask, else rasterised from
            ``gt_bboxes`` in cached coordinates), like ``LoadRoiMask``. Defaults to True.
        io_backend (str): 'pread' (default) or 'mmap', see above.
    """

    def __init__(self,
                 cache_dir: str,
                 key: str = 'img_id',
                 channels: int = 3,
                 to_float32: bool = False,
                 letterbox: bool = False,
                 with_roi: bool = True,
                 io_backend: str = 'pread') -> None:
        if channels not in (1, 3):
            raise ValueError(f'channels must be 1 or 3, got {channels}')
        if io_backend not in ('pread', 'mmap'):
            raise ValueError(f"io_backend must be 'pread' or 'mmap', got {io_backend!r}")
        self.cache_dir = cache_dir
        self.key = key
        self.channels = channels
        self.to_float32 = to_float32
        self.letterbox = letterbox
        self.with_roi = with_roi
        self.io_backend = io_backend
        self._rows: dict[str, int] | None = None
        self._files: dict | None = None
        self._pid = -1

    def _open(self) -> None:
        """Read the index (once)."""
        # Imported here: datasets.tools imports the transforms package (no import cycle).
        from ..tools.array_cache import MATRIX_COLUMNS, read_array_index
        meta, index = read_array_index(self.cache_dir)
        self.long_side = int(meta['long_side'])
        self._has_masks = bool(meta.get('masks'))
        self._rows = dict(zip(index['image'], range(len(index))))
        self._geometry = index[['shard', 'slot', 'height', 'width', 'ori_height', 'ori_width',
                                'has_roi']].to_numpy(np.int64)
        self._matrix = index[list(MATRIX_COLUMNS)].to_numpy(np.float64).reshape(-1, 2, 3)
        self._shards = sorted(set(index['shard']))

    def _open_files(self) -> None:
        """Open (pread) or map (mmap) the shard files, once per process."""
        kinds = ('images', 'masks') if self._has_masks else ('images', )
        self._files = {}
        for kind in kinds:
            for s in self._shards:
                path = osp.join(self.cache_dir, f'{kind}_{s:05d}.npy')
                arr = np.load(path, mmap_mode='r')
                if arr.shape[1:] != (self.long_side, self.long_side) or arr.dtype != np.uint8:
                    raise XrayDataError(f'{path}: shape {arr.shape} / dtype {arr.dtype} do not '
                                        f'match the {self.long_side} px uint8 cache')
                if self.io_backend == 'mmap':
                    self._files[kind, s] = arr.view(np.ndarray)
                else:
                    self._files[kind, s] = (os.open(path, os.O_RDONLY), arr.offset)
                    del arr
        self._pid = os.getpid()

    def _read(self, kind: str, shard: int, slot: int, h: int, w: int) -> np.ndarray:
        """Rows ``:h`` and columns ``:w`` of one slot, as a new array."""
        side = self.long_side
        if self.io_backend == 'mmap':
            return np.array(self._files[kind, shard][slot, :h, :w])
        fd, offset = self._files[kind, shard]
        buf = np.empty((h, side), np.uint8)
        got = os.preadv(fd, [buf], offset + slot * side * side)
        if got != buf.nbytes:
            raise XrayDataError(f'{self.cache_dir}: {kind} shard {shard} is truncated')
        return buf if w == side else np.ascontiguousarray(buf[:, :w])

    def transform(self, results: dict) -> dict:
        """Load the film named by ``results[self.key]``.

        Args:
            results (dict): Data info.

        Returns:
            dict: ``results`` with the image keys.

        Raises:
            XrayDataError: If the film is not in the cache.
        """
        if self._rows is None:
            self._open()
        if self._pid != os.getpid():
            self._open_files()
        name = results[self.key]
        row = self._rows.get(name)
        if row is None:
            raise XrayDataError(f'{name}: not in the array cache {self.cache_dir} '
                                f'({len(self._rows)} films; key field {self.key!r})')
        shard, slot, h, w, h0, w0, has_roi = (int(v) for v in self._geometry[row])
        out_h, out_w = (self.long_side, self.long_side) if self.letterbox else (h, w)
        img = self._read('images', shard, slot, out_h, out_w)
        if self.to_float32:
            img = img.astype(np.float32)
        if self.channels == 3:
            img = np.repeat(img[..., None], 3, axis=2)
        results['img'] = img
        results['ori_shape'] = (h0, w0)
        results['valid_shape'] = (h, w)
        matrix = np.vstack([self._matrix[row], [0, 0, 1]])
        boxes = results.get('gt_bboxes')
        _commit(results, matrix, (out_h, out_w))
        results['transform_matrix'] = matrix
        if self.with_roi:
            if has_roi:
                results['roi_mask'] = self._read('masks', shard, slot, out_h, out_w)
            elif boxes is not None and len(boxes):
                mask = np.zeros((out_h, out_w), np.uint8)
                mask[:h, :w] = rasterize_boxes(results['gt_bboxes'], (h, w))
                results['roi_mask'] = mask
        return results

    def __getstate__(self) -> dict:
        # Each process opens its own file handles; never pickle descriptors or maps.
        state = self.__dict__.copy()
        state['_files'], state['_pid'] = None, -1
        return state

    def __del__(self) -> None:
        if getattr(self, '_files', None) and self._pid == os.getpid():
            for handle in self._files.values():
                if isinstance(handle, tuple):
                    os.close(handle[0])

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cache_dir={self.cache_dir!r}, key={self.key!r}, '
                f'channels={self.channels}, to_float32={self.to_float32}, '
                f'letterbox={self.letterbox}, with_roi={self.with_roi}, '
                f'io_backend={self.io_backend!r})')
