"""Calibration of the positive-class probability as an MMEngine metric."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from osteo_mm.stats.calibration import (
    brier_score,
    calibration_intercept_slope,
    expected_calibration_error,
    net_benefit,
)

from .diagnostic import _gt_label


@METRICS.register_module()
class CalibrationMetric(BaseMetric):
    """Brier score, calibration intercept/slope, ECE and net benefit of a binary classifier.

    Add it beside ``BinaryDiagnosticMetric`` (``test_evaluator = [dict(type=
    'BinaryDiagnosticMetric', ...), dict(type='CalibrationMetric')]``). Reports ``brier``,
    ``calibration_intercept`` and ``calibration_slope`` (logistic recalibration; NaN with one
    class), ``ece`` over ``n_bins`` equal-width bins and ``net_benefit@<t>`` for each threshold
    probability in ``net_benefit_at`` (decision-curve analysis).

    Config keys:
        pos_label (int): Index of the positive class. Defaults to 1.
        n_bins (int): Equal-width ECE bins. Defaults to 10.
        net_benefit_at (Sequence[float]): Threshold probabilities. Defaults to (0.1, 0.2).
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Metric prefix. Defaults to ``'calibration'``.
    """
    default_prefix: Optional[str] = 'calibration'

    def __init__(self, pos_label: int = 1, n_bins: int = 10,
                 net_benefit_at: Sequence[float] = (0.1, 0.2), collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.pos_label = pos_label
        self.n_bins = n_bins
        self.net_benefit_at = tuple(net_benefit_at)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Collect the positive-class probability and label of every sample."""
        for sample in data_samples:
            score = sample['pred_score'].cpu().numpy().reshape(-1)
            self.results.append(dict(
                p=float(score[0] if score.size == 1 else score[self.pos_label]),
                y=int(_gt_label(sample) == self.pos_label)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Brier, intercept, slope, ECE and net benefits over the collected results."""
        y = np.array([r['y'] for r in results])
        p = np.clip(np.array([r['p'] for r in results], dtype=np.float64), 0, 1)
        fit = calibration_intercept_slope(y, p)
        metrics = dict(brier=brier_score(y, p), calibration_intercept=fit.intercept,
                       calibration_slope=fit.slope,
                       ece=expected_calibration_error(y, p, self.n_bins))
        for t in self.net_benefit_at:
            metrics[f'net_benefit@{t:g}'] = net_benefit(y, p, t)
        return metrics
