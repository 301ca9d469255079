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


def obuchowski_oracle(y, scores, clusters):
    """Obuchowski (1997) clustered AUC covariance, written from the paper's formulas.

    For patient i with m_i positive and n_i negative images: X_i = sum over its positives of
    V10 (mean kernel against all negatives), Y_i = sum over its negatives of V01 (mean kernel
    against all positives); S10 = I10 / ((I10 - 1) M) sum (X_i - m_i A)^2,
    S01 = I01 / ((I01 - 1) N) sum (Y_i - n_i A)^2, S11 = I / (I - 1) sum (X_i - m_i A)(Y_i - n_i A),
    cov_rs = S10_rs / M + S01_rs / N + (S11_rs + S11_sr) / (M N).
    """
    k = len(scores)
    patients = sorted(set(clusters))
    big_m, big_n = int(np.sum(y == 1)), int(np.sum(y == 0))
    aucs = np.zeros(k)
    x = np.zeros((k, len(patients)))
    yy = np.zeros((k, len(patients)))
    m_i = np.array([sum(1 for c, t in zip(clusters, y) if c == p and t == 1) for p in patients])
    n_i = np.array([sum(1 for c, t in zip(clusters, y) if c == p and t == 0) for p in patients])
    for r in range(k):
        pos = [(c, s) for c, s, t in zip(clusters, scores[r], y) if t == 1]
        neg = [(c, s) for c, s, t in zip(clusters, scores[r], y) if t == 0]

        def psi(a, b):
            return 1.0 if a > b else 0.5 if a == b else 0.0

        aucs[r] = sum(psi(a, b) for _, a in pos for _, b in neg) / (big_m * big_n)
        for j, p in enumerate(patients):
            x[r, j] = sum(sum(psi(a, b) for _, b in neg) / big_n for c, a in pos if c == p)
            yy[r, j] = sum(sum(psi(a, b) for _, a in pos) / big_m for c, b in neg if c == p)
    i10, i01, i_all = np.sum(m_i > 0), np.sum(n_i > 0), len(patients)
    cov = np.zeros((k, k))
    for r in range(k):
        for s in range(k):
            xr, xs = x[r] - m_i * aucs[r], x[s] - m_i * aucs[s]
            yr, ys = yy[r] - n_i * aucs[r], yy[s] - n_i * aucs[s]
            s10 = i10 / ((i10 - 1) * big_m) * np.sum(xr * xs)
            s01 = i01 / ((i01 - 1) * big_n) * np.sum(yr * ys)
            s11_rs = i_all / (i_all - 1) * np.sum(xr * ys)
            s11_sr = i_all / (i_all - 1) * np.sum(xs * yr)
            cov[r, s] = s10 / big_m + s01 / big_n + (s11_rs + s11_sr) / (big_m * big_n)
    return aucs, cov


def clustered_data(seed, n_patients=30, k=3):
    """1-4 images per patient, labels mixed within some patients, scores rounded (ties)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, n_patients)
    clusters = np.repeat([f'p{i}' for i in range(n_patients)], sizes)
    latent = np.repeat(rng.normal(0, 1, n_patients), sizes)
    y = (latent + rng.normal(0, 0.7, sizes.sum()) > 0).astype(int)
    patient_effect = np.repeat(rng.normal(0, 0.8, (k, n_patients)), sizes, axis=1)
    scores = np.round(y + patient_effect + rng.normal(0, 0.8, (k, sizes.sum())), 1)
    return y, scores, clusters


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_clustered_delong_equals_obuchowski_formulas_with_ties(seed):
    y, scores, clusters = clustered_data(seed)
    assert len(np.unique(scores)) < scores.size  # ties present
    assert len(set(clusters)) < len(clusters)  # really clustered
    mixed = {c for c in clusters if set(y[clusters == c]) == {0, 1}}
    assert mixed  # some patients hold both a positive and a negative image (S11 != 0)
    aucs, cov = delong_covariance(y, scores, groups=clusters)
    ref_aucs, ref_cov = obuchowski_oracle(y, scores, clusters)
    np.testing.assert_allclose(aucs, ref_aucs, rtol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10, atol=1e-15)
    res = delong_test(y, scores[0], scores[1], groups=clusters)
    var = ref_cov[0, 0] + ref_cov[1, 1] - 2 * ref_cov[0, 1]
    assert res.variance == pytest.approx(var, rel=1e-10)
    z = (ref_aucs[0] - ref_aucs[1]) / np.sqrt(var)
    assert res.p_value == pytest.approx(2 * norm.sf(abs(z)), rel=1e-9)
    ci = delong_auc_ci(y, scores[2], groups=clusters)
    assert ci.variance == pytest.approx(ref_cov[2, 2], rel=1e-10)


@pytest.mark.parametrize('seed', [3, 4])
def test_clustered_delong_with_one_image_per_patient_is_plain_delong(seed):
    y, scores = tied_scores(seed)
    singletons = [f'p{i}' for i in range(len(y))]
    plain_aucs, plain_cov = delong_covariance(y, scores)
    aucs, cov = delong_covariance(y, scores, groups=singletons)
    np.testing.assert_array_equal(aucs, plain_aucs)  # the same code path: bit for bit
    np.testing.assert_array_equal(cov, plain_cov)
    assert delong_test(y, scores[0], scores[1], groups=singletons) == delong_test(
        y, scores[0], scores[1])
    # Obuchowski's formulas themselves reduce to DeLong's with singleton clusters.
    np.testing.assert_allclose(obuchowski_oracle(y, scores, singletons)[1], plain_cov,
                               rtol=1e-10)
    np.testing.assert_allclose(brute_force_delong(y, scores)[1], plain_cov, rtol=1e-10)


@pytest.mark.parametrize('copies', [2, 5])
def test_duplicated_images_leave_clustered_variance_unchanged(copies):
    y, scores, clusters = clustered_data(7, n_patients=40, k=2)
    aucs, cov = delong_covariance(y, scores, groups=clusters)
    naive_var = delong_covariance(y, scores)[1]
    dup = np.repeat(np.arange(len(y)), copies)  # every image of every patient k times
    dup_aucs, dup_cov = delong_covariance(y[dup], scores[:, dup], groups=clusters[dup])
    np.testing.assert_allclose(dup_aucs, aucs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dup_cov, cov, rtol=0, atol=1e-12)
    dup_naive = delong_covariance(y[dup], scores[:, dup])[1]
    shrink = np.diag(naive_var) / np.diag(dup_naive)
    # Naive DeLong believes the copies are new patients: variance about k times smaller.
    np.testing.assert_allclose(shrink, copies, rtol=0.1)
    # The clustered test of the duplicated data gives the same p-value as the original.
    assert delong_test(y[dup], scores[0, dup], scores[1, dup], groups=clusters[dup]).p_value == \
        pytest.approx(delong_test(y, scores[0], scores[1], groups=clusters).p_value, rel=1e-9)


def test_clustered_delong_undefined_with_one_positive_patient():
    y = np.array([1, 1, 0, 0, 0, 0])
    clusters = ['a', 'a', 'b', 'b', 'c', 'c']
    with pytest.warns(UserWarning, match='1 patients with a positive'):
        aucs, cov = delong_covariance(y, [0.9, 0.8, 0.1, 0.2, 0.3, 0.4], groups=clusters)
    assert aucs[0] == 1.0 and np.isnan(cov).all()
    with pytest.raises(ValueError, match='groups has 3 entries for 6 cases'):
        delong_covariance(y, np.zeros(6), groups=['a', 'b', 'c'])
