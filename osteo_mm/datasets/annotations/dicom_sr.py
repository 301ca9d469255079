"""DICOM Structured Reports, TID 1500 Measurement Report: planar ROI spatial coordinates.

Read with highdicom. Each "Planar ROI measurements" group (TID 1410) holds an image region: an
SCOORD content item with a graphic type and pixel coordinates on one source image (referenced by
SOPInstanceUID). Areas: closed ``POLYLINE`` (first point = last point), ``CIRCLE`` (centre, a
point on the circle) and ``ELLIPSE`` (the two end points of the major axis, then of the minor
axis). ``POINT``, ``MULTIPOINT`` and open polylines are reported as ignored; 3D coordinates
(SCOORD3D) and regions given as referenced segments are refused. ``labels`` selects groups by
the meaning of their finding (or their tracking identifier when there is no finding).
"""
from __future__ import annotations

import numpy as np

from .base import ImageRois, Shape, check_polygon, ellipse_points, file_error
from .dicom_seg import dicom_files


def read_dicom_sr(src: str, labels=None) -> list[ImageRois]:
    """One :class:`ImageRois` per (SR file, referenced image).

    Args:
        src (str): A TID 1500 SR file or a folder of them.
        labels (set[str], optional): Finding meanings / tracking identifiers to import.

    Returns:
        list[ImageRois]: Items keyed by the referenced SOPInstanceUID (no size: the image's).
    """
    import highdicom as hd

    items = []
    for path in dicom_files(src, 'DICOM SR'):
        try:
            groups = hd.sr.srread(path).content.get_planar_roi_measurement_groups()
        except Exception as err:  # not an SR, or not TID 1500
            raise file_error(path, 'not a readable TID 1500 Measurement Report '
                             f'({type(err).__name__}: {err})') from None
        by_uid: dict[str, ImageRois] = {}
        for k, group in enumerate(groups):
            finding = getattr(group, 'finding_type', None)
            label = str(finding.meaning if finding is not None else
                        getattr(group, 'tracking_identifier', '') or '')
            what = f'measurement group {k + 1} ({label!r})'
            roi = group.roi
            if roi is None:
                raise file_error(path, f'{what}: region given as a referenced segment or '
                                 'volume, not as image coordinates; import the SEG instead')
            if isinstance(roi, hd.sr.ImageRegion3D):
                raise file_error(path, f'{what}: 3D coordinates (SCOORD3D) are not supported '
                                 'for 2D films')
            uid = str(roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
            rois = by_uid.setdefault(uid, ImageRois(path, f'image {uid}', uid=uid))
            kind = roi.graphic_type.value
            pts = np.asarray(roi.value, dtype=np.float64)
            if labels and label not in labels:
                rois.ignored.append(f'{what}: label not selected')
            elif kind == 'POLYLINE' and len(pts) >= 4 and np.allclose(pts[0], pts[-1]):
                rois.shapes.append(Shape('polygon', check_polygon(pts[:-1], rois, what),
                                         label=label))
            elif kind == 'CIRCLE' and pts.shape == (2, 2):
                r = float(np.hypot(*(pts[1] - pts[0])))
                rois.shapes.append(Shape('polygon', ellipse_points(*pts[0], r, r), label=label))
            elif kind == 'ELLIPSE' and pts.shape == (4, 2):
                centre = pts[:2].mean(0)
                major, minor = pts[1] - pts[0], pts[3] - pts[2]
                angle = float(np.degrees(np.arctan2(major[1], major[0])))
                rois.shapes.append(Shape('polygon', ellipse_points(
                    *centre, np.hypot(*major) / 2, np.hypot(*minor) / 2, angle), label=label))
            elif kind in ('POINT', 'MULTIPOINT', 'POLYLINE'):
                rois.ignored.append(f'{what}: {kind.lower()} is not an area'
                                    + (' (open polyline)' if kind == 'POLYLINE' else ''))
            else:
                rois.fail(f'{what}: {kind} with {len(pts)} points is malformed')
        items.extend(by_uid.values())
    return items
