"""Counts of images and patients per split, class and view."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd


def dataset_stats(datasets: Mapping[str, object]) -> pd.DataFrame:
    """Count images and distinct patients per split, per class (or label) and per view.

    Multi-label datasets count each label's positive images; U-Ignore cells (-1) are counted
    in a separate ``uncertain`` group.

    Args:
        datasets (Mapping[str, object]): Split name -> dataset (``CLASSES``, ``__len__`` and
            ``get_data_info``).

    Returns:
        pd.DataFrame: Columns ``split, group, key, images, patients``; ``group`` is 'total',
        'class', 'uncertain' or 'view'.
    """
    rows = []
    for split, ds in datasets.items():
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        patients = np.array([info.get('patient_id', '') for info in infos], dtype=object)
        for group, key, mask in _groups(infos, list(ds.CLASSES or ())):
            rows.append(dict(split=split, group=group, key=key, images=int(mask.sum()),
                             patients=len(set(patients[mask]) - {''})))
    return pd.DataFrame(rows, columns=['split', 'group', 'key', 'images', 'patients'])


def _groups(infos: list[dict], classes: list[str]) -> list[tuple[str, str, np.ndarray]]:
    """(group, key, row mask) for the total, every class/label and every view."""
    groups = [('total', 'all', np.ones(len(infos), dtype=bool))]
    if infos and 'gt_score' in infos[0]:
        scores = np.stack([np.asarray(info['gt_score']) for info in infos])
        groups += [('class', name, scores[:, j] == 1) for j, name in enumerate(classes)]
        groups += [('uncertain', name, scores[:, j] < 0) for j, name in enumerate(classes)
                   if (scores[:, j] < 0).any()]
    elif infos:
        labels = np.array([info.get('gt_label', -1) for info in infos])
        groups += [('class', name, labels == j) for j, name in enumerate(classes)]
        if (labels < 0).any():
            groups.append(('class', 'unlabeled', labels < 0))
    views = np.array([str(info.get('view', '')) for info in infos], dtype=object)
    groups += [('view', view, views == view) for view in sorted(set(views) - {''})]
    return groups
