"""Out-of-fold predictions (``oof_preds.csv`` of ``tools/cross_validate.py``) as one model.

A cross-validated model has one prediction per image *per repeat*, each made by the fold model
that held the image out, at that fold's validation threshold. For a paired comparison every
image needs one prediction per model; this module gives it in one of two stated ways:

- ``repeat=None`` (default, "repeat-averaged"): the image's probability averaged over the R
  repeats; its decision compares that mean with the mean of the fold thresholds it was scored
  at. Uses all R x K models; the averaged probability is a slightly smoothed ensemble score.
- ``repeat=r``: repeat ``r`` only; each image is called at its own fold's threshold.

Two CV runs compared this way must share their folds (same data, ``--folds`` and ``--seed``);
the fold of every image is checked.
"""
from __future__ import annotations

import os.path as osp
from typing import Optional

import numpy as np
import pandas as pd

from .records import RecordError, _listed, load_predictions


class OofPredictions:
    """Out-of-fold predictions with the interface of :class:`records.Predictions`.

    Attributes:
        path, img_id, patient_id, y_true, score: as in ``Predictions`` (sorted by ``img_id``).
        decisions (np.ndarray): bool call per image at its fold threshold(s).
        thresholds (np.ndarray): the threshold each image was called at.
        folds (np.ndarray): ``repeat:fold`` labels of each image (to check shared folds).
        n_repeats (int): repeats in the file.
        view (str): ``'repeat-averaged'`` or ``'repeat <r>'``.
    """

    out_of_fold = True

    def __init__(self, path, img_id, patient_id, y_true, score, decisions, thresholds, folds,
                 n_repeats, view) -> None:
        self.path, self.img_id, self.patient_id = path, img_id, patient_id
        self.y_true, self.score = y_true, score
        self.decisions, self.thresholds, self.folds = decisions, thresholds, folds
        self.n_repeats, self.view = n_repeats, view

    @property
    def threshold(self) -> float:
        """Mean decision threshold (display only: each image uses its own fold's)."""
        return float(np.mean(self.thresholds))

    @property
    def y_pred(self) -> np.ndarray:
        """bool decisions at each image's fold threshold."""
        return self.decisions


def is_oof_file(path: str) -> bool:
    """True for a CSV with ``repeat`` and ``fold`` columns (an ``oof_preds.csv``)."""
    if not (osp.isfile(path) and path.lower().endswith('.csv')):
        return False
    header = pd.read_csv(path, nrows=0).columns
    return {'repeat', 'fold'} <= set(header)


def load_oof_predictions(path: str, positive_class: str = 'osteoporosis',
                         repeat: Optional[int] = None) -> OofPredictions:
    """Read ``oof_preds.csv`` as one prediction per image (see the module docstring).

    Raises:
        RecordError: the file is not complete (an image missing from a repeat or repeated in
            one), a repeat is asked for that the file lacks, or a column is malformed.
    """
    frame = pd.read_csv(path, dtype={'img_id': str, 'patient_id': str}, keep_default_na=False)
    for column in ('repeat', 'fold', 'img_id', 'gt_label', f'prob_{positive_class}'):
        if column not in frame:
            raise RecordError(f'{path}: missing column {column!r}')
    if 'threshold' not in frame:
        frame['threshold'] = 0.5
    repeats = sorted(frame['repeat'].astype(int).unique())
    ids = set(frame['img_id'])
    for r in repeats:
        counts = frame.loc[frame['repeat'] == r, 'img_id'].value_counts()
        if set(counts.index) != ids or (counts > 1).any():
            raise RecordError(f'{path}: repeat {r} does not hold every image exactly once '
                              f'(missing {_listed(ids - set(counts.index))}, repeated '
                              f'{_listed(counts.index[counts > 1])})')
    if repeat is not None and repeat not in repeats:
        raise RecordError(f'{path}: no repeat {repeat} (has {repeats})')
    chosen = repeats if repeat is None else [repeat]
    per_repeat = []
    for r in chosen:
        part = frame[frame['repeat'] == r].sort_values('img_id', kind='stable')
        tmp = part.drop(columns=['repeat', 'fold', 'threshold'])
        per_repeat.append((part, tmp))
    # Reuse the checks of the per-image reader on each repeat (labels, probabilities, ids).
    base = None
    scores, thresholds, folds = [], [], []
    for part, tmp in per_repeat:
        preds = _checked(tmp, path, positive_class)
        if base is None:
            base = preds
        elif not np.array_equal(base.y_true, preds.y_true):
            raise RecordError(f'{path}: repeats disagree on the ground truth')
        scores.append(preds.score)
        thresholds.append(part['threshold'].astype(float).to_numpy())
        folds.append(part['repeat'].astype(str).to_numpy() + ':'
                     + part['fold'].astype(str).to_numpy())
    score = np.mean(scores, axis=0)
    threshold = np.mean(thresholds, axis=0)
    fold_labels = np.array(['|'.join(f) for f in zip(*folds)])
    view = 'repeat-averaged' if repeat is None else f'repeat {repeat}'
    if len(chosen) == 1:
        view = f'repeat {chosen[0]}' if repeat is not None else view
    return OofPredictions(path, base.img_id, base.patient_id, base.y_true, score,
                          score >= threshold, threshold, fold_labels, len(repeats), view)


def _checked(frame: pd.DataFrame, path: str, positive_class: str):
    """Run ``load_predictions``' checks on one repeat's rows (via a temporary CSV)."""
    import tempfile

    with tempfile.NamedTemporaryFile('w', suffix='.csv', delete=False) as f:
        frame.to_csv(f, index=False)
        name = f.name
    try:
        return load_predictions(name, positive_class)._replace(path=path)
    except RecordError as err:
        raise RecordError(str(err).replace(name, f'{path} (one repeat)')) from None
    finally:
        import os
        os.remove(name)


def check_shared_folds(models: dict) -> None:
    """Raise unless all out-of-fold models assign every image to the same folds."""
    oof = {n: m for n, m in models.items() if getattr(m, 'out_of_fold', False)}
    if len(oof) < 2:
        return
    (first_name, first), *others = oof.items()
    for name, model in others:
        if model.folds.shape != first.folds.shape or (model.folds != first.folds).any():
            raise RecordError(f'{first_name} and {name} were cross-validated on different folds; '
                              'run both with the same data, --folds and --seed')


def oof_notes(models: dict) -> list:
    """Report notes for out-of-fold inputs."""
    oof = {n: m for n, m in models.items() if getattr(m, 'out_of_fold', False)}
    if not oof:
        return []
    return [', '.join(f'{n}: {m.n_repeats} repeat(s), {m.view}' for n, m in oof.items())
            + '. These numbers are OUT-OF-FOLD: every image was scored by the cross-'
            'validation model that held it out, and called at that fold\'s validation '
            'threshold (repeat-averaged: mean probability vs mean fold threshold). The '
            'threshold column shows the mean of the fold thresholds.']
