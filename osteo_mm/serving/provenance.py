"""Where the served model and its operating threshold come from.

The decision threshold is the validation Youden threshold that
:class:`~osteo_mm.evaluation.metrics.diagnostic.BinaryDiagnosticMetric` records in
``threshold_file`` (``youden_threshold.json``, :mod:`osteo_mm.utils.threshold_record`) for the
weights it validated. :func:`read_threshold_record` is the one place the service reads it.
"""
import hashlib
import os.path as osp

from osteo_mm.utils.threshold_record import checkpoint_fingerprint, describe
from osteo_mm.utils.threshold_record import read_threshold_record as _read_record
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


def read_threshold_record(path: str, checkpoint: str) -> dict:
    """Read the validation threshold record of the served checkpoint.

    Uses :func:`osteo_mm.utils.threshold_record.read_threshold_record` with the checkpoint's
    weights hash, as ``tools/test.py`` does: a file that holds no record of these weights is
    refused (:class:`~osteo_mm.utils.threshold_record.ThresholdMismatchError`, a
    ``ValueError``).

    Args:
        path (str): The threshold file (``youden_threshold.json``).
        checkpoint (str): The served checkpoint.

    Returns:
        dict: ``threshold`` (float), ``pos_label`` (int, default 1) and ``provenance`` (the
        record's other fields, ``source``: the file name, and ``checkpoint``: its epoch,
        iteration and weights hash in words).
    """
    fingerprint = checkpoint_fingerprint(checkpoint)
    record = _read_record(path, fingerprint['weights_sha256'],
                          tested=f'{osp.basename(checkpoint)}: {describe(fingerprint)}')
    provenance = {k: v for k, v in record.items() if k not in ('threshold', 'pos_label')}
    provenance.update(source=osp.basename(path), checkpoint=describe(fingerprint))
    pos_label = record.get('pos_label')
    return dict(threshold=float(record['threshold']),
                pos_label=1 if pos_label is None else int(pos_label), provenance=provenance)


def fixed_threshold(value: float, pos_label: int = 1) -> dict:
    """A threshold record for a value set by the operator (``--threshold``)."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f'threshold must be a probability in [0, 1], got {value}')
    return dict(threshold=float(value), pos_label=pos_label,
                provenance=dict(source='set by the operator (--threshold)'))
