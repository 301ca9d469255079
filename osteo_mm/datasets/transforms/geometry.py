"""Mask-aware geometric transforms.

Every transform moves ``img``, ``roi_mask`` and ``gt_bboxes`` together and left-multiplies
``transform_matrix`` so that ``transform_matrix @ [x, y, 1]`` maps an original-image pixel
coordinate to the current image (docs/conventions.md). Pixel coordinates refer to pixel centres:
pixel (i, j) has centre (x=j, y=i), which is also OpenCV's convention for ``resize`` and
``warpAffine``. Boxes use pixel *edges* (pixel j spans [j, j + 1)), so they are shifted by half a
pixel before and after being mapped; boxes are clipped to the image and never removed.

MMPretrain's own geometric transforms move only the image, hence these classes.
"""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

INTERPOLATIONS = {
    'nearest': cv2.INTER_NEAREST_EXACT,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
}


def _size_pair(size: int | Sequence[int], name: str) -> tuple[int, int]:
    """Return a ``(w, h)`` pair from an int or a pair of positive ints."""
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or min(pair) <= 0:
        raise ValueError(f'{name} must be a positive int or (w, h), got {size!r}')
    return int(pair[0]), int(pair[1])


def _interpolation(name: str) -> int:
    if name not in INTERPOLATIONS:
        raise ValueError(f'interpolation must be one of {tuple(INTERPOLATIONS)}, got {name!r}')
    return INTERPOLATIONS[name]


def warp_boxes(boxes: np.ndarray, matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Map x1, y1, x2, y2 edge-coordinate boxes through a pixel-centre affine matrix.

    Args:
        boxes (np.ndarray): (N, 4) boxes.
        matrix (np.ndarray): 3x3 affine matrix in pixel-centre coordinates.
        shape (tuple[int, int]): (H, W) of the output image, used for clipping.

    Returns:
        np.ndarray: (N, 4) float32 axis-aligned boxes enclosing the mapped corners.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) - 0.5
    xs = boxes[:, [0, 2, 2, 0]]
    ys = boxes[:, [1, 1, 3, 3]]
    pts = np.stack([xs, ys, np.ones_like(xs)], axis=-1) @ matrix.T
    out = np.stack([pts[..., 0].min(1), pts[..., 1].min(1),
                    pts[..., 0].max(1), pts[..., 1].max(1)], axis=1) + 0.5
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, shape[1])
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, shape[0])
    return out.astype(np.float32)


def _commit(results: dict, matrix: np.ndarray, shape: tuple[int, int]) -> None:
    """Record a geometric step: update the matrix, the boxes and ``img_shape``."""
    results['transform_matrix'] = matrix @ results.get('transform_matrix', np.eye(3))
    if results.get('gt_bboxes') is not None:
        results['gt_bboxes'] = warp_boxes(results['gt_bboxes'], matrix, shape)
    results['img_shape'] = shape


def _resize(results: dict, size: tuple[int, int], interpolation: int) -> None:
    """Resize image and mask to ``size`` = (w, h)."""
    h0, w0 = results['img'].shape[:2]
    sx, sy = size[0] / w0, size[1] / h0
    results['img'] = cv2.resize(results['img'], size, interpolation=interpolation)
    if 'roi_mask' in results:
        results['roi_mask'] = cv2.resize(results['roi_mask'], size,
                                         interpolation=cv2.INTER_NEAREST_EXACT)
    matrix = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]])
    _commit(results, matrix, (size[1], size[0]))


def _crop(results: dict, x0: int, y0: int, w: int, h: int) -> None:
    """Crop image and mask to the window starting at (x0, y0) of size (w, h)."""
    results['img'] = results['img'][y0:y0 + h, x0:x0 + w]
    if 'roi_mask' in results:
        results['roi_mask'] = results['roi_mask'][y0:y0 + h, x0:x0 + w]
    matrix = np.array([[1.0, 0, -x0], [0, 1, -y0], [0, 0, 1]])
    _commit(results, matrix, results['img'].shape[:2])


