"""DICOM Segmentation objects (3D Slicer, OHIF, highdicom), read with highdicom.

Each SEG frame points at its source image through ``SourceImageSequence``; the items are keyed
by the source image's SOPInstanceUID. Binary segments are used as they are, fractional ones
(probability or occupancy) are thresholded at 0.5. ``labels`` selects segments by
``SegmentLabel``.
"""
from __future__ import annotations

import glob
import os.path as osp

import numpy as np

from .base import ImageRois, Shape, file_error


def dicom_files(src: str, what: str) -> list:
    """``src`` itself, or every file under the folder ``src``."""
    if osp.isdir(src):
        files = sorted(p for p in glob.glob(osp.join(src, '**', '*'), recursive=True)
                       if osp.isfile(p))
        if not files:
            raise file_error(src, f'no {what} file in this folder')
        return files
    if not osp.isfile(src):
        raise file_error(src, 'annotation file not found')
    return [src]


def read_dicom_seg(src: str, labels=None) -> list[ImageRois]:
    """One :class:`ImageRois` per (SEG file, source image).

    Args:
        src (str): A DICOM-SEG file or a folder of them.
        labels (set[str], optional): Segment labels to import; None imports all.

    Returns:
        list[ImageRois]: Items keyed by the source SOPInstanceUID.
    """
    import highdicom as hd

    items = []
    for path in dicom_files(src, 'DICOM-SEG'):
        try:
            seg = hd.seg.segread(path)
        except Exception as err:  # pydicom/highdicom raise many types on non-SEG input
            raise file_error(path, f'not a readable DICOM Segmentation ({type(err).__name__}: '
                             f'{err})') from None
        numbers = [d.SegmentNumber for d in seg.SegmentSequence
                   if not labels or str(d.SegmentLabel) in labels]
        skipped = [f'segment {d.SegmentNumber} ({d.SegmentLabel!r}): label not selected'
                   for d in seg.SegmentSequence if d.SegmentNumber not in numbers]
        uids = [uid for _, _, uid in seg.get_source_image_uids()]
        if not uids:
            raise file_error(path, 'the SEG references no source image (SourceImageSequence)')
        for uid in uids:
            rois = ImageRois(path, f'source image {uid}', uid=str(uid), ignored=list(skipped))
            if numbers:
                try:
                    px = seg.get_pixels_by_source_instance(
                        source_sop_instance_uids=[uid], segment_numbers=numbers,
                        combine_segments=False)
                except Exception as err:  # highdicom: ValueError/KeyError/RuntimeError ...
                    rois.fail(f'cannot read its frames ({type(err).__name__}: {err})')
                mask = (np.asarray(px, dtype=np.float64)[0] >= 0.5).any(axis=-1)
                rois.size = mask.shape
                rois.shapes.append(Shape('mask', mask=mask, label=','.join(
                    str(d.SegmentLabel) for d in seg.SegmentSequence
                    if d.SegmentNumber in numbers)))
            items.append(rois)
    return items
