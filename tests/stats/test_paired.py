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
