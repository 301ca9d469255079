"""Multiple-comparison correction (Holm-Bonferroni via statsmodels ``multipletests``)."""
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
    # Imported here, not at module level: statsmodels takes seconds to import and every config
    # imports osteo_mm (and so this package) through custom_imports.
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float).ravel()
    valid = ~np.isnan(p)
    if ((p[valid] < 0) | (p[valid] > 1)).any():
        raise ValueError(f'p-values must lie in [0, 1], got {p[valid].tolist()}')
    adjusted = np.full(p.shape, np.nan)
    if valid.any():
        adjusted[valid] = multipletests(p[valid], method='holm')[1]
    return adjusted
