"""Calibration and decision-curve maths against independent oracles."""
import numpy as np
import pytest

from osteo_mm.stats.calibration import (
    Recalibrator,
    brier_score,
    calibration_intercept_slope,
    decision_curve,
    expected_calibration_error,
    net_benefit,
    reliability_curve,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    lp = rng.normal(0, 1.5, 400)
    y = (rng.random(400) < 1 / (1 + np.exp(-(0.3 + 0.7 * lp)))).astype(int)
    p = 1 / (1 + np.exp(-lp))
    return y, p


def test_brier_matches_definition(data):
    y, p = data
    assert brier_score(y, p) == pytest.approx(np.mean((p - y) ** 2), abs=1e-12)


def test_intercept_and_slope_match_sklearn_unpenalised_fits(data):
    """Oracle: scikit-learn's (unpenalised) logistic regression, not statsmodels' GLM."""
    from sklearn.linear_model import LogisticRegression

    y, p = data
    lp = np.log(p / (1 - p))
    fit = calibration_intercept_slope(y, p)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(lp[:, None], y)
    assert fit.slope == pytest.approx(ref.coef_[0, 0], abs=1e-4)
    # intercept with logit(p) as offset: maximise sum y*(a+lp) - log(1+exp(a+lp)) over a
    from scipy.optimize import brentq

    a = brentq(lambda a: np.sum(y - 1 / (1 + np.exp(-(a + lp)))), -10, 10, xtol=1e-12)
    assert fit.intercept == pytest.approx(a, abs=1e-6)
    assert fit.slope_ci[0] < fit.slope < fit.slope_ci[1]
    # simulated truth: slope 0.7, so a well-powered fit is clearly below 1
    assert fit.slope < 1


def test_perfectly_calibrated_model_has_slope_one_intercept_zero():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.02, 0.98, 20000)
    y = (rng.random(20000) < p).astype(int)
    fit = calibration_intercept_slope(y, p)
    assert fit.slope == pytest.approx(1, abs=0.06)
    assert fit.intercept == pytest.approx(0, abs=0.05)


def test_single_class_is_nan():
    fit = calibration_intercept_slope([0, 0, 0], [0.1, 0.2, 0.3])
    assert np.isnan(fit.slope) and np.isnan(fit.intercept)


def test_ece_by_hand():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.55, 0.58, 1.0])
    # bins: [0,.1): {0.05 | 0}, [.1,.2): {0.15 | 1}, [.5,.6): {0.55, 0.58 | 1, 0}, [.9,1]: {1 | 1}
    expected = (abs(0 - 0.05) + abs(1 - 0.15) + abs(1 - 1.13) + abs(1 - 1.0)) / 5
    assert expected_calibration_error(y, p, 10) == pytest.approx(expected, abs=1e-12)
    curve = reliability_curve(y, p, 10)
    assert curve['n'].tolist() == [1, 1, 2, 1]
    assert (curve['observed_low'] <= curve['observed']).all()
    assert (curve['observed'] <= curve['observed_high']).all()


def test_net_benefit_by_hand():
    # 10 images, 4 positive. At t = 0.25 the calls are p >= 0.25: TP = 3, FP = 2.
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.3, 0.1, 0.5, 0.25, 0.2, 0.1, 0.05, 0.0])
    assert net_benefit(y, p, 0.25) == pytest.approx(3 / 10 - 2 / 10 * (0.25 / 0.75))
    curve = decision_curve(y, p, [0.25, 0.5])
    assert curve['model'].tolist() == pytest.approx([0.3 - 0.2 / 3, 0.2 - 0.1 * 1.0])
    assert curve['screen_all'].tolist() == pytest.approx([0.4 - 0.6 / 3, 0.4 - 0.6])
    assert curve['screen_none'].tolist() == [0, 0]


def test_recalibration_fitted_on_validation_improves_test_calibration(data):
    y, p = data
    # over-confident model: logits doubled
    lp = 2 * np.log(p / (1 - p))
    p_bad = 1 / (1 + np.exp(-lp))
    val, test = slice(0, 200), slice(200, 400)
    for method in ('platt', 'isotonic'):
        rec = Recalibrator(method).fit(y[val], p_bad[val])
        assert brier_score(y[test], rec.transform(p_bad[test])) < brier_score(y[test],
                                                                              p_bad[test])
        assert rec.params()['method'] == method
    with pytest.raises(ValueError, match='both classes'):
        Recalibrator().fit([0, 0], [0.2, 0.3])
