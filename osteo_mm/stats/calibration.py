"""Calibration and clinical utility of predicted probabilities.

- :func:`brier_score`: mean squared error of the probability (scikit-learn).
- :func:`calibration_intercept_slope`: logistic recalibration (Cox 1958; Van Calster et al.,
  J Clin Epidemiol 2016): the slope is the coefficient of ``logit(p)`` in a logistic regression
  of the outcome on it; the intercept ("calibration-in-the-large") is fitted with ``logit(p)`` as
  an offset (slope fixed at 1). Fitted with statsmodels' GLM (binomial, no penalty).
- :func:`expected_calibration_error`: ECE over equal-width bins of the probability, weighted by
  bin size (Naeini et al., AAAI 2015); the binning is returned with the value.
- :func:`reliability_curve`: observed fraction per bin with Wilson score intervals.
- :func:`net_benefit` / :func:`decision_curve`: decision-curve analysis (Vickers & Elkin, Med
  Decis Making 2006): ``NB(t) = TP/n - FP/n * t / (1 - t)`` for "screen if p >= t", against
  "screen all" (``prevalence - (1 - prevalence) * t / (1 - t)``) and "screen none" (0).
- :class:`Recalibrator`: Platt (logistic on ``logit(p)``) or isotonic recalibration; fit it on
  validation data only.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple, Optional, Sequence

import numpy as np
import pandas as pd

#: Probabilities are clipped to [EPS, 1 - EPS] before the logit.
EPS = 1e-6


def _arrays(y_true: Sequence, y_prob: Sequence) -> tuple:
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_prob, dtype=np.float64).ravel()
    if y.shape != p.shape or y.size == 0:
        raise ValueError(f'y_true and y_prob need the same non-zero length, got {y.size} and '
                         f'{p.size}')
    if not np.isin(y, (0, 1)).all():
        raise ValueError('y_true must hold 0/1 labels')
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise ValueError('y_prob must be finite probabilities in [0, 1]')
    return y, p


def logit(p: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))`` after clipping to ``[EPS, 1 - EPS]``."""
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def brier_score(y_true: Sequence, y_prob: Sequence) -> float:
    """Mean of ``(p - y)^2`` (lower is better; 0.25 for a constant 0.5)."""
    from sklearn.metrics import brier_score_loss

    y, p = _arrays(y_true, y_prob)
    return float(brier_score_loss(y, p))


class CalibrationFit(NamedTuple):
    """Logistic recalibration of a probability.

    Attributes:
        intercept (float): calibration-in-the-large (0 when calibrated; > 0 means the model
            under-predicts risk), fitted with ``logit(p)`` as offset.
        slope (float): coefficient of ``logit(p)`` (1 when calibrated; < 1 means predictions
            too extreme, typical of over-fitting).
        intercept_ci (tuple): Wald 95 % interval of the intercept.
        slope_ci (tuple): Wald 95 % interval of the slope.
    """

    intercept: float
    slope: float
    intercept_ci: tuple
    slope_ci: tuple


def calibration_intercept_slope(y_true: Sequence, y_prob: Sequence,
                                alpha: float = 0.05) -> CalibrationFit:
    """Calibration intercept and slope by logistic recalibration (statsmodels GLM).

    NaN when only one class is present or the fit does not converge (e.g. perfect separation).
    """
    import statsmodels.api as sm

    y, p = _arrays(y_true, y_prob)
    nan = CalibrationFit(np.nan, np.nan, (np.nan, np.nan), (np.nan, np.nan))
    if y.min() == y.max():
        return nan
    lp = logit(p)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            slope_fit = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
            int_fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(),
                             offset=lp).fit()
    except (ValueError, np.linalg.LinAlgError, sm.tools.sm_exceptions.PerfectSeparationError):
        return nan
    slope_ci = slope_fit.conf_int(alpha)[1]
    int_ci = int_fit.conf_int(alpha)[0]
    values = (int_fit.params[0], slope_fit.params[1])
    if not np.isfinite(values).all():
        return nan
    return CalibrationFit(float(values[0]), float(values[1]),
                          (float(int_ci[0]), float(int_ci[1])),
                          (float(slope_ci[0]), float(slope_ci[1])))


