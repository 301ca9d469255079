"""Multiple-comparison correction (Holm-Bonferroni via statsmodels ``multipletests``)."""
from typing import Sequence

import numpy as np
from statsmodels.stats.multitest import multipletests


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
        adjusted[valid] = multipletests(p[valid], method='holm')[1]
    return adjusted
