"""Match annotation items to the rows of a shoulder CSV, write mask PNGs, fill the ROI columns.

Matching: DICOM-SEG/SR items by the SOPInstanceUID of the row's DICOM (headers are read once);
the other formats by file name: the item's path equals the row's ``image`` path, else its
base name equals the row's base name (Label Studio's ``<8 hex digits>-`` upload prefix is
also tried without). A base name shared by several rows is an error, not a guess. Items that
match no row are reported one by one; rows without an item keep their cells.
"""
from __future__ import annotations

import os.path as osp
import re
from dataclasses import dataclass, field

import cv2
import numpy as np
import pandas as pd
import pydicom
from PIL import Image

from osteo_mm.utils.io import write_atomic

from ..csv_io import fail_duplicates, read_csv, require_columns
from ..errors import XrayDataError
from .base import ImageRois, rasterize

LABEL_STUDIO_PREFIX = re.compile(r'^[0-9a-f]{8}-')


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        written (list[str]): ``image`` of each row that got a mask.
        unmatched (list[str]): One line per annotation item that matched no row.
        ignored (list[str]): One line per shape left out (not an area / label not selected).
    """

    written: list = field(default_factory=list)
    unmatched: list = field(default_factory=list)
    ignored: list = field(default_factory=list)


def _image_size(path: str) -> tuple | None:
    """(H, W) from the image header (DICOM Rows/Columns, raster header); None if unreadable."""
    try:
        if osp.splitext(path)[1].lower() in ('.png', '.jpg', '.jpeg'):
            with Image.open(path) as img:
                return img.size[::-1]
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        return int(ds.Rows), int(ds.Columns)
    except Exception:  # a missing or unreadable image: the size check is skipped, not fatal
        return None


class RowIndex:
    """Find the CSV row of an annotation item by path, base name or SOPInstanceUID."""

    def __init__(self, images: list, paths: list) -> None:
        self.images, self.paths = images, paths
        self.by_path = {p: i for i, p in enumerate(images)}
        self.by_name: dict[str, list] = {}
        for i, p in enumerate(images):
            self.by_name.setdefault(osp.basename(p), []).append(i)
        self._by_uid = None

    def by_uid(self) -> dict:
        """SOPInstanceUID -> row, read from the rows' DICOM headers (once)."""
        if self._by_uid is None:
            self._by_uid = {}
            for i, path in enumerate(self.paths):
                if osp.splitext(path)[1].lower() in ('.png', '.jpg', '.jpeg'):
                    continue
                try:
                    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True,
                                         specific_tags=['SOPInstanceUID'])
                except Exception:  # unreadable rows are reported by the dataset itself
                    continue
                if 'SOPInstanceUID' in ds:
                    self._by_uid[str(ds.SOPInstanceUID)] = i
        return self._by_uid

    def find(self, rois: ImageRois) -> int | None:
        """The row of ``rois``, None when no row matches."""
        if rois.uid is not None:
            return self.by_uid().get(rois.uid)
        name = (rois.name or '').replace('\\', '/')
        if name in self.by_path:
            return self.by_path[name]
        base = osp.basename(name)
        for candidate in dict.fromkeys([base, LABEL_STUDIO_PREFIX.sub('', base)]):
            rows = self.by_name.get(candidate, [])
            if len(rows) > 1:
                rois.fail(f'file name {candidate!r} matches several CSV rows '
                          f'({", ".join(self.images[r] for r in rows[:3])}); use full paths')
            if rows:
                return rows[0]
        return None


