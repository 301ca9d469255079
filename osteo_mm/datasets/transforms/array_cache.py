"""Load films from the memory-mapped array cache (``prepare_xray.py --format array``)."""
from __future__ import annotations

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

    Reading a film is a slice of a memory-mapped shard (no decoding); each worker process maps
    the shards once, and the pages are shared through the OS page cache.

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
    """

    def __init__(self,
                 cache_dir: str,
                 key: str = 'img_id',
                 channels: int = 3,
                 to_float32: bool = False,
                 letterbox: bool = False,
                 with_roi: bool = True) -> None:
        if channels not in (1, 3):
            raise ValueError(f'channels must be 1 or 3, got {channels}')
        self.cache_dir = cache_dir
        self.key = key
        self.channels = channels
        self.to_float32 = to_float32
        self.letterbox = letterbox
        self.with_roi = with_roi
        self._rows: dict[str, int] | None = None

    def _open(self) -> None:
        """Read the index and map the shards (once per process)."""
        # Imported here: datasets.tools imports the transforms package (no import cycle).
        from ..tools.array_cache import MATRIX_COLUMNS, read_array_index
        meta, index = read_array_index(self.cache_dir)
        self.long_side = int(meta['long_side'])
        self._rows = dict(zip(index['image'], range(len(index))))
        self._geometry = index[['shard', 'slot', 'height', 'width', 'ori_height', 'ori_width',
                                'has_roi']].to_numpy(np.int64)
        self._matrix = index[list(MATRIX_COLUMNS)].to_numpy(np.float64).reshape(-1, 2, 3)
        shards = sorted(set(index['shard']))
        self._images = {s: np.load(osp.join(self.cache_dir, f'images_{s:05d}.npy'),
                                   mmap_mode='r') for s in shards}
        self._masks = {}
        if meta.get('masks'):
            self._masks = {s: np.load(osp.join(self.cache_dir, f'masks_{s:05d}.npy'),
                                      mmap_mode='r') for s in shards}

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
        name = results[self.key]
        row = self._rows.get(name)
        if row is None:
            raise XrayDataError(f'{name}: not in the array cache {self.cache_dir} '
                                f'({len(self._rows)} films; key field {self.key!r})')
        shard, slot, h, w, h0, w0, has_roi = self._geometry[row]
        out_h, out_w = (self.long_side, self.long_side) if self.letterbox else (h, w)
        img = np.array(self._images[shard][slot, :out_h, :out_w])
        if self.to_float32:
            img = img.astype(np.float32)
        if self.channels == 3:
            img = np.repeat(img[..., None], 3, axis=2)
        results['img'] = img
        results['ori_shape'] = (int(h0), int(w0))
        results['valid_shape'] = (int(h), int(w))
        matrix = np.vstack([self._matrix[row], [0, 0, 1]])
        boxes = results.get('gt_bboxes')
        _commit(results, matrix, (int(out_h), int(out_w)))
        results['transform_matrix'] = matrix
        if self.with_roi:
            if has_roi:
                results['roi_mask'] = np.array(self._masks[shard][slot, :out_h, :out_w])
            elif boxes is not None and len(boxes):
                mask = np.zeros((out_h, out_w), np.uint8)
                mask[:h, :w] = rasterize_boxes(results['gt_bboxes'], (int(h), int(w)))
                results['roi_mask'] = mask
        return results

    def __getstate__(self) -> dict:
        # Workers map the shards themselves; never pickle open memory maps.
        state = self.__dict__.copy()
        for name in ('_rows', '_geometry', '_matrix', '_images', '_masks'):
            state.pop(name, None)
        state['_rows'] = None
        return state

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cache_dir={self.cache_dir!r}, key={self.key!r}, '
                f'channels={self.channels}, to_float32={self.to_float32}, '
                f'letterbox={self.letterbox}, with_roi={self.with_roi})')
