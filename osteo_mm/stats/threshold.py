"""Binary metrics at a decision threshold: the one implementation osteo_mm uses.

``evaluation.metrics.diagnostic`` (the MMEngine metrics) and ``report.summary`` (the comparison
report) both compute sensitivity, specificity and friends here. They are written with NumPy on
confusion counts rather than with scikit-learn because the bootstrap evaluates them thousands of
times and sklearn's per-call validation dominates the run time; tests check they equal
scikit-learn's values (``zero_division=nan``).
"""
from typing import Callable, Dict, Sequence, Tuple

import numpy as np


def ratio(num: float, den: float) -> float:
    """``num / den``, NaN when the denominator is zero (sklearn's ``zero_division=nan``)."""
    return float(num) / den if den else float('nan')


def mean_defined(values: Sequence[float]) -> float:
    """Mean of the finite values (NaN if none), as sklearn's balanced accuracy averages only
    over the classes present in the ground truth."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float('nan')


def confusion_from_decisions(y_true: np.ndarray, y_pred: np.ndarray
                             ) -> Tuple[int, int, int, int]:
    """Binary confusion counts of bool (or 0/1) decisions.

    Args:
        y_true (np.ndarray): truth, True/1 = positive, shape (N,).
        y_pred (np.ndarray): decisions, True/1 = positive call, shape (N,).

    Returns:
        tuple[int, int, int, int]: ``tp, fp, tn, fn``.
    """
    truth = np.asarray(y_true).astype(bool)
    pred = np.asarray(y_pred).astype(bool)
    tp = int(np.count_nonzero(pred & truth))
    fp = int(np.count_nonzero(pred & ~truth))
    fn = int(np.count_nonzero(~pred & truth))
    return tp, fp, truth.size - tp - fp - fn, fn


def confusion_counts(scores: np.ndarray, labels: np.ndarray,
                     threshold: float) -> Tuple[int, int, int, int]:
    """Binary confusion counts; a score ``>= threshold`` is a positive call (as in roc_curve).

    Args:
        scores (np.ndarray): Positive-class scores, shape (N,).
        labels (np.ndarray): 0/1 ground truth, shape (N,).
        threshold (float): Decision threshold.

    Returns:
        tuple[int, int, int, int]: ``tp, fp, tn, fn``.
    """
    return confusion_from_decisions(np.asarray(labels) == 1, np.asarray(scores) >= threshold)


#: Threshold metrics as functions of ``(tp, fp, tn, fn)``; undefined values are NaN.
THRESHOLD_METRICS: Dict[str, Callable[[int, int, int, int], float]] = dict(
    accuracy=lambda tp, fp, tn, fn: ratio(tp + tn, tp + fp + tn + fn),
    balanced_accuracy=lambda tp, fp, tn, fn: mean_defined([ratio(tp, tp + fn),
                                                           ratio(tn, tn + fp)]),
    sensitivity=lambda tp, fp, tn, fn: ratio(tp, tp + fn),
    specificity=lambda tp, fp, tn, fn: ratio(tn, tn + fp),
    ppv=lambda tp, fp, tn, fn: ratio(tp, tp + fp),
    npv=lambda tp, fp, tn, fn: ratio(tn, tn + fn),
    f1=lambda tp, fp, tn, fn: ratio(2 * tp, 2 * tp + fp + fn),
)


def threshold_metrics(y_true: np.ndarray, y_pred: np.ndarray,
                      names: Sequence[str] = tuple(THRESHOLD_METRICS)) -> np.ndarray:
    """Several :data:`THRESHOLD_METRICS` of bool decisions at once, as a vector.

    Args:
        y_true (np.ndarray): truth, True/1 = positive.
        y_pred (np.ndarray): decisions, True/1 = positive call.
        names (Sequence[str]): which metrics, in output order. Defaults to all.

    Returns:
        np.ndarray: float64 values in ``names`` order (NaN where undefined).

    Raises:
        KeyError: an unknown metric name.
    """
    counts = confusion_from_decisions(y_true, y_pred)
    return np.array([THRESHOLD_METRICS[name](*counts) for name in names], dtype=np.float64)
