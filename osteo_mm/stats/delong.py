"""DeLong variance, confidence interval and tests for ROC AUCs.

Neither scipy, statsmodels nor scikit-learn provides the DeLong et al. (1988) covariance of
correlated AUCs, so it is written here with the O(n log n) midrank algorithm of Sun & Xu,
"Fast Implementation of DeLong's Algorithm for Comparing the Areas Under Correlated Receiver
Operating Characteristic Curves", IEEE Signal Processing Letters 21(11), 2014. Ties count 1/2,
exactly as in the Mann-Whitney form of the AUC; nothing is approximated.

With ``groups`` (patient ids) the variance is the clustered one of Obuchowski, "Nonparametric
analysis of clustered ROC curve data", Biometrics 53(2):567-578, 1997: the structural
components V10/V01 of one patient's images are summed before their (co)variances are taken, and
the within-patient cross-product of positive and negative components is added. No Python
package offers it (R: ``iMRMCcluster::doAUCcluster``, Obuchowski's ``funcs_clusteredROC.R``).
When every patient has one image the plain DeLong code path runs, so results equal the
image-level ones exactly.
"""
import warnings
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np
from scipy.stats import norm, rankdata

from .clusters import cluster_codes


class AucCI(NamedTuple):
    """AUC with its DeLong variance and normal-theory CI (clipped to [0, 1])."""

    auc: float
    variance: float
    low: float
    high: float


class DeLongResult(NamedTuple):
    """Two-sided z-test of ``auc_a - auc_b``.

    Attributes:
        auc_a (float): AUC of the first score.
        auc_b (float): AUC of the second score.
        difference (float): ``auc_a - auc_b``.
        variance (float): variance of the difference.
        z (float): ``difference / sqrt(variance)``.
        p_value (float): two-sided p-value.
    """

    auc_a: float
    auc_b: float
    difference: float
    variance: float
    z: float
    p_value: float


def _check_binary(y_true: Sequence, name: str = 'y_true') -> np.ndarray:
    """Return ``y_true`` as a bool array, rejecting anything that is not 0/1."""
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise ValueError(f'{name} must be 1-D, got shape {y.shape}')
    if y.dtype != bool:
        values = set(np.unique(y).tolist())
        if not values <= {0, 1}:
            raise ValueError(f'{name} must hold binary labels 0/1, got values {sorted(values)}')
    return y.astype(bool)


def _check_scores(scores: np.ndarray, n: int) -> np.ndarray:
    """Return scores as a float (k, n) array, rejecting NaN/inf and length mismatches."""
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    if scores.ndim != 2 or scores.shape[1] != n:
        raise ValueError(f'scores must have {n} values per model (one per label), '
                         f'got shape {scores.shape}')
    bad = ~np.isfinite(scores)
    if bad.any():
        model, idx = np.argwhere(bad)[0]
        raise ValueError(f'scores contain {int(bad.sum())} NaN/inf values '
                         f'(first: model {model}, case {idx})')
    return scores


