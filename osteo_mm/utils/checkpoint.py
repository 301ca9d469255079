"""Safe checkpoint loading for MMEngine on torch >= 2.6.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``: only tensors, containers and an
allow-list of classes may be built, so a crafted file cannot run code. MMEngine 0.10.7 checkpoints
break that in two ways: the message hub stores ``HistoryBuffer`` objects (plus NumPy arrays and
scalars), and ``HistoryBuffer.__getstate__`` pickles its class methods through
``builtins.getattr``. We keep ``weights_only=True`` and

* allow-list exactly the MMEngine/NumPy *data* classes our checkpoints contain (never a
  callable such as ``getattr``, ``eval`` or ``os.system``), and only while loading;
* make ``HistoryBuffer`` pickle only the statistics methods a user registered (the four
  defaults are re-created by its ``__setstate__`` anyway), so new checkpoints need no
  ``getattr``;
* replace MMEngine's local-file checkpoint scheme, so ``load_from``, ``resume``,
  ``init_cfg=dict(type='Pretrained')`` and ``mmengine.runner.load_checkpoint`` all go
  through :func:`safe_load`.

A file that still needs anything else is refused with :class:`UnsafeCheckpointError`, naming
the offending globals. :func:`install` runs when ``osteo_mm`` is imported.
"""
import os.path as osp
import pickle
from typing import Any, List, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint references Python objects outside the safe allow-list."""


def _numpy_globals() -> List[Any]:
    """NumPy classes that rebuild arrays, dtypes and scalars (data only, no code)."""
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    dtype_classes = [
        getattr(np.dtypes, name) for name in dir(np.dtypes)
        if name.endswith('DType') and name not in ('ObjectDType', 'VoidDType')
    ]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype] + dtype_classes


def safe_globals() -> List[Any]:
    """Return the classes allowed in addition to torch's weights-only defaults."""
    return [HistoryBuffer] + _numpy_globals()


def safe_load(filename: str, map_location: Optional[Union[str, torch.device]] = None) -> Any:
    """Load a checkpoint with ``weights_only=True`` and the osteo_mm allow-list.

    Args:
        filename (str): Path of a local checkpoint file.
        map_location: Same as :func:`torch.load`.

    Returns:
        The unpickled checkpoint (usually a dict).

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        UnsafeCheckpointError: If the file needs any global outside the allow-list.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    with torch.serialization.safe_globals(safe_globals()):
        try:
            return torch.load(filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(_explain_refusal(filename, err)) from None


def _explain_refusal(filename: str, err: Exception) -> str:
    try:
        allowed = {f'{g.__module__}.{g.__qualname__}' for g in safe_globals()}
        names = [n for n in torch.serialization.get_unsafe_globals_in_checkpoint(filename)
                 if n not in allowed]
    except Exception:  # not a zip checkpoint: report torch's own reason
        names = []
    what = ', '.join(names) if names else str(err).splitlines()[-1]
    return (f'refusing to load checkpoint {filename}: it references Python objects outside '
            f'the weights-only allow-list ({what}). Unpickling them could execute code. If you '
            'trust the file, re-save its state_dict in a clean process yourself.')


def _history_buffer_getstate(self: HistoryBuffer) -> dict:
    """Pickle a HistoryBuffer without its default statistics methods (no ``getattr``)."""
    state = {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}
    custom = {k: v for k, v in self._statistics_methods.items() if k not in _DEFAULT_STATISTICS}
    if custom:
        state['statistics_methods'] = custom
    return state


def _load_local(filename: str, map_location: Optional[Union[str, torch.device]] = None) -> Any:
    return safe_load(filename, map_location)


def install() -> None:
    """Route MMEngine's local checkpoint loading through :func:`safe_load` (idempotent)."""
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', loader=_load_local, force=True)
