"""Per-model metrics with CIs, pairwise tests and the combined ranking (pure tables).

One unit of analysis, the patient (images without a patient id count as their own patient):

- AUC CI and AUC-difference test: DeLong, clustered by patient (Obuchowski 1997) when a patient
  has several images;
- accuracy difference: McNemar, clustered (Obuchowski 1998) when a patient has several images;
- causality paired tests (Wilcoxon signed-rank or paired permutation) on per-patient means of
  the images where both models have a score;
- accuracy, BAC, sensitivity, specificity, mean causality and the paired differences: percentile
  bootstrap resampling whole patients, stratified by whether the patient has a positive image;
  a CI is NaN when more than 1 % of its resamples are undefined (``*_n_skipped`` columns).

With one image per patient the DeLong, McNemar, Wilcoxon and permutation results equal the
image-level ones exactly. Holm adjustment within each metric over all model pairs.
"""
import itertools
from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..stats import (
    BootstrapResult,
    bootstrap_ci,
    clustered_mcnemar_test,
    delong_auc_ci,
    delong_test,
    holm,
    is_clustered,
    patient_groups,
    patient_means,
    patient_strata,
    permutation_test_paired,
    threshold_metrics,
    unit_of_analysis,
    wilcoxon_test,
)
from .records import Predictions, RecordError

#: Binary metrics computed at each model's threshold, in table order.
BINARY_METRICS = ('accuracy', 'bac', 'sensitivity', 'specificity')
#: The same metrics under their names in :data:`osteo_mm.stats.threshold.THRESHOLD_METRICS`.
_THRESHOLD_NAMES = ('accuracy', 'balanced_accuracy', 'sensitivity', 'specificity')
#: Clustered McNemar variant used for the accuracy difference (see ``clustered_mcnemar_test``).
MCNEMAR_METHOD = 'obuchowski'
#: Causality columns that describe the expert ROI rather than the model (the ROI's share of
#: the image is the pointing game's chance level): shown per model, never tested or ranked.
REFERENCE_SCORES = ('roi_area_share', 'zero_map')
#: Paired tests available for per-image causality scores.
CAUSALITY_TESTS = ('wilcoxon', 'permutation')
#: Causality score ranked by default when present (the CAM energy inside the expert ROI).
DEFAULT_RANK_METRIC = 'energy_pointing_game'


