import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mmengine.logging import MessageHub
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample
from sklearn import metrics as skm

import osteo_mm  # noqa: F401
from osteo_mm.evaluation.metrics import BinaryDiagnosticMetric, MultiClassDiagnosticMetric


def binary_samples(scores, labels, patient_ids=None):
    """Data-sample dicts as the Evaluator hands them to ``process`` (2-class softmax head)."""
    samples = []
    for i, (s, y) in enumerate(zip(scores, labels)):
        sample = DataSample().set_gt_label(int(y)).set_pred_score(
            torch.tensor([1 - s, s], dtype=torch.float32))
        sample.set_metainfo(dict(img_id=f'img{i}.png',
                                 patient_id=patient_ids[i] if patient_ids else ''))
        samples.append(sample.to_dict())
    return samples


def sklearn_binary(scores, labels, thr):
    pred = (scores >= thr).astype(int)
    return dict(
        roc_auc=skm.roc_auc_score(labels, scores),
        pr_auc=skm.average_precision_score(labels, scores),
        accuracy=skm.accuracy_score(labels, pred),
        balanced_accuracy=skm.balanced_accuracy_score(labels, pred),
        sensitivity=skm.recall_score(labels, pred, zero_division=np.nan),
        specificity=skm.recall_score(labels, pred, pos_label=0, zero_division=np.nan),
        ppv=skm.precision_score(labels, pred, zero_division=np.nan),
        npv=skm.precision_score(labels, pred, pos_label=0, zero_division=np.nan),
        f1=skm.f1_score(labels, pred, zero_division=np.nan))


def test_binary_calculate_matches_sklearn_with_ties_and_imbalance():
    rng = np.random.default_rng(0)
    labels = (rng.random(200) < 0.1).astype(int)  # ~10 % positives
    scores = np.round(rng.random(200) * 0.6 + 0.3 * labels, 1)  # rounded: many ties
    for thr in (0.5, 0.4, 0.7):
        ours = BinaryDiagnosticMetric.calculate(scores, labels, thr)
        np.testing.assert_allclose([ours[k] for k in sorted(ours)],
                                   [sklearn_binary(scores, labels, thr)[k] for k in sorted(ours)])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.2, 0.5, 0.7, 1.0]), st.integers(0, 1)),
                min_size=4, max_size=30))
def test_binary_threshold_metrics_match_sklearn_property(pairs):
    scores = np.array([p[0] for p in pairs])
    labels = np.array([p[1] for p in pairs])
    if len(set(labels)) < 2:
        return
    ours = BinaryDiagnosticMetric.calculate(scores, labels, 0.5)
    ref = sklearn_binary(scores, labels, 0.5)
    np.testing.assert_allclose([ours[k] for k in sorted(ref)], [ref[k] for k in sorted(ref)])


def test_youden_threshold_maximises_j_and_prefers_the_higher_threshold_on_ties():
    scores = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.8, 0.9])
    labels = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    thr = BinaryDiagnosticMetric.youden_threshold(scores, labels)
    j = {t: skm.recall_score(labels, scores >= t) + skm.recall_score(labels, scores >= t,
                                                                     pos_label=0) - 1
         for t in scores}
    assert j[0.35] == j[0.6] == max(j.values())
    assert thr == 0.6


def test_single_class_auc_is_nan_with_warning():
    with pytest.warns(UserWarning, match='only one class'):
        out = BinaryDiagnosticMetric.calculate(np.array([0.2, 0.9]), np.array([1, 1]))
    assert np.isnan(out['roc_auc']) and out['sensitivity'] == 0.5
    assert np.isnan(out['specificity'])


def test_val_threshold_is_written_then_fixed_for_test(tmp_path):
    thr_file = str(tmp_path / 'thr' / 'youden.json')
    val = METRICS.build(dict(type='BinaryDiagnosticMetric', threshold='youden',
                             threshold_file=thr_file, n_boot=0))
    val.process(None, binary_samples([0.1, 0.2, 0.3, 0.35, 0.4, 0.6],
                                     [0, 0, 0, 1, 0, 1]))
    val_metrics = val.evaluate(6)
    assert val_metrics['binary/threshold'] == pytest.approx(0.35)
    assert json.load(open(thr_file))['threshold'] == val_metrics['binary/threshold']

    test = METRICS.build(dict(type='BinaryDiagnosticMetric', threshold='from_val',
                              threshold_file=thr_file, n_boot=0))
    # On the test data Youden would pick 0.8; the validation threshold must stay fixed.
    test.process(None, binary_samples([0.2, 0.4, 0.8, 0.9], [0, 0, 1, 1]))
    out = test.evaluate(4)
    assert out['binary/threshold'] == val_metrics['binary/threshold']
    assert out['binary/specificity@youden'] == 0.5
    assert out['binary/specificity@0.5'] == 1.0


