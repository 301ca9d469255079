import numpy as np
import pytest
import torch
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample
from sklearn.metrics import roc_auc_score

import osteo_mm  # noqa: F401
from osteo_mm.datasets.labels import CHEXPERT_COMPETITION
from osteo_mm.evaluation.metrics import MultiLabelAUCMetric


def test_per_label_auc_excludes_ignored_cells_like_sklearn_on_the_kept_rows():
    rng = np.random.default_rng(0)
    targets = rng.choice([0, 1, -1], size=(50, 5), p=[0.6, 0.3, 0.1])
    scores = np.round(rng.random((50, 5)) + 0.3 * (targets == 1), 1)  # ties included
    out = MultiLabelAUCMetric.calculate(scores, targets, CHEXPERT_COMPETITION)
    expected = []
    for i, name in enumerate(CHEXPERT_COMPETITION):
        keep = targets[:, i] != -1
        expected.append(roc_auc_score(targets[keep, i], scores[keep, i]))
        assert out[f'auc/{name}'] == pytest.approx(expected[-1])
    assert out['mean_auc'] == pytest.approx(np.mean(expected))


def test_single_class_label_is_nan_with_warning_and_left_out_of_mean():
    scores = np.array([[0.9, 0.2], [0.1, 0.7], [0.8, 0.4]])
    targets = np.array([[1, 0], [0, -1], [1, 0]])  # label 'b' has only negatives left
    with pytest.warns(UserWarning, match="label 'b'"):
        out = MultiLabelAUCMetric.calculate(scores, targets, ['a', 'b'])
    assert np.isnan(out['auc/b'])
    assert out['mean_auc'] == out['auc/a'] == 1.0


def test_bad_targets_are_rejected():
    with pytest.raises(ValueError, match='0, 1 or -1'):
        MultiLabelAUCMetric.calculate(np.zeros((2, 1)), np.array([[0.5], [1]]), ['a'])


def test_metric_in_evaluator_with_gt_score_and_patient_bootstrap():
    rng = np.random.default_rng(1)
    targets = rng.integers(0, 2, size=(40, 3))
    targets[::7, 1] = -1
    scores = np.clip(0.4 * targets + rng.random((40, 3)) * 0.6, 0, 1)
    samples = []
    for i in range(40):
        sample = DataSample().set_gt_score(torch.tensor(targets[i], dtype=torch.float32))
        sample.set_pred_score(torch.tensor(scores[i], dtype=torch.float32))
        sample.set_metainfo(dict(patient_id=f'p{i // 4}'))
        samples.append(sample.to_dict())
    metric = METRICS.build(dict(type='MultiLabelAUCMetric', n_boot=100, per_label_ci=True))
    metric.dataset_meta = dict(classes=['x', 'y', 'z'])
    metric.process(None, samples)
    out = metric.evaluate(40)
    expected = MultiLabelAUCMetric.calculate(scores, targets, ['x', 'y', 'z'])
    assert out['multilabel/mean_auc'] == pytest.approx(expected['mean_auc'], rel=1e-6)
    assert out['multilabel/mean_auc_ci_low'] < out['multilabel/mean_auc'] < out[
        'multilabel/mean_auc_ci_high']
    assert out['multilabel/auc/y_ci_low'] <= out['multilabel/auc/y']


def test_bootstrap_mean_auc_is_over_a_fixed_label_set():
    from osteo_mm.evaluation.metrics.multilabel import _fixed_mean_auc
    scores = np.array([[0.9, 0.2], [0.1, 0.7], [0.8, 0.4], [0.3, 0.1]])
    targets = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])  # label 1 undefined in this resample
    assert _fixed_mean_auc(scores, targets, [0]) == 1.0
    assert np.isnan(_fixed_mean_auc(scores, targets, [0, 1]))  # never averaged over fewer


def test_rare_labels_skip_resamples_and_nan_ci_with_reason():
    # Labels 'b' and 'c' each have one positive patient (2 images): resamples without one of
    # them are skipped and counted; stratification keeps only the rarest label present.
    rng = np.random.default_rng(2)
    n = 60
    targets = np.zeros((n, 3), dtype=int)
    targets[:, 0] = rng.integers(0, 2, n)
    targets[:2, 1] = 1
    targets[2:4, 2] = 1
    scores = rng.random((n, 3))
    samples = []
    for i in range(n):
        sample = DataSample().set_gt_score(torch.tensor(targets[i], dtype=torch.float32))
        sample.set_pred_score(torch.tensor(scores[i], dtype=torch.float32))
        sample.set_metainfo(dict(patient_id=f'p{i // 2}'))
        samples.append(sample.to_dict())
    metric = METRICS.build(dict(type='MultiLabelAUCMetric', n_boot=100))
    metric.dataset_meta = dict(classes=['a', 'b', 'c'])
    metric.process(None, samples)
    with pytest.warns(UserWarning, match='mean_auc: CI not given'):
        out = metric.evaluate(n)
    assert out['multilabel/mean_auc_n_labels'] == 3
    assert out['multilabel/mean_auc_ci_n_skipped'] > 2
    assert np.isnan(out['multilabel/mean_auc_ci_low'])
    assert (out['multilabel/unit'], out['multilabel/n_patients'],
            out['multilabel/n_images']) == ('patient', 30, 60)
