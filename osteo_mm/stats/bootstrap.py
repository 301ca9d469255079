"""Paired, clustered and stratified percentile bootstrap for any metric.

``scipy.stats.bootstrap`` resamples observations independently; it cannot resample whole
patients (clusters), keep class strata fixed, or skip resamples where the metric is undefined
(e.g. an AUC on a resample with one class). Those three needs are why the loop is written here.

Honesty rules: skipped resamples are counted (``n_skipped``); when more than
:data:`MAX_SKIP_FRACTION` of them are undefined the CI would be conditional on the resamples that
happened to be defined, so it is NaN and ``BootstrapResult.note`` says why.
"""
import warnings
from typing import Callable, NamedTuple, Optional, Sequence, Union

import numpy as np

from .clusters import cluster_codes

#: Fraction of undefined (non-finite) resamples above which the CI is NaN.
MAX_SKIP_FRACTION = 0.01


class BootstrapResult(NamedTuple):
    """Result of :func:`bootstrap_ci`.

    For a scalar statistic ``estimate``, ``low`` and ``high`` are floats; for a vector-valued
    statistic they are arrays of the statistic's shape.

    Attributes:
        estimate (float | np.ndarray): the statistic on the full (not resampled) data.
        low (float | np.ndarray): lower percentile-CI bound.
        high (float | np.ndarray): upper percentile-CI bound.
        samples (np.ndarray): the finite bootstrap replicates, shape (n_valid, *statistic shape).
        n_skipped (int): resamples skipped because the statistic was not finite.
        note (str): ``''``, or why the bounds are NaN (too many undefined resamples, or none
            defined).
    """

    estimate: Union[float, np.ndarray]
    low: Union[float, np.ndarray]
    high: Union[float, np.ndarray]
    samples: np.ndarray
    n_skipped: int
    note: str = ''


def _cluster_layout(groups: np.ndarray, strata: Optional[np.ndarray]) -> tuple:
    """Sort observations by cluster and describe each cluster and its stratum.

    Returns:
        tuple: ``order`` (observation indices sorted by cluster), ``starts`` and ``counts``
        (slice of ``order`` for each cluster) and ``cluster_stratum`` (stratum code per cluster).
    """
    cluster_of = cluster_codes(groups)
    counts = np.bincount(cluster_of)
    if counts.size == cluster_of.size:
        # One observation per cluster: resample observations in their own order, so the result
        # equals the unclustered bootstrap (groups=None) with the same seed exactly.
        cluster_of = np.arange(cluster_of.size)
    order = np.argsort(cluster_of, kind='stable')
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if strata is None:
        return order, starts, counts, np.zeros(len(counts), dtype=np.int64)
    _, stratum_of = np.unique(strata, return_inverse=True)
    cluster_stratum = stratum_of[order[starts]]
    mixed = cluster_stratum[cluster_of] != stratum_of
    if mixed.any():
        bad = groups[np.flatnonzero(mixed)[0]]
        raise ValueError(f'group {str(bad)!r} spans several strata; stratify by a per-group value '
                         '(e.g. the patient label) when resampling patients')
    return order, starts, counts, cluster_stratum


def _resample_indices(rng: np.random.Generator, order: np.ndarray, starts: np.ndarray,
                      counts: np.ndarray, cluster_stratum: np.ndarray) -> np.ndarray:
    """Draw clusters with replacement within each stratum; return observation indices."""
    picked = []
    for stratum in np.unique(cluster_stratum):
        members = np.flatnonzero(cluster_stratum == stratum)
        picked.append(rng.choice(members, size=len(members), replace=True))
    clusters = np.concatenate(picked)
    lengths = counts[clusters]
    # Expand each picked cluster into its run of positions in ``order`` without a Python loop.
    run_start = np.repeat(starts[clusters] - np.cumsum(lengths) + lengths, lengths)
    return order[run_start + np.arange(lengths.sum())]


