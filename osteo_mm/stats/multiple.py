"""Multiple-comparison correction (Holm-Bonferroni).

Written here rather than called from statsmodels: ``multipletests(method='holm')`` runs
``gc.collect()`` on every call (statsmodels 0.15, ``stats/multitest.py``), which costs about a
second per call in a process holding a model and a report, and the report calls it once per
metric. The step-down formula is three NumPy lines; a test checks it equals statsmodels.
"""
from typing import Sequence

import numpy as np


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (family-wise error control, any dependence).

    NaN p-values (tests that could not be computed) stay NaN and do not count towards the
    family size.

    Args:
        p_values (Sequence[float]): raw p-values of one family of tests.

    Returns:
        np.ndarray: adjusted p-values, same order as the input, capped at 1.

    Raises:
        ValueError: a p-value outside [0, 1].
    """
    p = np.asarray(p_values, dtype=float).ravel()
    valid = ~np.isnan(p)
    if ((p[valid] < 0) | (p[valid] > 1)).any():
        raise ValueError(f'p-values must lie in [0, 1], got {p[valid].tolist()}')
    adjusted = np.full(p.shape, np.nan)
    if valid.any():
        valid_p = p[valid]
        order = np.argsort(valid_p, kind='stable')
        factors = np.arange(valid_p.size, 0, -1)  # m, m - 1, ..., 1 for ascending p-values
        stepped = np.minimum(np.maximum.accumulate(valid_p[order] * factors), 1.0)
        out = np.empty_like(valid_p)
        out[order] = stepped
        adjusted[valid] = out
    return adjusted
