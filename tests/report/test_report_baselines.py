"""Scores beside chance, priors and random weights; causal verdicts from interventions."""
import numpy as np
import pandas as pd
import pytest

from osteo_mm.report.baselines import baseline_table, causal_verdict, load_effects, load_priors
from osteo_mm.report.records import RecordError
from osteo_mm.stats import holm, wilcoxon_test


@pytest.fixture
def scores():
    rng = np.random.default_rng(1)
    ids = pd.Index([f'img{i:02d}' for i in range(30)], name='img_id')
    base = rng.random(30) * 0.1
    priors = {'uniform': pd.DataFrame({'energy_pointing_game': base}, index=ids),
              'centre': pd.DataFrame({'energy_pointing_game': base + 0.05}, index=ids),
              'dataset_roi': pd.DataFrame({'energy_pointing_game': base + 0.2}, index=ids)}
    models = {'good': pd.DataFrame({'energy_pointing_game': base + 0.3 + rng.normal(0, .01, 30),
                                    'deletion_auc': rng.random(30)}, index=ids),
              'mid': pd.DataFrame({'energy_pointing_game': base + 0.1 + rng.normal(0, .01, 30),
                                   'deletion_auc': rng.random(30)}, index=ids)}
    random = {m: pd.DataFrame({'energy_pointing_game': base + 0.01}, index=ids) for m in models}
    return models, priors, random


def test_lift_is_over_the_best_prior_and_holm_runs_over_every_test(scores):
    models, priors, random = scores
    table = baseline_table(models, {m: priors for m in models}, random).set_index(
        ['model', 'score'])
    # deletion_auc exists in no prior file: it is not compared with priors
    assert set(table.index.get_level_values('score')) == {'energy_pointing_game'}
    good, mid = table.loc[('good', 'energy_pointing_game')], \
        table.loc[('mid', 'energy_pointing_game')]
    assert good['best_prior'] == mid['best_prior'] == 'dataset_roi'
    expected = (models['good']['energy_pointing_game']
                - priors['dataset_roi']['energy_pointing_game']).mean()
    assert good['lift'] == pytest.approx(expected)
    assert good['beats_chance'] and good['beats_priors'] and good['beats_random']
    assert mid['beats_chance'] and not mid['beats_priors']  # below the dataset ROI prior
    raw = [wilcoxon_test(models[m]['energy_pointing_game'],
                         other['energy_pointing_game']).p_value
           for m in ('good', 'mid') for other in (*priors.values(), random[m])]
    columns = ['p_holm_uniform', 'p_holm_centre', 'p_holm_dataset_roi', 'p_holm_random_weights']
    got = [table.loc[(m, 'energy_pointing_game'), c] for m in ('good', 'mid') for c in columns]
    np.testing.assert_allclose(got, holm(np.array(raw)))


def test_prior_files_are_named_by_cam_priors(tmp_path):
    path = tmp_path / 'gaussian.csv'
    pd.DataFrame(dict(img_id=['a'], method='x', target_class=-1, energy_pointing_game=[0.1])
                 ).to_csv(path, index=False)
    with pytest.raises(RecordError, match='prior files are named'):
        load_priors([str(path)])


def test_effects_give_a_causal_verdict_only_for_a_significant_positive_difference(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name, shift in (('relies', 1.0), ('ignores', 0.0)):
        path = tmp_path / f'{name}.csv'
        pd.DataFrame(dict(img_id=[f'i{k}' for k in range(25)],
                          patient_id=[f'p{k}' for k in range(25)], target_class=1,
                          roi_effect=shift + rng.normal(0, 0.1, 25),
                          control_effect=rng.normal(0, 0.1, 25))).to_csv(path, index=False)
        paths.append(str(path))
    effects = load_effects(paths, ['relies', 'ignores'], n_boot=200)
    assert effects.loc['relies', 'difference'] == pytest.approx(1.0, abs=0.1)
    assert causal_verdict(effects.loc['relies']).startswith('its decision depends causally')
    assert causal_verdict(effects.loc['ignores']).startswith('no causal dependence')
    with pytest.raises(RecordError, match='one file per model'):
        load_effects(paths[:1], ['relies', 'ignores'])


def test_baseline_tests_use_per_patient_means(scores):
    models, priors, random = scores
    ids = models['good'].index
    groups = {m: pd.Series([f'p{i // 3}' for i in range(len(ids))], index=ids) for m in models}
    table = baseline_table(models, {m: priors for m in models}, random, groups=groups)
    row = table.set_index(['model', 'score']).loc[('mid', 'energy_pointing_game')]
    a = models['mid']['energy_pointing_game'].groupby(groups['mid']).mean()
    b = priors['centre']['energy_pointing_game'].groupby(groups['mid']).mean()
    assert row['p_centre'] == pytest.approx(wilcoxon_test(a, b).p_value)  # 10 patients, not 30
    assert row['diff_centre'] == pytest.approx((a - b).mean())
