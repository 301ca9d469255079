"""Intensity transforms for grayscale X-rays.

Windowing happens in :class:`LoadXrayFromFile`; brightness/contrast jitter is MMPretrain's
``ColorJitter`` (it treats a repeated-gray image correctly), so only CLAHE lives here.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class XrayCLAHE(BaseTransform):
    """Contrast Limited Adaptive Histogram Equalisation (OpenCV) of a grayscale X-ray.

    The first channel is equalised and repeated, so a 3-channel gray image stays gray.
    float32 images (values in [0, 255]) are equalised at 8-bit precision and returned as
    float32.

    **Modified Keys:** ``img``

    Args:
        clip_limit (float): Contrast limit per tile. Defaults to 2.0.
        tile_grid_size (Sequence[int]): Number of tiles (columns, rows). Defaults to (8, 8).
    """

    def __init__(self, clip_limit: float = 2.0, tile_grid_size: Sequence[int] = (8, 8)) -> None:
        if clip_limit <= 0:
            raise ValueError(f'clip_limit must be positive, got {clip_limit}')
        self.clip_limit = clip_limit
        self.tile_grid_size = tuple(tile_grid_size)

    def transform(self, results: dict) -> dict:
        """Equalise ``results['img']`` and return ``results``."""
        img = results['img']
        gray = img[..., 0] if img.ndim == 3 else img
        is_float = gray.dtype != np.uint8
        if is_float:
            gray = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
        clahe = cv2.createCLAHE(clipLimit=self.clip_limit, tileGridSize=self.tile_grid_size)
        out = clahe.apply(np.ascontiguousarray(gray))
        if is_float:
            out = out.astype(np.float32)
        results['img'] = np.repeat(out[..., None], img.shape[2], axis=2) if img.ndim == 3 else out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_limit={self.clip_limit}, '
                f'tile_grid_size={self.tile_grid_size})')
