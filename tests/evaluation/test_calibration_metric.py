"""CalibrationMetric: the registered metric agrees with the statistics it wraps."""
import numpy as np
import pytest
import torch
from mmpretrain.registry import METRICS

import osteo_mm  # noqa: F401


def test_calibration_metric_matches_definitions():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 200)
    y = (rng.random(200) < p).astype(int)
    metric = METRICS.build(dict(type='CalibrationMetric', net_benefit_at=(0.2, )))
    metric.process(None, [dict(pred_score=torch.tensor([1 - a, a]), gt_label=torch.tensor([b]))
                          for a, b in zip(p, y)])
    out = metric.evaluate(len(p))
    assert out['calibration/brier'] == pytest.approx(np.mean((p - y) ** 2))
    called = p >= 0.2
    nb = np.sum(called & (y == 1)) / 200 - np.sum(called & (y == 0)) / 200 * 0.25
    assert out['calibration/net_benefit@0.2'] == pytest.approx(nb)
    assert 0.6 < out['calibration/calibration_slope'] < 1.6
    assert 0 <= out['calibration/ece'] < 0.15
