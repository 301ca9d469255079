"""The cross-validation summary as Markdown (``cv_summary.md`` of ``tools/cross_validate.py``)."""
from __future__ import annotations

from typing import Any, Dict

import pandas as pd

from .render import markdown_table


def _f(value: Any, digits: int = 3) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 'n/a'
    return 'n/a' if value != value else f'{value:.{digits}f}'


def _ci(low: Any, high: Any) -> str:
    return f'[{_f(low)}, {_f(high)}]'


def summary_markdown(summary: Dict[str, Any], folds: pd.DataFrame) -> str:
    """Render ``cv_summary.json`` and the per-fold table.

    Args:
        summary (dict): Output of
            :func:`osteo_mm.evaluation.metrics.cross_validation.summarize_oof` plus
            ``chosen_points``.
        folds (pd.DataFrame): Output of ``fold_metrics_table``.

    Returns:
        str: Markdown.
    """
    level = f'{100 * (1 - summary["alpha"]):g} %'
    lines = [
        '# Cross-validation summary\n',
        f'All numbers are **out-of-fold**: every image is scored by the model of the fold that '
        f'held it out ({summary["n_folds"]} folds x {summary["n_repeats"]} repeats, '
        f'{summary["n_images"]} images of {summary["n_patients"]} patients; folds are '
        f'patient-disjoint and label-stratified). {level} CIs resample whole patients '
        f'({summary["n_boot"]} bootstrap resamples; "skipped" counts resamples with one class).\n',
        '## Pooled out-of-fold, per repeat\n',
    ]
    pooled = pd.DataFrame([{
        'repeat': e['repeat'], 'n': e['n_images'], 'positives': e['n_positive'],
        f'AUC [{level} CI]': f'{_f(e["auc"])} {_ci(e["auc_ci_low"], e["auc_ci_high"])}',
        'CI width': _f(e['auc_ci_high'] - e['auc_ci_low']),
        'skipped': e['auc_ci_n_skipped'],
        'SEN / SPE at fold thresholds': f'{_f(e["sensitivity_at_fold_thresholds"])} / '
                                        f'{_f(e["specificity_at_fold_thresholds"])}',
        'Brier': _f(e['brier']),
        'cal. intercept': _f(e['calibration_intercept']),
        'cal. slope': _f(e['calibration_slope']),
        'ECE': _f(e['ece'])} for e in summary['pooled']]).set_index('repeat')
    lines.append(markdown_table(pooled))
    lines.append('\n## Over folds (mean +- SD)\n')
    over = pd.DataFrame([{'metric': k, 'mean': _f(v['mean']), 'SD': _f(v['sd']),
                          'folds': v['n_folds'], 'undefined': v['n_undefined']}
                         for k, v in summary['over_folds'].items()]).set_index('metric')
    lines.append(markdown_table(over))
    avg = summary['repeat_averaged']
    lines += [
        '\n## Repeat-averaged prediction per image\n',
        f'- AUC {_f(avg["auc"])} {_ci(avg["auc_ci_low"], avg["auc_ci_high"])} '
        f'(skipped {avg["auc_ci_n_skipped"]}); SEN / SPE at the mean fold threshold '
        f'{_f(avg["sensitivity_at_mean_fold_threshold"])} / '
        f'{_f(avg["specificity_at_mean_fold_threshold"])}',
        f'- Brier {_f(avg["brier"])}; calibration intercept {_f(avg["calibration_intercept"])} '
        f'{_ci(*avg["calibration_intercept_ci"])}, slope {_f(avg["calibration_slope"])} '
        f'{_ci(*avg["calibration_slope_ci"])} (logistic recalibration, Wald CIs); ECE '
        f'{_f(avg["ece"])} ({avg["ece_binning"]})',
        '\n## Per fold\n', markdown_table(folds.set_index(['repeat', 'fold']).round(4)),
    ]
    chosen = summary.get('chosen_points') or []
    if any(c['point'] for c in chosen):
        lines += ['\n## Nested selection: chosen point per fold\n',
                  markdown_table(pd.DataFrame([{'repeat': c['repeat'], 'fold': c['fold'],
                                                'chosen': c['chosen']} for c in chosen])
                                 .set_index(['repeat', 'fold']))]
    return '\n'.join(lines) + '\n'
