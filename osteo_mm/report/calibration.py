"""Calibration and clinical-utility parts of the comparison report.

A table (Brier score, calibration intercept and slope by logistic recalibration, ECE over
equal-width bins), a reliability diagram with Wilson 95 % intervals per bin, and a decision
curve (net benefit against threshold probability, with "screen all" and "screen none").
The maths lives in :mod:`osteo_mm.stats.calibration`.
"""
from __future__ import annotations

from typing import Dict

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..stats.calibration import (
    brier_score,
    calibration_intercept_slope,
    decision_curve,
    expected_calibration_error,
    reliability_curve,
)

#: Equal-width probability bins of ECE and the reliability diagram.
N_BINS = 10


def calibration_table(models: Dict[str, object], n_bins: int = N_BINS) -> pd.DataFrame:
    """Brier, calibration intercept/slope (Wald CIs) and ECE per model."""
    rows = {}
    for name, model in models.items():
        y, p = model.y_true.astype(int), model.score
        fit = calibration_intercept_slope(y, p)
        rows[name] = dict(
            brier=brier_score(y, p),
            calibration_intercept=fit.intercept, intercept_low=fit.intercept_ci[0],
            intercept_high=fit.intercept_ci[1],
            calibration_slope=fit.slope, slope_low=fit.slope_ci[0], slope_high=fit.slope_ci[1],
            ece=expected_calibration_error(y, p, n_bins))
    return pd.DataFrame.from_dict(rows, orient='index')


def calibration_display(table: pd.DataFrame) -> pd.DataFrame:
    """Human-readable calibration table."""
    def ci(v, lo, hi):
        return 'n/a' if v != v else f'{v:.3f} [{lo:.3f}, {hi:.3f}]'

    shown = pd.DataFrame({
        'Brier': table['brier'].map(lambda v: f'{v:.4f}'),
        'calibration intercept [95% CI]': [ci(*r) for r in table[
            ['calibration_intercept', 'intercept_low', 'intercept_high']].to_numpy()],
        'calibration slope [95% CI]': [ci(*r) for r in table[
            ['calibration_slope', 'slope_low', 'slope_high']].to_numpy()],
        f'ECE ({N_BINS} equal-width bins)': table['ece'].map(lambda v: f'{v:.4f}')},
        index=table.index)
    shown.index.name = 'model'
    return shown


def reliability_figure(models: Dict[str, object], n_bins: int = N_BINS) -> Figure:
    """Reliability diagram: observed fraction per equal-width bin with Wilson 95 % CIs."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    offsets = np.linspace(-0.01, 0.01, max(len(models), 1))
    for offset, (name, model) in zip(offsets, models.items()):
        curve = reliability_curve(model.y_true.astype(int), model.score, n_bins)
        x = curve['mean_predicted'] + offset
        # Wilson bounds can miss the estimate by rounding at 0 and 1: clip to non-negative.
        yerr = np.clip([curve['observed'] - curve['observed_low'],
                        curve['observed_high'] - curve['observed']], 0, None)
        ax.errorbar(x, curve['observed'], yerr=yerr,
                    marker='o', ms=3, capsize=2, lw=1, label=name)
    ax.plot([0, 1], [0, 1], ls='--', color='grey', lw=0.8, label='perfectly calibrated')
    ax.set(xlabel='mean predicted probability (bin)', ylabel='observed fraction positive',
           xlim=(0, 1), ylim=(0, 1),
           title=f'Reliability ({n_bins} equal-width bins, Wilson 95 % CI)')
    ax.legend(loc='upper left', fontsize=8)
    fig.tight_layout()
    return fig


def decision_curve_figure(models: Dict[str, object], max_threshold: float = 0.6) -> Figure:
    """Net benefit vs threshold probability, with "screen all" and "screen none"."""
    fig = Figure(figsize=(6, 4.5))
    ax = fig.subplots()
    thresholds = np.round(np.arange(0.01, max_threshold + 1e-9, 0.01), 2)
    curve, prevalence = None, 0.0
    for name, model in models.items():
        curve = decision_curve(model.y_true.astype(int), model.score, thresholds)
        prevalence = float(np.mean(model.y_true))
        ax.plot(curve['threshold'], curve['model'], lw=1.5, label=name)
    if curve is not None:
        ax.plot(curve['threshold'], curve['screen_all'], color='black', lw=1, ls='--',
                label='screen all')
        ax.plot(curve['threshold'], curve['screen_none'], color='grey', lw=1, ls=':',
                label='screen none')
        ax.set_ylim(-0.05, max(0.05, prevalence * 1.1))
    ax.set(xlabel='threshold probability', ylabel='net benefit', xlim=(0, max_threshold),
           title='Decision curve (Vickers & Elkin 2006)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