def _bin_index(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bin of each probability: ``[0, 1/n), ..., [(n-1)/n, 1]``."""
    return np.minimum((p * n_bins).astype(np.int64), n_bins - 1)


def expected_calibration_error(y_true: Sequence, y_prob: Sequence, n_bins: int = 10) -> float:
    """ECE: ``sum_b n_b / n * |mean(y in b) - mean(p in b)|`` over ``n_bins`` equal-width bins
    of the positive-class probability (empty bins contribute 0)."""
    y, p = _arrays(y_true, y_prob)
    bins = _bin_index(p, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    obs = np.bincount(bins, weights=y, minlength=n_bins)
    pred = np.bincount(bins, weights=p, minlength=n_bins)
    filled = counts > 0
    return float(np.abs(obs[filled] - pred[filled]).sum() / len(y))


def wilson_interval(successes: np.ndarray, n: np.ndarray, alpha: float = 0.05) -> tuple:
    """Wilson score interval of a binomial proportion (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(successes, n, alpha=alpha, method='wilson')


def reliability_curve(y_true: Sequence, y_prob: Sequence, n_bins: int = 10,
                      alpha: float = 0.05) -> pd.DataFrame:
    """Per equal-width bin: count, mean predicted probability, observed fraction and its Wilson
    CI (images treated as independent within a bin). Empty bins are left out."""
    y, p = _arrays(y_true, y_prob)
    bins = _bin_index(p, n_bins)
    frame = pd.DataFrame({'bin': bins, 'y': y, 'p': p}).groupby('bin').agg(
        n=('y', 'size'), n_positive=('y', 'sum'), mean_predicted=('p', 'mean'))
    frame['observed'] = frame['n_positive'] / frame['n']
    low, high = wilson_interval(frame['n_positive'].to_numpy(), frame['n'].to_numpy(), alpha)
    frame['observed_low'], frame['observed_high'] = low, high
    frame['bin_low'] = frame.index / n_bins
    frame['bin_high'] = (frame.index + 1) / n_bins
    return frame.reset_index()


def net_benefit(y_true: Sequence, y_prob: Sequence, threshold: float) -> float:
    """Net benefit of screening images with ``p >= threshold``: ``TP/n - FP/n * t/(1-t)``."""
    y, p = _arrays(y_true, y_prob)
    if not 0 < threshold < 1:
        raise ValueError(f'threshold probability must lie in (0, 1), got {threshold}')
    called = p >= threshold
    tp = np.sum(called & (y == 1))
    fp = np.sum(called & (y == 0))
    return float(tp / len(y) - fp / len(y) * threshold / (1 - threshold))


def decision_curve(y_true: Sequence, y_prob: Sequence,
                   thresholds: Optional[Sequence[float]] = None) -> pd.DataFrame:
    """Net benefit of the model, of "screen all" and of "screen none" per threshold probability.

    Args:
        y_true (Sequence): 0/1 outcomes.
        y_prob (Sequence): predicted probabilities.
        thresholds (Sequence[float], optional): threshold probabilities in (0, 1); default
            0.01 .. 0.99 in steps of 0.01.

    Returns:
        pd.DataFrame: ``threshold, model, screen_all, screen_none``.
    """
    y, p = _arrays(y_true, y_prob)
    t = np.round(np.arange(0.01, 1.0, 0.01), 2) if thresholds is None else np.asarray(thresholds)
    prevalence = y.mean()
    odds = t / (1 - t)
    return pd.DataFrame({'threshold': t,
                         'model': [net_benefit(y, p, v) for v in t],
                         'screen_all': prevalence - (1 - prevalence) * odds,
                         'screen_none': np.zeros(len(t))})


class Recalibrator:
    """Platt or isotonic recalibration of a probability, fitted on validation data only.

    Args:
        method (str): ``'platt'`` (logistic regression on ``logit(p)``, unpenalised) or
            ``'isotonic'`` (scikit-learn ``IsotonicRegression``, clipped to [0, 1]).
    """

    METHODS = ('platt', 'isotonic')

    def __init__(self, method: str = 'platt') -> None:
        if method not in self.METHODS:
            raise ValueError(f'recalibration method must be one of {self.METHODS}, '
                             f'got {method!r}')
        self.method = method
        self.model = None

    def fit(self, y_true: Sequence, y_prob: Sequence) -> 'Recalibrator':
        """Fit on validation outcomes and probabilities (needs both classes)."""
        y, p = _arrays(y_true, y_prob)
        if y.min() == y.max():
            raise ValueError('recalibration needs both classes in the validation data')
        if self.method == 'platt':
            from sklearn.linear_model import LogisticRegression

            self.model = LogisticRegression(C=np.inf).fit(logit(p)[:, None], y)
        else:
            from sklearn.isotonic import IsotonicRegression

            self.model = IsotonicRegression(y_min=0, y_max=1, out_of_bounds='clip').fit(p, y)
        return self

    def transform(self, y_prob: Sequence) -> np.ndarray:
        """Recalibrated probabilities."""
        if self.model is None:
            raise RuntimeError('fit the recalibrator on validation data first')
        p = np.asarray(y_prob, dtype=np.float64).ravel()
        if self.method == 'platt':
            return self.model.predict_proba(logit(p)[:, None])[:, 1]
        return self.model.predict(p)

    def params(self) -> dict:
        """What was fitted (for the run record)."""
        if self.method == 'platt' and self.model is not None:
            return dict(method='platt', a=float(self.model.coef_[0, 0]),
                        b=float(self.model.intercept_[0]))
        if self.model is not None:
            return dict(method='isotonic', x=self.model.X_thresholds_.tolist(),
                        y=self.model.y_thresholds_.tolist())
        return dict(method=self.method)
