"""Paired tests for two models on the same images: McNemar, Wilcoxon, permutation.

Thin wrappers over statsmodels and scipy that add the input checks and the edge cases a model
comparison meets (no discordant pairs, all-equal scores, NaN scores), and the clustered
(patient-level) McNemar variants of Obuchowski (1998) and Durkalski et al. (2003), which
neither statsmodels nor scipy provides.
"""
import warnings
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np
from scipy.stats import chi2, permutation_test, wilcoxon

from .clusters import cluster_codes

#: Below this many discordant pairs McNemar uses the exact binomial test.
MCNEMAR_EXACT_BELOW = 25
#: Clustered McNemar variants of :func:`clustered_mcnemar_test`.
CLUSTERED_MCNEMAR_METHODS = ('obuchowski', 'durkalski')


class PairedTestResult(NamedTuple):
    """Result of a paired two-sided test of model A vs model B.

    Attributes:
        difference (float): A minus B (accuracy for McNemar, mean score otherwise).
        statistic (float): the test statistic (statsmodels/scipy convention of the test).
        p_value (float): two-sided p-value.
        n (int): number of pairs used.
        method (str): which test produced the p-value.
    """

    difference: float
    statistic: float
    p_value: float
    n: int
    method: str


def _paired_arrays(a: Sequence, b: Sequence, name_a: str, name_b: str,
                   dtype: type = float) -> Tuple[np.ndarray, np.ndarray]:
    """Convert two paired 1-D inputs, rejecting length mismatches and empty input."""
    a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f'{name_a} and {name_b} must be 1-D of equal length, got shapes '
                         f'{a.shape} and {b.shape}')
    if a.size == 0:
        raise ValueError(f'{name_a} and {name_b} are empty')
    return a, b


def _finite_pairs(a: Sequence, b: Sequence) -> Tuple[np.ndarray, np.ndarray]:
    """Paired float arrays; NaN/inf is an error naming the first offending index."""
    a, b = _paired_arrays(a, b, 'scores_a', 'scores_b')
    bad = ~(np.isfinite(a) & np.isfinite(b))
    if bad.any():
        raise ValueError(f'{int(bad.sum())} score pairs are NaN/inf (first at index '
                         f'{int(np.flatnonzero(bad)[0])}); drop images without scores first')
    return a, b


def mcnemar_test(y_true: Sequence, pred_a: Sequence, pred_b: Sequence,
                 exact_below: int = MCNEMAR_EXACT_BELOW) -> PairedTestResult:
    """McNemar test of two classifiers' accuracies on the same cases (statsmodels ``mcnemar``).

    The exact binomial test is used when there are fewer than ``exact_below`` discordant pairs,
    otherwise the chi-square test with continuity correction.

    Args:
        y_true (Sequence): true labels, length n.
        pred_a (Sequence): model A's predicted labels, length n.
        pred_b (Sequence): model B's predicted labels, length n.
        exact_below (int): discordant-pair count below which the exact test is used.
            Defaults to 25.

    Returns:
        PairedTestResult: accuracy difference A - B, statistic, p-value (1.0 without discordant
        pairs), n and ``'mcnemar-exact'`` or ``'mcnemar-chi2'``.

    Raises:
        ValueError: length mismatch or empty input.
    """
    # statsmodels is imported here, not at module level: it takes seconds to import and every
    # config imports osteo_mm (and so this package) through custom_imports.
    from statsmodels.stats.contingency_tables import mcnemar

    y = np.asarray(y_true)
    pred_a, pred_b = _paired_arrays(pred_a, pred_b, 'pred_a', 'pred_b', dtype=object)
    if y.shape != pred_a.shape:
        raise ValueError(f'y_true has shape {y.shape} but predictions have {pred_a.shape}')
    ok_a, ok_b = pred_a == y, pred_b == y
    only_a, only_b = int((ok_a & ~ok_b).sum()), int((~ok_a & ok_b).sum())
    table = [[int((ok_a & ok_b).sum()), only_a], [only_b, int((~ok_a & ~ok_b).sum())]]
    exact = only_a + only_b < exact_below
    result = mcnemar(table, exact=exact, correction=True)
    diff = float(ok_a.mean() - ok_b.mean())
    p_value = 1.0 if only_a + only_b == 0 else float(result.pvalue)
    return PairedTestResult(diff, float(result.statistic), p_value, int(y.size),
                            'mcnemar-exact' if exact else 'mcnemar-chi2')


