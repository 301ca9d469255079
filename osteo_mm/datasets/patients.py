"""Patient-level leakage checks between dataset splits."""
from __future__ import annotations

from typing import Iterable, Mapping

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