def _warp(results: dict, matrix: np.ndarray, size: tuple[int, int], interpolation: int,
          border_val: float) -> None:
    """Warp image and mask with a 3x3 affine ``matrix`` onto an output of ``size`` = (w, h)."""
    img = results['img']
    border = (border_val, ) * (img.shape[2] if img.ndim == 3 else 1)
    results['img'] = cv2.warpAffine(img, matrix[:2], size, flags=interpolation,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    if 'roi_mask' in results:
        results['roi_mask'] = cv2.warpAffine(results['roi_mask'], matrix[:2], size,
                                             flags=cv2.INTER_NEAREST,
                                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    _commit(results, matrix, (size[1], size[0]))


@TRANSFORMS.register_module()
class XrayResize(BaseTransform):
    """Resize to a fixed size, or the short edge to a length keeping the aspect ratio.

    **Modified Keys:** ``img``, ``img_shape``, ``roi_mask``, ``gt_bboxes``, ``transform_matrix``

    Args:
        scale (int | Sequence[int]): An int resizes the short edge to ``scale``; a pair is the
            exact output ``(w, h)``.
        interpolation (str): 'nearest', 'bilinear', 'bicubic' or 'area' for the image (masks
            always use nearest). Defaults to 'bilinear'.
    """

    def __init__(self, scale: int | Sequence[int], interpolation: str = 'bilinear') -> None:
        self.short_edge = isinstance(scale, int)
        self.scale = _size_pair(scale, 'scale')
        self.interpolation = interpolation
        self._interp = _interpolation(interpolation)

    def transform(self, results: dict) -> dict:
        """Resize ``results`` in place and return it."""
        h, w = results['img'].shape[:2]
        if self.short_edge:
            ratio = self.scale[0] / min(h, w)
            size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
        else:
            size = self.scale
        _resize(results, size, self._interp)
        return results

    def __repr__(self) -> str:
        scale = self.scale[0] if self.short_edge else self.scale
        return f'{self.__class__.__name__}(scale={scale}, interpolation={self.interpolation!r})'


@TRANSFORMS.register_module()
class XrayCenterCrop(BaseTransform):
    """Crop the centre of the image (a side smaller than the crop is kept whole).

    **Modified Keys:** ``img``, ``img_shape``, ``roi_mask``, ``gt_bboxes``, ``transform_matrix``

    Args:
        crop_size (int | Sequence[int]): Output size, an int or ``(w, h)``.
    """

    def __init__(self, crop_size: int | Sequence[int]) -> None:
        self.crop_size = _size_pair(crop_size, 'crop_size')

    def transform(self, results: dict) -> dict:
        """Crop ``results`` in place and return it."""
        h, w = results['img'].shape[:2]
        cw, ch = min(self.crop_size[0], w), min(self.crop_size[1], h)
        _crop(results, (w - cw) // 2, (h - ch) // 2, cw, ch)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class XrayRandomResizedCrop(BaseTransform):
    """Crop a random area and aspect ratio, then resize it (Inception-style augmentation).

    **Modified Keys:** ``img``, ``img_shape``, ``roi_mask``, ``gt_bboxes``, ``transform_matrix``

    Args:
        scale (int | Sequence[int]): Output size, an int or ``(w, h)``.
        crop_ratio_range (Sequence[float]): Range of the crop area relative to the image.
            Defaults to (0.08, 1.0).
        aspect_ratio_range (Sequence[float]): Range of crop width / height.
            Defaults to (3/4, 4/3).
        max_attempts (int): Tries before falling back to a centre crop of the largest
            in-range aspect ratio. Defaults to 10.
        interpolation (str): Image interpolation, see :class:`XrayResize`.
            Defaults to 'bilinear'.
    """

    def __init__(self,
                 scale: int | Sequence[int],
                 crop_ratio_range: Sequence[float] = (0.08, 1.0),
                 aspect_ratio_range: Sequence[float] = (3 / 4, 4 / 3),
                 max_attempts: int = 10,
                 interpolation: str = 'bilinear') -> None:
        if not 0 < crop_ratio_range[0] <= crop_ratio_range[1] <= 1:
            raise ValueError(f'crop_ratio_range must be within (0, 1], got {crop_ratio_range}')
        if not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError(f'invalid aspect_ratio_range {aspect_ratio_range}')
        self.scale = _size_pair(scale, 'scale')
        self.crop_ratio_range = tuple(crop_ratio_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)
        self.max_attempts = max_attempts
        self.interpolation = interpolation
        self._interp = _interpolation(interpolation)

    def _crop_box(self, h: int, w: int) -> tuple[int, int, int, int]:
        """Sample (x0, y0, cw, ch) as in torchvision's RandomResizedCrop."""
        area = h * w
        log_ratio = np.log(self.aspect_ratio_range)
        for _ in range(self.max_attempts):
            target = area * np.random.uniform(*self.crop_ratio_range)
            aspect = math.exp(np.random.uniform(*log_ratio))
            cw = round(math.sqrt(target * aspect))
            ch = round(math.sqrt(target / aspect))
            if 0 < cw <= w and 0 < ch <= h:
                return (np.random.randint(0, w - cw + 1), np.random.randint(0, h - ch + 1),
                        cw, ch)
        aspect = min(max(w / h, self.aspect_ratio_range[0]), self.aspect_ratio_range[1])
        cw, ch = (w, round(w / aspect)) if w / h < aspect else (round(h * aspect), h)
        cw, ch = min(max(cw, 1), w), min(max(ch, 1), h)
        return (w - cw) // 2, (h - ch) // 2, cw, ch

    def transform(self, results: dict) -> dict:
        """Crop and resize ``results`` in place and return it."""
        x0, y0, cw, ch = self._crop_box(*results['img'].shape[:2])
        _crop(results, x0, y0, cw, ch)
        _resize(results, self.scale, self._interp)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class XrayRandomFlip(BaseTransform):
    """Flip with probability ``prob``; horizontal by default (anatomy is not upside down).

    **Modified Keys:** ``img``, ``roi_mask``, ``gt_bboxes``, ``transform_matrix``

    **Added Keys:** ``flip``, ``flip_direction``

    Args:
        prob (float): Flip probability. Defaults to 0.5.
        direction (str): 'horizontal' or 'vertical'. Defaults to 'horizontal'.
    """

    def __init__(self, prob: float = 0.5, direction: str = 'horizontal') -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")
        self.prob = prob
        self.direction = direction

    def transform(self, results: dict) -> dict:
        """Maybe flip ``results`` in place and return it."""
        flip = bool(np.random.rand() < self.prob)
        results['flip'] = flip
        results['flip_direction'] = self.direction if flip else None
        if not flip:
            return results
        h, w = results['img'].shape[:2]
        axis = 1 if self.direction == 'horizontal' else 0
        results['img'] = np.ascontiguousarray(np.flip(results['img'], axis))
        if 'roi_mask' in results:
            results['roi_mask'] = np.ascontiguousarray(np.flip(results['roi_mask'], axis))
        if axis == 1:
            matrix = np.array([[-1.0, 0, w - 1], [0, 1, 0], [0, 0, 1]])
        else:
            matrix = np.array([[1.0, 0, 0], [0, -1, h - 1], [0, 0, 1]])
        _commit(results, matrix, (h, w))
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob}, direction={self.direction!r})'


@TRANSFORMS.register_module()
class XrayRandomAffine(BaseTransform):
    """Random rotation, isotropic scaling and translation about the image centre.

    **Modified Keys:** ``img``, ``roi_mask``, ``gt_bboxes``, ``transform_matrix``

    Args:
        max_rotate_degree (float): Rotation is uniform in +-this (counter-clockwise positive).
            Defaults to 10.
        scale_range (Sequence[float]): Range of the scale factor. Defaults to (0.9, 1.1).
        max_translate_ratio (float): Shift is uniform in +-this fraction of width/height.
            Defaults to 0.05.
        prob (float): Probability of applying the transform. Defaults to 1.0.
        border_val (float): Fill value outside the source image. Defaults to 0.
        interpolation (str): Image interpolation, see :class:`XrayResize`.
            Defaults to 'bilinear'.
    """

    def __init__(self,
                 max_rotate_degree: float = 10.0,
                 scale_range: Sequence[float] = (0.9, 1.1),
                 max_translate_ratio: float = 0.05,
                 prob: float = 1.0,
                 border_val: float = 0,
                 interpolation: str = 'bilinear') -> None:
        if not 0 < scale_range[0] <= scale_range[1]:
            raise ValueError(f'invalid scale_range {scale_range}')
        self.max_rotate_degree = max_rotate_degree
        self.scale_range = tuple(scale_range)
        self.max_translate_ratio = max_translate_ratio
        self.prob = prob
        self.border_val = border_val
        self.interpolation = interpolation
        self._interp = _interpolation(interpolation)

    @staticmethod
    def matrix(shape: tuple[int, int], angle: float, scale: float, shift: tuple[float, float]
               ) -> np.ndarray:
        """The 3x3 matrix rotating by ``angle`` degrees and scaling about the centre, then shifting.

        Args:
            shape (tuple[int, int]): (H, W) of the image.
            angle (float): Degrees, counter-clockwise as seen on screen.
            scale (float): Isotropic scale factor.
            shift (tuple[float, float]): (dx, dy) in pixels.

        Returns:
            np.ndarray: The affine matrix.
        """
        h, w = shape
        rot = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, scale)
        rot[:, 2] += shift
        return np.vstack([rot, [0, 0, 1]])

    def transform(self, results: dict) -> dict:
        """Maybe warp ``results`` in place and return it."""
        if np.random.rand() >= self.prob:
            return results
        h, w = results['img'].shape[:2]
        angle = np.random.uniform(-self.max_rotate_degree, self.max_rotate_degree)
        scale = np.random.uniform(*self.scale_range)
        shift = (np.random.uniform(-1, 1) * self.max_translate_ratio * w,
                 np.random.uniform(-1, 1) * self.max_translate_ratio * h)
        _warp(results, self.matrix((h, w), angle, scale, shift), (w, h), self._interp,
              self.border_val)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_rotate_degree={self.max_rotate_degree}, '
                f'scale_range={self.scale_range}, '
                f'max_translate_ratio={self.max_translate_ratio}, prob={self.prob})')