def test_from_val_uses_message_hub_without_file():
    hub = MessageHub.get_instance('validated_in_this_process')  # becomes the current hub
    hub.update_info('youden_threshold', 0.85)
    metric = BinaryDiagnosticMetric(threshold='from_val', n_boot=0)
    metric.process(None, binary_samples([0.3, 0.5, 0.8, 0.9], [0, 0, 1, 1]))
    assert metric.evaluate(4)['binary/sensitivity@youden'] == 0.5
    hub.pop_info('youden_threshold')


def test_from_val_missing_file_is_a_clear_error(tmp_path):
    metric = BinaryDiagnosticMetric(threshold='from_val', threshold_file=str(tmp_path / 'no.json'),
                                    n_boot=0)
    metric.process(None, binary_samples([0.3, 0.9], [0, 1]))
    with pytest.raises(FileNotFoundError, match='no.json'):
        metric.evaluate(2)


def test_bad_threshold_and_label_are_rejected():
    with pytest.raises(ValueError, match='threshold'):
        BinaryDiagnosticMetric(threshold='otsu')
    metric = BinaryDiagnosticMetric(n_boot=0)
    samples = binary_samples([0.3, 0.9], [0, 1])
    samples[1]['gt_label'] = torch.tensor([2])
    metric.process(None, samples)
    with pytest.raises(ValueError, match='img1.png'):
        metric.evaluate(2)


def test_bootstrap_ci_brackets_estimate_and_is_seeded():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 80)
    scores = np.clip(0.3 * labels + rng.random(80) * 0.7, 0, 1)
    patients = [f'p{i // 2}' for i in range(80)]  # two images per patient

    def run(seed):
        metric = BinaryDiagnosticMetric(threshold=0.5, n_boot=200, seed=seed)
        metric.process(None, binary_samples(scores, labels, patients))
        return metric.evaluate(80)

    out = run(0)
    assert out['binary/roc_auc_ci_low'] < out['binary/roc_auc'] < out['binary/roc_auc_ci_high']
    assert (out['binary/sensitivity@0.5_ci_low'] <= out['binary/sensitivity@0.5']
            <= out['binary/sensitivity@0.5_ci_high'])
    assert run(0) == out
    assert run(1)['binary/roc_auc_ci_low'] != out['binary/roc_auc_ci_low']


def test_multiclass_matches_sklearn():
    rng = np.random.default_rng(2)
    labels = rng.choice(3, 60, p=[0.6, 0.3, 0.1])
    logits = rng.normal(size=(60, 3)) + np.eye(3)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    classes = ['normal', 'osteopenia', 'osteoporosis']
    out = MultiClassDiagnosticMetric.calculate(probs, labels, classes)
    pred = probs.argmax(1)
    assert out['accuracy'] == pytest.approx(skm.accuracy_score(labels, pred))
    assert out['balanced_accuracy'] == pytest.approx(skm.balanced_accuracy_score(labels, pred))
    assert out['macro_auc'] == pytest.approx(
        skm.roc_auc_score(labels, probs, multi_class='ovr', average='macro'))
    assert out['confusion_matrix'] == skm.confusion_matrix(labels, pred).tolist()
    for c, name in enumerate(classes):
        assert out[f'sensitivity/{name}'] == pytest.approx(
            skm.recall_score(labels == c, pred == c))
        assert out[f'specificity/{name}'] == pytest.approx(
            skm.recall_score(labels != c, pred != c))


def test_multiclass_metric_in_evaluator_uses_class_names_and_ci():
    metric = METRICS.build(dict(type='MultiClassDiagnosticMetric', n_boot=50))
    metric.dataset_meta = dict(classes=('normal', 'osteopenia', 'osteoporosis'))
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    metric.process(None, [DataSample().set_gt_label(y).set_pred_score(p).to_dict()
                          for y, p in zip([0, 1, 2, 1], probs)])
    out = metric.evaluate(4)
    assert out['multiclass/accuracy'] == 0.75
    assert out['multiclass/sensitivity/osteopenia'] == 0.5
    assert out['multiclass/confusion_matrix'] == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert 'multiclass/macro_auc_ci_high' in out


def test_multiclass_missing_class_gives_nan_auc():
    probs = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    with pytest.warns(UserWarning, match='not every class'):
        out = MultiClassDiagnosticMetric.calculate(probs, np.array([0, 1]), ['a', 'b', 'c'])
    assert np.isnan(out['macro_auc']) and out['accuracy'] == 1.0