def binary_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Accuracy, balanced accuracy, sensitivity and specificity of bool decisions.

    The shared :func:`osteo_mm.stats.threshold.threshold_metrics` (the same code as the
    MMEngine metrics'), in :data:`BINARY_METRICS` order.

    Args:
        y_true (np.ndarray): bool labels.
        y_pred (np.ndarray): bool decisions.

    Returns:
        np.ndarray: the four values; sensitivity (specificity) is NaN without positives
        (negatives), so the bootstrap skips and counts such resamples.
    """
    return threshold_metrics(y_true, y_pred, _THRESHOLD_NAMES)


def model_groups(model: Predictions) -> np.ndarray:
    """Patient cluster per image of a model's predictions (:func:`stats.patient_groups`)."""
    return patient_groups(model.patient_id, model.img_id)


def model_strata(model: Predictions) -> np.ndarray:
    """Bootstrap stratum per image: does the image's patient have a positive image."""
    return patient_strata(model.y_true, model_groups(model))


def _note(notes: List[str], what: str, result) -> None:
    """Collect a bootstrap's reason for a missing CI."""
    if result.note:
        notes.append(f'{what}: {result.note}')


def model_table(models: Dict[str, Predictions], causality: Optional[Dict[str, pd.DataFrame]],
                n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """One row per model: AUC, binary metrics and mean causality scores, each with a CI.

    Args:
        models (dict[str, Predictions]): model name -> aligned predictions.
        causality (dict[str, pd.DataFrame], optional): model name -> causality scores.
        n_boot (int): bootstrap resamples. Defaults to 2000.
        alpha (float): 1 - confidence level. Defaults to 0.05.
        seed (int): bootstrap seed. Defaults to 0.

    Returns:
        pd.DataFrame: indexed by model; columns ``n`` (images), ``n_positive``, ``unit``,
        ``n_patients``, ``n_images``, ``threshold``, and ``<metric>``, ``<metric>_low``,
        ``<metric>_high`` for ``auc`` (clustered DeLong), the binary metrics (patient bootstrap,
        ``binary_n_skipped`` undefined resamples) and ``cam_<score>`` per causality score (plus
        ``cam_<score>_n``, the images with a score, and ``cam_<score>_n_skipped``), and
        ``ci_notes`` (why a CI is missing; ``''`` when none is).
    """
    rows = {}
    for name, model in models.items():
        groups, strata = model_groups(model), model_strata(model)
        row = dict(n=model.y_true.size, n_positive=int(model.y_true.sum()),
                   **unit_of_analysis(model.patient_id).as_dict(), threshold=model.threshold)
        notes: List[str] = []
        auc = delong_auc_ci(model.y_true, model.score, alpha, groups=groups)
        row.update(auc=auc.auc, auc_low=auc.low, auc_high=auc.high)
        boot = bootstrap_ci(binary_metrics, model.y_true, model.y_pred, groups=groups,
                            strata=strata, n_boot=n_boot, alpha=alpha, seed=seed)
        _note(notes, 'accuracy, BAC, SEN, SPE', boot)
        for i, metric in enumerate(BINARY_METRICS):
            row.update({metric: boot.estimate[i], f'{metric}_low': boot.low[i],
                        f'{metric}_high': boot.high[i]})
        row['binary_n_skipped'] = boot.n_skipped
        for column, values in (causality or {}).get(name, pd.DataFrame()).items():
            values = values.reindex(model.img_id)
            has = values.notna().to_numpy()
            ci = _mean_ci(values.to_numpy()[has], groups[has], strata[has], n_boot, alpha, seed)
            _note(notes, f'mean {column}', ci)
            row.update({f'cam_{column}': ci.estimate, f'cam_{column}_low': ci.low,
                        f'cam_{column}_high': ci.high, f'cam_{column}_n': int(has.sum()),
                        f'cam_{column}_n_skipped': ci.n_skipped})
        row['ci_notes'] = '; '.join(notes)
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient='index')


def _mean_ci(values: np.ndarray, groups: np.ndarray, strata: np.ndarray, n_boot: int,
             alpha: float, seed: int) -> BootstrapResult:
    """Mean with a stratified patient-level bootstrap CI; NaNs when there are no values."""
    if values.size == 0:
        nan = float('nan')
        return BootstrapResult(nan, nan, nan, np.empty(0), 0)
    return bootstrap_ci(np.mean, values, groups=groups, strata=strata, n_boot=n_boot,
                        alpha=alpha, seed=seed)


def pairwise_table(models: Dict[str, Predictions],
                   causality: Optional[Dict[str, pd.DataFrame]],
                   n_boot: int = 2000, alpha: float = 0.05, seed: int = 0,
                   cam_test: str = 'wilcoxon') -> pd.DataFrame:
    """Differences (A - B) with CIs and raw and Holm-adjusted p-values for every model pair.

    Args:
        models (dict[str, Predictions]): model name -> aligned predictions (>= 2 models).
        causality (dict[str, pd.DataFrame], optional): model name -> causality scores.
        n_boot (int): bootstrap resamples for the accuracy/causality difference CIs.
        alpha (float): 1 - confidence level.
        seed (int): bootstrap seed (also the permutation test's).
        cam_test (str): paired test of causality scores, one of :data:`CAUSALITY_TESTS`.
            Defaults to ``'wilcoxon'``.

    Returns:
        pd.DataFrame: columns ``model_a, model_b, metric, difference, low, high, n, unit,
        n_patients, n_images, n_skipped, test, p_value, p_holm``. ``n`` and ``n_images`` count
        the images compared, ``n_patients`` their patients. The AUC difference and its CI are
        (clustered) DeLong's (CI clipped to [-1, 1], ``n_skipped`` 0); the accuracy difference
        is over images with a stratified patient-bootstrap CI; a causality difference is the
        mean over patients of the per-patient mean difference (the per-image difference when
        each patient has one image), with a bootstrap CI over patients. ``test`` names the
        method: ``delong`` / ``delong-obuchowski1997``, ``mcnemar-*``, ``wilcoxon`` /
        ``permutation`` (on patient means when clustered: ``*-patient-means``). Columns in
        :data:`REFERENCE_SCORES` are not compared.
    """
    if cam_test not in CAUSALITY_TESTS:
        raise RecordError(f'cam_test must be one of {CAUSALITY_TESTS}, got {cam_test!r}')
    rows: List[dict] = []
    z = norm.ppf(1 - alpha / 2)
    for name_a, name_b in itertools.combinations(models, 2):
        a, b = models[name_a], models[name_b]
        groups, strata = model_groups(a), model_strata(a)
        clustered = is_clustered(groups)
        unit = unit_of_analysis(a.patient_id)
        pair = dict(model_a=name_a, model_b=name_b)
        res = delong_test(a.y_true, a.score, b.score, groups=groups)
        half = z * np.sqrt(res.variance)
        rows.append(dict(pair, metric='auc', difference=res.difference,
                         low=max(res.difference - half, -1.0),
                         high=min(res.difference + half, 1.0),
                         n=a.y_true.size, **unit.as_dict(), n_skipped=0,
                         test='delong-obuchowski1997' if clustered else 'delong',
                         p_value=res.p_value))
        mc = clustered_mcnemar_test(a.y_true, a.y_pred, b.y_pred, groups, MCNEMAR_METHOD)
        ci = bootstrap_ci(_accuracy_difference, a.y_true, a.y_pred, b.y_pred, groups=groups,
                          strata=strata, n_boot=n_boot, alpha=alpha, seed=seed)
        rows.append(dict(pair, metric='accuracy', difference=mc.difference, low=ci.low,
                         high=ci.high, n=a.y_true.size, **unit.as_dict(),
                         n_skipped=ci.n_skipped, test=mc.method, p_value=mc.p_value,
                         ci_note=ci.note))
        if causality:
            for column in causality[name_a].columns.difference(REFERENCE_SCORES, sort=False):
                va = causality[name_a][column].reindex(a.img_id).to_numpy()
                vb = causality[name_b][column].reindex(a.img_id).to_numpy()
                both = np.isfinite(va) & np.isfinite(vb)
                rows.append(dict(pair, metric=f'cam_{column}',
                                 **_paired_score_row(va[both], vb[both], groups[both],
                                                     strata[both], a.patient_id[both],
                                                     cam_test, n_boot, alpha, seed)))
    table = pd.DataFrame(rows)
    table['ci_note'] = table['ci_note'].fillna('') if 'ci_note' in table else ''
    table['p_holm'] = np.nan
    for _, index in table.groupby('metric').groups.items():
        table.loc[index, 'p_holm'] = holm(table.loc[index, 'p_value'])
    return table


def _accuracy_difference(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> float:
    return float(np.mean(pred_a == y) - np.mean(pred_b == y))


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a - b))