def import_rois(items: list, ann_file: str, out_dir: str, data_root: str | None = None,
                overwrite: bool = False, strict: bool = False) -> ImportReport:
    """Write one mask PNG per matched row and fill ``roi_mask`` / ``roi_bbox`` in ``ann_file``.

    Args:
        items (list[ImageRois]): Output of one of the format readers.
        ann_file (str): The shoulder CSV (updated in place, atomically).
        out_dir (str): Folder of the mask PNGs (mirrors the ``image`` folders).
        data_root (str, optional): Root of the CSV's paths; defaults to the CSV's folder.
        overwrite (bool): Replace existing ROI cells and mask files. Defaults to False.
        strict (bool): Fail (before writing anything) when an item matches no row.
            Defaults to False.

    Returns:
        ImportReport: Rows written, unmatched items and ignored shapes.

    Raises:
        XrayDataError: On malformed items, two items for one row, a size mismatch between an
            annotation and its image, (without ``overwrite``) existing ROIs, or (with
            ``strict``) unmatched items.
    """
    root = osp.dirname(osp.abspath(ann_file)) if data_root is None else data_root
    df = read_csv(ann_file)
    require_columns(df, ('image',), ann_file)
    images = df['image'].str.strip().str.replace('\\', '/', regex=False).tolist()
    fail_duplicates(ann_file, pd.Series(images), 'image')
    index = RowIndex(images, [p if osp.isabs(p) else osp.join(root, p) for p in images])
    report, matched = ImportReport(), {}
    for rois in items:
        report.ignored += [f'{rois.source}: {rois.item}: {why}' for why in rois.ignored]
        row = index.find(rois)
        key = f'SOPInstanceUID {rois.uid}' if rois.uid else f'file name {rois.name!r}'
        if row is None:
            report.unmatched.append(f'{rois.source}: {rois.item}: no CSV row with {key}')
        elif not rois.shapes:
            continue
        elif row in matched:
            rois.fail(f'{images[row]} already has ROIs from {matched[row].source}: '
                      f'{matched[row].item}; merge them in the annotation tool first')
        else:
            matched[row] = rois
    if strict and report.unmatched:
        raise XrayDataError(f'{ann_file}: {len(report.unmatched)} annotation item(s) match no '
                            'row, nothing written: ' + '; '.join(report.unmatched[:3])
                            + ('; ...' if len(report.unmatched) > 3 else ''))
    for col in ('roi_mask', 'roi_bbox'):
        if col not in df:
            df[col] = ''
    out_rel = {r: osp.splitext(images[r].lstrip('/'))[0] + '.png' for r in matched}
    if not overwrite:
        taken = [images[r] for r in matched
                 if df.at[r, 'roi_mask'].strip() or df.at[r, 'roi_bbox'].strip()
                 or osp.exists(osp.join(out_dir, out_rel[r]))]
        if taken:
            raise XrayDataError(
                f'{ann_file}: {len(taken)} row(s) already have an ROI or a mask file '
                f'({", ".join(taken[:3])}{", ..." if len(taken) > 3 else ""}); '
                'pass --overwrite to replace them')
    for row in sorted(matched):
        rois = matched[row]
        size = _image_size(index.paths[row])
        if size is not None and rois.size is not None and tuple(rois.size) != tuple(size):
            rois.fail(f'annotated at {rois.size[1]}x{rois.size[0]} px but {images[row]} is '
                      f'{size[1]}x{size[0]} px (annotate the original image)')
        shape = rois.size or size
        if shape is None:
            rois.fail(f'the size of {images[row]} is unknown (image unreadable) and the '
                      'annotation does not give it')
        mask = rasterize(rois, tuple(shape))
        mask_path = osp.join(out_dir, out_rel[row])
        ok, png = cv2.imencode('.png', mask.astype(np.uint8) * 255)
        write_atomic(mask_path, png.tobytes())
        df.at[row, 'roi_mask'] = _csv_path(mask_path, root)
        boxes = [s.box for s in rois.shapes]
        df.at[row, 'roi_bbox'] = (';'.join(','.join(f'{v:g}' for v in b) for b in boxes)
                                  if all(s.kind == 'box' for s in rois.shapes) else '')
        report.written.append(images[row])
    write_atomic(ann_file, df.to_csv(index=False))
    return report


def _csv_path(path: str, root: str) -> str:
    """``path`` relative to the data root when it lies below it, else absolute."""
    rel = osp.relpath(osp.abspath(path), osp.abspath(root))
    return osp.abspath(path) if rel.startswith('..') else rel.replace(osp.sep, '/')
