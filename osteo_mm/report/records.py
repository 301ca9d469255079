"""Read and check per-image prediction and causality records (docs/conventions.md).

Every problem is a :class:`RecordError` naming the file, the column and the offending rows or
image ids, so a comparison never runs on silently misaligned or partial data.
"""
import json
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence

import numpy as np
import pandas as pd

#: Decision threshold used when a predictions file has no ``threshold`` column.
DEFAULT_THRESHOLD = 0.5
#: Columns of a causality file that are not scores.
CAUSALITY_KEYS = ('img_id', 'method', 'target_class', 'patient_id')
#: How many ids an error message lists before it says "...".
_MAX_LISTED = 10


class RecordError(ValueError):
    """A predictions or causality file is missing, malformed or inconsistent."""


class Predictions(NamedTuple):
    """One model's binary screening view of a predictions file, rows sorted by ``img_id``.

    Attributes:
        path (str): the file read.
        img_id (np.ndarray): image ids (str).
        patient_id (np.ndarray): patient ids (str, ``''`` when unknown).
        y_true (np.ndarray): bool, True for the positive class.
        score (np.ndarray): float probability of the positive class.
        threshold (float): decision threshold (``score >= threshold`` is positive).
    """

    path: str
    img_id: np.ndarray
    patient_id: np.ndarray
    y_true: np.ndarray
    score: np.ndarray
    threshold: float

    @property
    def y_pred(self) -> np.ndarray:
        """bool decisions at the model's threshold."""
        return self.score >= self.threshold


def _listed(values: Sequence) -> str:
    """Format up to ``_MAX_LISTED`` values for an error message."""
    values = sorted(map(str, values))
    head = ', '.join(repr(v) for v in values[:_MAX_LISTED])
    return head + (f', ... ({len(values)} in all)' if len(values) > _MAX_LISTED else '')


def _read_table(path: str) -> pd.DataFrame:
    """Read a CSV or JSON record file with ``img_id``/``patient_id`` kept as strings."""
    if not osp.isfile(path):
        raise RecordError(f'file not found: {path}')
    ext = osp.splitext(path)[1].lower()
    try:
        if ext == '.csv':
            frame = pd.read_csv(path, dtype={'img_id': str, 'patient_id': str})
        elif ext == '.json':
            with open(path) as f:
                records = json.load(f)
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise RecordError(f'{path}: expected a JSON list of records (one per image)')
            frame = pd.DataFrame(records)
        else:
            raise RecordError(f'{path}: expected a .csv or .json file')
    except (pd.errors.ParserError, pd.errors.EmptyDataError, json.JSONDecodeError) as err:
        raise RecordError(f'{path}: cannot parse: {err}') from None
    if frame.empty:
        raise RecordError(f'{path}: no rows')
    if 'img_id' not in frame:
        raise RecordError(f"{path}: missing column 'img_id'")
    frame['img_id'] = frame['img_id'].astype(str)
    dup = frame['img_id'][frame['img_id'].duplicated()].unique()
    if len(dup):
        raise RecordError(f'{path}: duplicated img_id {_listed(dup)}')
    return frame


def _bad_rows(frame: pd.DataFrame, mask: pd.Series) -> str:
    """Describe masked rows by 1-based data-row number and img_id."""
    rows = np.flatnonzero(mask.to_numpy())
    shown = ', '.join(f"{r + 1} ({frame['img_id'].iloc[r]!r})" for r in rows[:_MAX_LISTED])
    return f'rows {shown}' + (f' ... ({len(rows)} in all)' if len(rows) > _MAX_LISTED else '')


def _numeric(frame: pd.DataFrame, column: str, path: str) -> pd.Series:
    """Column as float; non-numeric cells are an error naming the rows."""
    values = pd.to_numeric(frame[column], errors='coerce')
    bad = values.isna() & frame[column].notna()
    if bad.any():
        raise RecordError(f'{path}: column {column!r} is not numeric at {_bad_rows(frame, bad)}')
    return values.astype(float)


