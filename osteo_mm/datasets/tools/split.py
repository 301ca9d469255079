"""Patient-grouped, label-stratified, seeded train/val/test and k-fold splits."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from ..csv_io import fail_rows, require_columns
from ..errors import XrayDataError
from ..patients import assert_disjoint_patients
from ..shoulder import parse_who_labels
from .io import atomic_write_csv

SPLIT_NAMES = ('train', 'val', 'test')
#: Train/val/test splits are unions of this many stratified group folds, so each fraction is
#: met to within 1/FINE_FOLDS (or one patient for small sets).
FINE_FOLDS = 20


def _fold_ids(labels: np.ndarray, groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold index per row from scikit-learn's StratifiedGroupKFold."""
    folds = np.empty(len(labels), dtype=np.int64)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, held_out) in enumerate(splitter.split(np.zeros(len(labels)), labels, groups)):
        folds[held_out] = k
    return folds


def _labels_and_groups(df: pd.DataFrame, path: str) -> tuple[np.ndarray, np.ndarray]:
    require_columns(df, ('patient_id', ), path)
    groups = df['patient_id'].str.strip()
    fail_rows(path, groups == '', 'empty patient_id')
    return parse_who_labels(df, path), groups.to_numpy()


def assign_folds(df: pd.DataFrame, path: str, n_folds: int, seed: int = 0) -> pd.Series:
    """Fold number (0 .. n_folds-1) per row; folds are patient-disjoint and label-stratified.

    Args:
        df (pd.DataFrame): Shoulder CSV table (``patient_id`` and ``label``/``t_score``).
        path (str): The CSV file (for messages).
        n_folds (int): Number of folds (>= 2, <= number of patients).
        seed (int): Shuffling seed. Defaults to 0.

    Returns:
        pd.Series: int fold per row.

    Raises:
        XrayDataError: On invalid labels/patients or too few patients.
    """
    labels, groups = _labels_and_groups(df, path)
    n_patients = len(set(groups))
    if not 2 <= n_folds <= n_patients:
        raise XrayDataError(f'{path}: cannot make {n_folds} folds from {n_patients} patients')
    folds = pd.Series(_fold_ids(labels, groups, n_folds, seed), index=df.index, name='fold')
    assert_disjoint_patients({str(k): groups[folds == k] for k in range(n_folds)})
    return folds


def assign_splits(df: pd.DataFrame, path: str, fractions: Sequence[float] = (0.7, 0.15, 0.15),
                  seed: int = 0) -> pd.Series:
    """'train'/'val'/'test' per row with patient-disjoint, label-stratified splits.

    Args:
        df (pd.DataFrame): Shoulder CSV table (``patient_id`` and ``label``/``t_score``).
        path (str): The CSV file (for messages).
        fractions (Sequence[float]): Train, val, test fractions of patients (sum 1; a zero
            fraction gives an empty split). Defaults to (0.7, 0.15, 0.15).
        seed (int): Shuffling seed. Defaults to 0.

    Returns:
        pd.Series: Split name per row.

    Raises:
        ValueError: If the fractions are invalid.
        XrayDataError: On invalid labels/patients or too few patients.
    """
    fractions = np.asarray(fractions, dtype=np.float64)
    if len(fractions) != 3 or (fractions < 0).any() or not np.isclose(fractions.sum(), 1):
        raise ValueError(f'fractions must be three non-negative numbers summing to 1, '
                         f'got {fractions.tolist()}')
    labels, groups = _labels_and_groups(df, path)
    n_folds = min(FINE_FOLDS, len(set(groups)))
    wanted = fractions * n_folds
    counts = np.where(fractions > 0, np.maximum(np.floor(wanted), 1), 0).astype(int)
    while counts.sum() < n_folds:  # give leftover folds to the splits furthest below target
        counts[np.argmax(np.where(fractions > 0, wanted - counts, -np.inf))] += 1
    if counts.sum() > n_folds or n_folds < 2:
        raise XrayDataError(f'{path}: {len(set(groups))} patients are too few for fractions '
                            f'{fractions.tolist()}')
    folds = _fold_ids(labels, groups, n_folds, seed)
    names = np.repeat(SPLIT_NAMES, counts)
    split = pd.Series(names[folds], index=df.index, name='split')
    assert_disjoint_patients({s: groups[split == s] for s in SPLIT_NAMES})
    return split


def write_splits(df: pd.DataFrame, assignment: pd.Series, out_dir: str | None = None,
                 out_file: str | None = None, overwrite: bool = False) -> list[str]:
    """Write one CSV per split/fold into ``out_dir``, or ``df`` plus a column to ``out_file``.

    For folds, ``out_dir/fold_<k>/train.csv`` and ``val.csv`` hold fold k as validation.

    Args:
        df (pd.DataFrame): The input table.
        assignment (pd.Series): Output of :func:`assign_splits` or :func:`assign_folds`.
        out_dir (str, optional): Folder for per-split CSVs.
        out_file (str, optional): CSV with the added ``split``/``fold`` column.
        overwrite (bool): Replace existing outputs. Defaults to False.

    Returns:
        list[str]: The files written.

    Raises:
        XrayDataError: If an output exists (without ``overwrite``) or the column exists.
    """
    outputs: dict[str, pd.DataFrame] = {}
    if out_file is not None:
        if assignment.name in df.columns:
            raise XrayDataError(f'the input already has a {assignment.name!r} column; '
                                'refusing to replace it')
        outputs[out_file] = df.assign(**{assignment.name: assignment})
    if out_dir is not None:
        if assignment.name == 'split':
            for name in SPLIT_NAMES:
                outputs[osp.join(out_dir, f'{name}.csv')] = df[assignment == name]
        else:
            for k in sorted(assignment.unique()):
                fold_dir = osp.join(out_dir, f'fold_{k}')
                outputs[osp.join(fold_dir, 'train.csv')] = df[assignment != k]
                outputs[osp.join(fold_dir, 'val.csv')] = df[assignment == k]
    existing = [p for p in outputs if osp.exists(p)]
    if existing and not overwrite:
        raise XrayDataError(f'output file(s) exist: {existing[:5]}; pass --overwrite to '
                            'replace them')
    for path, table in outputs.items():
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        atomic_write_csv(table, path)
    return list(outputs)
