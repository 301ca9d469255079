"""A data list kept as NumPy columns, for datasets of 10^5 films and more.

MMEngine's ``BaseDataset`` keeps one Python dict per sample and, by default, pickles every dict
into one byte buffer (``serialize_data``) so that forked loader workers do not copy the list
page by page as reference counts change. For the chest archives (112,120 NIH films, 191,027
CheXpert frontal films) building and pickling those dicts cost more than reading the CSV
(measured in ``docs/benchmarks.md``, "Metadata build"). Here every field is one NumPy array
(text packed into one buffer, :class:`StringColumn`, so no per-sample Python objects
either) and the dict is built
only when ``get_data_info`` asks for it. Nothing in MMEngine offers this, hence the small class.
"""
from __future__ import annotations

import os.path as osp
from collections.abc import Sequence
from typing import Callable

import numpy as np


class StringColumn:
    """Strings packed into one UTF-8 buffer with offsets: no Python object per element.

    Cheaper to build than a fixed-width NumPy ``str`` array (which pads every element to the
    longest, four bytes a character) and, unlike an object array, leaves nothing for reference
    counting to touch in forked loader workers.

    Args:
        values (Iterable[str]): The strings (they must not contain NUL characters).

    Examples:
        >>> col = StringColumn(['a', 'bé', ''])
        >>> len(col), col[1], list(col[np.array([2, 0])])
        (3, 'bé', ['', 'a'])
    """

    def __init__(self, values) -> None:
        values = [str(v) for v in values] if not isinstance(values, list) else values
        joined = '\0'.join(values)
        self.size = len(values)
        if self.size and joined.count('\0') != self.size - 1:
            raise ValueError('StringColumn values must not contain NUL characters')
        self.buf = joined.encode('utf-8')
        ends = np.flatnonzero(np.frombuffer(self.buf, np.uint8) == 0)
        self.starts = np.concatenate([[0], ends + 1]) if self.size else np.zeros(0, np.int64)
        self.ends = np.concatenate([ends, [len(self.buf)]]) if self.size else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, idx):
        if isinstance(idx, (int, np.integer)):
            return self.buf[self.starts[idx]:self.ends[idx]].decode('utf-8')
        return np.array([self.buf[a:b].decode('utf-8')
                         for a, b in zip(self.starts[idx].tolist(), self.ends[idx].tolist())],
                        dtype=object)


def text_column(values) -> StringColumn:
    """A :class:`StringColumn` of any sequence of str (a Series, an array, a list)."""
    if hasattr(values, 'tolist'):
        values = values.tolist()
    return StringColumn(values)


class ColumnarDataList(Sequence):
    """A read-only list of data-info dicts stored column-wise.

    Args:
        columns (dict[str, np.ndarray | StringColumn]): Field name -> array whose first axis
            is the sample, or a :class:`StringColumn`. NumPy scalars become Python scalars,
            rows of 2-D arrays are copied.
        build (Callable, optional): ``build(info, index, shared)`` completes the dict of row
            ``index`` (into the full columns) in place, e.g. joins paths or adds derived
            fields. Must be a module-level function so the list pickles.
        shared (dict, optional): Values the ``build`` function reads (not sliced by
            :meth:`take`). Defaults to None.
        rows (np.ndarray, optional): The rows of ``columns`` this list shows (used by
            :meth:`take`; defaults to all).

    Examples:
        >>> data = ColumnarDataList({'img_id': text_column(['a', 'b']),
        ...                          'gt_score': np.eye(2, dtype=np.float32)})
        >>> data[1]['img_id'], data[1]['gt_score'].tolist(), len(data.take([1]))
        ('b', [0.0, 1.0], 1)
    """

    def __init__(self, columns: dict[str, np.ndarray], build: Callable | None = None,
                 shared: dict | None = None, rows: np.ndarray | None = None) -> None:
        lengths = {name: len(col) for name, col in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f'columns differ in length: {lengths}')
        self.columns = columns
        self.build = build
        self.shared = shared or {}
        size = next(iter(lengths.values()), 0)
        self.rows = np.arange(size) if rows is None else np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.take(np.arange(len(self))[idx])
        row = int(self.rows[idx])
        info = {}
        for name, col in self.columns.items():
            value = col[row]
            if isinstance(value, np.ndarray):
                value = value.copy()
            elif isinstance(value, np.generic):
                value = value.item()
            info[name] = value
        if self.build is not None:
            self.build(info, row, self.shared)
        return info

    def take(self, indices) -> 'ColumnarDataList':
        """The list of the given positions (an int ``n``: the first ``n``, or the last ``-n``).

        Args:
            indices (int | Sequence[int]): As MMEngine's ``BaseDataset.get_subset_``.

        Returns:
            ColumnarDataList: Sharing the columns (no copy).
        """
        if isinstance(indices, (int, np.integer)):
            positions = np.arange(len(self))
            positions = positions[:indices] if indices >= 0 else positions[indices:]
        else:
            positions = np.asarray(indices, dtype=np.int64).reshape(-1)
            if len(positions) and not (-len(self) <= positions.min()
                                       and positions.max() < len(self)):
                raise IndexError(f'subset indices out of range for {len(self)} samples')
        return ColumnarDataList(self.columns, self.build, self.shared, self.rows[positions])

    def column(self, name: str) -> np.ndarray:
        """One stored field for every sample of the list (a fast path for whole-set checks)."""
        return self.columns[name][self.rows]


def join_path(info: dict, index: int, shared: dict) -> None:
    """``build`` hook: ``img_path`` from ``shared['root']`` and the stored relative path."""
    info['img_path'] = osp.join(shared['root'], info.pop('img_rel'))


def complete_multilabel(info: dict, index: int, shared: dict) -> None:
    """``build`` hook of the multi-label chest datasets: the path (:func:`join_path`) and
    ``gt_label``, the indices where the stored ``gt_score`` is 1."""
    join_path(info, index, shared)
    info['gt_label'] = np.flatnonzero(info['gt_score'] == 1).tolist()


class ColumnarDatasetMixin:
    """Makes an MMEngine dataset keep a :class:`ColumnarDataList` instead of dicts.

    Put it before the MMEngine base class; ``load_data_list`` returns a ``ColumnarDataList``.
    MMEngine's ``serialize_data`` is turned off: the columns need no pickling and hold no
    per-sample Python objects. ``indices`` and ``get_subset(_)`` keep working (views of the
    columns), and ``get_data_info`` builds one dict per call with ``sample_idx`` as usual.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs['serialize_data'] = False
        super().__init__(*args, **kwargs)

    def _get_unserialized_subset(self, indices):
        return self.data_list.take(indices)

    def get_data_info(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        info = self.data_list[idx]
        info['sample_idx'] = idx if idx >= 0 else len(self) + idx
        return info

    def column(self, name: str) -> np.ndarray:
        """A stored field of every sample, e.g. ``'patient_id'`` (no dicts built)."""
        if not self._fully_initialized:
            self.full_init()
        return self.data_list.column(name)
