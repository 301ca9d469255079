"""Per-label and mean ROC-AUC for multi-label chest X-ray tasks (NIH ChestX-ray14, CheXpert)."""
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from osteo_mm.datasets.labels import CHEXPERT_IGNORE
from osteo_mm.stats.clusters import patient_groups, patient_strata, unit_of_analysis

from .diagnostic import add_ci, binary_auc


@METRICS.register_module()
class MultiLabelAUCMetric(BaseMetric):
    """ROC-AUC per label and their mean, with CheXpert U-Ignore cells excluded per label.

    Keys: ``auc/<label>`` for every label (names from ``dataset_meta['classes']``, else
    indices), ``mean_auc`` (mean over the labels whose AUC is defined on the evaluated data),
    ``mean_auc_n_labels`` (how many labels that mean covers) and, when ``n_boot > 0``,
    ``mean_auc_ci_low``/``mean_auc_ci_high``/``mean_auc_ci_n_skipped`` (and per label with
    ``per_label_ci=True``) from a patient-level bootstrap, plus ``unit``, ``n_patients`` and
    ``n_images``. Targets equal to ``-1`` (:data:`~osteo_mm.datasets.labels.CHEXPERT_IGNORE`)
    are left out of that label's AUC only; a label with one class left gets NaN and a warning,
    and is left out of ``mean_auc`` (hence ``mean_auc_n_labels``).

    The bootstrap mean AUC is over the *same fixed label set* in every resample (the labels
    defined on the full data); a resample where one of them is undefined is skipped and
    counted, never averaged over fewer labels. Patients are resampled within strata "has a
    positive image for the rarest label of that set", so that label never vanishes.

    Config keys:
        n_boot (int): Bootstrap resamples for CIs; 0 disables CIs. Defaults to 1000.
        per_label_ci (bool): Also bootstrap every label's AUC. Defaults to False.
        alpha (float): 1 - confidence level. Defaults to 0.05.
        seed (int): Bootstrap seed. Defaults to 0.
        collect_device (str): ``'cpu'`` or ``'gpu'`` for distributed collection.
        prefix (str, optional): Metric-name prefix. Defaults to ``'multilabel'``.

    Examples:
        >>> import numpy as np
        >>> scores = np.array([[0.9, 0.2], [0.1, 0.7], [0.8, 0.4]])
        >>> targets = np.array([[1, 0], [0, 1], [1, -1]])
        >>> MultiLabelAUCMetric.calculate(scores, targets, ['a', 'b'])['mean_auc']
        1.0
    """
    default_prefix: Optional[str] = 'multilabel'

    def __init__(self,
                 n_boot: int = 1000,
                 per_label_ci: bool = False,
                 alpha: float = 0.05,
                 seed: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if n_boot < 0:
            raise ValueError(f'n_boot must be >= 0, got {n_boot}')
        self.n_boot = n_boot
        self.per_label_ci = per_label_ci
        self.alpha = alpha
        self.seed = seed

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Collect scores, targets (``gt_score``, else one-hot ``gt_label``) and patient id.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): Model outputs with ``pred_score`` and ``gt_score``
                or ``gt_label``.
        """
        for sample in data_samples:
            scores = sample['pred_score'].cpu().numpy().astype(np.float64)
            if 'gt_score' in sample:
                target = sample['gt_score'].cpu().numpy().astype(np.float64)
            else:
                target = np.zeros_like(scores)
                target[sample['gt_label'].cpu().numpy()] = 1
            self.results.append(dict(scores=scores, target=target,
                                     patient_id=sample.get('patient_id', '')))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Aggregate the collected results into the metric dict.

        Args:
            results (list[dict]): What :meth:`process` collected over the dataset.

        Returns:
            dict[str, float]: Metrics as described in the class docstring.
        """
        scores = np.stack([r['scores'] for r in results])
        targets = np.stack([r['target'] for r in results])
        classes = (self.dataset_meta or {}).get('classes') or [
            str(i) for i in range(scores.shape[1])]
        metrics = self.calculate(scores, targets, classes)
        fixed = [i for i, name in enumerate(classes) if np.isfinite(metrics[f'auc/{name}'])]
        metrics['mean_auc_n_labels'] = len(fixed)
        patient_ids = [r['patient_id'] for r in results]
        if self.n_boot:
            groups = patient_groups(patient_ids)
            strata = None
            if fixed:
                positive = np.where(targets[:, fixed] == 1, 1, 0)
                rarest = fixed[int(np.argmin(
                    [np.unique(groups[positive[:, j] == 1]).size for j in range(len(fixed))]))]
                strata = patient_strata(targets[:, rarest] == 1, groups)
            boot = (groups, self.n_boot, self.alpha, self.seed, strata)
            add_ci(metrics, 'mean_auc', lambda s, t: _fixed_mean_auc(s, t, fixed),
                   (scores, targets), *boot)
            for i, name in enumerate(classes if self.per_label_ci else []):
                add_ci(metrics, f'auc/{name}',
                       lambda s, t, i=i: _label_auc(s[:, i], t[:, i], warn=False),
                       (scores, targets), *boot)
        metrics.update(unit_of_analysis(patient_ids).as_dict())
        return metrics

    @staticmethod
    def calculate(scores: np.ndarray, targets: np.ndarray, classes: Sequence[str],
                  warn: bool = True) -> Dict[str, float]:
        """Per-label AUCs and their mean.

        Args:
            scores (np.ndarray): Per-label scores, shape (N, L).
            targets (np.ndarray): 0/1 targets, ``-1`` = ignored cell, shape (N, L).
            classes (Sequence[str]): The L label names used in the keys.
            warn (bool): Warn about labels with an undefined AUC. Defaults to True.

        Returns:
            dict[str, float]: ``auc/<label>`` for every label and ``mean_auc``.

        Raises:
            ValueError: If shapes disagree or a target is not 0, 1 or -1.
        """
        scores, targets = np.asarray(scores), np.asarray(targets)
        if scores.shape != targets.shape or scores.shape[1] != len(classes):
            raise ValueError(f'scores {scores.shape} and targets {targets.shape} must both be '
                             f'(N, {len(classes)})')
        if not np.isin(targets, (0, 1, CHEXPERT_IGNORE)).all():
            raise ValueError('multi-label targets must be 0, 1 or -1 (ignored), got '
                             f'{sorted(set(np.unique(targets).tolist()))}')
        aucs = {f'auc/{name}': _label_auc(scores[:, i], targets[:, i], warn, name)
                for i, name in enumerate(classes)}
        defined = [v for v in aucs.values() if np.isfinite(v)]
        aucs['mean_auc'] = float(np.mean(defined)) if defined else float('nan')
        return aucs


def _fixed_mean_auc(scores: np.ndarray, targets: np.ndarray, labels: List[int]) -> float:
    """Mean AUC over exactly ``labels``; NaN when any of them is undefined (or none given)."""
    if not labels:
        return float('nan')
    return float(np.mean([_label_auc(scores[:, i], targets[:, i], warn=False) for i in labels]))


def _label_auc(scores: np.ndarray, target: np.ndarray, warn: bool, name: str = '') -> float:
    """ROC-AUC of one label over its non-ignored cells; NaN (+ warning) with one class."""
    keep = target != CHEXPERT_IGNORE
    if warn and len(np.unique(target[keep])) < 2:
        warnings.warn(f'label {name!r}: only one class among its non-ignored targets, '
                      'AUC is NaN', stacklevel=3)
    return binary_auc(target[keep], scores[keep], warn=False)