def load_predictions(path: str, positive_class: str = 'osteoporosis') -> Predictions:
    """Read a predictions file as a binary ``positive_class``-vs-rest screening task.

    The positive score is ``prob_<positive_class>``; the positive label index is that column's
    position among the ``prob_*`` columns (the class order of the file). Decisions use the
    ``threshold`` column when present (it must be constant), else 0.5.

    Args:
        path (str): ``.csv`` or ``.json`` file written by ``tools/test.py --out``.
        positive_class (str): class treated as positive. Defaults to ``'osteoporosis'``.

    Returns:
        Predictions: the file's records sorted by ``img_id``.

    Raises:
        RecordError: missing file or column, duplicated ids, NaN or out-of-range
            probabilities, labels that are not class indices, or a non-constant threshold.
    """
    frame = _read_table(path)
    prob_cols = [c for c in frame.columns if c.startswith('prob_')]
    column = f'prob_{positive_class}'
    for required in ('gt_label', column):
        if required not in frame:
            raise RecordError(f'{path}: missing column {required!r} (has {list(frame.columns)})')
    score = _numeric(frame, column, path)
    if score.isna().any():
        raise RecordError(f'{path}: NaN {column} at {_bad_rows(frame, score.isna())}')
    outside = (score < 0) | (score > 1)
    if outside.any():
        raise RecordError(f'{path}: {column} outside [0, 1] at {_bad_rows(frame, outside)}')
    labels = _numeric(frame, 'gt_label', path)
    not_index = labels.isna() | (labels % 1 != 0) | (labels < 0) | (labels >= len(prob_cols))
    if not_index.any():
        raise RecordError(f'{path}: gt_label must be a class index 0..{len(prob_cols) - 1} '
                          f'(one per prob_* column) at {_bad_rows(frame, not_index)}')
    threshold = DEFAULT_THRESHOLD
    if 'threshold' in frame:
        values = _numeric(frame, 'threshold', path).unique()
        if len(values) != 1 or not np.isfinite(values[0]):
            raise RecordError(f'{path}: threshold column must hold one finite value, got '
                              f'{_listed(values)}')
        threshold = float(values[0])
    patient = frame['patient_id'] if 'patient_id' in frame else pd.Series([''] * len(frame))
    order = np.argsort(frame['img_id'].to_numpy(), kind='stable')
    return Predictions(path=path,
                       img_id=frame['img_id'].to_numpy()[order],
                       patient_id=patient.fillna('').astype(str).to_numpy()[order],
                       y_true=(labels == prob_cols.index(column)).to_numpy()[order],
                       score=score.to_numpy()[order],
                       threshold=threshold)


def load_causality(path: str) -> pd.DataFrame:
    """Read a causality file: ``img_id, method, target_class`` + one column per score.

    Scores may be NaN (e.g. an image without an expert ROI); infinite values are an error.

    Args:
        path (str): ``causality.csv`` (or ``.json``) written by ``tools/analysis/gradcam.py``.

    Returns:
        pd.DataFrame: float score columns indexed by ``img_id`` (sorted).

    Raises:
        RecordError: missing file or key column, duplicated ids, no score column, non-numeric
            or infinite scores.
    """
    frame = _read_table(path)
    for required in CAUSALITY_KEYS[:3]:
        if required not in frame:
            raise RecordError(f'{path}: missing column {required!r} (has {list(frame.columns)})')
    score_cols = [c for c in frame.columns if c not in CAUSALITY_KEYS]
    if not score_cols:
        raise RecordError(f'{path}: no causality score columns besides {CAUSALITY_KEYS[:3]}')
    scores = pd.DataFrame({c: _numeric(frame, c, path) for c in score_cols})
    infinite = np.isinf(scores).any(axis=1)
    if infinite.any():
        raise RecordError(f'{path}: infinite causality score at {_bad_rows(frame, infinite)}')
    scores.index = frame['img_id']
    return scores.sort_index()


def check_same_images(id_lists: Dict[str, Sequence[str]], what: str) -> None:
    """Raise unless every file covers exactly the same image ids as the first.

    Args:
        id_lists (dict[str, Sequence[str]]): file path -> its image ids.
        what (str): kind of file, for the message (e.g. ``'predictions'``).

    Raises:
        RecordError: listing, per file, the ids it lacks and the extra ids it has.
    """
    (ref_path, ref_ids), *others = id_lists.items()
    ref = set(ref_ids)
    problems: List[str] = []
    for path, ids in others:
        ids = set(ids)
        if ids - ref:
            problems.append(f'{path} has {len(ids - ref)} ids not in {ref_path}: '
                            f'{_listed(ids - ref)}')
        if ref - ids:
            problems.append(f'{path} lacks {len(ref - ids)} ids of {ref_path}: '
                            f'{_listed(ref - ids)}')
    if problems:
        raise RecordError(f'{what} files cover different images; ' + '; '.join(problems))


def check_same_labels(models: Sequence[Predictions]) -> None:
    """Raise unless all aligned prediction files agree on every image's label.

    Args:
        models (Sequence[Predictions]): predictions over the same sorted image ids.

    Raises:
        RecordError: naming both files and the images whose labels differ.
    """
    first = models[0]
    for other in models[1:]:
        differ = first.y_true != other.y_true
        if differ.any():
            raise RecordError(f'{first.path} and {other.path} disagree on the ground truth of '
                              f'{_listed(first.img_id[differ])}')


def check_same_columns(tables: Dict[str, pd.DataFrame]) -> List[str]:
    """Return the shared score columns, or raise naming the file and the missing column.

    Args:
        tables (dict[str, pd.DataFrame]): file path -> causality scores.

    Returns:
        list[str]: score columns, in the first file's order.

    Raises:
        RecordError: a file lacks a column another file has.
    """
    everything = {c for table in tables.values() for c in table.columns}
    for path, table in tables.items():
        missing = everything - set(table.columns)
        if missing:
            raise RecordError(f'{path}: missing causality column(s) {_listed(missing)} that '
                              'other models have')
    return list(next(iter(tables.values())).columns)
