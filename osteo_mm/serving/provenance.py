"""Where the served model and its operating threshold come from.

The decision threshold is the validation Youden threshold that
:class:`~osteo_mm.evaluation.metrics.diagnostic.BinaryDiagnosticMetric` writes to
``threshold_file`` (``youden_threshold.json``). :func:`read_threshold_record` is the one place
that reads it, so a change of that record touches only this function.
"""
import hashlib
import json
import os.path as osp
from typing import Optional

from osteo_mm.version import __version__

#: Name of the threshold record the validation metric writes into the work dir.
THRESHOLD_FILE = 'youden_threshold.json'


def file_sha256(path: str, length: int = 12) -> str:
    """First ``length`` hex digits of the SHA-256 of a file (streamed)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()[:length]


def model_version(checkpoint: str) -> str:
    """A version string naming the package and the exact checkpoint bytes.

    Args:
        checkpoint (str): Checkpoint path.

    Returns:
        str: ``osteo_mm-<version>+ckpt.<sha256[:12]>``.
    """
    return f'osteo_mm-{__version__}+ckpt.{file_sha256(checkpoint)}'


def read_threshold_record(path: str, checkpoint_meta: Optional[dict] = None) -> dict:
    """Read a validation threshold record and check it belongs to the served checkpoint.

    Args:
        path (str): The ``youden_threshold.json`` written by the validation metric.
        checkpoint_meta (dict, optional): ``meta`` of the served checkpoint; when both it and
            the record name an ``epoch``/``iter``, they must agree (a threshold chosen for
            another checkpoint is refused).

    Returns:
        dict: ``threshold`` (float), ``pos_label`` (int, default 1) and ``provenance`` (the
        record's other fields plus ``source``: the file name).

    Raises:
        ValueError: For a missing/non-numeric threshold or a record of another checkpoint.
        FileNotFoundError: When ``path`` does not exist.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'threshold record not found: {path} (validate the checkpoint '
                                "with threshold='youden' and threshold_file set, or pass "
                                '--threshold)')
    with open(path) as f:
        record = json.load(f)
    value = record.get('threshold')
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f'{path}: "threshold" must be a number, got {value!r}')
    for key in ('epoch', 'iter'):
        mine = (checkpoint_meta or {}).get(key)
        theirs = record.get(key)
        if mine is not None and theirs is not None and int(mine) != int(theirs):
            raise ValueError(f'{path} holds the threshold of {key} {theirs}, but the checkpoint '
                             f'is from {key} {mine}: validate this checkpoint first')
    provenance = {k: v for k, v in record.items()
                  if k not in ('threshold', 'pos_label', 'history')}
    provenance['source'] = osp.basename(path)
    return dict(threshold=float(value), pos_label=int(record.get('pos_label', 1)),
                provenance=provenance)


def fixed_threshold(value: float, pos_label: int = 1) -> dict:
    """A threshold record for a value set by the operator (``--threshold``)."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f'threshold must be a probability in [0, 1], got {value}')
    return dict(threshold=float(value), pos_label=pos_label,
                provenance=dict(source='set by the operator (--threshold)'))
