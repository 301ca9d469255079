import numpy as np
import pytest
from scipy.stats import rankdata

from osteo_mm.stats.bootstrap import bootstrap_ci


def auc_or_nan(y, p):
    """Mann-Whitney AUC; NaN when a resample holds one class only."""
    pos = y == 1
    m, n = pos.sum(), (~pos).sum()
    if m == 0 or n == 0:
        return float('nan')
    return (rankdata(p)[pos].sum() - m * (m + 1) / 2) / (m * n)


def test_ci_covers_known_mean():
    x = np.random.default_rng(1).normal(loc=3.0, scale=1.0, size=400)
    res = bootstrap_ci(np.mean, x, n_boot=500)
    assert res.estimate == pytest.approx(x.mean())
    assert res.low < 3.0 < res.high
    # Standard error of the mean is 0.05, so the 95 % CI is about 0.2 wide.
    assert 0.12 < res.high - res.low < 0.3
    assert res.samples.shape == (500,) and res.n_skipped == 0


def test_same_seed_same_result_and_paired_difference():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    good = y + rng.normal(0, 0.5, 200)
    bad = y + rng.normal(0, 2.0, 200)

    def diff(y, a, b):
        return auc_or_nan(y, a) - auc_or_nan(y, b)

    res = bootstrap_ci(diff, y, good, bad, n_boot=300, seed=3)
    again = bootstrap_ci(diff, y, good, bad, n_boot=300, seed=3)
    np.testing.assert_array_equal(res.samples, again.samples)
    assert res.estimate == pytest.approx(auc_or_nan(y, good) - auc_or_nan(y, bad))
    assert res.low > 0  # the better model is better in (almost) every paired resample


def test_patient_level_resampling_keeps_patients_together():
    # Patient p has exactly 3 images, all with value p; drawing whole patients means every
    # resample contains each value a multiple of 3 times.
    groups = np.repeat(np.arange(20), 3)
    values = groups.astype(float)

    def check(v):
        _, counts = np.unique(v, return_counts=True)
        return float(np.all(counts % 3 == 0))

    res = bootstrap_ci(check, values, groups=groups, n_boot=50)
    assert res.samples.min() == 1.0
    without = bootstrap_ci(check, values, n_boot=50)
    assert without.samples.max() == 0.0


def test_strata_keep_class_sizes_fixed():
    y = np.array([0] * 30 + [1] * 5)
    res = bootstrap_ci(np.sum, y, strata=y, n_boot=100)
    assert np.all(res.samples == 5)
    assert res.n_skipped == 0


def test_degenerate_resamples_are_counted_and_the_ci_is_nan_with_a_reason():
    y = np.array([0] * 19 + [1])  # a resample misses the positive ~36 % of the time
    p = np.linspace(0, 1, 20)
    with pytest.warns(UserWarning, match=r'CI not given: .* in \d+ of 200 resamples, more '
                                         r'than 1 %'):
        res = bootstrap_ci(auc_or_nan, y, p, n_boot=200)
    assert 40 < res.n_skipped < 110
    assert res.samples.size == 200 - res.n_skipped
    assert np.isfinite(res.samples).all()
    assert np.isnan(res.low) and np.isnan(res.high) and 'CI not given' in res.note
    # Stratified by the label, no resample loses the positive: nothing skipped, CI given.
    strat = bootstrap_ci(auc_or_nan, y, p, strata=y, n_boot=200)
    assert strat.n_skipped == 0 and strat.note == '' and strat.low <= strat.high


def test_ci_given_up_to_one_percent_undefined_and_nan_above():
    # The statistic is undefined on a chosen number of resamples (by call order).
    def flaky(n_bad):
        calls = iter(range(10 ** 6))

        def stat(x):
            return float('nan') if 0 < next(calls) <= n_bad else float(np.mean(x))
        return stat

    x = np.arange(50.0)
    ok = bootstrap_ci(flaky(10), x, n_boot=1000)  # exactly 1 %: still a CI
    assert ok.n_skipped == 10 and np.isfinite(ok.low) and ok.note == ''
    with pytest.warns(UserWarning, match='11 of 1000'):
        bad = bootstrap_ci(flaky(11), x, n_boot=1000)
    assert bad.n_skipped == 11 and np.isnan(bad.low)


def test_one_observation_per_group_equals_the_unclustered_bootstrap_exactly():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=40), rng.integers(0, 2, 40)
    ids = [f'patient-{i:02d}' for i in rng.permutation(40)]  # sorted order != image order
    plain = bootstrap_ci(np.mean, x, strata=y, n_boot=100, seed=2)
    grouped = bootstrap_ci(np.mean, x, groups=ids, strata=y, n_boot=100, seed=2)
    np.testing.assert_array_equal(plain.samples, grouped.samples)
    assert (plain.low, plain.high) == (grouped.low, grouped.high)


def test_group_spanning_strata_and_length_mismatch_raise():
    with pytest.raises(ValueError, match="group 'a' spans several strata"):
        bootstrap_ci(np.mean, np.ones(4), groups=['a', 'a', 'b', 'b'], strata=[0, 1, 0, 0])
    with pytest.raises(ValueError, match='differ in length'):
        bootstrap_ci(np.mean, np.ones(4), np.ones(3))


def test_vector_statistic_gives_elementwise_bounds():
    x = np.random.default_rng(4).normal(size=(300, 2)) + np.array([0.0, 10.0])
    res = bootstrap_ci(lambda a: a.mean(axis=0), x, n_boot=200)
    assert res.samples.shape == (200, 2)
    assert res.low.shape == res.high.shape == (2,)
    assert res.low[0] < 0.0 < res.high[0] and res.low[1] < 10.0 < res.high[1]


def test_patients_resampled_within_label_strata():
    # 12 patients with 2 images each; 4 patients are positive. Drawing patients within label
    # strata keeps exactly 8 positive images in every resample.
    patients = np.repeat(np.arange(12), 2)
    labels = (patients < 4).astype(int)
    res = bootstrap_ci(np.sum, labels, groups=patients, strata=labels, n_boot=100)
    assert np.all(res.samples == 8)
    free = bootstrap_ci(np.sum, labels, groups=patients, n_boot=100)
    assert free.samples.std() > 0 and np.all(free.samples % 2 == 0)
