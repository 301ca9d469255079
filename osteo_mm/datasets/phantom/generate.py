"""Write phantom datasets to disk in the real formats the dataset readers expect.

Each patient (and each image) has its own random stream derived from ``(seed, patient, image)``,
so output is byte-identical for a seed, independent of how far an earlier run got, and a run
interrupted at any point resumes where it stopped: finished patients are journalled in
``.progress.jsonl`` and skipped; the tables are written last, atomically.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import os.path as osp
from collections.abc import Callable, Sequence

import numpy as np
from tqdm import tqdm

from ..labels import NIH_LABELS, NIH_NO_FINDING, WHO_CLASSES
from .chest import ChestView, render_chest, sample_chest_patient
from .draw import mask_boxes
from .shoulder import POSE_SHIFT, SIGNAL_REGIONS, sample_patient, shoulder_image
from .writers import encode_dicom, encode_png, to_uint8, write_bytes_atomic, write_csv_atomic

#: Columns of the shoulder CSV, in the order written.
SHOULDER_COLUMNS: tuple[str, ...] = (
    'image', 'patient_id', 'label', 't_score', 'roi_mask', 'roi_bbox', 'side', 'view', 'age',
    'sex', 'split', 'dti', 'marker', 'marker_bbox')
#: The 2017 NIH header, quirks included (commas inside names, trailing comma).
NIH_ENTRY_HEADER = ('Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,'
                    'Patient Gender,View Position,OriginalImage[Width,Height],'
                    'OriginalImagePixelSpacing[x,y],')
NIH_BBOX_HEADER = 'Image Index,Finding Label,Bbox [x,y,w,h],,,'
SPLITS: tuple[str, ...] = ('train', 'val', 'test')
_MANIFEST, _JOURNAL = 'phantom.json', '.progress.jsonl'


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def patient_splits(num_patients: int, ratios: Sequence[float], seed: int) -> list[str]:
    """Assign whole patients to train/val/test with exact, seeded counts.

    Args:
        num_patients (int): Number of patients.
        ratios (Sequence[float]): Train, val and test fractions (summing to 1).
        seed (int): Random seed of the dataset.

    Returns:
        list[str]: The split name of each patient.
    """
    counts = np.floor(np.asarray(ratios) * num_patients).astype(int)
    counts[0] += num_patients - counts.sum()
    names = np.repeat(np.array(SPLITS), counts)
    return list(np.random.default_rng([seed, 999]).permutation(names))


def _image_rng(seed: int, patient: int, image: int) -> np.random.Generator:
    return np.random.default_rng([seed, patient, image + 1])


def _prepare(out_dir: str, params: dict) -> dict[int, list]:
    """Create/validate ``out_dir`` and return the journalled rows of finished patients."""
    manifest = osp.join(out_dir, _MANIFEST)
    if osp.isdir(out_dir) and os.listdir(out_dir):
        _check(osp.isfile(manifest),
               f'{out_dir} is not empty and holds no {_MANIFEST}; choose an empty --out')
        with open(manifest) as file:
            old = json.load(file)
        changed = ', '.join(f'{key}={old.get(key)!r} (now {params.get(key)!r})'
                            for key in sorted(set(old) | set(params))
                            if old.get(key) != params.get(key))
        _check(not changed, f'{out_dir} was generated with other parameters: {changed}; '
               'choose another --out or repeat the original command to resume')
    os.makedirs(out_dir, exist_ok=True)
    write_bytes_atomic(manifest, (json.dumps(params, indent=2, sort_keys=True) + '\n').encode())
    done: dict[int, list] = {}
    journal = osp.join(out_dir, _JOURNAL)
    if osp.isfile(journal):
        with open(journal) as file:
            for line in file:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    break  # the line being written when the earlier run stopped
                done[entry['patient']] = entry['rows']
    return done


# The patient function of the running generation. Pool workers are forked, so they inherit it;
# closures cannot be pickled to spawned workers, and fork needs no pickling of the function.
_PATIENT_FN: Callable[[int], list] | None = None


def _call_patient_fn(index: int) -> tuple[int, list]:
    return index, _PATIENT_FN(index)


def _run(out_dir: str, num_patients: int, done: dict[int, list],
         make_patient: Callable[[int], list], progress: bool, desc: str,
         workers: int) -> list[list]:
    """Generate every unfinished patient, journal it, and return all rows in patient order.

    Patients are independent (own random streams, own files), so ``workers > 1`` processes
    them in forked worker processes in any order without changing a byte of the output.
    """
    global _PATIENT_FN
    todo = [index for index in range(num_patients) if index not in done]
    journal = osp.join(out_dir, _JOURNAL)
    _PATIENT_FN = make_patient
    try:
        with open(journal, 'a') as log, tqdm(total=num_patients, initial=len(done), desc=desc,
                                             disable=not progress, unit='patient') as bar:
            if workers > 1:
                pool = multiprocessing.get_context('fork').Pool(workers)
                results = pool.imap_unordered(_call_patient_fn, todo, chunksize=4)
            else:
                pool, results = None, map(_call_patient_fn, todo)
            try:
                for index, rows in results:
                    done[index] = rows
                    log.write(json.dumps({'patient': index, 'rows': rows}) + '\n')
                    log.flush()
                    bar.update()
            finally:
                if pool is not None:
                    pool.terminate()
    finally:
        _PATIENT_FN = None
    return [row for index in range(num_patients) for row in done[index]]


def _finish(out_dir: str) -> None:
    os.remove(osp.join(out_dir, _JOURNAL))


def _validate_common(num_patients: int, size: int, images_per_patient: int,
                     workers: int) -> None:
    _check(workers >= 1, f'--workers must be >= 1, got {workers}')
    _check(num_patients >= 1, f'--num-patients must be >= 1, got {num_patients}')
    _check(size >= 32, f'--size must be >= 32 pixels, got {size}')
    _check(images_per_patient >= 1,
           f'--images-per-patient must be >= 1, got {images_per_patient}')


def generate_shoulder(out_dir: str, num_patients: int, size: int = 256, seed: int = 0,
                      images_per_patient: int = 1, fmt: str = 'dicom',
                      split_ratios: Sequence[float] = (0.7, 0.15, 0.15),
                      shortcut_rate: float | None = None,
                      shortcut_splits: Sequence[str] = ('train', 'val'),
                      shortcut_elsewhere: str = 'absent', unlabeled: bool = False,
                      signal_region: str = 'anatomy', pose_shift: float = POSE_SHIFT,
                      workers: int = 1, progress: bool = True) -> str:
    """Write a shoulder phantom: images, ROI masks and the shoulder CSV.

    Layout: ``images/PH0001_0.dcm`` (or ``.png``), ``masks/PH0001_0.png`` (1 = diaphyseal
    cortex at the deltoid tuberosity, 2 = humeral-head trabecular region) and ``labels.csv``
    (the name ``configs/_base_/datasets/shoulder_xray.py`` expects) with
    :data:`SHOULDER_COLUMNS`. With ``unlabeled`` only the images are written.

    Args:
        out_dir (str): Output folder (created; must be empty or a resumable earlier run).
        num_patients (int): Number of patients.
        size (int): Image side in pixels.
        seed (int): Random seed; the same seed gives byte-identical files.
        images_per_patient (int): Films per patient (random side and acquisition each).
        fmt (str): ``'dicom'`` (12-bit, MONOCHROME1/2 mixed) or ``'png'`` (8-bit).
        split_ratios (Sequence[float]): Train/val/test fractions of patients.
        shortcut_rate (float, optional): Probability that the burned-in marker agrees with the
            osteoporosis label (present on osteoporosis, absent otherwise) in ``shortcut_splits``;
            0.5 means uncorrelated. None disables the marker.
        shortcut_splits (Sequence[str]): Splits that carry the correlated marker.
        shortcut_elsewhere (str): ``'absent'`` (no marker in other splits) or ``'flipped'``
            (the reversed association in other splits).
        unlabeled (bool): Write images only (for self-supervised pretraining).
        signal_region (str): ``'anatomy'`` (default) or ``'roi'``: the T-score shows only
            inside the expert ROI, for testing explanations (see ``SIGNAL_REGIONS``).
        pose_shift (float): Largest translation of the anatomy per axis, in canonical units
            (about a film side), in [0, 0.25]; larger values move the shoulder (and the expert
            ROI) further from the film centre, as varied positioning does. Default 0.06.
        workers (int): Worker processes (output does not depend on it).
        progress (bool): Show a tqdm progress bar.

    Returns:
        str: Path of the CSV (the image folder when ``unlabeled``).

    Raises:
        ValueError: For invalid arguments or a non-empty ``out_dir`` from another run.
    """
    _validate_common(num_patients, size, images_per_patient, workers)
    _check(fmt in ('dicom', 'png'), f"--format must be 'dicom' or 'png', got {fmt!r}")
    _check(len(split_ratios) == 3 and min(split_ratios) >= 0
           and abs(sum(split_ratios) - 1) < 1e-6,
           f'split ratios must be three non-negative fractions summing to 1, got {split_ratios}')
    if shortcut_rate is not None:
        _check(0.0 <= shortcut_rate <= 1.0,
               f'--shortcut-rate must be in [0, 1], got {shortcut_rate}')
        unknown = sorted(set(shortcut_splits) - set(SPLITS))
        _check(not unknown, f'--shortcut-splits: unknown split(s) {unknown}; use {SPLITS}')
        _check(shortcut_elsewhere in ('absent', 'flipped'),
               f"--shortcut-elsewhere must be 'absent' or 'flipped', got {shortcut_elsewhere!r}")
    params = dict(kind='shoulder', num_patients=num_patients, size=size, seed=seed,
                  images_per_patient=images_per_patient, format=fmt,
                  split_ratios=list(split_ratios), shortcut_rate=shortcut_rate,
                  shortcut_splits=sorted(shortcut_splits), shortcut_elsewhere=shortcut_elsewhere,
                  unlabeled=unlabeled)
    _check(signal_region in SIGNAL_REGIONS,
           f'--signal-region must be one of {SIGNAL_REGIONS}, got {signal_region!r}')
    if signal_region != 'anatomy':  # recorded only when set: earlier runs stay resumable
        params['signal_region'] = signal_region
    _check(0.0 <= pose_shift <= 0.25, f'--pose-shift must be in [0, 0.25], got {pose_shift}')
    if pose_shift != POSE_SHIFT:
        params['pose_shift'] = pose_shift
    done = _prepare(out_dir, params)
    splits = patient_splits(num_patients, split_ratios, seed)
    ext = '.dcm' if fmt == 'dicom' else '.png'

    def make_patient(index: int) -> list:
        patient = sample_patient(np.random.default_rng([seed, index]), index)
        positive = patient.who_label == 2
        rows = []
        for k in range(images_per_patient):
            rng = _image_rng(seed, index, k)
            marker = False
            if shortcut_rate is not None:
                # A stream of its own, so the film is the same with or without the shortcut.
                agree = np.random.default_rng([seed, index, k, 1]).random() < shortcut_rate
                if splits[index] in shortcut_splits:
                    marker = positive == agree
                elif shortcut_elsewhere == 'flipped':
                    marker = positive != agree
            view, marker_box = shoulder_image(patient, rng, size, marker,
                                              signal_region=signal_region,
                                              pose_shift=pose_shift)
            name = f'{patient.patient_id}_{k}'
            image_rel = f'images/{name}{ext}'
            if fmt == 'dicom':
                tags = dict(PatientName=f'PHANTOM^{index + 1:04d}',
                            PatientID=patient.patient_id, PatientSex=patient.sex,
                            PatientAge=f'{patient.age:03d}Y', Modality='DX',
                            BodyPartExamined='SHOULDER', ViewPosition='AP',
                            ImageLaterality=view.side, Manufacturer='osteo_mm phantom',
                            PixelSpacing=[round(240.0 / size, 4)] * 2,
                            SeriesNumber=k + 1, InstanceNumber=1)
                data = encode_dicom(view.image, tags, (seed, index, k),
                                    monochrome1=bool(rng.random() < 0.4))
            else:
                data = encode_png(to_uint8(view.image))
            write_bytes_atomic(osp.join(out_dir, image_rel), data)
            if unlabeled:
                continue
            mask_rel = f'masks/{name}.png'
            write_bytes_atomic(osp.join(out_dir, mask_rel), encode_png(view.roi_mask))
            rows.append([
                image_rel, patient.patient_id, WHO_CLASSES[patient.who_label], patient.t_score,
                mask_rel, ';'.join(','.join(map(str, box)) for box in view.roi_boxes), view.side,
                'AP', patient.age, patient.sex, splits[index], round(patient.dti, 4),
                int(marker), ','.join(map(str, marker_box)) if marker_box else ''])
        return rows

    rows = _run(out_dir, num_patients, done, make_patient, progress, 'shoulder phantom',
                workers)
    if unlabeled:
        _finish(out_dir)
        return osp.join(out_dir, 'images')
    csv_path = osp.join(out_dir, 'labels.csv')
    write_csv_atomic(csv_path, SHOULDER_COLUMNS, rows)
    _finish(out_dir)
    return csv_path


def _chest_files(out_dir: str, name: str, view: ChestView, unlabeled: bool) -> list:
    """Write one chest film (and its finding masks); return its bounding-box rows."""
    write_bytes_atomic(osp.join(out_dir, 'images', name), encode_png(to_uint8(view.image)))
    boxes = []
    if unlabeled:
        return boxes
    for finding, mask in view.findings.items():
        if not mask.any():
            continue
        write_bytes_atomic(osp.join(out_dir, 'masks', f'{name[:-4]}_{finding}.png'),
                           encode_png(mask.astype(np.uint8) * 255))
        x, y, w, h = mask_boxes(mask.astype(np.uint8))[0]
        boxes.append([name, finding, float(x), float(y), float(w), float(h), '', '', ''])
    return boxes


def generate_chest(out_dir: str, num_patients: int, size: int = 256, seed: int = 0,
                   images_per_patient: int = 3, test_ratio: float = 0.2,
                   unlabeled: bool = False, workers: int = 1, progress: bool = True) -> str:
    """Write a chest phantom in the NIH ChestX-ray14 layout.

    Layout: ``images/00000001_000.png`` (8-bit), ``Data_Entry_2017.csv`` and
    ``BBox_List_2017.csv`` with the 2017 header quirks, ``train_val_list.txt`` /
    ``test_list.txt`` (patient-wise) and, beyond the NIH release, one mask per finding in
    ``masks/00000001_000_<Finding>.png``. With ``unlabeled`` only ``images/`` is written.

    Args:
        out_dir (str): Output folder (created; must be empty or a resumable earlier run).
        num_patients (int): Number of patients.
        size (int): Image side in pixels.
        seed (int): Random seed; the same seed gives byte-identical files.
        images_per_patient (int): Follow-up films per patient.
        test_ratio (float): Fraction of patients in ``test_list.txt``.
        unlabeled (bool): Write images only (for self-supervised pretraining).
        workers (int): Worker processes (output does not depend on it).
        progress (bool): Show a tqdm progress bar.

    Returns:
        str: Path of ``Data_Entry_2017.csv`` (the image folder when ``unlabeled``).

    Raises:
        ValueError: For invalid arguments or a non-empty ``out_dir`` from another run.
    """
    _validate_common(num_patients, size, images_per_patient, workers)
    _check(0.0 <= test_ratio < 1.0, f'--test-ratio must be in [0, 1), got {test_ratio}')
    params = dict(kind='chest', num_patients=num_patients, size=size, seed=seed,
                  images_per_patient=images_per_patient, test_ratio=test_ratio,
                  unlabeled=unlabeled)
    done = _prepare(out_dir, params)
    splits = patient_splits(num_patients, (1.0 - test_ratio, 0.0, test_ratio), seed)
    spacing = round(360.0 / size, 4)

    def make_patient(index: int) -> list:
        patient = sample_chest_patient(np.random.default_rng([seed, index]), index)
        rows = []
        for k in range(images_per_patient):
            view = render_chest(patient, _image_rng(seed, index, k), size)
            name = f'{index + 1:08d}_{k:03d}.png'
            boxes = _chest_files(out_dir, name, view, unlabeled)
            shown = [label for label in NIH_LABELS if label in view.findings]
            entry = [name, '|'.join(shown) or NIH_NO_FINDING, k, index + 1, patient.age,
                     patient.sex, 'PA', size, size, spacing, spacing]
            rows.append({'entry': entry, 'boxes': boxes, 'split': splits[index]})
        return rows

    rows = _run(out_dir, num_patients, done, make_patient, progress, 'chest phantom',
                workers)
    if not unlabeled:
        write_csv_atomic(osp.join(out_dir, 'Data_Entry_2017.csv'), (),
                         [row['entry'] for row in rows], raw_header=NIH_ENTRY_HEADER,
                         trailing_comma=True)
        write_csv_atomic(osp.join(out_dir, 'BBox_List_2017.csv'), (),
                         [box for row in rows for box in row['boxes']],
                         raw_header=NIH_BBOX_HEADER)
        for list_name, wanted in (('train_val_list.txt', ('train', 'val')),
                                  ('test_list.txt', ('test',))):
            names = [row['entry'][0] for row in rows if row['split'] in wanted]
            write_bytes_atomic(osp.join(out_dir, list_name),
                               ''.join(f'{n}\n' for n in names).encode())
    _finish(out_dir)
    return osp.join(out_dir, 'images' if unlabeled else 'Data_Entry_2017.csv')
