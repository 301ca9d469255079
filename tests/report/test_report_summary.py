import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, recall_score, roc_auc_score

from osteo_mm.report.records import Predictions, RecordError
from osteo_mm.report.summary import model_table, pairwise_table, ranking_table
from osteo_mm.stats import (
    clustered_mcnemar_test,
    delong_auc_ci,
    delong_test,
    holm,
    mcnemar_test,
    permutation_test_paired,
    wilcoxon_test,
)


def make_model(y, score, threshold=0.5, patients=None):
    ids = np.array([f'img{i:03d}' for i in range(len(y))])
    patients = np.array(patients if patients is not None else [''] * len(y))
    return Predictions('x.csv', ids, patients, np.asarray(y, bool), np.asarray(score, float),
                       threshold)


@pytest.fixture
def three_models():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80).astype(bool)
    models = {name: make_model(y, 1 / (1 + np.exp(-(y * 2.0 - 1) * s - rng.normal(0, 1, 80))),
                               patients=[f'p{i // 2}' for i in range(80)])
              for name, s in (('A', 2.0), ('B', 1.0), ('C', 0.3))}
    ids = models['A'].img_id
    cams = {name: pd.DataFrame({'energy': np.clip(rng.normal(m, 0.1, 80), 0, 1)}, index=ids)
            for name, m in (('A', 0.7), ('B', 0.5), ('C', 0.5))}
    cams['B'].iloc[:5, 0] = np.nan  # five images without an expert ROI for model B
    return models, cams


def test_model_table_matches_sklearn(three_models):
    models, cams = three_models
    table = model_table(models, cams, n_boot=100)
    for name, m in models.items():
        row = table.loc[name]
        assert row['auc'] == pytest.approx(roc_auc_score(m.y_true, m.score))
        assert row['accuracy'] == pytest.approx(np.mean(m.y_pred == m.y_true))
        assert row['bac'] == pytest.approx(balanced_accuracy_score(m.y_true, m.y_pred))
        assert row['sensitivity'] == pytest.approx(recall_score(m.y_true, m.y_pred))
        assert row['specificity'] == pytest.approx(recall_score(~m.y_true, ~m.y_pred))
        assert row['auc_low'] < row['auc'] < row['auc_high']
        assert row['accuracy_low'] <= row['accuracy'] <= row['accuracy_high']
        assert row['cam_energy'] == pytest.approx(cams[name]['energy'].mean())
        # 40 patients x 2 images: the AUC CI is the clustered DeLong one.
        assert (row['unit'], row['n_patients'], row['n_images']) == ('patient', 40, 80)
        ci = delong_auc_ci(m.y_true, m.score, groups=m.patient_id)
        assert (row['auc_low'], row['auc_high']) == pytest.approx((ci.low, ci.high))
        assert row['binary_n_skipped'] == 0 and row['ci_notes'] == ''
    assert table.loc['B', 'cam_energy_n'] == 75 and table.loc['A', 'cam_energy_n'] == 80


def test_pairwise_uses_the_named_tests_and_holm_per_metric(three_models):
    models, cams = three_models
    table = pairwise_table(models, cams, n_boot=50)
    assert len(table) == 3 * 3  # 3 pairs x (auc, accuracy, cam_energy)
    a, b = models['A'], models['B']
    row = table[(table.model_a == 'A') & (table.model_b == 'B')].set_index('metric')
    # Two images per patient: every test is the patient-clustered one.
    assert row.loc['auc', 'p_value'] == pytest.approx(delong_test(
        a.y_true, a.score, b.score, groups=a.patient_id).p_value)
    assert row.loc['auc', 'test'] == 'delong-obuchowski1997'
    mc = clustered_mcnemar_test(a.y_true, a.y_pred, b.y_pred, a.patient_id)
    assert row.loc['accuracy', 'p_value'] == pytest.approx(mc.p_value)
    assert row.loc['accuracy', 'test'] == 'mcnemar-obuchowski1998'
    both = cams['B']['energy'].notna().to_numpy()
    # Wilcoxon on per-patient means of the images where both models have a score.
    frame = pd.DataFrame({'pid': a.patient_id[both], 'a': cams['A']['energy'][both].to_numpy(),
                          'b': cams['B']['energy'][both].to_numpy()})
    means = frame.groupby('pid', sort=False).mean()
    ref = wilcoxon_test(means['a'], means['b'])
    assert row.loc['cam_energy', 'p_value'] == pytest.approx(ref.p_value)
    assert row.loc['cam_energy', 'test'] == 'wilcoxon-patient-means'
    assert row.loc['cam_energy', 'n'] == 75 and row.loc['cam_energy', 'n_patients'] == 38
    assert set(table['n_patients']) == {40, 38} and set(table['unit']) == {'patient'}
    for _, group in table.groupby('metric'):
        np.testing.assert_allclose(group['p_holm'], holm(group['p_value']))


