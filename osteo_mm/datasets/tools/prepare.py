"""Convert DICOM/PNG/JPEG X-rays into a resized 8-bit PNG cache with a manifest.

The cache is resumable: an image whose source sha256 already has a manifest row (and whose
output exists) is not converted again, and every file is written atomically, so a killed run
is simply started again. With ``deidentify=True`` the outputs are named by content hash,
patients get pseudonymous ids, and the only link back to source paths and DICOM PatientIDs is
a separate local mapping file; PNGs carry no metadata, so no identifier reaches the cache.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import os.path as osp
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd
import pydicom
from tqdm import tqdm

from ..csv_io import fail_duplicates, read_csv, require_columns
from ..errors import XrayDataError
from ..shoulder import parse_boxes
from ..transforms.loading import DICOM_SUFFIXES, RASTER_SUFFIXES, LoadXrayFromFile, read_raster
from .io import atomic_write_bytes, atomic_write_csv

MANIFEST = 'manifest.csv'
SOURCE_SUFFIXES = DICOM_SUFFIXES + RASTER_SUFFIXES
#: Manifest rows are flushed to disk after this many new results (resume granularity).
FLUSH_EVERY = 100


@dataclass(frozen=True)
class _Job:
    source: str
    rel: str
    mask: str


_WORKER: dict = {}


def _init_worker(window: str, max_side: int, out_dir: str, deidentify: bool,
                 done: dict[str, str]) -> None:
    cv2.setNumThreads(0)  # one image per process; avoid oversubscribing the cores
    _WORKER.update(loader=LoadXrayFromFile(window=window, channels=1), max_side=max_side,
                   out_dir=out_dir, deidentify=deidentify, done=done)


def _png_bytes(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise XrayDataError(f'cannot encode an image of shape {img.shape} as PNG')
    return buf.tobytes()


def _convert(job: _Job) -> dict:
    """Convert one source image (runs in a worker process)."""
    try:
        with open(job.source, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        out_rel = (f'images/{sha[:24]}.png' if _WORKER['deidentify']
                   else osp.splitext(job.rel)[0] + '.png')
        out_path = osp.join(_WORKER['out_dir'], out_rel)
        result = dict(rel=job.rel, sha256=sha, image=out_rel)
        if _WORKER['done'].get(sha) == out_rel and osp.isfile(out_path):
            return dict(result, status='skipped')
        img = _WORKER['loader'].read(job.source)
        h0, w0 = img.shape
        scale = min(1.0, _WORKER['max_side'] / max(h0, w0))
        size = (max(1, round(w0 * scale)), max(1, round(h0 * scale)))
        img = np.rint(img * 255).astype(np.uint8)
        if scale < 1:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        mask_rel = ''
        if job.mask:
            mask = read_raster(job.mask, _WORKER['loader'].max_side)
            if mask.shape != (h0, w0):
                raise XrayDataError(f'{job.mask}: ROI mask size {mask.shape[::-1]} differs '
                                    f'from the image size {(w0, h0)} of {job.source}')
            mask = cv2.resize((mask > 0).astype(np.uint8) * 255, size,
                              interpolation=cv2.INTER_NEAREST_EXACT)
            mask_rel = 'masks/' + osp.basename(out_rel) if _WORKER['deidentify'] else \
                osp.splitext(job.rel)[0] + '_roi.png'
            atomic_write_bytes(osp.join(_WORKER['out_dir'], mask_rel), _png_bytes(mask))
        atomic_write_bytes(out_path, _png_bytes(img))
        source_patient = ''
        if _WORKER['deidentify'] and osp.splitext(job.source)[1].lower() not in RASTER_SUFFIXES:
            header = pydicom.dcmread(job.source, stop_before_pixels=True,
                                     specific_tags=['PatientID'])
            source_patient = str(header.get('PatientID', '') or '')
        return dict(result, status='ok', roi_mask=mask_rel, width=size[0], height=size[1],
                    ori_width=w0, ori_height=h0, source_patient=source_patient)
    except XrayDataError as err:
        return dict(rel=job.rel, status='error', error=str(err))
    except OSError as err:
        return dict(rel=job.rel, status='error', error=f'{job.source}: {err}')


def list_sources(src_root: str, ann_file: str | None = None) -> pd.DataFrame:
    """Source images, from an annotation CSV (``image`` column) or a folder scan.

    A folder scan takes files with a DICOM/PNG/JPEG suffix, and suffix-less files that start
    with the DICOM preamble.

    Args:
        src_root (str): Root of the source images.
        ann_file (str, optional): Shoulder-schema CSV; its other columns are carried over.

    Returns:
        pd.DataFrame: ``image`` (relative path) plus the CSV's other columns.

    Raises:
        XrayDataError: If the folder is missing/empty or the CSV is malformed.
    """
    if ann_file:
        df = read_csv(ann_file)
        require_columns(df, ('image', ), ann_file)
        df['image'] = df['image'].str.strip()
        fail_duplicates(ann_file, df['image'], 'image')
        return df
    if not osp.isdir(src_root):
        raise XrayDataError(f'{src_root}: source folder not found')
    found = []
    for root, dirs, files in os.walk(src_root):
        dirs.sort()
        for name in sorted(files):
            path = osp.join(root, name)
            suffix = osp.splitext(name)[1].lower()
            if suffix in SOURCE_SUFFIXES or (suffix == '' and _has_dicom_preamble(path)):
                found.append(osp.relpath(path, src_root).replace(os.sep, '/'))
    if not found:
        raise XrayDataError(f'{src_root}: no DICOM/PNG/JPEG files found')
    return pd.DataFrame({'image': found})


def _has_dicom_preamble(path: str) -> bool:
    with open(path, 'rb') as f:
        return f.read(132)[128:] == b'DICM'


def _scale_boxes(cell: str, path: str, sx: float, sy: float) -> str:
    """Rescale one ``roi_bbox`` cell (x, y, w, h boxes) to the resized image."""
    boxes = parse_boxes(pd.Series([cell]), path).get(0)
    if boxes is None:
        return ''
    boxes = boxes * np.array([sx, sy, sx, sy])
    return ';'.join(','.join(f'{v:.6g}' for v in (x1, y1, x2 - x1, y2 - y1))
                    for x1, y1, x2, y2 in boxes)


def prepare_xray(src_root: str,
                 out_dir: str,
                 ann_file: str | None = None,
                 max_side: int = 1024,
                 workers: int = 1,
                 deidentify: bool = False,
                 mapping_file: str | None = None,
                 window: str = 'file',
                 progress: bool = True) -> dict[str, int]:
    """Build (or resume) the PNG cache of ``src_root`` in ``out_dir``.

    Writes ``out_dir/manifest.csv`` with ``image`` (the PNG, relative to ``out_dir``),
    ``source_sha256``, ``patient_id``, ``width``, ``height``, ``ori_width``, ``ori_height``, the
    rescaled ``roi_mask``/``roi_bbox`` and every other column of ``ann_file`` (so it is a valid
    ShoulderXrayDataset CSV when the input was one), plus ``source`` (relative source path)
    unless de-identifying. Unreadable files are listed in ``errors.csv`` next to the manifest
    (in ``<mapping_file stem>_errors.csv`` when de-identifying, as messages name source paths).

    Args:
        src_root (str): Root of the source images.
        out_dir (str): Cache folder.
        ann_file (str, optional): Shoulder-schema CSV listing the images (else a folder scan).
        max_side (int): Longest output side; smaller images are not enlarged. Defaults to 1024.
        workers (int): Worker processes (1 = in-process). Defaults to 1.
        deidentify (bool): Hash-named outputs, pseudonymous patient ids, no source paths.
            Defaults to False.
        mapping_file (str, optional): Private CSV linking source path / source patient id to
            the pseudonymous id and output; required with ``deidentify`` and must lie outside
            ``out_dir``.
        window (str): Intensity window of :class:`LoadXrayFromFile`. Defaults to 'file'.
        progress (bool): Show a tqdm progress bar. Defaults to True.

    Returns:
        dict[str, int]: Counts of ``converted``, ``skipped``, ``failed`` and ``duplicates``.

    Raises:
        ValueError: On inconsistent options.
        XrayDataError: On a malformed annotation CSV or source folder.
    """
    if deidentify:
        if not mapping_file:
            raise ValueError('deidentify needs a mapping_file (kept private, outside out_dir)')
        if osp.abspath(mapping_file).startswith(osp.abspath(out_dir) + os.sep):
            raise ValueError(f'mapping file {mapping_file} must lie outside the cache folder '
                             f'{out_dir}, which is meant to be shared')
    if max_side < 1 or workers < 1:
        raise ValueError('max_side and workers must be positive')
    sources = list_sources(src_root, ann_file)
    if not deidentify:
        stems = sources['image'].map(lambda rel: osp.splitext(rel)[0])
        clash = stems.duplicated(keep=False)
        if clash.any():
            raise XrayDataError(f'{ann_file or src_root}: sources would share an output name '
                                f'(same path, different suffix): '
                                f'{sorted(sources["image"][clash])[:6]}')
    os.makedirs(out_dir, exist_ok=True)
    manifest_path = osp.join(out_dir, MANIFEST)
    old = (read_csv(manifest_path).set_index('source_sha256', drop=False)
           if osp.isfile(manifest_path) else None)
    done = {} if old is None else dict(zip(old['source_sha256'], old['image']))
    pseudo: dict[str, str] = {}
    if deidentify and osp.isfile(mapping_file):
        known = read_csv(mapping_file)
        pseudo = dict(zip(known['source_patient_id'], known['patient_id']))
    masks = sources['roi_mask'].str.strip() if 'roi_mask' in sources else None
    jobs = [_Job(osp.join(src_root, rel), rel,
                 osp.join(src_root, masks.iat[i]) if masks is not None and masks.iat[i] else '')
            for i, rel in enumerate(sources['image'])]
    rows: dict[str, dict] = {}
    produced: set[str] = set()
    failures: list[dict] = []
    counts = dict(converted=0, skipped=0, failed=0, duplicates=0)
    by_rel = sources.set_index('image', drop=False)

    def record(res: dict) -> None:
        if res['status'] == 'error':
            counts['failed'] += 1
            failures.append(dict(source=res['rel'], error=res['error']))
            return
        if deidentify and res['sha256'] in produced:
            counts['duplicates'] += 1
            failures.append(dict(source=res['rel'], error='same content as an earlier file'))
            return
        produced.add(res['sha256'])
        counts['skipped' if res['status'] == 'skipped' else 'converted'] += 1
        rows[res['rel']] = _manifest_row(res, by_rel.loc[res['rel']], old, deidentify, pseudo,
                                         ann_file or src_root)

    init_args = (window, max_side, out_dir, deidentify, done)
    bar = tqdm(total=len(jobs), desc='prepare_xray', disable=not progress)
    if workers == 1:
        _init_worker(*init_args)
        results = map(_convert, jobs)
        pool = None
    else:
        pool = multiprocessing.get_context('fork').Pool(workers, _init_worker, init_args)
        results = pool.imap_unordered(_convert, jobs, chunksize=8)
    try:
        for n, res in enumerate(results, 1):
            record(res)
            bar.update()
            if n % FLUSH_EVERY == 0:
                _flush(rows, old, sources, manifest_path, deidentify, mapping_file, pseudo,
                       final=False)
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
    _flush(rows, old, sources, manifest_path, deidentify, mapping_file, pseudo, final=True)
    # Error messages name source paths, so with de-identification they stay with the mapping.
    errors_path = (osp.splitext(mapping_file)[0] + '_errors.csv' if deidentify
                   else osp.join(out_dir, 'errors.csv'))
    if failures:
        atomic_write_csv(pd.DataFrame(failures), errors_path)
    elif osp.isfile(errors_path):
        os.remove(errors_path)
    return counts


def _manifest_row(res: dict, src: pd.Series, old: pd.DataFrame | None, deidentify: bool,
                  pseudo: dict[str, str], ann_path: str) -> dict:
    """One manifest row from a worker result and the source's (current) CSV row."""
    csv_patient = str(src.get('patient_id', '')).strip()
    if res['status'] == 'skipped':
        prev = old.loc[res['sha256']]
        prev = prev.iloc[0] if isinstance(prev, pd.DataFrame) else prev
        res = dict(res, **{k: prev.get(k, '') for k in ('width', 'height', 'ori_width',
                                                        'ori_height', 'roi_mask')})
        for key in ('width', 'height', 'ori_width', 'ori_height'):
            res[key] = int(res[key])
        if deidentify:
            csv_patient = prev['patient_id']
    row = {} if deidentify else dict(source=res['rel'])
    row.update(image=res['image'], source_sha256=res['sha256'],
               width=res['width'], height=res['height'],
               ori_width=res['ori_width'], ori_height=res['ori_height'])
    if deidentify and res['status'] == 'skipped':
        row['patient_id'] = csv_patient
    elif deidentify:
        key = res['source_patient'] or csv_patient
        if key and key not in pseudo:
            pseudo[key] = f'anon-{len(pseudo) + 1:06d}'
        row['patient_id'] = pseudo.get(key, '')
        row['_mapping'] = dict(source=res['rel'], source_patient_id=key,
                               patient_id=row['patient_id'], image=res['image'])
    else:
        row['patient_id'] = csv_patient
    if 'roi_mask' in src:
        row['roi_mask'] = res['roi_mask']
    if 'roi_bbox' in src:
        row['roi_bbox'] = _scale_boxes(src['roi_bbox'], ann_path,
                                       res['width'] / res['ori_width'],
                                       res['height'] / res['ori_height'])
    for col, value in src.items():
        if col not in row and col not in ('image', 'roi_mask', 'roi_bbox'):
            row[col] = value
    return row


def _flush(rows: dict[str, dict], old: pd.DataFrame | None, sources: pd.DataFrame,
           manifest_path: str, deidentify: bool, mapping_file: str | None,
           pseudo: dict[str, str], final: bool) -> None:
    """Write the manifest (and mapping file) atomically, in source order.

    Before the final flush, old manifest rows not yet revisited are kept so that a kill
    mid-run loses no finished work.
    """
    ordered = [rows[rel] for rel in sources['image'] if rel in rows]
    if not final and old is not None:
        seen = {r['source_sha256'] for r in ordered}
        ordered += [r for r in old.to_dict('records') if r['source_sha256'] not in seen]
    mapping = [r.pop('_mapping') for r in ordered if '_mapping' in r]
    atomic_write_csv(pd.DataFrame(ordered), manifest_path)
    if deidentify:
        table = pd.DataFrame(mapping, columns=['source', 'source_patient_id', 'patient_id',
                                               'image'])
        if osp.isfile(mapping_file):
            previous = read_csv(mapping_file)
            table = pd.concat([previous[~previous['source'].isin(table['source'])], table])
        atomic_write_csv(table, mapping_file)
