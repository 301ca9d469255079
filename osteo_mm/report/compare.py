"""Compare models from their per-image records and write tables, plots and an HTML report."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..explain.io import write_atomic
from .baselines import (
    PRIOR_NAMES,
    baseline_table,
    causal_verdict,
    evidence_sentences,
    load_effects,
    load_prior_dirs,
)
from .calibration import (
    calibration_display,
    calibration_table,
    decision_curve_figure,
    reliability_figure,
)
from .oof import check_shared_folds, is_oof_file, load_oof_predictions, oof_notes
from .plots import (
    calibration_figure,
    causality_figure,
    gallery_figure,
    gallery_rows,
    roc_figure,
)
from .records import (
    Predictions,
    RecordError,
    check_same_columns,
    check_same_images,
    check_same_labels,
    load_causality,
    load_predictions,
)
from .render import (
    Section,
    details_html,
    figure_png,
    html_page,
    image_html,
    markdown_table,
    note_html,
    paragraph_html,
    table_html,
)
from .summary import (
    BINARY_METRICS,
    DEFAULT_RANK_METRIC,
    REFERENCE_SCORES,
    format_ci,
    model_groups,
    model_table,
    pairwise_table,
    ranking_table,
)

#: Scores shown in the main baselines table (all scores sit in a collapsed one).
KEY_SCORES = ('energy_pointing_game', 'saliency_auroc', 'pointing_game', 'deletion_auc',
              'insertion_auc')
#: Figures written only when their inputs are given; a rerun without them removes stale ones.
OPTIONAL_FIGURES = ('causality', 'gallery')


def _model_names(pred_paths: Sequence[str], names: Optional[Sequence[str]]) -> List[str]:
    """Given names, or the file stems; both must be unique."""
    if names is None:
        names = [osp.splitext(osp.basename(p))[0] for p in pred_paths]
        if len(set(names)) < len(names):
            raise RecordError(f'predictions files share a file name {names}; pass --names')
    if len(names) != len(pred_paths):
        raise RecordError(f'got {len(names)} names for {len(pred_paths)} predictions files')
    if len(set(names)) < len(names):
        raise RecordError(f'model names must be unique, got {list(names)}')
    return list(names)


def _per_model(option: str, values: Optional[Sequence[str]], n_models: int) -> None:
    if values is not None and len(values) != n_models:
        raise RecordError(f'{option} needs one entry per predictions file ({n_models}), '
                          f'got {len(values)}')


def load_inputs(pred_paths: Sequence[str], names: Optional[Sequence[str]] = None,
                cam_paths: Optional[Sequence[str]] = None,
                images_dirs: Optional[Sequence[str]] = None,
                positive_class: str = 'osteoporosis'
                ) -> Tuple[Dict[str, Predictions], Optional[Dict[str, pd.DataFrame]]]:
    """Read and cross-check all records.

    Every predictions file must cover the same images with the same labels; every causality
    file the same images (a subset of the predictions' images) with the same score columns.

    Args:
        pred_paths (Sequence[str]): one predictions file per model.
        names (Sequence[str], optional): model names; default the file stems.
        cam_paths (Sequence[str], optional): one causality file per model, same order.
        images_dirs (Sequence[str], optional): one overlay directory per model, same order.
        positive_class (str): positive class name. Defaults to ``'osteoporosis'``.

    Returns:
        tuple: ``models`` (name -> Predictions) and ``causality`` (name -> DataFrame, or None).

    Raises:
        RecordError: any inconsistency, naming the files involved.
    """
    if not pred_paths:
        raise RecordError('no predictions files given')
    names = _model_names(pred_paths, names)
    _per_model('--cam', cam_paths, len(names))
    _per_model('--images-dir', images_dirs, len(names))
    for directory in images_dirs or ():
        if not osp.isdir(directory):
            raise RecordError(f'overlay directory not found: {directory}')
    models = {n: (load_oof_predictions if is_oof_file(p) else load_predictions)(p, positive_class)
              for n, p in zip(names, pred_paths)}
    check_shared_folds(models)
    check_same_images({m.path: m.img_id for m in models.values()}, 'predictions')
    check_same_labels(list(models.values()))
    if not cam_paths:
        return models, None
    tables = {p: load_causality(p) for p in cam_paths}
    check_same_images({p: t.index for p, t in tables.items()}, 'causality')
    extra = set(next(iter(tables.values())).index) - set(next(iter(models.values())).img_id)
    if extra:
        raise RecordError(f'causality files hold {len(extra)} images without predictions: '
                          f'{sorted(extra)[:10]}')
    check_same_columns(tables)
    return models, dict(zip(names, tables.values()))


def _load_baselines(names: List[str], causality: Optional[Dict[str, pd.DataFrame]],
                    prior_dirs: Optional[Sequence[str]]) -> tuple:
    """Prior and random-weights tables, checked against the models' causality images."""
    if prior_dirs and not causality:
        raise RecordError("--priors needs the models' causality files (--cam)")
    if not prior_dirs:
        return {}, {}
    priors, random = load_prior_dirs(prior_dirs, names)
    for name in names:
        ids = set(causality[name].index)
        for what, table in [*priors[name].items(), ('random weights', random.get(name))]:
            lacking = ids - set(table.index) if table is not None else set()
            if lacking:
                raise RecordError(f'{what} scores for {name!r} lack {len(lacking)} images of '
                                  f'its causality file: {sorted(lacking)[:10]}')
    return priors, random


def compare_models(pred_paths: Sequence[str], out_dir: str,
                   names: Optional[Sequence[str]] = None,
                   cam_paths: Optional[Sequence[str]] = None,
                   images_dirs: Optional[Sequence[str]] = None,
                   positive_class: str = 'osteoporosis',
                   rank_metric: Optional[str] = None, n_boot: int = 2000, alpha: float = 0.05,
                   seed: int = 0, max_gallery: int = 8,
                   cam_test: str = 'wilcoxon',
                   prior_dirs: Optional[Sequence[str]] = None,
                   roi_effect_paths: Optional[Sequence[str]] = None) -> Dict[str, str]:
    """Compare models and write the report files into ``out_dir``.

    Writes ``metrics``, ``pairwise``, ``ranking`` (and, with priors, ``baselines``; with ROI
    interventions, ``roi_effects``) tables as ``.csv`` and ``.json``, everything as
    ``report.md``, the figures ``roc.png``, ``calibration.png``, ``causality.png`` (with
    causality files; chance and prior lines with priors) and ``gallery.png`` (with overlay dirs
    and disagreeing images; the ROI-filled film beside the overlays), and ``report.html`` with
    everything embedded, opening with a summary paragraph. Files are written atomically; a
    rerun replaces them and removes an optional output its inputs no longer produce.

    Args:
        pred_paths (Sequence[str]): one predictions file per model.
        out_dir (str): output folder (created).
        names (Sequence[str], optional): model names; default the file stems.
        cam_paths (Sequence[str], optional): one causality file per model.
        images_dirs (Sequence[str], optional): one Grad-CAM overlay folder per model.
        positive_class (str): positive class. Defaults to ``'osteoporosis'``.
        rank_metric (str, optional): causality score of the ranking; default the energy
            pointing game when present, else the first.
        n_boot (int): bootstrap resamples. Defaults to 2000.
        alpha (float): 1 - confidence level, and the tests' level. Defaults to 0.05.
        seed (int): bootstrap seed. Defaults to 0.
        max_gallery (int): at most this many images in the gallery. Defaults to 8.
        cam_test (str): ``'wilcoxon'`` (default) or ``'permutation'`` for causality scores.
        prior_dirs (Sequence[str], optional): ``tools/analysis/cam_priors.py`` output folders,
            one per model (same order; with ``random_weights/``) or one shared by all.
        roi_effect_paths (Sequence[str], optional): one ``roi_intervention.csv`` per model.

    Returns:
        dict[str, str]: output kind -> path of every file written.

    Raises:
        RecordError: inconsistent or malformed inputs (see :func:`load_inputs`).
    """
    models, causality = load_inputs(pred_paths, names, cam_paths, images_dirs, positive_class)
    names = list(models)
    priors, random = _load_baselines(names, causality, prior_dirs)
    _per_model('--roi-effects', roi_effect_paths, len(names))
    os.makedirs(out_dir, exist_ok=True)
    written: Dict[str, str] = {}

    def save(kind: str, filename: str, data: Union[str, bytes]) -> None:
        written[kind] = osp.join(out_dir, filename)
        write_atomic(written[kind], data)

    with tqdm(total=6, desc='compare_models', unit='step') as bar:
        metrics = model_table(models, causality, n_boot, alpha, seed)
        bar.update()
        pairwise = (pairwise_table(models, causality, n_boot, alpha, seed, cam_test)
                    if len(models) > 1 else pd.DataFrame())
        patients = {n: pd.Series(model_groups(m), index=m.img_id) for n, m in models.items()}
        baselines = (baseline_table(causality, priors, random, alpha, patients)
                     if causality and priors else pd.DataFrame())
        effects = (load_effects(roi_effect_paths, names, n_boot, seed, alpha)
                   if roi_effect_paths else pd.DataFrame())
        bar.update()
        ranking = ranking_table(metrics, baselines if len(baselines) else None, rank_metric)
        outputs = {'metrics': metrics, 'pairwise': pairwise, 'ranking': ranking,
                   'baselines': baselines, 'roi_effects': effects}
        for stem, table in outputs.items():
            if table.empty and stem in ('baselines', 'roi_effects'):
                _remove_stale(out_dir, [f'{stem}.csv', f'{stem}.json'])
                continue
            indexed = stem in ('metrics', 'ranking', 'roi_effects')
            save(f'{stem}_csv', f'{stem}.csv', table.to_csv(index=indexed))
            save(f'{stem}_json', f'{stem}.json',
                 table.to_json(orient='index' if indexed else 'records', indent=2))
        bar.update()
        figures = {'roc': roc_figure(models, metrics, min(n_boot, 500), alpha, seed),
                   'calibration': calibration_figure(models),
                   'reliability': reliability_figure(models),
                   'decision_curve': decision_curve_figure(models)}
        calibration = calibration_table(models)
        save('calibration_csv', 'calibration.csv', calibration.to_csv())
        bar.update()
        if causality:
            columns = [c for c in next(iter(causality.values())).columns
                       if c not in REFERENCE_SCORES]
            figures['causality'] = causality_figure(causality, columns, priors=priors,
                                                    random=random)
        rows = gallery_rows(models, images_dirs, max_gallery) if images_dirs else []
        if rows:
            figures['gallery'] = gallery_figure(models, images_dirs, rows)
        pngs = {kind: figure_png(fig) for kind, fig in figures.items()}
        for kind, png in pngs.items():
            save(kind, f'{kind}.png', png)
        _remove_stale(out_dir, [f'{k}.png' for k in OPTIONAL_FIGURES if k not in pngs])
        bar.update()
        summary = _summary(models, metrics, pairwise, ranking, baselines, effects, causality,
                           alpha)
        tables = _display_tables(metrics, ranking, baselines, effects)
        tables['Calibration and clinical utility'] = calibration_display(calibration)
        groups = _pairwise_groups(pairwise)
        notes = _method_notes(models, causality, images_dirs, rows, positive_class,
                              n_boot, alpha, cam_test, priors, random, effects, ranking,
                              metrics, pairwise) + oof_notes(models)
        save('markdown', 'report.md', _markdown(summary, tables, groups, notes))
        save('html', 'report.html', _html(summary, tables, groups, notes, pngs))
        bar.update()
    return written


def _remove_stale(out_dir: str, filenames: Sequence[str]) -> None:
    for filename in filenames:
        path = osp.join(out_dir, filename)
        if osp.isfile(path):
            os.remove(path)


def _p_text(p: float) -> str:
    return 'n/a' if p != p else ('<0.0001' if p < 1e-4 else f'{p:.4f}')


def _pair_row(pairwise: pd.DataFrame, a: str, b: str, metric: str) -> Optional[pd.Series]:
    """The pairwise row of ``metric`` for models a and b, oriented as a - b."""
    if pairwise.empty:
        return None
    hit = pairwise[(pairwise['metric'] == metric) & (pairwise['model_a'] == a)
                   & (pairwise['model_b'] == b)]
    if len(hit):
        return hit.iloc[0]
    hit = pairwise[(pairwise['metric'] == metric) & (pairwise['model_a'] == b)
                   & (pairwise['model_b'] == a)]
    if not len(hit):
        return None
    row = hit.iloc[0].copy()
    row['difference'], row['low'], row['high'] = -row['difference'], -row['high'], -row['low']
    return row


def _p_is(p: float) -> str:
    """``'= 0.012'`` or ``'< 0.0001'`` for a sentence."""
    return '= n/a' if p != p else ('< 0.0001' if p < 1e-4 else f'= {p:.2g}')


def _lead(best: str, other: str, row: Optional[pd.Series], what: str, alpha: float) -> str:
    if row is None or row['difference'] != row['difference']:
        return f'{what} was not compared with {other}'
    verb = 'leads' if row['difference'] > 0 else 'trails'
    survives = 'survives' if row['p_holm'] < alpha else 'does not survive'
    return (f'on {what} it {verb} {other} by {abs(row["difference"]):.3f} '
            f'(Holm p {_p_is(row["p_holm"])}), which {survives} Holm')


def _summary(models: dict, metrics: pd.DataFrame, pairwise: pd.DataFrame,
             ranking: pd.DataFrame, baselines: pd.DataFrame, effects: pd.DataFrame,
             causality: Optional[dict], alpha: float) -> List[str]:
    """The report's opening paragraphs, in plain sentences built from the tables."""
    best = ranking.index[0]
    row = metrics.loc[best]
    cam_metric = next((c[4:] for c in ranking.columns if c.startswith('cam_')), None)
    first = (f'{best} ranks first of {len(models)} models by the stated rule '
             f'({ranking.loc[best, "rule"]}), with AUC {row["auc"]:.3f} '
             f'[{row["auc_low"]:.3f}, {row["auc_high"]:.3f}]')
    if cam_metric:
        first += (f' and mean {cam_metric} {row["cam_" + cam_metric]:.3f} '
                  f'[{row["cam_" + cam_metric + "_low"]:.3f}, '
                  f'{row["cam_" + cam_metric + "_high"]:.3f}]')
    paragraphs = [first + '.']
    leads = []
    for other in ranking.index[1:]:
        parts = [_lead(best, other, _pair_row(pairwise, best, other, 'auc'), 'AUC', alpha)]
        if cam_metric:
            parts.append(_lead(best, other, _pair_row(pairwise, best, other,
                                                      f'cam_{cam_metric}'), cam_metric, alpha))
        leads.append('; '.join(parts))
    if leads:
        paragraphs.append('Against each other model (paired tests, Holm within each metric), '
                          + '; '.join(leads) + '.')
    shown = [s for s in (DEFAULT_RANK_METRIC, 'saliency_auroc', 'pointing_game',
                         'deletion_auc', 'insertion_auc')
             if len(baselines) and s in set(baselines['score'])]
    for name in ranking.index:
        sentences = []
        if causality and len(baselines):
            parts = evidence_sentences(baselines, name, shown)
            if parts:
                sentences.append('its evidence: ' + '; '.join(parts))
            rnd = baselines[(baselines['model'] == name) & baselines['score'].isin(shown)]
            if 'beats_random' in rnd:
                above = rnd.loc[rnd['beats_random'], 'score'].tolist()
                sentences.append(
                    'its maps beat those of its randomised-weights copy on '
                    + (', '.join(above) if above else 'none of these scores'))
        elif causality:
            sentences.append('no prior files were given, so its causality scores are not '
                             'compared with chance or the priors')
        if len(effects) and name in effects.index:
            sentences.append(causal_verdict(effects.loc[name], alpha))
        else:
            sentences.append('no ROI intervention was given, so whether its decision depends '
                             'on the ROI is not assessed')
        paragraphs.append(f'{name}: ' + '. '.join(s[0].upper() + s[1:] if i else s
                                                  for i, s in enumerate(sentences)) + '.')
    return paragraphs


def _display_tables(metrics: pd.DataFrame, ranking: pd.DataFrame, baselines: pd.DataFrame,
                    effects: pd.DataFrame) -> Dict[str, pd.DataFrame]:
    """Human-readable versions of the tables (values with CIs as text), narrow enough to fit."""
    shown = metrics[['n_patients', 'n', 'n_positive', 'threshold']].rename(
        columns={'n_patients': 'patients', 'n': 'images'}).join(
        format_ci(metrics, ['auc', *BINARY_METRICS]))
    shown.index.name = 'model'
    tables = {'Per-model metrics': shown}
    cam = [c for c in metrics.columns
           if c.startswith('cam_') and not c.endswith(('_low', '_high', '_n', '_n_skipped'))]
    if cam:
        # Scores as rows, models as columns: as many columns as models, so it fits the page.
        scores = format_ci(metrics, cam).rename(columns=lambda c: c[4:]).T
        scores.index.name = 'score (mean [CI])'
        tables['Per-model causality'] = scores
    if len(baselines):
        priors = [p for p in ('uniform', 'centre', 'dataset_roi', 'random_weights')
                  if p in baselines.columns]
        view = baselines[['model', 'score', 'n', 'model_mean'] + priors].copy()
        view = view.rename(columns={'model_mean': 'model mean', **PRIOR_NAMES})
        view['lift over best prior'] = [
            f"{r['lift']:+.3f} ({PRIOR_NAMES.get(r['best_prior'], r['best_prior'])})"
            for _, r in baselines.iterrows()]
        view['p (Holm), best prior'] = [
            _p_text(r.get(f"p_holm_{r['best_prior']}", np.nan)) for _, r in baselines.iterrows()]
        view['beats chance / all priors'] = [
            f"{'yes' if r['beats_chance'] else 'no'} / {'yes' if r['beats_priors'] else 'no'}"
            for _, r in baselines.iterrows()]
        view = view.set_index('model')
        key = view['score'].isin(KEY_SCORES)
        if key.any() and not key.all():
            # The key scores stay in view; every score is one click away.
            tables['Causality against chance and priors'] = view[key]
            tables['Causality against chance and priors: all scores'] = view
        else:
            tables['Causality against chance and priors'] = view
    if len(effects):
        view = pd.DataFrame({
            'fill': effects.get('fill', pd.Series('', index=effects.index)),
            'patients': effects['n_patients'],
            'ROI effect': effects['mean_roi_effect'],
            'control effect': effects['mean_control_effect'],
            'difference [CI]': [f"{r['difference']:+.3f} [{r['ci_low']:+.3f}, "
                                f"{r['ci_high']:+.3f}]" for _, r in effects.iterrows()],
            'p (Holm)': effects['p_holm'].map(_p_text)}, index=effects.index)
        view.index.name = 'model'
        tables['Causal effect of the ROI (intervention)'] = view
    ranking = ranking.copy()
    ranking.index.name = 'model'
    tables['Combined ranking'] = ranking
    return tables


def _pairwise_groups(pairwise: pd.DataFrame) -> Dict[str, pd.DataFrame]:
    """Pairwise differences, one table per metric (shown collapsed in the HTML report)."""
    if pairwise.empty:
        return {}
    diff = format_ci(pairwise.rename(columns={'difference': 'd', 'low': 'd_low',
                                              'high': 'd_high'}), ['d'])['d']
    table = pd.DataFrame({
        'model_a': pairwise['model_a'], 'model_b': pairwise['model_b'],
        'metric': pairwise['metric'], 'difference [CI]': diff,
        'patients': pairwise['n_patients'], 'images': pairwise['n'], 'test': pairwise['test'],
        'p': pairwise['p_value'].map(_p_text),
        'p (Holm)': pairwise['p_holm'].map(_p_text)})
    return {metric: group.drop(columns='metric').set_index('model_a')
            for metric, group in table.groupby('metric', sort=False)}


def _unit_note(metrics: pd.DataFrame) -> str:
    """The unit of analysis and the patient/image counts, in words."""
    unit = metrics['unit'].iloc[0]
    n_patients, n_images = int(metrics['n_patients'].iloc[0]), int(metrics['n'].iloc[0])
    if unit == 'image':
        return (f'Unit of analysis: the image ({n_images} images; the predictions carry no '
                'patient id, so each image is treated as its own patient).')
    text = (f'Unit of analysis: the patient ({n_patients} patients, {n_images} images; images '
            'without a patient id count as their own patient).')
    if n_patients == n_images:
        return text + (' Every patient has one image, so the clustered methods below equal '
                       'their image-level forms (DeLong, McNemar) exactly.')
    return text + (' Patients hold several images, so every CI and test below treats the '
                   "patient, not the image, as the independent unit.")


def _method_notes(models: dict, causality: Optional[dict], images_dirs: Optional[Sequence[str]],
                  shown_rows: Sequence[int], positive_class: str, n_boot: int,
                  alpha: float, cam_test: str, priors: dict, random: dict,
                  effects: pd.DataFrame, ranking: pd.DataFrame, metrics: pd.DataFrame,
                  pairwise: pd.DataFrame) -> List[str]:
    level = f'{100 * (1 - alpha):g} %'
    cam_name = 'Wilcoxon signed-rank test' if cam_test == 'wilcoxon' else 'paired permutation test'
    notes = [
        _unit_note(metrics),
        f'Binary task: {positive_class!r} vs rest; score = prob_{positive_class}; decisions at '
        "each model's threshold (the file's threshold column, else 0.5): "
        + ', '.join(f'{n} {m.threshold:g}' for n, m in models.items()) + '.',
        f'{level} CIs: AUC by DeLong, clustered by patient when a patient has several images '
        '(Obuchowski 1997: structural components summed within each patient); accuracy, BAC, '
        'SEN, SPE, mean causality and the paired differences by percentile bootstrap '
        f'({n_boot} resamples of whole patients, stratified by whether the patient has a '
        'positive image). A bootstrap CI is shown as n/a when the statistic was undefined '
        '(e.g. one class only) in more than 1 % of its resamples; the skipped counts are in '
        'metrics.csv (*_n_skipped) and pairwise.csv (n_skipped). roi_area_share describes the '
        'expert ROI (chance level of the pointing game and the energy), not the model; '
        'zero_map is the share of all-zero maps. Neither is tested or ranked.',
        'Pairwise p-values (two-sided): AUC by the DeLong test, clustered (Obuchowski 1997) '
        'when a patient has several images; '
        'accuracy by McNemar, clustered by patient (Obuchowski 1998) when a patient has '
        'several images (else exact binomial below 25 discordant pairs, chi-square above); '
        f'causality by the {cam_name} on per-patient mean scores (images where both models '
        'have a score); Holm adjustment within each metric over all model pairs.',
        f'Ranking rule: {ranking["rule"].iloc[0]}. Ranks are scale-free: no AUC is ever added '
        'to an overlap score.',
    ]
    why = [f'{name}: {text}' for name, text in metrics.get('ci_notes', pd.Series()).items()
           if text]
    if not pairwise.empty and 'ci_note' in pairwise:
        why += [f'{r.model_a} - {r.model_b}, {r.metric}: {r.ci_note}'
                for r in pairwise.itertuples() if r.ci_note]
    if why:
        notes.append('Missing CIs (n/a): ' + ' | '.join(why) + '.')
    if priors:
        notes.append(
            'Baselines: ' + ', '.join(PRIOR_NAMES[p] for p in next(iter(priors.values())))
            + (' and each model\'s randomised-weights copy (Adebayo et al. 2018)' if random
               else '') + '. The dataset ROI prior is the mean training ROI mask in '
            'network-input coordinates. Each model is compared with every prior on the same '
            'images (two-sided Wilcoxon signed-rank on per-patient means); Holm over all model x '
            'score x baseline '
            "tests. Lift = mean paired difference to the score's best trivial prior. 'Beats "
            "chance': Holm p < alpha and above the uniform map; 'beats all priors': the same "
            'against every trivial prior (an intersection-union test, so naming the best prior '
            'does not favour the model).')
    elif causality:
        notes.append('No prior files given (tools/analysis/cam_priors.py): causality scores '
                     'are shown without chance and prior baselines.')
    if len(effects):
        notes.append('Causal effect of the ROI: the change of the target class log-odds when '
                     'the expert ROI is filled, minus the mean change for same-shape control '
                     'regions on the anatomy (tools/analysis/roi_intervention.py); per-patient '
                     'means, patient-level bootstrap CI, Wilcoxon signed-rank test, Holm over '
                     'the models. "Causal" is used only for this interventional result.')
    if not causality:
        notes.append('No causality files given: ranking by AUC only.')
    if images_dirs and not shown_rows:
        notes.append('CAM gallery: no image where the models disagree has an overlay from '
                     'every model (gradcam.py writes overlays for its first --num-vis images).')
    elif not images_dirs:
        notes.append('CAM gallery: no overlay directories given (--images-dir).')
    return notes


def _markdown(summary: Sequence[str], tables: Dict[str, pd.DataFrame],
              groups: Dict[str, pd.DataFrame], notes: Sequence[str]) -> str:
    parts = ['# Model comparison\n', '## Summary\n'] + [f'{p}\n' for p in summary]
    for heading, table in tables.items():
        parts += [f'## {heading}\n', markdown_table(table)]
    if groups:
        parts.append('## Pairwise differences (A - B)\n')
        for metric, table in groups.items():
            parts += [f'### {metric}\n', markdown_table(table)]
    parts += ['## Methods\n'] + [f'- {n}' for n in notes]
    return '\n'.join(parts) + '\n'


def _html(summary: Sequence[str], tables: Dict[str, pd.DataFrame],
          groups: Dict[str, pd.DataFrame], notes: Sequence[str],
          pngs: Dict[str, bytes]) -> str:
    sections = [Section('Summary', ''.join(paragraph_html(p) for p in summary))]
    for heading, table in tables.items():
        if heading.endswith(': all scores'):  # collapsed under the key-score table
            sections[-1] = Section(sections[-1].heading, sections[-1].body + details_html(
                f'all scores ({len(table)} rows)', table_html(table)))
        else:
            sections.append(Section(heading, table_html(table)))
    if groups:
        sections.append(Section('Pairwise differences (A - B)', ''.join(
            details_html(f'{metric} ({len(t)} pairs)', table_html(t))
            for metric, t in groups.items())))
    captions = {'roc': 'ROC curves', 'calibration': 'Calibration',
                'causality': 'Causality scores (lines: chance and priors)',
                'gallery': 'CAM gallery: models disagree (last column: ROI filled)',
                'reliability': 'Reliability diagram (95 % CIs)',
                'decision_curve': 'Decision curve: net benefit'}
    sections += [Section(captions[k], image_html(png, captions[k])) for k, png in pngs.items()]
    sections.append(Section('Methods', ''.join(note_html(n) for n in notes)))
    return html_page('Model comparison', sections)
