"""Strict CSV reading for annotation files: every problem names the file and the CSV line."""
from __future__ import annotations

import os.path as osp
from typing import Iterable

import numpy as np
import pandas as pd

from .errors import XrayDataError

#: How many offending lines an error message lists before summarising the rest.
MAX_LISTED = 5


def read_csv(path: str, **kwargs) -> pd.DataFrame:
    """Read an annotation CSV as strings (empty cells stay ``''``).

    Args:
        path (str): The CSV file.
        **kwargs: Extra ``pandas.read_csv`` arguments.

    Returns:
        pd.DataFrame: All cells as str, header names stripped of surrounding spaces.

    Raises:
        XrayDataError: If the file is missing or is not parseable CSV.
    """
    if not osp.isfile(path):
        raise XrayDataError(f'{path}: annotation file not found')
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as err:
        raise XrayDataError(f'{path}: cannot parse as CSV ({err})') from err
    if isinstance(df.columns, pd.Index) and df.columns.dtype == object:
        df.columns = [str(c).strip() for c in df.columns]
    return df


def csv_lines(rows: Iterable[int]) -> list[int]:
    """1-based file line numbers of 0-based data rows (line 1 is the header)."""
    return [int(r) + 2 for r in rows]


def fail_rows(path: str, rows: np.ndarray | pd.Series, problem: str,
              details: Iterable[str] | None = None) -> None:
    """Raise an error naming the CSV lines where ``rows`` (bool mask or positions) is set.

    Args:
        path (str): The CSV file.
        rows (np.ndarray | pd.Series): Boolean mask over rows, or 0-based row positions.
        problem (str): What is wrong, e.g. ``'unknown label'``.
        details (Iterable[str], optional): One description per offending row.

    Raises:
        XrayDataError: If any row is flagged.
    """
    rows = np.asarray(rows)
    positions = np.flatnonzero(rows) if rows.dtype == bool else rows
    if len(positions) == 0:
        return
    details = list(details) if details is not None else [''] * len(positions)
    listed = [f'line {line}' + (f': {d}' if d else '')
              for line, d in zip(csv_lines(positions[:MAX_LISTED]), details[:MAX_LISTED])]
    more = len(positions) - len(listed)
    suffix = f'; and {more} more line(s)' if more > 0 else ''
    raise XrayDataError(f'{path}: {problem} in {len(positions)} row(s): '
                        + '; '.join(listed) + suffix)


def require_columns(df: pd.DataFrame, columns: Iterable[str], path: str) -> None:
    """Raise if any of ``columns`` is missing from ``df``.

    Args:
        df (pd.DataFrame): The annotation table.
        columns (Iterable[str]): Required column names.
        path (str): The CSV file (for the message).

    Raises:
        XrayDataError: Naming the missing columns and the columns found.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise XrayDataError(f'{path}: missing required column(s) {missing}; '
                            f'found {list(df.columns)}')


def fail_duplicates(path: str, keys: pd.Series, what: str) -> None:
    """Raise if a key occurs on more than one row, naming the lines of each repeat.

    Args:
        path (str): The CSV file.
        keys (pd.Series): One key per row (e.g. the image path).
        what (str): What the key is, for the message.

    Raises:
        XrayDataError: If any key is duplicated.
    """
    keys = keys.reset_index(drop=True)
    repeats = np.flatnonzero(keys.duplicated(keep='first').to_numpy())
    if len(repeats):
        first_line = {key: pos + 2 for pos, key in keys.drop_duplicates().items()}
        fail_rows(path, repeats, f'duplicate {what}',
                  [f'{keys[r]!r} (first on line {first_line[keys[r]]})' for r in repeats])


def join_root(root: str, rel: pd.Series) -> np.ndarray:
    """Vectorised ``os.path.join(root, p)`` for a column of paths (absolute ones kept).

    Args:
        root (str): The data root ('' for none).
        rel (pd.Series): Relative (or absolute) paths.

    Returns:
        np.ndarray: The joined paths (object array).
    """
    rel = rel.astype(object)
    if not root:
        return rel.to_numpy()
    prefix = osp.join(root, '')
    return np.where(rel.str.startswith(osp.sep), rel, prefix + rel).astype(object)


def strip_few(cells: pd.Series) -> pd.Series:
    """``str.strip`` of a column with few distinct values (each value stripped once).

    Args:
        cells (pd.Series): str cells.

    Returns:
        pd.Series: The stripped cells, same index.
    """
    codes, uniques = pd.factorize(cells)
    return pd.Series(pd.Series(uniques, dtype=object).str.strip().to_numpy()[codes],
                     index=cells.index)