def _clustered_cov(y: np.ndarray, codes: np.ndarray, aucs: np.ndarray, v_pos: np.ndarray,
                   v_neg: np.ndarray) -> np.ndarray:
    """Obuchowski (1997) covariance of k AUCs from per-image structural components.

    Args:
        y (np.ndarray): bool labels, shape (N,).
        codes (np.ndarray): cluster code per image (0 .. I - 1), shape (N,).
        aucs (np.ndarray): the k AUCs.
        v_pos (np.ndarray): V10 of every positive image, shape (k, M), images in ``y`` order.
        v_neg (np.ndarray): V01 of every negative image, shape (k, N - M).

    Returns:
        np.ndarray: (k, k) covariance; NaN (with a warning) when fewer than two patients hold
        a positive or a negative image.
    """
    n_clusters = int(codes.max()) + 1
    code_pos, code_neg = codes[y], codes[~y]
    m_i = np.bincount(code_pos, minlength=n_clusters)  # positive images per patient
    n_i = np.bincount(code_neg, minlength=n_clusters)  # negative images per patient
    big_m, big_n = code_pos.size, code_neg.size
    i10, i01 = int(np.count_nonzero(m_i)), int(np.count_nonzero(n_i))
    if i10 < 2 or i01 < 2:
        warnings.warn(f'clustered DeLong variance undefined: {i10} patients with a positive and '
                      f'{i01} with a negative image (need >= 2 each)', stacklevel=3)
        return np.full((len(aucs), len(aucs)), np.nan)
    # Per-patient sums of the structural components, centred at m_i * AUC (resp. n_i * AUC).
    x = np.stack([np.bincount(code_pos, weights=v, minlength=n_clusters) for v in v_pos])
    x -= m_i * aucs[:, None]
    yc = np.stack([np.bincount(code_neg, weights=v, minlength=n_clusters) for v in v_neg])
    yc -= n_i * aucs[:, None]
    s10 = i10 / ((i10 - 1) * big_m) * (x @ x.T)
    s01 = i01 / ((i01 - 1) * big_n) * (yc @ yc.T)
    s11 = n_clusters / (n_clusters - 1) * (x @ yc.T)
    return s10 / big_m + s01 / big_n + (s11 + s11.T) / (big_m * big_n)


