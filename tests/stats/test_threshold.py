import numpy as np
from sklearn import metrics as skm

from osteo_mm.stats import THRESHOLD_METRICS, confusion_counts, threshold_metrics


def test_threshold_metrics_equal_sklearn_with_zero_division_nan():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50).astype(bool)
    pred = rng.random(50) < 0.4
    ref = dict(accuracy=skm.accuracy_score(y, pred),
               balanced_accuracy=skm.balanced_accuracy_score(y, pred),
               sensitivity=skm.recall_score(y, pred), specificity=skm.recall_score(~y, ~pred),
               ppv=skm.precision_score(y, pred), npv=skm.precision_score(~y, ~pred),
               f1=skm.f1_score(y, pred))
    np.testing.assert_allclose(threshold_metrics(y, pred), [ref[k] for k in THRESHOLD_METRICS])
    none_called = threshold_metrics(y, np.zeros(50, bool), ['ppv', 'sensitivity'])
    assert np.isnan(none_called[0]) and none_called[1] == 0.0
    assert confusion_counts(np.array([0.2, 0.5, 0.7]), np.array([0, 0, 1]), 0.5) == (1, 1, 1, 0)
