"""Label definitions shared by datasets, metrics, phantoms and reports.

This module is the single source of truth for class names, label orders and the CheXpert
uncertainty policies; nothing else in osteo_mm spells them out.
"""
from __future__ import annotations

import math

import numpy as np

#: The three WHO bone-density classes, in index order.
WHO_CLASSES: tuple[str, ...] = ('normal', 'osteopenia', 'osteoporosis')

#: The binary screening task: osteoporosis vs everything else.
BINARY_CLASSES: tuple[str, ...] = ('not_osteoporosis', 'osteoporosis')

#: WHO T-score thresholds: ``t <= OSTEOPOROSIS_T`` is osteoporosis and
#: ``t >= NORMAL_T`` is normal; values in between are osteopenia.
OSTEOPOROSIS_T: float = -2.5
NORMAL_T: float = -1.0

#: NIH ChestX-ray14 findings in the standard order of Wang et al. (CVPR 2017).
NIH_LABELS: tuple[str, ...] = (
    'Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Mass', 'Nodule', 'Pneumonia',
    'Pneumothorax', 'Consolidation', 'Edema', 'Emphysema', 'Fibrosis', 'Pleural_Thickening',
    'Hernia')

#: The NIH ``Finding Labels`` value of an image without any of the 14 findings.
NIH_NO_FINDING: str = 'No Finding'

#: CheXpert's 14 observations in the column order of ``train.csv``.
CHEXPERT_LABELS: tuple[str, ...] = (
    'No Finding', 'Enlarged Cardiomediastinum', 'Cardiomegaly', 'Lung Opacity', 'Lung Lesion',
    'Edema', 'Consolidation', 'Pneumonia', 'Atelectasis', 'Pneumothorax', 'Pleural Effusion',
    'Pleural Other', 'Fracture', 'Support Devices')

#: The five CheXpert competition tasks (Irvin et al., AAAI 2019).
CHEXPERT_COMPETITION: tuple[str, ...] = (
    'Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion')

#: CheXpert uncertainty policies. ``'ignore'`` (U-Ignore) marks uncertain cells with
#: ``CHEXPERT_IGNORE`` so losses and metrics can mask them out; ``'zeros'`` (U-Zeros) and
#: ``'ones'`` (U-Ones) map them to 0 or 1; ``'mixed'`` uses U-Ones for
#: ``CHEXPERT_MIXED_ONES`` and U-Zeros for every other observation.
UNCERTAINTY_POLICIES: tuple[str, ...] = ('zeros', 'ones', 'ignore', 'mixed')
CHEXPERT_MIXED_ONES: tuple[str, ...] = ('Atelectasis', 'Edema')
CHEXPERT_IGNORE: float = -1.0


def t_score_to_who(t_score: float) -> int:
    """Classify a DXA T-score with the WHO rule.

    Args:
        t_score (float): The T-score (standard deviations from the young-adult mean).

    Returns:
        int: Index into :data:`WHO_CLASSES` (0 normal, 1 osteopenia, 2 osteoporosis).

    Raises:
        ValueError: If ``t_score`` is NaN or infinite.
    """
    t = float(t_score)
    if not math.isfinite(t):
        raise ValueError(f'T-score must be a finite number, got {t_score!r}')
    if t <= OSTEOPOROSIS_T:
        return 2
    if t >= NORMAL_T:
        return 0
    return 1


def t_scores_to_who(t_scores: np.ndarray) -> np.ndarray:
    """Vectorised :func:`t_score_to_who` for many T-scores.

    Args:
        t_scores (np.ndarray): T-scores, any shape; must all be finite.

    Returns:
        np.ndarray: int64 WHO class indices, same shape.

    Raises:
        ValueError: If any T-score is NaN or infinite.
    """
    t = np.asarray(t_scores, dtype=np.float64)
    if not np.isfinite(t).all():
        raise ValueError('T-scores must be finite numbers')
    return np.where(t <= OSTEOPOROSIS_T, 2, np.where(t >= NORMAL_T, 0, 1)).astype(np.int64)


def who_to_binary(who_label: int | np.ndarray) -> int | np.ndarray:
    """Map WHO class indices to the binary task (1 = osteoporosis, 0 = not).

    Args:
        who_label (int | np.ndarray): WHO class index or indices.

    Returns:
        int | np.ndarray: Binary label(s) indexing :data:`BINARY_CLASSES`.
    """
    if isinstance(who_label, np.ndarray):
        return (who_label == 2).astype(np.int64)
    return int(who_label == 2)
