import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from osteo_mm.stats import delong_auc_ci, delong_covariance, delong_test, delong_test_independent


def brute_force_delong(y, scores):
    """DeLong et al. (1988) by definition: O(m*n) kernel comparisons per model."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    aucs = psi.mean(axis=(1, 2))
    v10 = psi.mean(axis=2)  # per positive
    v01 = psi.mean(axis=1)  # per negative
    k = len(scores)
    s10 = np.array([[np.sum((v10[a] - aucs[a]) * (v10[b] - aucs[b])) / (m - 1)
                     for b in range(k)] for a in range(k)])
    s01 = np.array([[np.sum((v01[a] - aucs[a]) * (v01[b] - aucs[b])) / (n - 1)
                     for b in range(k)] for a in range(k)])
    return aucs, s10 / m + s01 / n


def tied_scores(seed, n=60, k=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    # Rounding to one decimal creates many ties within and across classes.
    scores = np.round(y + rng.normal(0, 1.0, (k, n)), 1)
    return y, scores


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_fast_delong_equals_brute_force_with_ties(seed):
    y, scores = tied_scores(seed)
    assert len(np.unique(scores)) < scores.size  # ties really present
    aucs, cov = delong_covariance(y, scores)
    ref_aucs, ref_cov = brute_force_delong(y, scores)
    np.testing.assert_allclose(aucs, ref_aucs, rtol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10)
    np.testing.assert_allclose(aucs, [roc_auc_score(y, s) for s in scores], rtol=1e-12)

    res = delong_test(y, scores[0], scores[1])
    var = ref_cov[0, 0] + ref_cov[1, 1] - 2 * ref_cov[0, 1]
    z = (ref_aucs[0] - ref_aucs[1]) / np.sqrt(var)
    assert res.variance == pytest.approx(var, rel=1e-10)
    assert res.p_value == pytest.approx(2 * norm.sf(abs(z)), rel=1e-10)


def test_auc_ci_and_independent_test():
    y, scores = tied_scores(5, n=80, k=2)
    ci = delong_auc_ci(y, scores[0])
    _, ref_cov = brute_force_delong(y, scores[:1])
    assert ci.variance == pytest.approx(ref_cov[0, 0], rel=1e-10)
    half = 1.959963984540054 * np.sqrt(ci.variance)
    assert ci.low == pytest.approx(ci.auc - half) and ci.high == pytest.approx(ci.auc + half)

    y2, scores2 = tied_scores(6, n=50, k=1)
    ind = delong_test_independent(y, scores[0], y2, scores2[0])
    var = ci.variance + brute_force_delong(y2, scores2)[1][0, 0]
    assert ind.variance == pytest.approx(var, rel=1e-10)
    assert ind.p_value == pytest.approx(2 * norm.sf(abs(ind.difference) / np.sqrt(var)))


def test_clearly_better_model_is_significant_and_identical_models_are_not():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    good, bad = y + rng.normal(0, 0.3, 300), y + rng.normal(0, 3.0, 300)
    assert delong_test(y, good, bad).p_value < 1e-6
    same = delong_test(y, good, good)
    assert same.p_value == 1.0 and same.difference == 0.0


def test_bad_input_raises_clear_errors():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match='NaN/inf'):
        delong_test(y, [0.1, np.nan, 0.2, 0.9], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match='differ in shape'):
        delong_test(y, [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match='4 values per model'):
        delong_covariance(y, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match='binary labels'):
        delong_auc_ci([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4])


def test_single_class_gives_nan_with_warning():
    with pytest.warns(UserWarning, match='only one class'):
        res = delong_test([1, 1, 1], [0.1, 0.5, 0.9], [0.2, 0.3, 0.4])
    assert np.isnan(res.auc_a) and np.isnan(res.p_value)
    with pytest.warns(UserWarning, match='only one class'):
        assert np.isnan(delong_auc_ci([0, 0], [0.1, 0.2]).auc)
