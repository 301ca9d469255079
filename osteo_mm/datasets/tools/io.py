"""Atomic file writes: a reader never sees a half-written file, a kill leaves no partial one."""
from __future__ import annotations

import os
import os.path as osp
import tempfile

import pandas as pd


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Args:
        path (str): Destination file; parent folders are created.
        data (bytes): File content.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-', suffix=osp.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_csv(df: pd.DataFrame, path: str) -> None:
    """Write ``df`` as CSV (no index) atomically.

    Args:
        df (pd.DataFrame): The table.
        path (str): Destination file.
    """
    atomic_write_bytes(path, df.to_csv(index=False).encode())
