"""Compare models from their per-image records and write tables, plots and an HTML report."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import pandas as pd
from tqdm import tqdm

from ..explain.io import write_atomic
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
    figure_png,
    html_page,
    image_html,
    markdown_table,
    note_html,
    table_html,
)
from .summary import (
    BINARY_METRICS,
    REFERENCE_SCORES,
    format_ci,
    model_table,
    pairwise_table,
    ranking_table,
)

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


def compare_models(pred_paths: Sequence[str], out_dir: str,
                   names: Optional[Sequence[str]] = None,
                   cam_paths: Optional[Sequence[str]] = None,
                   images_dirs: Optional[Sequence[str]] = None,
                   positive_class: str = 'osteoporosis', weight_auc: float = 0.5,
                   rank_metric: Optional[str] = None, n_boot: int = 2000, alpha: float = 0.05,
                   seed: int = 0, max_gallery: int = 8,
                   cam_test: str = 'wilcoxon') -> Dict[str, str]:
    """Compare models and write the report files into ``out_dir``.

    Writes ``metrics``, ``pairwise`` and ``ranking`` tables as ``.csv`` and ``.json``, all three
    as ``report.md``, the figures ``roc.png``, ``calibration.png``, ``causality.png`` (with
    causality files) and ``gallery.png`` (with overlay dirs and disagreeing images), and
    ``report.html`` with everything embedded. Files are written atomically; a rerun replaces
    them and removes an optional figure its inputs no longer produce.

    Args:
        pred_paths (Sequence[str]): one predictions file per model.
        out_dir (str): output folder (created).
        names (Sequence[str], optional): model names; default the file stems.
        cam_paths (Sequence[str], optional): one causality file per model.
        images_dirs (Sequence[str], optional): one Grad-CAM overlay folder per model.
        positive_class (str): positive class. Defaults to ``'osteoporosis'``.
        weight_auc (float): AUC weight of the combined ranking. Defaults to 0.5.
        rank_metric (str, optional): causality score of the ranking; default the first.
        n_boot (int): bootstrap resamples. Defaults to 2000.
        alpha (float): 1 - confidence level. Defaults to 0.05.
        seed (int): bootstrap seed. Defaults to 0.
        max_gallery (int): at most this many images in the gallery. Defaults to 8.
        cam_test (str): ``'wilcoxon'`` (default) or ``'permutation'`` for causality scores.

    Returns:
        dict[str, str]: output kind -> path of every file written.

    Raises:
        RecordError: inconsistent or malformed inputs (see :func:`load_inputs`).
    """
    models, causality = load_inputs(pred_paths, names, cam_paths, images_dirs, positive_class)
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
        bar.update()
        ranking = ranking_table(metrics, weight_auc, rank_metric)
        for stem, table in (('metrics', metrics), ('pairwise', pairwise), ('ranking', ranking)):
            save(f'{stem}_csv', f'{stem}.csv', table.to_csv(index=stem != 'pairwise'))
            save(f'{stem}_json', f'{stem}.json',
                 table.to_json(orient='records' if stem == 'pairwise' else 'index', indent=2))
        bar.update()
        figures = {'roc': roc_figure(models, metrics, min(n_boot, 500), alpha, seed),
                   'calibration': calibration_figure(models),
                   'reliability': reliability_figure(models),
                   'decision_curve': decision_curve_figure(models)}
        calibration = calibration_table(models)
        save('calibration_csv', 'calibration.csv', calibration.to_csv())
        bar.update()
        if causality:
            figures['causality'] = causality_figure(causality, [
                c for c in next(iter(causality.values())).columns if c not in REFERENCE_SCORES])
        rows = gallery_rows(models, images_dirs, max_gallery) if images_dirs else []
        if rows:
            figures['gallery'] = gallery_figure(models, images_dirs, rows)
        pngs = {kind: figure_png(fig) for kind, fig in figures.items()}
        for kind, png in pngs.items():
            save(kind, f'{kind}.png', png)
        for kind in OPTIONAL_FIGURES:
            stale = osp.join(out_dir, f'{kind}.png')
            if kind not in pngs and osp.isfile(stale):
                os.remove(stale)
        bar.update()
        tables = _display_tables(metrics, pairwise, ranking)
        tables['Calibration and clinical utility'] = calibration_display(calibration)
        notes = _method_notes(models, causality, images_dirs, rows, positive_class,
                              n_boot, alpha, cam_test, metrics, pairwise) + oof_notes(models)
        save('markdown', 'report.md', _markdown(tables, notes))
        save('html', 'report.html', _html(tables, notes, pngs))
        bar.update()
    return written


def _display_tables(metrics: pd.DataFrame, pairwise: pd.DataFrame,
                    ranking: pd.DataFrame) -> Dict[str, pd.DataFrame]:
    """Human-readable versions of the three tables (values with CIs as text)."""
    shown = metrics[['n_patients', 'n', 'n_positive', 'threshold']].rename(
        columns={'n_patients': 'patients', 'n': 'images'}).join(
        format_ci(metrics, ['auc', *BINARY_METRICS]))
    shown.index.name = 'model'
    tables = {'Per-model metrics': shown}
    cam = [c for c in metrics.columns
           if c.startswith('cam_') and not c.endswith(('_low', '_high', '_n', '_n_skipped'))]
    if cam:
        scores = format_ci(metrics, cam).rename(columns=lambda c: c[4:])
        scores.index.name = 'model'
        tables['Per-model causality (mean [CI])'] = scores
    if not pairwise.empty:
        diff = format_ci(pairwise.rename(columns={'difference': 'd', 'low': 'd_low',
                                                  'high': 'd_high'}), ['d'])['d']
        tables['Pairwise differences (A - B)'] = pd.DataFrame({
            'model_a': pairwise['model_a'], 'model_b': pairwise['model_b'],
            'metric': pairwise['metric'], 'difference [CI]': diff,
            'patients': pairwise['n_patients'], 'images': pairwise['n'],
            'test': pairwise['test'], 'p': pairwise['p_value'].map(_p_text),
            'p (Holm)': pairwise['p_holm'].map(_p_text)}).set_index('model_a')
    ranking = ranking.copy()
    ranking.index.name = 'model'
    tables['Combined ranking'] = ranking
    return tables


def _p_text(p: float) -> str:
    return 'n/a' if p != p else ('<0.0001' if p < 1e-4 else f'{p:.4f}')


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
                  alpha: float, cam_test: str, metrics: pd.DataFrame,
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
        'expert ROI (chance level), not the model; it is not tested or ranked.',
        'Pairwise p-values (two-sided): AUC by the DeLong test, clustered (Obuchowski 1997) '
        'when a patient has several images; '
        'accuracy by McNemar, clustered by patient (Obuchowski 1998) when a patient has '
        'several images (else exact binomial below 25 discordant pairs, chi-square above); '
        f'causality by the {cam_name} on per-patient mean scores (images where both models '
        'have a score); Holm adjustment within each metric over all model pairs.',
    ]
    why = [f'{name}: {text}' for name, text in metrics.get('ci_notes', pd.Series()).items()
           if text]
    if not pairwise.empty and 'ci_note' in pairwise:
        why += [f'{r.model_a} - {r.model_b}, {r.metric}: {r.ci_note}'
                for r in pairwise.itertuples() if r.ci_note]
    if why:
        notes.append('Missing CIs (n/a): ' + ' | '.join(why) + '.')
    if not causality:
        notes.append('No causality files given: ranking by AUC only.')
    if images_dirs and not shown_rows:
        notes.append('CAM gallery: no image where the models disagree has an overlay from '
                     'every model (gradcam.py writes overlays for its first --num-vis images).')
    elif not images_dirs:
        notes.append('CAM gallery: no overlay directories given (--images-dir).')
    return notes


def _markdown(tables: Dict[str, pd.DataFrame], notes: Sequence[str]) -> str:
    parts = ['# Model comparison\n']
    for heading, table in tables.items():
        parts += [f'## {heading}\n', markdown_table(table)]
    parts += ['## Methods\n'] + [f'- {n}' for n in notes]
    return '\n'.join(parts) + '\n'


def _html(tables: Dict[str, pd.DataFrame], notes: Sequence[str], pngs: Dict[str, bytes]) -> str:
    sections = [Section(h, table_html(t)) for h, t in tables.items()]
    captions = {'roc': 'ROC curves', 'calibration': 'Calibration',
                'causality': 'Causality scores', 'gallery': 'CAM gallery: models disagree',
                'reliability': 'Reliability diagram (95 % CIs)',
                'decision_curve': 'Decision curve: net benefit'}
    sections += [Section(captions[k], image_html(png, captions[k])) for k, png in pngs.items()]
    sections.append(Section('Methods', ''.join(note_html(n) for n in notes)))
    return html_page('Model comparison', sections)
