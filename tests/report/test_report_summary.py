import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, recall_score, roc_auc_score

from osteo_mm.report.records import Predictions, RecordError
from osteo_mm.report.summary import model_table, pairwise_table, ranking_table
from osteo_mm.stats import delong_test, holm, mcnemar_test, wilcoxon_test


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
    assert table.loc['B', 'cam_energy_n'] == 75 and table.loc['A', 'cam_energy_n'] == 80


def test_pairwise_uses_the_named_tests_and_holm_per_metric(three_models):
    models, cams = three_models
    table = pairwise_table(models, cams, n_boot=50)
    assert len(table) == 3 * 3  # 3 pairs x (auc, accuracy, cam_energy)
    a, b = models['A'], models['B']
    row = table[(table.model_a == 'A') & (table.model_b == 'B')].set_index('metric')
    assert row.loc['auc', 'p_value'] == pytest.approx(delong_test(a.y_true, a.score,
                                                                  b.score).p_value)
    assert row.loc['accuracy', 'p_value'] == pytest.approx(
        mcnemar_test(a.y_true, a.y_pred, b.y_pred).p_value)
    both = cams['B']['energy'].notna().to_numpy()
    ref = wilcoxon_test(cams['A']['energy'][both], cams['B']['energy'][both])
    assert row.loc['cam_energy', 'p_value'] == pytest.approx(ref.p_value)
    assert row.loc['cam_energy', 'n'] == 75
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
    assert np.isnan(table.loc['A', 'auc']) and np.isnan(table.loc['A', 'sensitivity'])


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
    assert row['test'] == 'permutation' and row['p_value'] < 0.001  # means 0.7 vs 0.5
    with pytest.raises(RecordError, match='cam_test must be one of'):
        pairwise_table(models, cams, cam_test='t-test')
