"""LabelMe JSON: one file per image (``imagePath``, ``imageHeight``, ``imageWidth``, ``shapes``).

Area shapes: ``polygon``, ``rectangle`` (two opposite corners), ``circle`` (centre and a point on
the circle) and ``mask`` (LabelMe >= 5.3: a base64 PNG covering the box of its two ``points``).
``line``, ``linestrip``, ``point`` and ``points`` are not areas and are reported as ignored.
"""
from __future__ import annotations

import base64
import glob
import os.path as osp

import cv2
import numpy as np

from .base import ImageRois, Shape, check_polygon, ellipse_points, file_error
from .io import keep_label, load_json

NOT_AREAS = ('line', 'linestrip', 'point', 'points')


def read_labelme(src: str, labels=None) -> list[ImageRois]:
    """One :class:`ImageRois` per LabelMe JSON file.

    Args:
        src (str): A LabelMe JSON file, or a folder searched recursively for ``*.json``.
        labels (set[str], optional): Shape labels to import; None imports all.

    Returns:
        list[ImageRois]: Items keyed by ``imagePath``.
    """
    files = (sorted(glob.glob(osp.join(src, '**', '*.json'), recursive=True))
             if osp.isdir(src) else [src])
    if not files:
        raise file_error(src, 'no LabelMe *.json file in this folder')
    return [_read_one(path, labels) for path in files]


def _read_one(path: str, labels) -> ImageRois:
    data = load_json(path)
    if not isinstance(data, dict) or 'shapes' not in data or 'imagePath' not in data:
        raise file_error(path, 'not a LabelMe file (needs "shapes" and "imagePath")')
    try:
        size = (int(data['imageHeight']), int(data['imageWidth']))
    except (KeyError, TypeError, ValueError):
        raise file_error(path, 'imageHeight/imageWidth missing or not integers') from None
    rois = ImageRois(path, f"image {data['imagePath']!r}",
                     name=str(data['imagePath']).replace('\\', '/'), size=size)
    for k, shape in enumerate(data['shapes']):
        kind = shape.get('shape_type') or 'polygon'
        label = str(shape.get('label', ''))
        what = f'shape {k} ({kind} {label!r})'
        if not keep_label(label, labels):
            rois.ignored.append(f'{what}: label not selected')
        elif kind in NOT_AREAS:
            rois.ignored.append(f'{what}: not an area')
        elif kind == 'polygon':
            rois.shapes.append(Shape('polygon', check_polygon(shape.get('points'), rois, what),
                                     label=label))
        elif kind in ('rectangle', 'circle', 'mask'):
            pts = np.asarray(shape.get('points'), dtype=np.float64)
            if pts.shape != (2, 2) or not np.isfinite(pts).all():
                rois.fail(f'{what}: needs exactly two x, y points, got {pts.shape}')
            if kind == 'rectangle':
                (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
                if x1 <= x0 or y1 <= y0:
                    rois.fail(f'{what}: rectangle has no area')
                rois.shapes.append(Shape.from_box(x0, y0, x1 - x0, y1 - y0, label))
            elif kind == 'circle':
                radius = float(np.hypot(*(pts[1] - pts[0])))
                rois.shapes.append(Shape('polygon', ellipse_points(*pts[0], radius, radius),
                                         label=label))
            else:
                rois.shapes.append(Shape('mask', mask=_mask_shape(shape, pts, size, rois, what),
                                         label=label))
        else:
            rois.fail(f'{what}: unknown shape_type {kind!r}')
    return rois


def _mask_shape(shape: dict, pts: np.ndarray, size: tuple, rois: ImageRois,
                what: str) -> np.ndarray:
    """A LabelMe ``mask`` shape (PNG of its box) pasted into a full-image boolean mask."""
    try:
        png = base64.b64decode(shape['mask'])
        crop = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    except (KeyError, TypeError, ValueError):
        crop = None
    if crop is None:
        rois.fail(f'{what}: "mask" is not a base64 PNG')
    x0, y0 = np.floor(pts.min(0)).astype(int)
    out = np.zeros(size, dtype=bool)
    h, w = crop.shape
    if x0 < 0 or y0 < 0 or y0 + h > size[0] or x0 + w > size[1]:
        rois.fail(f'{what}: mask of {w}x{h} at ({x0}, {y0}) leaves the image')
    out[y0:y0 + h, x0:x0 + w] = crop > 0
    return out
