"""Atomic file writes: a reader never sees a half-written file, a kill leaves no partial one."""
from __future__ import annotations

import pandas as pd

from osteo_mm.utils.io import write_atomic as atomic_write_bytes


def atomic_write_csv(df: pd.DataFrame, path: str) -> None:
    """Write ``df`` as CSV (no index) atomically.

    Args:
        df (pd.DataFrame): The table.
        path (str): Destination file.
    """
    atomic_write_bytes(path, df.to_csv(index=False).encode())