def test_relative_threshold_file_lives_in_the_runner_work_dir(tmp_path):
    from mmengine.logging import MMLogger

    # A Runner logs to work_dir/<timestamp>/<timestamp>.log; that logger becomes current.
    (tmp_path / 'work' / '20260101').mkdir(parents=True)
    MMLogger.get_instance('runner_like', log_file=str(tmp_path / 'work' / '20260101' / 'x.log'))
    metric = BinaryDiagnosticMetric(threshold_file='youden_threshold.json', n_boot=0)
    metric.process(None, binary_samples([0.1, 0.9], [0, 1]))
    metric.evaluate(2)
    assert json.load(open(tmp_path / 'work' / 'youden_threshold.json'))['threshold'] == \
        pytest.approx(0.9)
    MMLogger.get_instance('after_runner_like')  # a logger without a file becomes current


def test_binary_metric_rejects_multiclass_scores():
    sample = DataSample().set_gt_label(0).set_pred_score(torch.tensor([0.2, 0.3, 0.5]))
    sample.set_metainfo(dict(img_id='who3.png'))
    with pytest.raises(ValueError, match="'who3.png'.*got 3"):
        BinaryDiagnosticMetric().process(None, [sample.to_dict()])


def run_binary(scores, labels, patients, **cfg):
    metric = BinaryDiagnosticMetric(**{'threshold': 0.5, 'n_boot': 100, **cfg})
    metric.process(None, binary_samples(scores, labels, patients))
    return metric.evaluate(len(labels))


def test_metric_states_unit_patients_images_and_skips_per_ci():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 60)
    scores = np.clip(0.3 * labels + rng.random(60) * 0.7, 0, 1)
    out = run_binary(scores, labels, [f'p{i // 3}' for i in range(60)], n_boot=40)
    assert (out['binary/unit'], out['binary/n_patients'], out['binary/n_images']) == (
        'patient', 20, 60)
    assert out['binary/roc_auc_ci_n_skipped'] == 0
    assert 'binary/ppv@0.5_ci_n_skipped' in out
    no_ids = run_binary(scores, labels, None, n_boot=0)
    assert (no_ids['binary/unit'], no_ids['binary/n_patients']) == ('image', 60)


def test_one_image_per_patient_equals_the_image_level_result_exactly():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, 50)
    scores = np.clip(0.3 * labels + rng.random(50) * 0.7, 0, 1)
    with_ids = run_binary(scores, labels, [f'p{i}' for i in range(50)], n_boot=40)
    without = run_binary(scores, labels, None, n_boot=40)
    without['binary/unit'] = 'patient'
    assert with_ids == without


def test_rare_positives_resampled_within_strata_no_skipped_resample():
    # 2 of 40 patients (2 images each) have the disease. An unstratified patient bootstrap
    # misses both positive patients in ~10 % of resamples; the stratified one never does.
    patients = [f'p{i // 2}' for i in range(80)]
    labels = np.array([1 if i < 4 else 0 for i in range(80)])
    scores = np.linspace(0, 1, 80)[::-1].copy()
    out = run_binary(scores, labels, patients)
    assert out['binary/roc_auc_ci_n_skipped'] == 0
    assert np.isfinite(out['binary/roc_auc_ci_low'])
    from osteo_mm.evaluation.metrics.diagnostic import binary_auc
    from osteo_mm.stats import bootstrap_ci, patient_groups
    with pytest.warns(UserWarning, match='CI not given'):
        unstratified = bootstrap_ci(lambda y, s: binary_auc(y, s, warn=False), labels, scores,
                                    groups=patient_groups(patients), n_boot=200)
    assert unstratified.n_skipped > 2 and np.isnan(unstratified.low)


def test_ci_is_nan_and_says_why_when_over_one_percent_undefined():
    # One positive call in 60 images: PPV is undefined whenever that image is not drawn.
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 60)
    scores = np.full(60, 0.1)
    scores[0] = 0.9
    with pytest.warns(UserWarning, match=r'ppv@0.5: CI not given: .* in \d+ of 100 resamples'):
        out = run_binary(scores, labels, [f'p{i}' for i in range(60)])
    assert out['binary/ppv@0.5_ci_n_skipped'] > 2
    assert np.isnan(out['binary/ppv@0.5_ci_low']) and np.isnan(out['binary/ppv@0.5_ci_high'])
    assert np.isfinite(out['binary/ppv@0.5'])
    assert np.isfinite(out['binary/sensitivity@0.5_ci_low'])


def test_threshold_metrics_have_one_implementation_shared_with_the_report():
    from osteo_mm.evaluation.metrics import diagnostic
    from osteo_mm.report import summary
    from osteo_mm.stats import clusters, threshold
    assert diagnostic.THRESHOLD_METRICS is threshold.THRESHOLD_METRICS
    assert diagnostic.confusion_counts is threshold.confusion_counts
    assert diagnostic.patient_groups is clusters.patient_groups
    assert summary.patient_groups is clusters.patient_groups
