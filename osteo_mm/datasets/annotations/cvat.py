"""CVAT for images 1.1 XML: ``<image name width height>`` elements holding the shapes.

Area shapes: ``box`` (``xtl ytl xbr ybr``, optional ``rotation`` in degrees about its centre),
``polygon`` (``points="x,y;x,y;..."``), ``ellipse`` (``cx cy rx ry``, optional ``rotation``) and
``mask`` (``rle`` counts over its ``left top width height`` box, row-major, alternating runs that
start with background). ``polyline``, ``points``, ``cuboid``, ``skeleton`` and ``tag`` are not
areas and are reported as ignored.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from .base import ImageRois, Shape, ellipse_points, file_error, parse_points
from .io import keep_label

NOT_AREAS = ('polyline', 'points', 'cuboid', 'skeleton', 'tag')


def read_cvat(src: str, labels=None) -> list[ImageRois]:
    """One :class:`ImageRois` per ``<image>`` with shapes.

    Args:
        src (str): The ``annotations.xml`` file.
        labels (set[str], optional): Labels to import; None imports all.

    Returns:
        list[ImageRois]: Items keyed by the image ``name``.
    """
    try:
        root = ET.parse(src).getroot()
    except FileNotFoundError:
        raise file_error(src, 'annotation file not found') from None
    except ET.ParseError as err:
        raise file_error(src, f'not valid XML ({err})') from None
    if root.tag != 'annotations':
        raise file_error(src, f'not a CVAT XML file (root <{root.tag}>, expected <annotations>)')
    items = []
    for image in root.iter('image'):
        try:
            size = (int(image.get('height')), int(image.get('width')))
        except (TypeError, ValueError):
            raise file_error(src, f'<image id={image.get("id")}> needs integer width and '
                             'height') from None
        name = image.get('name', '')
        rois = ImageRois(src, f'image id {image.get("id")} ({name})', name=name, size=size)
        for k, el in enumerate(image):
            label = el.get('label', '')
            what = f'<{el.tag}> {k} (label {label!r})'
            if not keep_label(label, labels):
                rois.ignored.append(f'{what}: label not selected')
            elif el.tag in NOT_AREAS:
                rois.ignored.append(f'{what}: not an area')
            elif el.tag == 'polygon':
                pts = parse_points(el.get('points', ''), rois, what)
                if len(pts) < 3:
                    rois.fail(f'{what}: a polygon needs at least 3 points')
                rois.shapes.append(Shape('polygon', pts, label=label))
            elif el.tag == 'box':
                rois.shapes.append(_box(el, rois, what, label))
            elif el.tag == 'ellipse':
                cx, cy, rx, ry, rot = _floats(el, ('cx', 'cy', 'rx', 'ry', 'rotation'), rois, what)
                rois.shapes.append(Shape('polygon', ellipse_points(cx, cy, rx, ry, rot),
                                         label=label))
            elif el.tag == 'mask':
                rois.shapes.append(Shape('mask', mask=_mask(el, size, rois, what), label=label))
            else:
                rois.fail(f'{what}: unknown element <{el.tag}>')
        if rois.shapes or rois.ignored:
            items.append(rois)
    return items


def _floats(el, keys, rois: ImageRois, what: str) -> list:
    try:
        return [float(el.get(k, 0 if k == 'rotation' else 'nan')) for k in keys]
    except ValueError:
        rois.fail(f'{what}: {", ".join(keys)} must be numbers')


def _box(el, rois: ImageRois, what: str, label: str) -> Shape:
    x0, y0, x1, y1, rot = _floats(el, ('xtl', 'ytl', 'xbr', 'ybr', 'rotation'), rois, what)
    if not np.isfinite([x0, y0, x1, y1]).all() or x1 <= x0 or y1 <= y0:
        rois.fail(f'{what}: box needs xtl < xbr and ytl < ybr')
    box = Shape.from_box(x0, y0, x1 - x0, y1 - y0, label)
    if rot % 360 == 0:
        return box
    a = np.deg2rad(rot)  # CVAT rotates boxes clockwise (y down) about their centre
    centre = box.points.mean(0)
    rel = box.points - centre
    rotated = centre + rel @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return Shape('polygon', rotated, label=label)


def _mask(el, size: tuple, rois: ImageRois, what: str) -> np.ndarray:
    try:
        counts = [int(v) for v in el.get('rle', '').split(',')]
        left, top, w, h = (int(float(el.get(k))) for k in ('left', 'top', 'width', 'height'))
    except (TypeError, ValueError):
        rois.fail(f'{what}: mask needs integer rle counts and left, top, width, height')
    if sum(counts) != w * h or min(counts) < 0:
        rois.fail(f'{what}: rle counts sum to {sum(counts)}, the {w}x{h} box has {w * h} pixels')
    if left < 0 or top < 0 or left + w > size[1] or top + h > size[0]:
        rois.fail(f'{what}: mask box {w}x{h} at ({left}, {top}) leaves the image')
    values = np.arange(len(counts)) % 2  # runs alternate background / foreground
    crop = np.repeat(values, counts).astype(bool).reshape(h, w)
    out = np.zeros(size, dtype=bool)
    out[top:top + h, left:left + w] = crop
    return out
