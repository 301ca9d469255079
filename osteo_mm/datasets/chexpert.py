"""Stanford CheXpert (Irvin et al., AAAI 2019) with the paper's uncertainty policies."""
from __future__ import annotations

import os.path as osp

import numpy as np
import pandas as pd
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS

from .columnar import (
    ColumnarDataList,
    ColumnarDatasetMixin,
    complete_multilabel,
    text_column,
)
from .csv_io import fail_duplicates, fail_rows, read_csv, require_columns, strip_few
from .errors import XrayDataError
from .labels import (
    CHEXPERT_COMPETITION,
    CHEXPERT_IGNORE,
    CHEXPERT_LABELS,
    CHEXPERT_MIXED_ONES,
    UNCERTAINTY_POLICIES,
)
from .patients import HOLDOUT_SPLITS, patient_holdout

LABEL_SETS = {'competition': CHEXPERT_COMPETITION, 'all': CHEXPERT_LABELS}


def apply_uncertainty(values: np.ndarray, labels: tuple[str, ...], policy: str) -> np.ndarray:
    """Turn CheXpert cells (1, 0, -1 uncertain, NaN not mentioned) into targets.

    Args:
        values (np.ndarray): (N, L) float cells.
        labels (tuple[str, ...]): The L observation names (for the mixed policy).
        policy (str): One of :data:`UNCERTAINTY_POLICIES`.

    Returns:
        np.ndarray: (N, L) float32 targets; with 'ignore', uncertain cells are
        :data:`CHEXPERT_IGNORE`. Not-mentioned cells are 0 under every policy.
    """
    if policy not in UNCERTAINTY_POLICIES:
        raise ValueError(f'uncertainty must be one of {UNCERTAINTY_POLICIES}, got {policy!r}')
    ones = {'zeros': np.zeros(len(labels), bool), 'ones': np.ones(len(labels), bool),
            'mixed': np.isin(labels, CHEXPERT_MIXED_ONES)}
    out = np.nan_to_num(values, nan=0.0)
    uncertain = out == -1
    if policy == 'ignore':
        out[uncertain] = CHEXPERT_IGNORE
    else:
        out[uncertain] = np.broadcast_to(ones[policy], out.shape)[uncertain]
    return out.astype(np.float32)


#: Label cells and their values (anything else is an error naming the CSV line).
CELL_VALUES = {'1.0': 1.0, '0.0': 0.0, '-1.0': -1.0, '1': 1.0, '0': 0.0, '-1': -1.0}


def label_values(df: pd.DataFrame, names: tuple[str, ...], path: str) -> np.ndarray:
    """(N, L) float cells of the label columns: 1, 0, -1, or NaN for an empty cell.

    Every distinct cell text is parsed once (a handful in the real files), not every cell.

    Raises:
        XrayDataError: Naming the first label column with an invalid cell and its lines.
    """
    block = df[list(names)].to_numpy()
    codes, uniques = pd.factorize(block.ravel())
    parsed = np.array([_cell_value(u) for u in uniques] + [np.nan])  # +1: factorize's -1
    bad = np.isinf(parsed)
    values = parsed[codes].reshape(block.shape)
    if bad.any():
        for j, name in enumerate(names):
            rows = bad[codes.reshape(block.shape)[:, j]]
            fail_rows(path, rows, f'invalid {name!r} value (expected 1.0, 0.0, -1.0 or empty)',
                      [repr(v) for v in block[rows, j]])
    return values


def _cell_value(text: str) -> float:
    """1.0, 0.0, -1.0, NaN for an empty or blank cell, +inf for an invalid one."""
    text = text.strip()
    if not text:
        return np.nan
    if text in CELL_VALUES:
        return CELL_VALUES[text]
    try:
        value = float(text)
    except ValueError:
        return np.inf
    return value if value in (1.0, 0.0, -1.0) else np.inf


