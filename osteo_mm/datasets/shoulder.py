"""The shoulder X-ray osteoporosis dataset (our CSV schema, docs data-formats section 3)."""
from __future__ import annotations

import os.path as osp

import numpy as np
import pandas as pd
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .csv_io import fail_duplicates, fail_rows, join_root, read_csv, require_columns
from .errors import XrayDataError
from .labels import BINARY_CLASSES, WHO_CLASSES, t_scores_to_who
from .patients import assert_disjoint_patients_in_csv

TASKS = ('binary', 'who3')
METADATA_COLUMNS = ('side', 'view', 'age', 'sex', 'split')
_LABEL_CODES = {name: i for i, name in enumerate(WHO_CLASSES)}
_LABEL_CODES.update({str(i): i for i in range(len(WHO_CLASSES))})


def parse_who_labels(df: pd.DataFrame, path: str) -> np.ndarray:
    """WHO class per row from ``label`` and/or ``t_score``, checking that they agree.

    Args:
        df (pd.DataFrame): The annotation table (str cells).
        path (str): The CSV file (for messages).

    Returns:
        np.ndarray: int64 WHO class index per row.

    Raises:
        XrayDataError: On an unknown label, a non-numeric T-score, a row with neither, or a
            label that disagrees with the T-score under the WHO rule.
    """
    if 'label' not in df and 't_score' not in df:
        raise XrayDataError(f'{path}: needs a "label" or a "t_score" column; '
                            f'found {list(df.columns)}')
    empty = pd.Series('', index=df.index)
    raw_label = df.get('label', empty).str.strip()
    label = raw_label.str.lower().map(_LABEL_CODES)
    fail_rows(path, (raw_label != '') & label.isna(), 'unknown label',
              [f'{v!r} (expected one of {WHO_CLASSES} or 0/1/2)'
               for v in raw_label[(raw_label != '') & label.isna()]])
    raw_t = df.get('t_score', empty).str.strip()
    t_score = pd.to_numeric(raw_t.where(raw_t != ''), errors='coerce')
    bad_t = (raw_t != '') & ~np.isfinite(t_score)
    fail_rows(path, bad_t, 'T-score is not a finite number', [repr(v) for v in raw_t[bad_t]])
    has_t = t_score.notna().to_numpy()
    from_t = np.full(len(df), -1, dtype=np.int64)
    from_t[has_t] = t_scores_to_who(t_score.to_numpy()[has_t])
    has_label = label.notna().to_numpy()
    fail_rows(path, ~has_label & ~has_t, 'neither label nor t_score given')
    disagree = has_label & has_t & (label.fillna(-1).to_numpy() != from_t)
    fail_rows(path, disagree, 'label disagrees with the WHO class of the T-score',
              [f'label {raw_label.iloc[i]!r} but t_score {t_score.iloc[i]} is '
               f'{WHO_CLASSES[from_t[i]]!r}' for i in np.flatnonzero(disagree)])
    return np.where(has_label, label.fillna(-1).to_numpy(), from_t).astype(np.int64)


def parse_boxes(cells: pd.Series, path: str) -> dict[int, np.ndarray]:
    """Parse ``roi_bbox`` cells ``x,y,w,h[;x,y,w,h...]`` into x1, y1, x2, y2 arrays.

    Args:
        cells (pd.Series): The ``roi_bbox`` column (str cells, ``''`` = no box).
        path (str): The CSV file (for messages).

    Returns:
        dict[int, np.ndarray]: Row position -> (N, 4) float32 boxes, for non-empty cells.

    Raises:
        XrayDataError: If a cell is not a list of four numbers with positive w and h.
    """
    boxes, bad, why = {}, [], []
    for pos, cell in enumerate(cells.str.strip()):
        if not cell:
            continue
        try:
            xywh = np.array([[float(v) for v in box.split(',')] for box in cell.split(';')])
            if xywh.ndim != 2 or xywh.shape[1] != 4 or not np.isfinite(xywh).all():
                raise ValueError('expected x,y,w,h')
            if (xywh[:, 2:] <= 0).any():
                raise ValueError('w and h must be positive')
        except ValueError as err:
            bad.append(pos)
            why.append(f'{cell!r} ({err})')
            continue
        boxes[pos] = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]],
                                    axis=1).astype(np.float32)
    fail_rows(path, np.array(bad, dtype=np.int64), 'invalid roi_bbox', why)
    return boxes