def _paired_score_row(a: np.ndarray, b: np.ndarray, groups: np.ndarray, strata: np.ndarray,
                      patient_ids: np.ndarray, cam_test: str, n_boot: int, alpha: float,
                      seed: int) -> dict:
    """Paired test and bootstrap CI of the mean paired difference, per patient.

    Each model's scores are first averaged within each patient (identity when every patient
    has one image), so every patient counts once in the test and the CI.
    """
    unit = unit_of_analysis(patient_ids)
    if a.size == 0:
        return dict(difference=np.nan, low=np.nan, high=np.nan, n=0, **unit.as_dict(),
                    n_skipped=0, test=cam_test, p_value=np.nan, ci_note='')
    clustered = is_clustered(groups)
    means, _ = patient_means(np.stack([a, b, strata], axis=1), groups)
    pa, pb, pstrata = means[:, 0], means[:, 1], means[:, 2]
    test = (wilcoxon_test(pa, pb) if cam_test == 'wilcoxon'
            else permutation_test_paired(pa, pb, seed=seed))
    ci = bootstrap_ci(_mean_difference, pa, pb, strata=pstrata, n_boot=n_boot, alpha=alpha,
                      seed=seed)
    return dict(difference=test.difference, low=ci.low, high=ci.high, n=int(a.size),
                **unit.as_dict(), n_skipped=ci.n_skipped,
                test=f'{test.method}-patient-means' if clustered else test.method,
                p_value=test.p_value, ci_note=ci.note)