def delong_covariance(y_true: Sequence, scores: Sequence, groups: Optional[Sequence] = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """AUCs of k scores on the same cases and the DeLong covariance matrix of those AUCs.

    Args:
        y_true (Sequence): binary labels (0/1 or bool), length n; 1 is the positive class.
        scores (Sequence): shape (n,) or (k, n); higher means more likely positive.
        groups (Sequence, optional): cluster (patient) id per case. When some patient has
            several cases the covariance is Obuchowski's (1997) clustered one; when every
            patient has one case (or ``groups`` is None) it is plain DeLong, bit for bit.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``aucs`` of shape (k,) and ``cov`` of shape (k, k).
        With one class only, both are NaN (with a warning); with a single case (or, clustered,
        a single patient) of a class the AUCs are defined but the covariance is NaN (with a
        warning).

    Raises:
        ValueError: labels not binary, scores or groups not of length n, or NaN/inf scores.
    """
    y = _check_binary(y_true)
    scores = _check_scores(scores, len(y))
    codes = None
    if groups is not None:
        codes = cluster_codes(groups)
        if codes.size != y.size:
            raise ValueError(f'groups has {codes.size} entries for {y.size} cases')
        if codes.size == 0 or int(codes.max()) + 1 == codes.size:
            codes = None  # one case per patient: plain DeLong, identical to groups=None
    k = scores.shape[0]
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        warnings.warn(f'AUC undefined: only one class present ({m} positive, {n} negative)',
                      stacklevel=2)
        return np.full(k, np.nan), np.full((k, k), np.nan)
    pos, neg = scores[:, y], scores[:, ~y]
    # Midranks within positives, within negatives and over all cases (Sun & Xu, eq. 8-10).
    rank_pos = rankdata(pos, axis=1)
    rank_neg = rankdata(neg, axis=1)
    rank_all = rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    aucs = (rank_all[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    v_pos = (rank_all[:, :m] - rank_pos) / n  # structural components V10 of the positives
    v_neg = 1.0 - (rank_all[:, m:] - rank_neg) / m  # structural components V01 of the negatives
    if codes is not None:
        return aucs, _clustered_cov(y, codes, aucs, v_pos, v_neg)
    if m < 2 or n < 2:
        warnings.warn(f'DeLong variance undefined with {m} positive and {n} negative cases',
                      stacklevel=2)
        return aucs, np.full((k, k), np.nan)
    cov = np.atleast_2d(np.cov(v_pos)) / m + np.atleast_2d(np.cov(v_neg)) / n
    return aucs, cov


def delong_auc_ci(y_true: Sequence, y_score: Sequence, alpha: float = 0.05,
                  groups: Optional[Sequence] = None) -> AucCI:
    """AUC with DeLong variance and a ``1 - alpha`` normal-theory CI clipped to [0, 1].

    Args:
        y_true (Sequence): binary labels, length n.
        y_score (Sequence): scores, length n.
        alpha (float): 1 - confidence level. Defaults to 0.05.
        groups (Sequence, optional): patient id per case: clustered (Obuchowski 1997)
            variance when a patient has several cases.

    Returns:
        AucCI: ``auc``, ``variance``, ``low``, ``high`` (NaN when undefined, see
        :func:`delong_covariance`).
    """
    aucs, cov = delong_covariance(y_true, y_score, groups)
    auc, var = float(aucs[0]), float(cov[0, 0])
    half = norm.ppf(1 - alpha / 2) * np.sqrt(var)
    return AucCI(auc, var, float(np.clip(auc - half, 0, 1)), float(np.clip(auc + half, 0, 1)))


def _z_test(auc_a: float, auc_b: float, variance: float) -> DeLongResult:
    """Two-sided z-test; identical AUCs with zero variance (e.g. identical scores) give p = 1."""
    diff = auc_a - auc_b
    variance = max(variance, 0.0)  # round-off can make a zero variance slightly negative
    if variance == 0.0 and diff == 0.0:
        return DeLongResult(auc_a, auc_b, 0.0, 0.0, 0.0, 1.0)
    z = diff / np.sqrt(variance)
    return DeLongResult(auc_a, auc_b, diff, variance, float(z), float(2 * norm.sf(abs(z))))


def delong_test(y_true: Sequence, score_a: Sequence, score_b: Sequence,
                groups: Optional[Sequence] = None) -> DeLongResult:
    """DeLong test for two correlated AUCs (two models scored on the same cases).

    Args:
        y_true (Sequence): binary labels, length n.
        score_a (Sequence): first model's scores, length n.
        score_b (Sequence): second model's scores, length n.
        groups (Sequence, optional): patient id per case: the variance of the difference is
            Obuchowski's (1997) clustered one when a patient has several cases.

    Returns:
        DeLongResult: the AUCs, their difference, its variance, z and two-sided p-value
        (all NaN, with a warning, when only one class is present).

    Raises:
        ValueError: length mismatch, non-binary labels or NaN/inf scores.
    """
    score_a, score_b = np.asarray(score_a, dtype=float), np.asarray(score_b, dtype=float)
    if score_a.shape != score_b.shape:
        raise ValueError(f'score_a and score_b differ in shape: {score_a.shape} vs '
                         f'{score_b.shape}')
    aucs, cov = delong_covariance(y_true, np.stack([score_a, score_b]), groups)
    if not np.isfinite(cov).all():
        nan = float('nan')
        return DeLongResult(float(aucs[0]), float(aucs[1]), float(aucs[0] - aucs[1]), nan, nan,
                            nan)
    return _z_test(float(aucs[0]), float(aucs[1]), float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]))


def delong_test_independent(y_true_a: Sequence, score_a: Sequence, y_true_b: Sequence,
                            score_b: Sequence, groups_a: Optional[Sequence] = None,
                            groups_b: Optional[Sequence] = None) -> DeLongResult:
    """Test two AUCs measured on independent case sets (variances add, no covariance).

    Args:
        y_true_a (Sequence): labels of the first case set.
        score_a (Sequence): scores on the first case set.
        y_true_b (Sequence): labels of the second case set.
        score_b (Sequence): scores on the second case set.
        groups_a (Sequence, optional): patient ids of the first case set.
        groups_b (Sequence, optional): patient ids of the second case set.

    Returns:
        DeLongResult: as :func:`delong_test`.
    """
    auc_a, var_a = delong_auc_ci(y_true_a, score_a, groups=groups_a)[:2]
    auc_b, var_b = delong_auc_ci(y_true_b, score_b, groups=groups_b)[:2]
    if not np.isfinite([var_a, var_b]).all():
        nan = float('nan')
        return DeLongResult(auc_a, auc_b, auc_a - auc_b, nan, nan, nan)
    return _z_test(auc_a, auc_b, var_a + var_b)
