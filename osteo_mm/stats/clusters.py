"""The patient as the unit of analysis: cluster ids, strata and per-patient aggregates.

Shoulder studies hold both shoulders or follow-up films of one patient; the images of one
patient are not independent. Every CI and test in osteo_mm therefore works on *patients*
(clusters of images). This module is the one place that turns per-image patient ids into
clusters (:func:`patient_groups`), bootstrap strata (:func:`patient_strata`), the counts a
report states (:func:`unit_of_analysis`) and per-patient means (:func:`patient_means`). It sits in
the lowest layer (``stats``) so that ``evaluation`` metrics and ``report`` tables share it.
"""
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np

#: Prefixes that keep patient ids and stand-in ids of images without a patient apart.
_PATIENT_PREFIX, _IMAGE_PREFIX = 'pid:', 'img:'


class UnitOfAnalysis(NamedTuple):
    """What the statistics treat as independent, and how many of them there are.

    Attributes:
        unit (str): ``'patient'`` when at least one image has a patient id (images without one
            count as their own patient), ``'image'`` when no image has one.
        n_patients (int): number of clusters (patients, plus images without a patient id).
        n_images (int): number of images.
    """

    unit: str
    n_patients: int
    n_images: int

    def as_dict(self) -> dict:
        """The three fields as a plain dict (for metric dicts and JSON)."""
        return self._asdict()


def patient_groups(patient_ids: Sequence[str],
                   img_ids: Optional[Sequence[str]] = None) -> np.ndarray:
    """Cluster id per image: its patient id, or a per-image id where the patient is unknown.

    Args:
        patient_ids (Sequence[str]): one id per image; ``''`` (or None/NaN) when unknown.
        img_ids (Sequence[str], optional): image ids, used to name the stand-in cluster of an
            image without a patient id (default: the image's position).

    Returns:
        np.ndarray: object array of cluster keys (``'pid:<id>'`` or ``'img:<id>'``), one per
        image. Images of one patient share a key; keys of different patients differ.

    Raises:
        ValueError: ``img_ids`` of a different length.
    """
    pids = np.asarray(patient_ids, dtype=object).reshape(-1)
    if img_ids is None:
        img_ids = np.arange(pids.size)
    img_ids = np.asarray(img_ids, dtype=object).reshape(-1)
    if img_ids.size != pids.size:
        raise ValueError(f'patient_groups got {pids.size} patient ids but {img_ids.size} '
                         'image ids')
    known = np.array([isinstance(p, str) and p != '' for p in pids], dtype=bool)
    groups = np.empty(pids.size, dtype=object)
    groups[known] = [_PATIENT_PREFIX + p for p in pids[known]]
    groups[~known] = [f'{_IMAGE_PREFIX}{i}' for i in img_ids[~known]]
    return groups


def cluster_codes(groups: Sequence) -> np.ndarray:
    """Integer cluster code per observation (0 .. n_clusters - 1, in order of first appearance).

    Args:
        groups (Sequence): hashable cluster id per observation (e.g. :func:`patient_groups`).

    Returns:
        np.ndarray: int64 codes.

    Raises:
        ValueError: a missing (None/NaN) cluster id.
    """
    import pandas as pd  # hash-based factorisation: O(n), ~10x faster than np.unique on str

    codes, _ = pd.factorize(np.asarray(groups, dtype=object).reshape(-1), sort=False)
    if codes.size and codes.min() < 0:
        raise ValueError(f'cluster id missing (None/NaN) at index {int(np.argmin(codes))}; '
                         'use patient_groups() to give such images their own cluster')
    return codes.astype(np.int64, copy=False)


def is_clustered(groups: Optional[Sequence]) -> bool:
    """True when some cluster holds more than one observation (None: never clustered)."""
    if groups is None:
        return False
    codes = cluster_codes(groups)
    return bool(codes.size) and int(codes.max()) + 1 < codes.size


def unit_of_analysis(patient_ids: Sequence[str]) -> UnitOfAnalysis:
    """The unit of analysis, the number of patients and of images for a list of patient ids.

    Args:
        patient_ids (Sequence[str]): one id per image, ``''`` when unknown.

    Returns:
        UnitOfAnalysis: see its attributes.
    """
    groups = patient_groups(patient_ids)
    any_known = any(g.startswith(_PATIENT_PREFIX) for g in groups)
    n_patients = int(cluster_codes(groups).max()) + 1 if groups.size else 0
    return UnitOfAnalysis('patient' if any_known else 'image', n_patients, int(groups.size))


def patient_strata(labels: Sequence, groups: Optional[Sequence]) -> np.ndarray:
    """Bootstrap stratum per image: the highest label among the images of its patient.

    For 0/1 labels this is "does the patient have a positive image"; resampling patients within
    these strata keeps the number of patients with a positive image fixed, so no resample loses
    the positive class. For ordinal classes (WHO normal < osteopenia < osteoporosis) it is the
    patient's worst class.

    Args:
        labels (Sequence): integer (or bool) label per image.
        groups (Sequence, optional): cluster id per image; None = every image its own patient.

    Returns:
        np.ndarray: int64 stratum per image (constant within each patient).
    """
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if groups is None:
        return labels
    codes = cluster_codes(groups)
    if codes.size != labels.size:
        raise ValueError(f'patient_strata got {labels.size} labels but {codes.size} groups')
    worst = np.full(int(codes.max()) + 1 if codes.size else 0, np.iinfo(np.int64).min)
    np.maximum.at(worst, codes, labels)
    return worst[codes]


def patient_means(values: np.ndarray, groups: Optional[Sequence]
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` within each patient, patients in order of first appearance.

    With no clustering (every patient has one image) the values are returned unchanged, in
    image order, so tests on patient means equal the image-level tests exactly.

    Args:
        values (np.ndarray): per-image values, shape (N,) or (N, k) (columns averaged
            separately).
        groups (Sequence, optional): cluster id per image.

    Returns:
        tuple[np.ndarray, np.ndarray]: the per-patient means (shape (P,) or (P, k)) and the
        number of images per patient (shape (P,)).
    """
    values = np.asarray(values, dtype=float)
    if groups is None or not is_clustered(groups):
        return values, np.ones(len(values), dtype=np.int64)
    codes = cluster_codes(groups)
    counts = np.bincount(codes)
    flat = values.reshape(len(values), -1)
    sums = np.stack([np.bincount(codes, weights=col, minlength=counts.size) for col in flat.T],
                    axis=1)
    means = sums / counts[:, None]
    return (means[:, 0] if values.ndim == 1 else means), counts
