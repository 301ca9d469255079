"""The validation threshold record: a threshold bound to the checkpoint it was chosen for.

``BinaryDiagnosticMetric(threshold='youden', threshold_file=...)`` appends one record per
validation; ``threshold='from_val'`` and ``tools/test.py`` read back the record of the weights
under test and refuse any other. File format (JSON, :data:`FORMAT`)::

    {
      "format": "osteo_mm.threshold_record/1",
      "threshold": 0.43, "method": "youden", "pos_label": 1, "num_samples": 120,
      "epoch": 3, "iter": 30, "weights_sha256": "9f2c...",   # the latest record, flat
      "history": [ {<record>}, ..., {<the latest record again>} ]   # oldest first
    }

A record holds ``threshold`` (a score ``>=`` it is positive), ``method``, ``pos_label``,
``num_samples`` (validation images), ``epoch``/``iter`` (1-based, as in ``epoch_<n>.pth``;
absent when unknown) and ``weights_sha256`` (:func:`weights_sha256` of the model's state dict;
``None`` when no :class:`~osteo_mm.engine.hooks.WeightsFingerprintHook` ran). Files written
before this format (a flat record without ``history``/``weights_sha256``) read as one unbound
record.
"""
import hashlib
import json
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional

import torch

from .io import dump_json_atomic

FORMAT = 'osteo_mm.threshold_record/1'
#: MessageHub runtime-info key holding the sha256 of the weights being evaluated.
WEIGHTS_INFO_KEY = 'weights_sha256'
RECORD_KEYS = ('threshold', 'method', 'pos_label', 'num_samples', 'epoch', 'iter',
               'weights_sha256')


class ThresholdMismatchError(ValueError):
    """The threshold record does not belong to the checkpoint under test (one-line message)."""


def weights_sha256(state_dict: Mapping[str, Any]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of the tensors in a state dict.

    Keys are hashed in sorted order, so the order of the dict does not matter; non-tensor
    entries are ignored. The model's ``state_dict()`` at validation and a checkpoint's
    ``'state_dict'`` saved from it give the same hash.

    Args:
        state_dict (Mapping[str, Any]): Parameter/buffer name -> tensor.

    Returns:
        str: 64 hex digits.
    """
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key]
        if not torch.is_tensor(tensor):
            continue
        tensor = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f'{key}|{tensor.dtype}|{tuple(state_dict[key].shape)}|'.encode())
        digest.update(tensor.view(torch.uint8).numpy())
    return digest.hexdigest()


def checkpoint_fingerprint(path: str) -> Dict[str, Any]:
    """Epoch, iteration and weights hash of a checkpoint file.

    Args:
        path (str): An MMEngine checkpoint (``{'meta': ..., 'state_dict': ...}``) or a bare
            state dict.

    Returns:
        dict: ``path``, ``epoch``, ``iter`` (None when the checkpoint has no meta) and
        ``weights_sha256``.
    """
    from .checkpoint import safe_load
    ckpt = safe_load(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    return dict(path=path, epoch=meta.get('epoch'), iter=meta.get('iter'),
                weights_sha256=weights_sha256(state))


def describe(record: Mapping[str, Any]) -> str:
    """A short description of the checkpoint a record or fingerprint names."""
    parts = [f'{k} {record[k]}' for k in ('epoch', 'iter') if record.get(k) is not None]
    sha = record.get('weights_sha256')
    parts.append(f'weights sha256 {sha[:12]}' if sha else 'no weights hash')
    return ', '.join(parts)


def read_records(path: str) -> List[Dict[str, Any]]:
    """Every record in a threshold file, oldest first.

    Args:
        path (str): The threshold file.

    Returns:
        list[dict]: The records (a pre-format file gives one record).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it is not a threshold record (one-line message naming the file).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'threshold file not found: {path} (written when validation runs '
                                "BinaryDiagnosticMetric with threshold='youden' in this work "
                                'dir; or pass --threshold VALUE)')
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'{path}: not a JSON threshold record ({err})') from None
    if not isinstance(data, dict):
        raise ValueError(f'{path}: not a threshold record (expected a JSON object)')
    records = data.get('history') or [{k: data.get(k) for k in RECORD_KEYS if k in data}]
    for record in records:
        value = record.get('threshold')
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f'{path}: "threshold" must be a number, got {value!r}')
    return records


def append_record(path: str, record: Mapping[str, Any]) -> Dict[str, Any]:
    """Add a record to a threshold file (created if missing); it becomes the latest.

    Args:
        path (str): The threshold file.
        record (Mapping): Keys from :data:`RECORD_KEYS`.

    Returns:
        dict: The file content written.
    """
    record = {k: record.get(k) for k in RECORD_KEYS}
    history = []
    if osp.isfile(path):
        try:
            history = read_records(path)
        except ValueError:
            history = []  # an unreadable old file is replaced, never merged
    content = dict(format=FORMAT, **record, history=history + [record])
    dump_json_atomic(content, path)
    return content


def read_threshold_record(path: str, weights_sha256: Optional[str] = None,
                          tested: Optional[str] = None) -> Dict[str, Any]:
    """The record for given weights (the latest one with that hash), or the latest record.

    Args:
        path (str): The threshold file.
        weights_sha256 (str, optional): Hash of the weights under test; None takes the latest
            record without a check.
        tested (str, optional): How to name the weights under test in the error (e.g. the
            checkpoint path and :func:`describe` of its fingerprint).

    Returns:
        dict: The record (keys :data:`RECORD_KEYS`).

    Raises:
        ThresholdMismatchError: If no record carries ``weights_sha256``; the one-line message
            names the latest record's checkpoint and the tested one.
    """
    records = read_records(path)
    if weights_sha256 is None:
        return records[-1]
    for record in reversed(records):
        if record.get('weights_sha256') == weights_sha256:
            return record
    tested = tested or f'weights sha256 {weights_sha256[:12]}'
    raise ThresholdMismatchError(
        f'{path} holds the validation threshold of another checkpoint ({describe(records[-1])}'
        f'; {len(records)} record(s), none for these weights) than the one under test '
        f'({tested}): validate this checkpoint first or pass --threshold VALUE')