def clustered_mcnemar_test(y_true: Sequence, pred_a: Sequence, pred_b: Sequence,
                           groups: Optional[Sequence], method: str = 'obuchowski',
                           exact_below: int = MCNEMAR_EXACT_BELOW) -> PairedTestResult:
    """McNemar-type test of two classifiers' accuracies when patients hold several images.

    Per patient i, ``d_i`` = (images A classifies correctly) - (images B classifies correctly)
    = (A-only correct) - (B-only correct), over its ``n_i`` images; K patients, N images.

    - ``'obuchowski'`` (Obuchowski, Stat Med 17:1495-1507, 1998): ratio estimators of the two
      clustered proportions, ``X2 = (sum d)^2 / (K / (K - 1) * sum (d_i - n_i * d_bar)^2)``
      with ``d_bar = sum d / N``.
    - ``'durkalski'`` (Durkalski et al., Stat Med 22:2417-2428, 2003):
      ``X2 = (sum d)^2 / sum d_i^2``.

    Both are referred to chi-square with 1 df. When every patient has one image (or ``groups``
    is None) the test is the ordinary :func:`mcnemar_test`, result for result.

    Args:
        y_true (Sequence): true labels, length n.
        pred_a (Sequence): model A's predicted labels, length n.
        pred_b (Sequence): model B's predicted labels, length n.
        groups (Sequence, optional): patient id per image.
        method (str): ``'obuchowski'`` (default) or ``'durkalski'``.
        exact_below (int): passed to :func:`mcnemar_test` in the unclustered case.

    Returns:
        PairedTestResult: accuracy difference A - B (over images), X2, p-value (1.0 when no
        patient has a discordant image), ``n`` = number of patients, and
        ``'mcnemar-obuchowski1998'`` or ``'mcnemar-durkalski2003'``.

    Raises:
        ValueError: unknown method, length mismatch or empty input.
    """
    if method not in CLUSTERED_MCNEMAR_METHODS:
        raise ValueError(f'method must be one of {CLUSTERED_MCNEMAR_METHODS}, got {method!r}')
    y = np.asarray(y_true)
    pred_a, pred_b = _paired_arrays(pred_a, pred_b, 'pred_a', 'pred_b', dtype=object)
    if y.shape != pred_a.shape:
        raise ValueError(f'y_true has shape {y.shape} but predictions have {pred_a.shape}')
    codes = None if groups is None else cluster_codes(groups)
    if codes is not None and codes.size != y.size:
        raise ValueError(f'groups has {codes.size} entries for {y.size} images')
    if codes is None or int(codes.max()) + 1 == codes.size:
        return mcnemar_test(y, pred_a, pred_b, exact_below)
    ok_a, ok_b = (pred_a == y).astype(float), (pred_b == y).astype(float)
    n_patients = int(codes.max()) + 1
    d = np.bincount(codes, weights=ok_a - ok_b, minlength=n_patients)
    diff = float(ok_a.mean() - ok_b.mean())
    name = 'mcnemar-obuchowski1998' if method == 'obuchowski' else 'mcnemar-durkalski2003'
    total = d.sum()
    if not np.any(d):
        return PairedTestResult(diff, 0.0, 1.0, n_patients, name)
    if method == 'obuchowski':
        n_i = np.bincount(codes, minlength=n_patients)
        resid = d - n_i * total / y.size
        denom = n_patients / (n_patients - 1) * float(resid @ resid)
    else:
        denom = float(d @ d)
    if denom <= 0:  # every patient has the same d_i / n_i: no variation to test against
        stat = float('inf') if total != 0 else 0.0
    else:
        stat = float(total ** 2 / denom)
    return PairedTestResult(diff, stat, float(chi2.sf(stat, 1)), n_patients, name)