@TRANSFORMS.register_module()
class XrayPad(BaseTransform):
    """Pad to a fixed size or to a square.

    **Modified Keys:** ``img``, ``img_shape``, ``roi_mask``, ``gt_bboxes``, ``transform_matrix``

    Args:
        size (int | Sequence[int], optional): Output size, an int or ``(w, h)``; must not be
            smaller than the image. Exactly one of ``size`` and ``pad_to_square`` is needed.
        pad_to_square (bool): Pad the short side to the long side. Defaults to False.
        pad_val (float): Image fill value (the mask is filled with 0). Defaults to 0.
        center (bool): Split padding evenly between both sides instead of padding only the
            right/bottom. Defaults to False.
    """

    def __init__(self,
                 size: int | Sequence[int] | None = None,
                 pad_to_square: bool = False,
                 pad_val: float = 0,
                 center: bool = False) -> None:
        if (size is None) == (not pad_to_square):
            raise ValueError('give exactly one of size and pad_to_square=True')
        self.size = None if size is None else _size_pair(size, 'size')
        self.pad_to_square = pad_to_square
        self.pad_val = pad_val
        self.center = center

    def transform(self, results: dict) -> dict:
        """Pad ``results`` in place and return it."""
        h, w = results['img'].shape[:2]
        out_w, out_h = (max(h, w), max(h, w)) if self.pad_to_square else self.size
        if out_w < w or out_h < h:
            raise ValueError(f'XrayPad size {(out_w, out_h)} is smaller than the image {(w, h)}')
        left = (out_w - w) // 2 if self.center else 0
        top = (out_h - h) // 2 if self.center else 0
        borders = (top, out_h - h - top, left, out_w - w - left)
        results['img'] = cv2.copyMakeBorder(results['img'], *borders, cv2.BORDER_CONSTANT,
                                            value=(self.pad_val, ) * 4)
        if 'roi_mask' in results:
            results['roi_mask'] = cv2.copyMakeBorder(results['roi_mask'], *borders,
                                                     cv2.BORDER_CONSTANT, value=0)
        matrix = np.array([[1.0, 0, left], [0, 1, top], [0, 0, 1]])
        _commit(results, matrix, (out_h, out_w))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'pad_to_square={self.pad_to_square}, pad_val={self.pad_val}, '
                f'center={self.center})')
