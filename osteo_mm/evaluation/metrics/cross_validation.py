"""Metrics of pooled out-of-fold predictions (``oof_preds.csv`` of ``tools/cross_validate.py``).

Three views, all stated in the outputs:

- **pooled per repeat**: every image's out-of-fold probability of one repeat, pooled over its
  folds: AUC with a patient-level bootstrap CI; SEN/SPE where each image is called at *its own
  fold's* validation threshold; Brier, calibration intercept/slope and ECE.
- **over folds**: each fold's metrics on its own test images; mean and SD over all K x R folds.
- **repeat-averaged**: each image's probability averaged over the R repeats (one prediction per
  image; the view used for the reliability diagram, the decision curve and paired comparisons).

Pooling probabilities across folds assumes the K fold models are calibrated alike; the
over-folds view does not, and the two are reported side by side.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, Optional

import numpy as np
import pandas as pd

from osteo_mm.stats import bootstrap_ci, delong_auc_ci
from osteo_mm.stats.calibration import (
    brier_score,
    calibration_intercept_slope,
    decision_curve,
    expected_calibration_error,
    reliability_curve,
)

from .diagnostic import binary_auc, confusion_counts, patient_groups

#: Equal-width bins of ECE and of the reliability diagram.
ECE_BINS = 10
POSITIVE_CLASS = 'osteoporosis'


def oof_arrays(oof: pd.DataFrame, positive_class: str = POSITIVE_CLASS) -> pd.DataFrame:
    """``img_id, patient_id, repeat, fold, y, p, threshold`` from an ``oof_preds.csv`` table."""
    prob_cols = [c for c in oof.columns if c.startswith('prob_')]
    column = f'prob_{positive_class}'
    if column not in prob_cols:
        raise ValueError(f'out-of-fold predictions lack column {column!r}')
    threshold = (oof['threshold'].astype(float) if 'threshold' in oof
                 else pd.Series(0.5, index=oof.index))
    return pd.DataFrame({
        'img_id': oof['img_id'].astype(str),
        'patient_id': oof.get('patient_id', pd.Series('', index=oof.index)).fillna('')
        .astype(str),
        'repeat': oof['repeat'].astype(int), 'fold': oof['fold'].astype(int),
        'y': (oof['gt_label'].astype(int) == prob_cols.index(column)).astype(int),
        'p': oof[column].astype(float), 'threshold': threshold})


def _sen_spe(y: np.ndarray, p: np.ndarray, t: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = confusion_counts(p - t, y, 0.0)
    return np.array([tp / (tp + fn) if tp + fn else np.nan,
                     tn / (tn + fp) if tn + fp else np.nan])


def auc_with_ci(y: np.ndarray, p: np.ndarray, patients: np.ndarray, n_boot: int, alpha: float,
                seed: int) -> Dict[str, Any]:
    """AUC with a patient-level percentile bootstrap CI (and the image-level DeLong CI).

    Issue 18's clustered DeLong (Obuchowski 1997) replaces the DeLong entry here when it lands;
    the bootstrap already resamples whole patients.
    """
    groups = patient_groups(list(patients))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        boot = bootstrap_ci(lambda yy, pp: binary_auc(yy, pp, warn=False), y, p, groups=groups,
                            n_boot=n_boot, alpha=alpha, seed=seed)
    out = dict(auc=binary_auc(y, p, warn=False), auc_ci_low=float(boot.low),
               auc_ci_high=float(boot.high), auc_ci_n_skipped=int(boot.n_skipped),
               auc_ci_method='patient bootstrap')
    if 0 < y.sum() < len(y):
        delong = delong_auc_ci(y, p, alpha)
        out.update(auc_delong_low=float(delong.low), auc_delong_high=float(delong.high))
    return out


def calibration_summary(y: np.ndarray, p: np.ndarray) -> Dict[str, Any]:
    """Brier, calibration intercept/slope (with Wald CIs) and ECE of one set of predictions."""
    fit = calibration_intercept_slope(y, p)
    return dict(brier=brier_score(y, p), calibration_intercept=fit.intercept,
                calibration_intercept_ci=list(fit.intercept_ci), calibration_slope=fit.slope,
                calibration_slope_ci=list(fit.slope_ci),
                ece=expected_calibration_error(y, p, ECE_BINS),
                ece_binning=f'{ECE_BINS} equal-width bins of the probability')


def fold_metrics_table(oof: pd.DataFrame, positive_class: str = POSITIVE_CLASS) -> pd.DataFrame:
    """One row per (repeat, fold): size, AUC, threshold, SEN/SPE at it, Brier, ECE."""
    data = oof_arrays(oof, positive_class)
    rows = []
    for (r, k), part in data.groupby(['repeat', 'fold'], sort=True):
        y, p, t = part['y'].to_numpy(), part['p'].to_numpy(), part['threshold'].to_numpy()
        sen, spe = _sen_spe(y, p, t)
        rows.append(dict(repeat=r, fold=k, n_images=len(part),
                         n_patients=part['patient_id'].nunique(), n_positive=int(y.sum()),
                         auc=binary_auc(y, p, warn=False), threshold=float(t[0]),
                         sensitivity=sen, specificity=spe, brier=brier_score(y, p),
                         ece=expected_calibration_error(y, p, ECE_BINS)))
    return pd.DataFrame(rows)


def repeat_averaged(data: pd.DataFrame) -> pd.DataFrame:
    """One row per image: probability and threshold averaged over the repeats."""
    return data.groupby('img_id', sort=True).agg(
        patient_id=('patient_id', 'first'), y=('y', 'first'), p=('p', 'mean'),
        threshold=('threshold', 'mean'), n_repeats=('repeat', 'nunique')).reset_index()


def summarize_oof(oof: pd.DataFrame, positive_class: str = POSITIVE_CLASS, n_boot: int = 2000,
                  alpha: float = 0.05, seed: int = 0,
                  thresholds: Optional[np.ndarray] = None) -> Dict[str, Any]:
    """The cross-validation summary (see the module docstring).

    Args:
        oof (pd.DataFrame): ``oof_preds.csv``.
        positive_class (str): Positive class. Defaults to ``'osteoporosis'``.
        n_boot (int): Patient bootstrap resamples. Defaults to 2000.
        alpha (float): 1 - confidence level. Defaults to 0.05.
        seed (int): Bootstrap seed. Defaults to 0.
        thresholds (np.ndarray, optional): Threshold probabilities of the decision curve.

    Returns:
        dict: ``pooled`` (per repeat), ``over_folds`` (mean/SD), ``repeat_averaged`` (AUC, SEN/SPE,
        calibration), ``reliability`` and ``decision_curve`` (records), counts and notes.
    """
    data = oof_arrays(oof, positive_class)
    pooled = []
    for r, part in data.groupby('repeat', sort=True):
        y, p, t = part['y'].to_numpy(), part['p'].to_numpy(), part['threshold'].to_numpy()
        entry = dict(repeat=int(r), n_images=len(part), n_positive=int(y.sum()))
        entry.update(auc_with_ci(y, p, part['patient_id'].to_numpy(), n_boot, alpha, seed))
        sen, spe = _sen_spe(y, p, t)
        entry.update(sensitivity_at_fold_thresholds=sen, specificity_at_fold_thresholds=spe)
        entry.update(calibration_summary(y, p))
        pooled.append(entry)
    folds = fold_metrics_table(oof, positive_class)
    over_folds = {}
    for key in ('auc', 'sensitivity', 'specificity', 'threshold', 'brier', 'ece'):
        values = folds[key].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        over_folds[key] = dict(mean=float(finite.mean()) if len(finite) else np.nan,
                               sd=float(finite.std(ddof=1)) if len(finite) > 1 else np.nan,
                               n_folds=int(len(finite)),
                               n_undefined=int(len(values) - len(finite)))
    avg = repeat_averaged(data)
    y, p = avg['y'].to_numpy(), avg['p'].to_numpy()
    averaged = dict(n_images=len(avg), n_patients=int(avg['patient_id'].nunique()),
                    n_positive=int(y.sum()))
    averaged.update(auc_with_ci(y, p, avg['patient_id'].to_numpy(), n_boot, alpha, seed))
    sen, spe = _sen_spe(y, p, avg['threshold'].to_numpy())
    averaged.update(sensitivity_at_mean_fold_threshold=sen,
                    specificity_at_mean_fold_threshold=spe)
    averaged.update(calibration_summary(y, p))
    return dict(
        unit='image predictions pooled out of fold; CIs resample patients',
        n_repeats=int(data['repeat'].nunique()), n_folds=int(data['fold'].nunique()),
        n_images=int(data['img_id'].nunique()), n_patients=int(data['patient_id'].nunique()),
        alpha=alpha, n_boot=n_boot, pooled=pooled,
        pooled_auc_mean_over_repeats=float(np.nanmean([e['auc'] for e in pooled])),
        over_folds=over_folds, repeat_averaged=averaged,
        reliability=reliability_curve(y, p, ECE_BINS, alpha).to_dict('records'),
        decision_curve=decision_curve(y, p, thresholds).to_dict('records'))