def wilcoxon_test(scores_a: Sequence, scores_b: Sequence) -> PairedTestResult:
    """Two-sided Wilcoxon signed-rank test of paired per-image scores (scipy ``wilcoxon``).

    Zero differences are dropped (``zero_method='wilcox'``). If every difference is zero the test
    is undefined: the result has p = 1.0 and statistic NaN, with a warning.

    Args:
        scores_a (Sequence): model A's per-image scores.
        scores_b (Sequence): model B's scores on the same images.

    Returns:
        PairedTestResult: mean difference A - B, W statistic, p-value, n and ``'wilcoxon'``.

    Raises:
        ValueError: length mismatch, empty input or NaN/inf scores.
    """
    a, b = _finite_pairs(scores_a, scores_b)
    diff = float(np.mean(a - b))
    if np.all(a == b):
        warnings.warn('wilcoxon_test: all paired differences are zero; reporting p = 1',
                      stacklevel=2)
        return PairedTestResult(0.0, float('nan'), 1.0, int(a.size), 'wilcoxon')
    result = wilcoxon(a, b, zero_method='wilcox', alternative='two-sided')
    return PairedTestResult(diff, float(result.statistic), float(result.pvalue), int(a.size),
                            'wilcoxon')


def permutation_test_paired(scores_a: Sequence, scores_b: Sequence, n_resamples: int = 9999,
                            seed: int = 0, groups: Optional[Sequence] = None
                            ) -> PairedTestResult:
    """Two-sided paired permutation test of the mean difference (scipy ``permutation_test``).

    Each permutation swaps A and B within a random subset of images (sign-flip of the
    differences); scipy enumerates all 2**n assignments exactly when that is fewer than
    ``n_resamples``. With ``groups`` (patient ids) A and B are swapped for *all* images of a
    patient together (the patient is the exchangeable unit), which keeps the test valid when a
    patient's images are correlated; with one image per patient this is the image-level test,
    result for result.

    Args:
        scores_a (Sequence): model A's per-image scores (e.g. 0/1 correct calls).
        scores_b (Sequence): model B's scores on the same images.
        n_resamples (int): Monte-Carlo permutations. Defaults to 9999.
        seed (int): random seed. Defaults to 0.
        groups (Sequence, optional): patient id per image.

    Returns:
        PairedTestResult: mean difference A - B over images (also the statistic), p-value,
        n (images without ``groups``, patients with clustering) and ``'permutation'`` or
        ``'permutation-patient'``.

    Raises:
        ValueError: length mismatch, empty input or NaN/inf scores.
    """
    a, b = _finite_pairs(scores_a, scores_b)
    codes = None if groups is None else cluster_codes(groups)
    if codes is not None and codes.size != a.size:
        raise ValueError(f'groups has {codes.size} entries for {a.size} score pairs')
    if codes is not None and int(codes.max()) + 1 < codes.size:
        # Sum each patient's scores; swapping a patient's sums = swapping all its images.
        n_patients, n_images = int(codes.max()) + 1, a.size
        sum_a = np.bincount(codes, weights=a, minlength=n_patients)
        sum_b = np.bincount(codes, weights=b, minlength=n_patients)

        def image_mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
            return np.sum(x - y, axis=axis) / n_images

        result = permutation_test((sum_a, sum_b), image_mean_difference,
                                  permutation_type='samples', vectorized=True,
                                  n_resamples=n_resamples, alternative='two-sided',
                                  rng=np.random.default_rng(seed))
        diff = float(np.mean(a - b))
        return PairedTestResult(diff, diff, float(result.pvalue), n_patients,
                                'permutation-patient')

    def mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        return np.mean(x - y, axis=axis)

    result = permutation_test((a, b), mean_difference, permutation_type='samples',
                              vectorized=True, n_resamples=n_resamples,
                              alternative='two-sided', rng=np.random.default_rng(seed))
    diff = float(np.mean(a - b))
    return PairedTestResult(diff, diff, float(result.pvalue), int(a.size), 'permutation')
