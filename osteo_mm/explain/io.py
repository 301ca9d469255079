"""Atomic, resumable output files for the explanation tools."""
import io
import os.path as osp

import cv2
import numpy as np
import pandas as pd

from osteo_mm.utils.io import write_atomic  # noqa: F401  (re-exported)


def save_npz(path: str, **arrays) -> None:
    """Atomically write compressed arrays (see :func:`numpy.savez_compressed`)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def save_png(path: str, image: np.ndarray) -> None:
    """Atomically write a BGR/gray uint8 image as PNG."""
    ok, encoded = cv2.imencode('.png', image)
    if not ok:
        raise OSError(f'could not encode PNG for {path}')
    write_atomic(path, encoded.tobytes())


def save_csv(path: str, table: pd.DataFrame) -> None:
    """Atomically write a table as CSV without the index."""
    write_atomic(path, table.to_csv(index=False).encode())


def id_to_relpath(img_id: str, suffix: str) -> str:
    """A file path for an image id that mirrors its folders (ids are unique relative paths).

    Args:
        img_id (str): Image id (path relative to the data root).
        suffix (str): Extension to add, e.g. ``'.npz'``.

    Returns:
        str: Relative output path.

    Raises:
        ValueError: For absolute ids or ids that climb out of the output folder.
    """
    norm = osp.normpath(img_id)
    if not img_id or osp.isabs(img_id) or norm.startswith('..') or norm == '.':
        raise ValueError(f'image id {img_id!r} cannot name an output file (absolute or '
                         'outside the output folder)')
    return norm + suffix
