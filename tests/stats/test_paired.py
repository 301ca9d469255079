import numpy as np
import pytest
from scipy.stats import wilcoxon
from statsmodels.stats.contingency_tables import mcnemar

from osteo_mm.stats import holm, mcnemar_test, permutation_test_paired, wilcoxon_test


def test_mcnemar_exact_matches_statsmodels_and_hand_count():
    y = np.array([1, 1, 0, 0, 1, 0, 1, 0, 1, 1])
    a = np.array([1, 1, 0, 0, 1, 0, 1, 0, 0, 0])  # 8 correct
    b = np.array([1, 0, 1, 1, 1, 0, 0, 0, 1, 0])  # 5 correct
    # Hand count: both right 4, only A right 4, only B right 1, both wrong 1.
    res = mcnemar_test(y, a, b)
    ref = mcnemar([[4, 4], [1, 1]], exact=True)
    assert res.method == 'mcnemar-exact'
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.p_value == pytest.approx(2 * 6 / 32)  # two-sided binomial, 1 of 5 discordant
    assert res.difference == pytest.approx(0.3)


def test_mcnemar_chi2_with_many_discordant_pairs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    a = np.where(rng.random(400) < 0.9, y, 1 - y)
    b = np.where(rng.random(400) < 0.7, y, 1 - y)
    res = mcnemar_test(y, a, b)
    ok_a, ok_b = a == y, b == y
    table = [[np.sum(ok_a & ok_b), np.sum(ok_a & ~ok_b)], [np.sum(~ok_a & ok_b),
                                                            np.sum(~ok_a & ~ok_b)]]
    ref = mcnemar(table, exact=False, correction=True)
    assert res.method == 'mcnemar-chi2'
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.p_value < 1e-6


def test_mcnemar_identical_predictions_p_is_one():
    assert mcnemar_test([0, 1, 1], [0, 1, 0], [0, 1, 0]).p_value == 1.0


def test_wilcoxon_matches_scipy_and_permutation_agrees():
    rng = np.random.default_rng(1)
    a = rng.random(40)
    b = a - 0.1 + rng.normal(0, 0.1, 40)
    res = wilcoxon_test(a, b)
    ref = wilcoxon(a, b)
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.p_value == pytest.approx(ref.pvalue)
    perm = permutation_test_paired(a, b, n_resamples=2000)
    assert perm.difference == pytest.approx(np.mean(a - b))
    assert perm.p_value < 0.01 and res.p_value < 0.01


def test_permutation_is_exact_for_small_n_and_symmetric():
    a, b = np.array([3.0, 2.0, 5.0]), np.array([1.0, 1.0, 1.0])
    # All 8 sign flips of (2, 1, 4): only the all-plus and all-minus ones reach |mean| >= 7/3.
    assert permutation_test_paired(a, b).p_value == pytest.approx(2 / 8)
    assert permutation_test_paired(b, a).p_value == pytest.approx(2 / 8)


def test_paired_tests_reject_bad_input():
    with pytest.raises(ValueError, match='NaN/inf'):
        wilcoxon_test([0.1, np.nan], [0.2, 0.3])
    with pytest.raises(ValueError, match='equal length'):
        permutation_test_paired([0.1, 0.2], [0.3])
    with pytest.raises(ValueError, match='y_true has shape'):
        mcnemar_test([0, 1, 1], [0, 1], [1, 1])
    with pytest.warns(UserWarning, match='all paired differences are zero'):
        assert wilcoxon_test([0.5, 0.2], [0.5, 0.2]).p_value == 1.0


def test_holm_matches_hand_computation():
    # Sorted p = 0.01, 0.02, 0.04, 0.30 -> 4*0.01, 3*0.02, max(2*0.04, .06), max(0.30, .08).
    adjusted = holm([0.04, 0.01, 0.30, 0.02, np.nan])
    np.testing.assert_allclose(adjusted[:4], [0.08, 0.04, 0.30, 0.06])
    assert np.isnan(adjusted[4])
    assert holm([0.5, 0.6])[1] == 1.0  # capped at 1
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        holm([1.5])


def test_holm_equals_statsmodels_on_random_p_values():
    from statsmodels.stats.multitest import multipletests
    # One statsmodels call: each runs gc.collect() (the reason holm is not a wrapper).
    p = np.random.default_rng(0).random(30) ** 3
    p[[3, 7, 11]] = p[0]  # ties
    p[5] = 0.9  # an adjusted value above 1 is capped
    np.testing.assert_allclose(holm(p), multipletests(p, method='holm')[1], rtol=1e-15)