@DATASETS.register_module()
class CheXpertDataset(ColumnarDatasetMixin, MultiLabelDataset):
    """CheXpert chest X-rays from ``train.csv``/``valid.csv``.

    ``Path`` cells look like ``CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg``;
    ``data_root`` may be the folder that contains ``CheXpert-v1.0-small`` or that folder itself
    (decided once, from the first row). ``img_id`` is the path without its first folder, so it
    does not depend on that choice; ``patient_id`` is the ``patientNNNNN`` part of the path.

    Args:
        data_root (str): Dataset root (see above).
        ann_file (str): The CSV relative to ``data_root``. Defaults to 'train.csv'.
        uncertainty (str): 'zeros' (U-Zeros), 'ones' (U-Ones), 'ignore' (U-Ignore: uncertain
            targets are -1 for the loss/metric to mask) or 'mixed' (U-Ones for Atelectasis and
            Edema, U-Zeros otherwise). Defaults to 'zeros'.
        labels (str): 'competition' (the 5 tasks) or 'all' (14 observations).
            Defaults to 'competition'.
        frontal_only (bool): Keep only ``Frontal`` views. Defaults to False.
        split (str, optional): 'train' or 'val': the CSV without / with a seeded hold-out of
            about ``val_fraction`` of its patients (drawn over all rows, before
            ``frontal_only``), so model selection on ``train.csv`` leaves ``valid.csv`` as an
            untouched test set; None keeps every row. Defaults to None.
        val_fraction (float): Fraction of patients held out for 'val'. Defaults to 0.1.
        split_seed (int): Seed of the hold-out. Defaults to 0.
        **kwargs: Other ``BaseDataset`` arguments (``pipeline``, ``test_mode``, ...).

    Examples:
        >>> from osteo_mm.datasets import CheXpertDataset
        >>> ds = CheXpertDataset('data/CheXpert-v1.0-small', 'valid.csv',
        ...                      uncertainty='mixed', frontal_only=True)  # doctest: +SKIP
        >>> ds.CLASSES  # doctest: +SKIP
        ('Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion')
    """

    METAINFO = {'classes': CHEXPERT_COMPETITION}

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'train.csv',
                 uncertainty: str = 'zeros',
                 labels: str = 'competition',
                 frontal_only: bool = False,
                 split: str | None = None,
                 val_fraction: float = 0.1,
                 split_seed: int = 0,
                 metainfo: dict | None = None,
                 **kwargs) -> None:
        if uncertainty not in UNCERTAINTY_POLICIES:
            raise ValueError(
                f'uncertainty must be one of {UNCERTAINTY_POLICIES}, got {uncertainty!r}')
        if labels not in LABEL_SETS:
            raise ValueError(f'labels must be one of {tuple(LABEL_SETS)}, got {labels!r}')
        if split is not None and split not in HOLDOUT_SPLITS:
            raise ValueError(f'split must be one of {HOLDOUT_SPLITS} or None, got {split!r}')
        self.split = split
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.uncertainty = uncertainty
        self.labels = labels
        self.frontal_only = frontal_only
        super().__init__(ann_file=ann_file, data_root=data_root,
                         metainfo=dict(classes=LABEL_SETS[labels], **(metainfo or {})),
                         **kwargs)

    def load_data_list(self) -> ColumnarDataList:
        """Parse the CSV into a column-wise data list (dicts are built on access).

        Returns:
            ColumnarDataList: One entry per selected image.

        Raises:
            XrayDataError: On missing columns, bad label cells or paths without a patient id.
        """
        path = self.ann_file
        names = LABEL_SETS[self.labels]
        require_columns(read_csv(path, nrows=0), ('Path', 'Frontal/Lateral') + names, path)
        wanted = {'Path', 'Frontal/Lateral', 'AP/PA', *names}
        # Only the columns used are turned into strings (not Sex, Age, the other labels).
        df = read_csv(path, usecols=lambda c: str(c).strip() in wanted)
        rel = df['Path'].str.strip()
        fail_duplicates(path, rel, 'Path')
        patient = rel.str.extract(r'(?:^|/)(patient\d+)/', expand=False)
        fail_rows(path, patient.isna(), 'no patientNNNNN folder in Path',
                  [repr(v) for v in rel[patient.isna()]])
        targets = apply_uncertainty(label_values(df, names, path), names, self.uncertainty)
        view = strip_few(df['Frontal/Lateral']).to_numpy()
        keep = view == 'Frontal' if self.frontal_only else np.ones(len(df), bool)
        if self.split is not None:
            held = patient_holdout(patient.to_numpy(), self.val_fraction, self.split_seed, path)
            keep &= held if self.split == 'val' else ~held
        if not keep.any():
            raise XrayDataError(f'{path}: empty dataset (frontal_only={self.frontal_only}, '
                                f'split={self.split!r})')
        keep = np.flatnonzero(keep)
        rel = rel.to_numpy()[keep]
        img_id = pd.Series(rel).str.replace(r'^[^/]+/', '', regex=True).to_numpy()
        ap_pa = (strip_few(df['AP/PA']).to_numpy()[keep] if 'AP/PA' in df
                 else np.full(len(keep), ''))
        img_id_col = text_column(img_id)
        return ColumnarDataList(
            dict(img_rel=text_column(rel) if self._path_prefix(rel[0]) else img_id_col,
                 img_id=img_id_col, patient_id=text_column(patient.to_numpy()[keep]),
                 view=text_column(view[keep]), ap_pa=text_column(ap_pa),
                 gt_score=targets[keep]),
            build=complete_multilabel, shared=dict(root=self.data_root))

    def _path_prefix(self, first_path: str) -> bool:
        """Whether ``data_root`` contains the first folder of ``Path`` (one stat in all)."""
        first = first_path.split('/', 1)[0]
        return osp.isdir(osp.join(self.data_root, first))

    def extra_repr(self) -> list[str]:
        """Extra lines of ``repr(dataset)``."""
        return [f'Annotation file: \t{self.ann_file}', f'Root: \t{self.data_root}',
                f'Uncertainty: \t{self.uncertainty}', f'Labels: \t{self.labels}',
                f'Frontal only: \t{self.frontal_only}', f'Split: \t{self.split}']
