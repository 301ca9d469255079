"""Common shape of expert ROIs read from annotation tools, and one rasteriser for all formats.

Coordinates everywhere are **pixel-edge** coordinates in original image pixels: pixel (i, j)
covers ``[j, j + 1) x [i, i + 1)``, as in COCO, LabelMe, CVAT, Label Studio (after scaling its
percentages) and DICOM SR SCOORD (PS3.3 C.18.6.1.2: the top-left corner of the top-left pixel is
0.0\\0.0). A pixel belongs to a shape when its centre ``(j + 0.5, i + 0.5)`` lies inside, the
rule :func:`osteo_mm.datasets.transforms.loading.rasterize_boxes` applies to ``roi_bbox``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.path import Path

from ..errors import XrayDataError

#: Vertices used to approximate circles and ellipses.
ELLIPSE_VERTICES = 128


class AnnotationError(XrayDataError):
    """A malformed annotation item; the message names the file and the item."""

    def __init__(self, source: str, item: str, problem: str) -> None:
        super().__init__(f'{source}: {item}: {problem}')


def file_error(source: str, problem: str) -> XrayDataError:
    """An error about a whole annotation file (rather than one item in it)."""
    return XrayDataError(f'{source}: {problem}')


@dataclass
class Shape:
    """One annotated region.

    Attributes:
        kind (str): ``'polygon'``, ``'box'`` (axis-aligned, ``box`` holds x, y, w, h) or
            ``'mask'`` (``mask`` holds a full-image boolean array).
        points (np.ndarray | None): (N, 2) x, y vertices for polygons and boxes.
        box (tuple | None): x, y, w, h of a box.
        mask (np.ndarray | None): Boolean (H, W) for masks.
        label (str): The tool's label of the shape.
    """

    kind: str
    points: np.ndarray | None = None
    box: tuple | None = None
    mask: np.ndarray | None = None
    label: str = ''

    @classmethod
    def from_box(cls, x: float, y: float, w: float, h: float, label: str = '') -> Shape:
        """An axis-aligned box from its top-left corner and size."""
        pts = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)
        return cls('box', points=pts, box=(float(x), float(y), float(w), float(h)), label=label)


@dataclass
class ImageRois:
    """All ROI shapes one annotation item gives for one image.

    Attributes:
        source (str): The annotation file.
        item (str): Which item inside it (e.g. ``'image id 3'``), for messages.
        name (str | None): The image file name (or path) the item refers to.
        uid (str | None): The referenced SOPInstanceUID (DICOM-SEG/SR).
        size (tuple | None): (H, W) the annotation was made at, when the format says.
        shapes (list[Shape]): The regions (their union is the ROI).
        ignored (list[str]): Shapes that are not areas (points, lines) and were left out.
    """

    source: str
    item: str
    name: str | None = None
    uid: str | None = None
    size: tuple | None = None
    shapes: list = field(default_factory=list)
    ignored: list = field(default_factory=list)

    def fail(self, problem: str) -> None:
        """Raise :class:`AnnotationError` for this item."""
        raise AnnotationError(self.source, self.item, problem)


def ellipse_points(cx: float, cy: float, rx: float, ry: float,
                   angle_deg: float = 0.0) -> np.ndarray:
    """Vertices of an ellipse (``angle_deg`` rotates it clockwise on screen, y down)."""
    t = np.linspace(0, 2 * np.pi, ELLIPSE_VERTICES, endpoint=False)
    a = np.deg2rad(angle_deg)
    x, y = rx * np.cos(t), ry * np.sin(t)
    return np.stack([cx + x * np.cos(a) - y * np.sin(a), cy + x * np.sin(a) + y * np.cos(a)], 1)


def rasterize_polygon(points: np.ndarray, shape: tuple) -> np.ndarray:
    """Boolean mask of the pixels whose centres lie inside a polygon.

    Args:
        points (np.ndarray): (N, 2) x, y vertices in pixel-edge coordinates.
        shape (tuple): (H, W) of the image.

    Returns:
        np.ndarray: Boolean (H, W) mask.
    """
    mask = np.zeros(shape, dtype=bool)
    pts = np.asarray(points, dtype=np.float64)
    x0, y0 = np.clip(np.floor(pts.min(0)).astype(int), 0, None)
    x1 = min(int(np.ceil(pts[:, 0].max())), shape[1])
    y1 = min(int(np.ceil(pts[:, 1].max())), shape[0])
    if x1 <= x0 or y1 <= y0:
        return mask
    yy, xx = np.mgrid[y0:y1, x0:x1]
    centres = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], axis=1)
    inside = Path(pts).contains_points(centres, radius=1e-9)
    mask[y0:y1, x0:x1] = inside.reshape(yy.shape)
    return mask


def rasterize(rois: ImageRois, shape: tuple) -> np.ndarray:
    """The union of an item's shapes as a boolean (H, W) mask.

    Args:
        rois (ImageRois): The item.
        shape (tuple): (H, W) of the image it was matched to.

    Returns:
        np.ndarray: Boolean mask.

    Raises:
        AnnotationError: If a mask shape has another size, or the ROI covers no pixel.
    """
    out = np.zeros(shape, dtype=bool)
    for s in rois.shapes:
        if s.kind == 'mask':
            if s.mask.shape != tuple(shape):
                rois.fail(f'mask of size {s.mask.shape[::-1]} but the image is {shape[::-1]}')
            out |= s.mask.astype(bool)
        else:
            out |= rasterize_polygon(s.points, shape)
    if not out.any():
        rois.fail(f'the ROI covers no pixel of the {shape[1]}x{shape[0]} image')
    return out


def parse_points(text: str, rois: ImageRois, what: str) -> np.ndarray:
    """Parse ``'x1,y1;x2,y2;...'`` (CVAT) into an (N, 2) array, failing on bad numbers."""
    try:
        pts = np.array([[float(v) for v in p.split(',')] for p in text.strip().split(';')])
    except ValueError:
        rois.fail(f'{what}: points {text[:60]!r} are not x,y;x,y;... numbers')
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        rois.fail(f'{what}: points {text[:60]!r} are not x,y pairs')
    return pts


def check_polygon(points, rois: ImageRois, what: str) -> np.ndarray:
    """An (N >= 3, 2) finite float array of polygon vertices, or a clear error."""
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        rois.fail(f'{what}: vertices are not numbers')
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.isfinite(pts).all():
        rois.fail(f'{what}: a polygon needs at least 3 finite x, y vertices, got '
                  f'{np.shape(pts)}')
    return pts