def clustered_calls(seed, n_patients=40):
    """1-4 images per patient, two classifiers with patient-correlated errors."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, n_patients)
    clusters = np.repeat([f'p{i}' for i in range(n_patients)], sizes)
    y = rng.integers(0, 2, sizes.sum())
    hard_a = np.repeat(rng.random(n_patients) < 0.3, sizes)
    hard_b = np.repeat(rng.random(n_patients) < 0.4, sizes)
    a = np.where(hard_a & (rng.random(sizes.sum()) < 0.8), 1 - y, y)
    b = np.where(hard_b & (rng.random(sizes.sum()) < 0.8), 1 - y, y)
    return y, a, b, clusters


@pytest.mark.parametrize('seed', [0, 1])
def test_clustered_mcnemar_equals_the_papers_formulas(seed):
    from scipy.stats import chi2

    from osteo_mm.stats import clustered_mcnemar_test
    y, a, b, clusters = clustered_calls(seed)
    patients = sorted(set(clusters))
    k = len(patients)
    # Obuchowski (1998): ratio estimators p_j = sum x_ij / sum n_i of the clustered proportions
    # (here: correct calls), var(p_j) = K / ((K-1) N^2) sum (x_ij - n_i p_j)^2, cov alike.
    x1 = np.array([np.sum((a == y)[clusters == p]) for p in patients], dtype=float)
    x2 = np.array([np.sum((b == y)[clusters == p]) for p in patients], dtype=float)
    n_i = np.array([np.sum(clusters == p) for p in patients], dtype=float)
    big_n = n_i.sum()
    p1, p2 = x1.sum() / big_n, x2.sum() / big_n
    factor = k / ((k - 1) * big_n ** 2)
    var1 = factor * np.sum((x1 - n_i * p1) ** 2)
    var2 = factor * np.sum((x2 - n_i * p2) ** 2)
    cov = factor * np.sum((x1 - n_i * p1) * (x2 - n_i * p2))
    stat = (p1 - p2) ** 2 / (var1 + var2 - 2 * cov)
    res = clustered_mcnemar_test(y, a, b, clusters, method='obuchowski')
    assert res.statistic == pytest.approx(stat, rel=1e-10)
    assert res.p_value == pytest.approx(chi2.sf(stat, 1), rel=1e-10)
    assert res.method == 'mcnemar-obuchowski1998' and res.n == k
    assert res.difference == pytest.approx(p1 - p2)
    # Durkalski et al. (2003): b_k, c_k = discordant pairs of each kind in patient k;
    # X2 = (sum (b_k - c_k))^2 / sum (b_k - c_k)^2.
    only_a = np.array([np.sum(((a == y) & (b != y))[clusters == p]) for p in patients])
    only_b = np.array([np.sum(((a != y) & (b == y))[clusters == p]) for p in patients])
    stat_d = np.sum(only_a - only_b) ** 2 / np.sum((only_a - only_b) ** 2)
    res_d = clustered_mcnemar_test(y, a, b, clusters, method='durkalski')
    assert res_d.statistic == pytest.approx(stat_d, rel=1e-10)
    assert res_d.p_value == pytest.approx(chi2.sf(stat_d, 1), rel=1e-10)


def test_clustered_mcnemar_without_clustering_is_plain_mcnemar():
    from osteo_mm.stats import clustered_mcnemar_test
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 120)
    a = np.where(rng.random(120) < 0.85, y, 1 - y)
    b = np.where(rng.random(120) < 0.7, y, 1 - y)
    for method in ('obuchowski', 'durkalski'):
        singletons = clustered_mcnemar_test(y, a, b, [f'p{i}' for i in range(120)], method)
        assert singletons == mcnemar_test(y, a, b)
        assert clustered_mcnemar_test(y, a, b, None, method) == mcnemar_test(y, a, b)
    with pytest.raises(ValueError, match='method must be one of'):
        clustered_mcnemar_test(y, a, b, None, 'liang-zeger')


def test_patient_permutation_test_is_exact_over_patient_sign_flips():
    import itertools

    y, a, b, clusters = clustered_calls(4, n_patients=10)
    ok_a, ok_b = (a == y).astype(float), (b == y).astype(float)
    res = permutation_test_paired(ok_a, ok_b, groups=clusters)
    patients = sorted(set(clusters))
    d = np.array([np.sum((ok_a - ok_b)[clusters == p]) for p in patients])
    observed = abs(d.sum())
    flips = np.array(list(itertools.product([1, -1], repeat=len(patients))))
    exact_p = np.mean(np.abs(flips @ d) >= observed - 1e-9)
    assert res.p_value == pytest.approx(exact_p, rel=1e-12)
    assert res.method == 'permutation-patient' and res.n == 10
    assert res.difference == pytest.approx(np.mean(ok_a - ok_b))
    # One image per patient: the image-level test, result for result.
    same = permutation_test_paired(ok_a, ok_b, groups=[f'i{i}' for i in range(len(y))])
    assert same == permutation_test_paired(ok_a, ok_b)
