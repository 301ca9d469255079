"""Dataset wrappers."""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Sequence

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS


def _stratum(info: dict, idx: int) -> int:
    """Stratification key of one sample: its class, or "any finding" for multi-label samples.

    Args:
        info (dict): A data-info dict.
        idx (int): Its index in the dataset (named in errors).

    Returns:
        int: The class index (single-label) or 0/1 (multi-label: any positive label).
    """
    label = info.get('gt_label')
    name = info.get('img_id', info.get('img_path', f'index {idx}'))
    if label is None:
        raise ValueError(f'LabelFractionDataset: sample {name!r} has no gt_label; only labelled '
                         'datasets can be subsampled by label fraction')
    arr = np.asarray(label)
    if arr.ndim == 0:
        if int(arr) < 0:
            raise ValueError(f'LabelFractionDataset: sample {name!r} has gt_label {int(arr)} '
                             '(unlabelled); only labelled samples can be subsampled')
        return int(arr)
    # Multi-label: MMPretrain's gt_label lists the positive indices (index 0 is a finding too);
    # the multi-hot gt_score, when present, says the same (-1 marks ignored cells).
    if info.get('gt_score') is not None:
        return int(bool((np.asarray(info['gt_score']) > 0).any()))
    return int(arr.size > 0)


def select_label_fraction(data_infos: Sequence[dict], fraction: float,
                          seed: int = 0) -> list[int]:
    """Pick a patient-level, label-stratified, seeded fraction of a labelled dataset.

    Patients are grouped by ``patient_id`` (a sample with an empty id is its own group) and
    assigned the most severe (largest) class among their images; multi-label patients are
    stratified on "any finding". In every stratum ``round(fraction * n)`` patients are kept, at
    least one, so each class present in the full set stays present. Written by hand because
    scikit-learn's stratified splitters either split into equal folds
    (``StratifiedGroupKFold``) or ignore groups (``train_test_split``), and reject strata with
    fewer than two members.

    Args:
        data_infos (Sequence[dict]): Data-info dicts with ``gt_label`` and ``patient_id``.
        fraction (float): Fraction of patients to keep per stratum, in (0, 1].
        seed (int): Seed of the patient shuffle; the same seed gives the same subset, and the
            subsets of a seed are nested (the 10 % subset lies inside the 25 % subset).

    Returns:
        list[int]: Sorted indices of the kept samples (all images of each kept patient).

    Raises:
        ValueError: If ``fraction`` is outside (0, 1] or a sample has no label.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    patient_samples: dict[str, list[int]] = defaultdict(list)
    patient_stratum: dict[str, int] = {}
    for idx, info in enumerate(data_infos):
        patient = info.get('patient_id') or f'__image_{idx}'
        patient_samples[patient].append(idx)
        patient_stratum[patient] = max(patient_stratum.get(patient, 0), _stratum(info, idx))
    strata: dict[int, list[str]] = defaultdict(list)
    for patient in sorted(patient_samples):
        strata[patient_stratum[patient]].append(patient)
    rng = np.random.default_rng(seed)
    kept: list[int] = []
    for key in sorted(strata):
        patients = strata[key]
        order = rng.permutation(len(patients))
        n_keep = max(1, int(round(fraction * len(patients))))
        for i in order[:n_keep]:
            kept.extend(patient_samples[patients[i]])
    return sorted(kept)


@DATASETS.register_module()
class LabelFractionDataset:
    """Keep a patient-level, label-stratified, seeded fraction of a labelled dataset.

    Used for data-efficiency studies (AUC vs fraction of labels): all images of a patient are
    kept or dropped together, every class keeps about ``fraction`` of its patients (see
    :func:`select_label_fraction`), and the choice depends only on ``seed``.

    Config keys:
        - ``dataset`` (dict | BaseDataset): The wrapped dataset (config or instance).
        - ``fraction`` (float): Fraction of patients to keep per class, in (0, 1].
        - ``seed`` (int): Seed of the selection. Defaults to 0.
        - ``lazy_init`` (bool): Defer loading the annotations. Defaults to False.

    Examples:
        >>> train_dataloader = dict(dataset=dict(
        ...     type='LabelFractionDataset', fraction=0.1, seed=0,
        ...     dataset=dict(type='ShoulderXrayDataset', ...)))
    """

    def __init__(self, dataset: dict | BaseDataset, fraction: float, seed: int = 0,
                 lazy_init: bool = False) -> None:
        if isinstance(dataset, dict):
            self.dataset = DATASETS.build(dataset)
        elif isinstance(dataset, BaseDataset):
            self.dataset = dataset
        else:
            raise TypeError(f'dataset must be a config dict or a BaseDataset, got {type(dataset)}')
        if not 0 < fraction <= 1:
            raise ValueError(f'fraction must be in (0, 1], got {fraction}')
        self.fraction = fraction
        self.seed = seed
        self._metainfo = self.dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """dict: The wrapped dataset's meta information."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Load the wrapped dataset and select the kept samples."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        infos = [self.dataset.get_data_info(i) for i in range(len(self.dataset))]
        self.indices = select_label_fraction(infos, self.fraction, self.seed)
        patients = {infos[i].get('patient_id') or infos[i].get('img_id') for i in self.indices}
        MMLogger.get_current_instance().info(
            f'LabelFractionDataset: kept {len(self.indices)}/{len(infos)} images of '
            f'{len(patients)} patients (fraction={self.fraction}, seed={self.seed})')
        self._fully_initialized = True

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """Get the data-info dict of the ``idx``-th kept sample.

        Args:
            idx (int): Index into the subset.

        Returns:
            dict: The wrapped dataset's data-info dict.
        """
        return self.dataset.get_data_info(self.indices[idx])

    @force_full_init
    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> Any:
        self.full_init()
        return self.dataset[self.indices[idx]]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(fraction={self.fraction}, seed={self.seed}, '
                f'dataset={type(self.dataset).__name__})')
