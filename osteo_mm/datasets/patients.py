"""Patient-level leakage checks between dataset splits."""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import XrayDataError


def assert_disjoint_patients(groups: Mapping[str, Iterable[str]]) -> None:
    """Raise if any patient id occurs in more than one named group.

    Empty ids (``''``, unknown patient) are not compared.

    Args:
        groups (Mapping[str, Iterable[str]]): Group name (e.g. split) -> patient ids.

    Raises:
        XrayDataError: Naming up to five shared patients and the groups they occur in.
    """
    seen: dict[str, str] = {}
    clashes: dict[str, set[str]] = {}
    for name, ids in groups.items():
        for pid in set(ids) - {''}:
            if pid in seen and seen[pid] != name:
                clashes.setdefault(pid, {seen[pid]}).add(name)
            else:
                seen[pid] = name
    if clashes:
        listed = '; '.join(f'{pid!r} in {sorted(names)}'
                           for pid, names in sorted(clashes.items())[:5])
        raise XrayDataError(f'{len(clashes)} patient(s) occur in more than one split '
                            f'(data leakage): {listed}')


def check_patient_overlap(*datasets) -> None:
    """Raise if two datasets share a patient.

    Args:
        *datasets: Datasets whose ``get_data_info(i)`` dicts carry ``patient_id``; each is
            named by its class and annotation file in the error.

    Raises:
        XrayDataError: If a patient occurs in two of them.

    Examples:
        >>> check_patient_overlap(train_set, val_set, test_set)  # doctest: +SKIP
    """
    groups = {}
    for i, ds in enumerate(datasets):
        name = f'#{i} {type(ds).__name__}({getattr(ds, "ann_file", "")})'
        groups[name] = [ds.get_data_info(j).get('patient_id', '') for j in range(len(ds))]
    assert_disjoint_patients(groups)


def assert_disjoint_patients_in_csv(path: str, patient: pd.Series, split: pd.Series) -> None:
    """Raise if a patient has rows in more than one split of one CSV.

    Args:
        path (str): The CSV file (for the message).
        patient (pd.Series): Patient id per row.
        split (pd.Series): Split name per row.

    Raises:
        XrayDataError: Naming the CSV and the shared patients.
    """
    try:
        assert_disjoint_patients({s: patient[split == s] for s in pd.unique(split)})
    except XrayDataError as err:
        raise XrayDataError(f'{path}: {err}') from err


#: Names of the two parts of a patient hold-out (``split=`` of the public chest datasets).
HOLDOUT_SPLITS = ('train', 'val')


def patient_holdout(patient_ids, fraction: float, seed: int, source: str) -> np.ndarray:
    """Seeded hold-out of about ``fraction`` of the patients (all their images together).

    scikit-learn's ``GroupShuffleSplit`` draws ``ceil(fraction * n_patients)`` patients; the
    draw depends only on the set of patient ids, the fraction and the seed, so the train and
    val datasets built from the same file agree and never share a patient.

    Args:
        patient_ids (array-like): Patient id per image.
        fraction (float): Fraction of patients held out, in (0, 1).
        seed (int): Seed of the draw.
        source (str): The file the ids come from (for messages).

    Returns:
        np.ndarray: bool per image, True for the held-out (validation) images.

    Raises:
        XrayDataError: If fewer than two patients or an empty patient id are given.
    """
    from sklearn.model_selection import GroupShuffleSplit
    if not 0 < fraction < 1:
        raise ValueError(f'val_fraction must lie in (0, 1), got {fraction}')
    ids = np.asarray(patient_ids, dtype=object)
    if (ids == '').any():
        raise XrayDataError(f'{source}: {int((ids == "").sum())} image(s) without a patient id; '
                            'a patient hold-out needs one for every image')
    unique, groups = np.unique(ids.astype(str), return_inverse=True)
    if len(unique) < 2:
        raise XrayDataError(f'{source}: a patient hold-out needs at least 2 patients, found '
                            f'{len(unique)}')
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    _, held = next(splitter.split(np.zeros(len(ids)), groups=groups))
    mask = np.zeros(len(ids), dtype=bool)
    mask[held] = True
    return mask
