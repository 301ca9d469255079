"""Paired tests for two models on the same images: McNemar, Wilcoxon, permutation.

Thin wrappers over statsmodels and scipy that add the input checks and the edge cases a model
comparison meets (no discordant pairs, all-equal scores, NaN scores).
"""
import warnings
from typing import NamedTuple, Sequence, Tuple

import numpy as np
from scipy.stats import permutation_test, wilcoxon

#: Below this many discordant pairs McNemar uses the exact binomial test.
MCNEMAR_EXACT_BELOW = 25


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
                            seed: int = 0) -> PairedTestResult:
    """Two-sided paired permutation test of the mean difference (scipy ``permutation_test``).

    Each permutation swaps A and B within a random subset of images (sign-flip of the
    differences); scipy enumerates all 2**n assignments exactly when that is fewer than
    ``n_resamples``.

    Args:
        scores_a (Sequence): model A's per-image scores.
        scores_b (Sequence): model B's scores on the same images.
        n_resamples (int): Monte-Carlo permutations. Defaults to 9999.
        seed (int): random seed. Defaults to 0.

    Returns:
        PairedTestResult: mean difference A - B (also the statistic), p-value, n and
        ``'permutation'``.

    Raises:
        ValueError: length mismatch, empty input or NaN/inf scores.
    """
    a, b = _finite_pairs(scores_a, scores_b)

    def mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        return np.mean(x - y, axis=axis)

    result = permutation_test((a, b), mean_difference, permutation_type='samples',
                              vectorized=True, n_resamples=n_resamples,
                              alternative='two-sided', rng=np.random.default_rng(seed))
    diff = float(np.mean(a - b))
    return PairedTestResult(diff, diff, float(result.pvalue), int(a.size), 'permutation')