@DATASETS.register_module()
class ShoulderXrayDataset(BaseDataset):
    """Shoulder X-rays labelled for osteoporosis, described by one CSV (our schema).

    Required columns: ``image`` (path relative to ``data_root``), ``patient_id``, and ``label``
    (``normal``/``osteopenia``/``osteoporosis`` or 0/1/2) and/or ``t_score`` (WHO rule);
    optional ``roi_mask``, ``roi_bbox`` (``x,y,w,h`` boxes separated by ``;``), ``side``,
    ``view``, ``age``, ``sex``, ``split``. Images are not opened here; a missing image is
    reported by :class:`LoadXrayFromFile` when it is first loaded (or at once with
    ``check_files=True``).

    Args:
        ann_file (str): The CSV, relative to ``data_root`` unless absolute.
        data_root (str): Root of image paths. Defaults to ''.
        split (str, optional): Keep rows whose ``split`` column equals this; None keeps all.
        task (str): 'binary' (osteoporosis vs not) or 'who3' (the WHO classes).
            Defaults to 'binary'.
        with_roi (bool): Add ``roi_mask_path``/``gt_bboxes`` from the ROI columns.
            Defaults to True.
        check_files (bool): Stat every image (and mask) at start-up and fail on missing ones.
            Defaults to False.
        **kwargs: Other ``BaseDataset`` arguments (``pipeline``, ``test_mode``, ...).

    Examples:
        >>> from osteo_mm.datasets import ShoulderXrayDataset
        >>> ds = ShoulderXrayDataset('labels.csv', data_root='data/shoulder',
        ...                          split='train', task='who3')  # doctest: +SKIP
        >>> ds.get_data_info(0)['gt_label'], ds.CLASSES  # doctest: +SKIP
        (2, ('normal', 'osteopenia', 'osteoporosis'))
    """

    METAINFO = {'classes': BINARY_CLASSES}

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 split: str | None = None,
                 task: str = 'binary',
                 with_roi: bool = True,
                 check_files: bool = False,
                 metainfo: dict | None = None,
                 **kwargs) -> None:
        if task not in TASKS:
            raise ValueError(f'task must be one of {TASKS}, got {task!r}')
        self.split = split
        self.task = task
        self.with_roi = with_roi
        self.check_files = check_files
        classes = BINARY_CLASSES if task == 'binary' else WHO_CLASSES
        super().__init__(ann_file=ann_file, data_root=data_root,
                         metainfo=dict(classes=classes, **(metainfo or {})), **kwargs)

    def load_data_list(self) -> list[dict]:
        """Parse the CSV into data-info dicts (see docs/conventions.md).

        Returns:
            list[dict]: One dict per selected row.

        Raises:
            XrayDataError: On any malformed row, naming the CSV line.
        """
        path = self.ann_file
        df = read_csv(path)
        require_columns(df, ('image', 'patient_id'), path)
        image = df['image'].str.strip().str.replace('\\', '/', regex=False)
        patient = df['patient_id'].str.strip()
        fail_rows(path, image == '', 'empty image path')
        fail_rows(path, patient == '', 'empty patient_id')
        fail_duplicates(path, image, 'image')
        who = parse_who_labels(df, path)
        gt_label = who if self.task == 'who3' else (who == 2).astype(np.int64)
        boxes = parse_boxes(df['roi_bbox'], path) if self.with_roi and 'roi_bbox' in df else {}
        masks = df['roi_mask'].str.strip() if self.with_roi and 'roi_mask' in df else None
        if 'split' in df:
            split_col = df['split'].str.strip()
            assert_disjoint_patients_in_csv(path, patient, split_col)
        keep = np.ones(len(df), dtype=bool)
        if self.split is not None:
            if 'split' not in df:
                raise XrayDataError(f'{path}: split={self.split!r} requested but the CSV has no '
                                    '"split" column')
            keep = (split_col == self.split).to_numpy()
        if not keep.any():
            found = sorted(set(split_col)) if 'split' in df else []
            raise XrayDataError(f'{path}: empty dataset (no rows' + (
                f' with split == {self.split!r}; splits present: {found})'
                if self.split is not None else ')'))
        meta = {c: df[c].str.strip().to_numpy() for c in METADATA_COLUMNS if c in df}
        t_score = (pd.to_numeric(df['t_score'].str.strip().where(df['t_score'].str.strip() != ''),
                                 errors='coerce').to_numpy() if 't_score' in df else None)
        img_path = join_root(self.data_root, image)
        mask_path = join_root(self.data_root, masks) if masks is not None else None
        has_mask = (masks != '').to_numpy() if masks is not None else np.zeros(len(df), bool)
        image, patient, gt_label = image.tolist(), patient.tolist(), gt_label.tolist()
        data_list = []
        for pos in np.flatnonzero(keep):
            info = dict(img_path=img_path[pos], img_id=image[pos],
                        patient_id=patient[pos], gt_label=gt_label[pos])
            if t_score is not None:
                info['t_score'] = float(t_score[pos])
            for col, values in meta.items():
                info[col] = values[pos]
            if has_mask[pos]:
                info['roi_mask_path'] = mask_path[pos]
            if pos in boxes:
                info['gt_bboxes'] = boxes[pos]
            data_list.append(info)
        if self.check_files:
            self._check_files(data_list, np.flatnonzero(keep))
        return data_list

    def _check_files(self, data_list: list[dict], positions: np.ndarray) -> None:
        """Fail once, listing every missing image or mask with its CSV line."""
        missing = [(pos, p) for pos, info in zip(positions, data_list)
                   for p in (info['img_path'], info.get('roi_mask_path')) if p
                   and not osp.isfile(p)]
        fail_rows(self.ann_file, np.array([m[0] for m in missing], dtype=np.int64),
                  'missing file', [f'{m[1]} not found' for m in missing])

    def extra_repr(self) -> list[str]:
        """Extra lines of ``repr(dataset)``."""
        return [f'Annotation file: \t{self.ann_file}', f'Root of images: \t{self.data_root}',
                f'Split: \t{self.split}', f'Task: \t{self.task}']