def bootstrap_ci(statistic: Callable[..., Union[float, np.ndarray]],
                 *arrays: Sequence,
                 groups: Optional[Sequence] = None,
                 strata: Optional[Sequence] = None,
                 n_boot: int = 2000,
                 alpha: float = 0.05,
                 seed: int = 0,
                 max_skip_fraction: float = MAX_SKIP_FRACTION) -> BootstrapResult:
    """Percentile bootstrap confidence interval of ``statistic(*arrays)``.

    All arrays are resampled with the *same* indices (paired bootstrap), so a statistic of two
    models' outputs on the same images, e.g. ``auc(y, p_a) - auc(y, p_b)``, gets a CI for the
    difference. With ``groups`` (patient ids) whole patients are drawn with replacement, keeping
    every image of a drawn patient; with ``strata`` (e.g. the label, or with ``groups``
    :func:`~osteo_mm.stats.clusters.patient_strata`) each stratum is resampled separately so its
    size stays fixed. Resamples where the statistic is NaN or infinite are skipped and counted;
    when more than ``max_skip_fraction`` of them are skipped the bounds are NaN, with a warning
    and the reason in ``note``. With one observation per group the result equals the
    unclustered bootstrap exactly.

    ``statistic`` may also return a fixed-shape array (e.g. accuracy, sensitivity and specificity
    at once, or a ROC curve on a grid); a resample is then skipped when any element is not finite.

    Args:
        statistic (Callable): maps the resampled arrays to a float or a fixed-shape array.
            Return NaN where the statistic is undefined (e.g. one class only) rather than raising.
        *arrays (Sequence): array-likes with the same length along axis 0.
        groups (Sequence, optional): cluster id per observation (e.g. ``patient_id``).
        strata (Sequence, optional): stratum per observation; with ``groups`` every group must lie
            in one stratum.
        n_boot (int): number of bootstrap resamples. Defaults to 2000.
        alpha (float): 1 - confidence level. Defaults to 0.05 (95 % CI).
        seed (int): seed of ``numpy.random.default_rng``. Defaults to 0.
        max_skip_fraction (float): largest fraction of undefined resamples for which a CI is
            still given. Defaults to :data:`MAX_SKIP_FRACTION` (1 %).

    Returns:
        BootstrapResult: estimate on the full data, CI bounds, finite replicates, skip count and
        a note. Bounds are NaN (with a warning and a note) when more than
        ``max_skip_fraction`` of the resamples are undefined.

    Raises:
        ValueError: no arrays, empty or length-mismatched arrays/groups/strata, a group spanning
            several strata, ``n_boot < 1`` or ``alpha`` outside (0, 1).

    Examples:
        >>> import numpy as np
        >>> x = np.arange(10.0)
        >>> res = bootstrap_ci(np.mean, x, n_boot=200)
        >>> bool(res.low <= 4.5 <= res.high)
        True
    """
    if not arrays:
        raise ValueError('bootstrap_ci needs at least one array')
    if n_boot < 1:
        raise ValueError(f'n_boot must be >= 1, got {n_boot}')
    if not 0 < alpha < 1:
        raise ValueError(f'alpha must be in (0, 1), got {alpha}')
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    if n == 0:
        raise ValueError('bootstrap_ci got empty arrays')
    named = {f'array {i}': a for i, a in enumerate(arrays)}
    if groups is not None:
        named['groups'] = groups = np.asarray(groups)
    if strata is not None:
        named['strata'] = strata = np.asarray(strata)
    lengths = {name: len(a) for name, a in named.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f'bootstrap_ci inputs differ in length: {lengths}')

    layout = _cluster_layout(np.arange(n) if groups is None else groups, strata)
    rng = np.random.default_rng(seed)
    estimate = np.asarray(statistic(*arrays), dtype=float)
    replicates = np.empty((n_boot, *estimate.shape))
    for b in range(n_boot):
        idx = _resample_indices(rng, *layout)
        replicates[b] = statistic(*(a[idx] for a in arrays))
    finite = np.isfinite(replicates.reshape(n_boot, -1)).all(axis=1)
    n_skipped = int(n_boot - finite.sum())
    samples = replicates[finite]
    note = ''
    if n_skipped > max_skip_fraction * n_boot or not len(samples):
        note = (f'CI not given: the statistic was undefined (e.g. one class only) in '
                f'{n_skipped} of {n_boot} resamples, more than {100 * max_skip_fraction:g} %')
        warnings.warn(f'bootstrap_ci: {note}', stacklevel=2)
        low = high = np.full(estimate.shape, np.nan)
    else:
        low, high = np.percentile(samples, [50 * alpha, 100 - 50 * alpha], axis=0)
    if estimate.ndim == 0:
        return BootstrapResult(float(estimate), float(low), float(high), samples, n_skipped,
                               note)
    return BootstrapResult(estimate, low, high, samples, n_skipped, note)