def _cam_columns(table: pd.DataFrame) -> List[str]:
    return [c[4:] for c in table.columns
            if c.startswith('cam_') and not c.endswith(('_low', '_high', '_n', '_n_skipped'))
            and c[4:] not in REFERENCE_SCORES]


def ranking_table(table: pd.DataFrame, baselines: Optional[pd.DataFrame] = None,
                  rank_metric: Optional[str] = None) -> pd.DataFrame:
    """Rank models by a scale-free rule: the mean of their AUC rank and their causality rank.

    Ranks never add quantities of different scales (an AUC and an overlap score). The
    causality rank orders the models by the lift of ``rank_metric`` over its best trivial prior
    when ``baselines`` are given (:func:`osteo_mm.report.baselines.baseline_table`), else by the
    score's mean (same order when every model faces the same priors); lower-is-better scores
    (deletion AUCs) rank ascending. Ties of the mean rank go to the higher AUC. Without
    causality scores the ranking is by AUC alone.

    Args:
        table (pd.DataFrame): output of :func:`model_table`.
        baselines (pd.DataFrame, optional): per (model, score) lifts over the priors.
        rank_metric (str, optional): causality score column (without ``cam_``); defaults to
            :data:`DEFAULT_RANK_METRIC` when present, else the first model-dependent column.

    Returns:
        pd.DataFrame: indexed by model, sorted best first, with ``rank``, ``auc``,
        ``rank_auc``, the causality value and ``rank_cam`` (if any), ``mean_rank`` and the
        ``rule`` as text.

    Raises:
        RecordError: unknown ``rank_metric``.
    """
    from .baselines import lower_is_better

    cam_columns = _cam_columns(table)
    ranking = table[['auc']].copy()
    ranking['rank_auc'] = ranking['auc'].rank(ascending=False, method='min')
    if not cam_columns:
        ranking['mean_rank'] = ranking['rank_auc']
        ranking['rule'] = 'AUC rank (no causality scores given)'
    else:
        metric = rank_metric or (DEFAULT_RANK_METRIC if DEFAULT_RANK_METRIC in cam_columns
                                 else cam_columns[0])
        if metric not in cam_columns:
            raise RecordError(f'rank metric {metric!r} is not a causality column '
                              f'(have {cam_columns})')
        ranking[f'cam_{metric}'] = table[f'cam_{metric}']
        key, what = f'cam_{metric}', f'mean {metric}'
        if baselines is not None and not baselines.empty and \
                (baselines['score'] == metric).any():
            lifts = baselines[baselines['score'] == metric].set_index('model')['lift']
            ranking[f'lift_{metric}'] = lifts.reindex(ranking.index)
            key, what = f'lift_{metric}', f'lift of {metric} over its best trivial prior'
        ranking['rank_cam'] = ranking[key].rank(ascending=lower_is_better(metric),
                                                method='min', na_option='bottom')
        ranking['mean_rank'] = (ranking['rank_auc'] + ranking['rank_cam']) / 2
        ranking['rule'] = f'mean of AUC rank and rank of the {what}; ties: higher AUC'
    ranking = ranking.sort_values(['mean_rank', 'auc'], ascending=[True, False])
    ranking.insert(0, 'rank', np.arange(1, len(ranking) + 1))
    return ranking


def format_ci(table: pd.DataFrame, metrics: Sequence[str], digits: int = 3) -> pd.DataFrame:
    """Render ``<m>``/``<m>_low``/``<m>_high`` columns as ``'0.812 [0.751, 0.870]'`` strings.

    Args:
        table (pd.DataFrame): a table with the three columns per metric.
        metrics (Sequence[str]): metric stems to render.
        digits (int): decimals. Defaults to 3.

    Returns:
        pd.DataFrame: one text column per metric, same index.
    """
    def cell(v: float, lo: float, hi: float) -> str:
        if np.isnan(v):
            return 'n/a'
        return f'{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]'

    return pd.DataFrame({m: [cell(*r) for r in table[[m, f'{m}_low', f'{m}_high']].to_numpy()]
                         for m in metrics}, index=table.index)