def test_ranking_is_the_mean_of_auc_and_causality_ranks(three_models):
    models, cams = three_models
    table = model_table(models, cams, n_boot=20)
    # Make the two criteria disagree: C gets the best causality score, A keeps the best AUC.
    table.loc['C', 'cam_energy'] = 0.9
    ranking = ranking_table(table)
    auc_rank = table['auc'].rank(ascending=False)
    cam_rank = table['cam_energy'].rank(ascending=False)
    np.testing.assert_allclose(ranking['mean_rank'], ((auc_rank + cam_rank) / 2)[ranking.index])
    assert list(ranking['rank']) == [1, 2, 3]
    assert ranking['mean_rank'].is_monotonic_increasing
    assert ranking.index[0] == 'A'  # mean rank 1.5 ties with C; the higher AUC wins the tie
    assert 'combined' not in ranking and 'AUC rank' in ranking['rule'].iloc[0]
    # Scale-free: rescaling the causality score (x 100) changes nothing.
    scaled = table.copy()
    scaled['cam_energy'] *= 100
    assert list(ranking_table(scaled).index) == list(ranking.index)
    # With baselines the causality rank follows the lift over the best prior.
    baselines = pd.DataFrame(dict(model=['A', 'B', 'C'], score='energy',
                                  lift=[-0.2, 0.1, 0.0]))
    lifted = ranking_table(table, baselines)
    assert list(lifted['rank_cam'][['A', 'B', 'C']]) == [3, 1, 2]
    assert 'lift of energy over its best trivial prior' in lifted['rule'].iloc[0]
    auc_only = ranking_table(model_table(models, None, n_boot=20))
    assert list(auc_only.index) == list(table['auc'].sort_values(ascending=False).index)
    with pytest.raises(RecordError, match="rank metric 'iou'"):
        ranking_table(table, rank_metric='iou')


def test_single_class_test_set_gives_nan_with_warning():
    model = make_model([1, 1, 1, 1], [0.2, 0.6, 0.7, 0.9])
    with pytest.warns(UserWarning, match='only one class'):
        table = model_table({'A': model}, None, n_boot=10)
    assert np.isnan(table.loc['A', 'auc']) and np.isnan(table.loc['A', 'specificity'])
    assert table.loc['A', 'sensitivity'] == 0.75  # defined: the shared threshold metrics
    assert np.isnan(table.loc['A', 'sensitivity_low'])  # every resample lacks negatives
    assert table.loc['A', 'binary_n_skipped'] == 10
    assert 'undefined (e.g. one class only) in 10 of 10' in table.loc['A', 'ci_notes']


def test_one_image_per_patient_gives_the_image_level_tests_exactly():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60).astype(bool)
    ids = [f'p{i}' for i in range(60)]
    models = {n: make_model(y, 1 / (1 + np.exp(-(y * 2.0 - 1) * s - rng.normal(0, 1, 60))),
                            patients=ids) for n, s in (('A', 1.5), ('B', 0.8))}
    img = models['A'].img_id
    cams = {n: pd.DataFrame({'energy': rng.random(60)}, index=img) for n in 'AB'}
    a, b = models['A'], models['B']
    for cam_test in ('wilcoxon', 'permutation'):
        row = pairwise_table(models, cams, n_boot=10, cam_test=cam_test).set_index('metric')
        ref = delong_test(a.y_true, a.score, b.score)
        assert row.loc['auc', 'p_value'] == ref.p_value and row.loc['auc', 'test'] == 'delong'
        assert row.loc['auc', 'low'] == max(
            ref.difference - 1.959963984540054 * np.sqrt(ref.variance), -1)
        mc = mcnemar_test(a.y_true, a.y_pred, b.y_pred)
        assert row.loc['accuracy', 'p_value'] == mc.p_value
        assert row.loc['accuracy', 'test'] == mc.method
        va, vb = cams['A']['energy'].to_numpy(), cams['B']['energy'].to_numpy()
        cam_ref = (wilcoxon_test(va, vb) if cam_test == 'wilcoxon'
                   else permutation_test_paired(va, vb))
        assert row.loc['cam_energy', 'p_value'] == cam_ref.p_value
        assert row.loc['cam_energy', 'difference'] == cam_ref.difference
        assert row.loc['cam_energy', 'test'] == cam_test
        assert (row['n_patients'] == 60).all() and (row['n_images'] == 60).all()
    table = model_table(models, None, n_boot=10)
    ci = delong_auc_ci(a.y_true, a.score)
    assert (table.loc['A', 'auc_low'], table.loc['A', 'auc_high']) == (ci.low, ci.high)


def test_reference_scores_are_reported_but_not_tested_or_ranked(three_models):
    models, cams = three_models
    for table in cams.values():
        table['roi_area_share'] = 0.3  # depends on the expert mask only
        table['energy_pointing_game'] = table['energy']
    table = model_table(models, cams, n_boot=10)
    np.testing.assert_allclose(table['cam_roi_area_share'], 0.3)
    assert 'cam_roi_area_share' not in set(pairwise_table(models, cams, n_boot=10)['metric'])
    assert 'energy_pointing_game' in ranking_table(table)['rule'].iloc[0]


def test_permutation_test_can_replace_wilcoxon_for_causality(three_models):
    models, cams = three_models
    table = pairwise_table({k: models[k] for k in 'AB'}, cams, n_boot=10, cam_test='permutation')
    row = table.set_index('metric').loc['cam_energy']
    assert row['test'] == 'permutation-patient-means' and row['p_value'] < 0.001  # 0.7 vs 0.5
    with pytest.raises(RecordError, match='cam_test must be one of'):
        pairwise_table(models, cams, cam_test='t-test')
