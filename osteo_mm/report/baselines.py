"""Every causality score beside its baselines, and the causal effect of the expert region.

Baselines (written by ``tools/analysis/cam_priors.py``): the trivial, image-independent priors
(uniform map = chance, centre prior, dataset ROI prior = mean training ROI) and, per model, a
randomised-weights copy of it (Adebayo et al. 2018).

Rules (stated in the report's methods):

* For each model and score, the model is compared with every trivial prior on the same images
  (paired two-sided Wilcoxon signed-rank test on per-patient means: the patient is the unit);
  Holm's adjustment runs over all model x score x prior tests of the report.
* **Lift** is the mean paired difference to the *best* trivial prior of that score (the prior
  with the highest mean on these images; lowest for lower-is-better scores). The best prior is
  not chosen to favour the model: "beats the priors" requires a significant positive lift over
  **every** trivial prior (an intersection-union test), so which prior is called best does not
  change the claim.
* "Beats chance" is a significant positive difference to the uniform map.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ..explain.intervention import summarize_effects
from ..stats import holm, patient_means, wilcoxon_test
from .records import RecordError, load_causality

#: Trivial priors, in report order, and their display names.
TRIVIAL_PRIORS = ('uniform', 'centre', 'dataset_roi')
PRIOR_NAMES = {'uniform': 'uniform (chance)', 'centre': 'centre prior',
               'dataset_roi': 'dataset ROI prior', 'random_weights': 'random weights'}
#: Sub-folder of a cam_priors.py folder with the randomised-weights maps.
RANDOM_DIR = 'random_weights'
#: Causality columns that are not model scores (descriptive, or counts).
NOT_SCORES = ('roi_area_share', 'zero_map')


def lower_is_better(score: str) -> bool:
    """True for scores where a smaller value is better (deletion-curve AUCs)."""
    return 'deletion' in score


def load_priors(paths: Sequence[str]) -> Dict[str, pd.DataFrame]:
    """Read prior causality files; the name is the file stem (``uniform.csv`` -> ``uniform``).

    Raises:
        RecordError: an unknown or repeated prior name, or a malformed file.
    """
    priors = {}
    for path in paths:
        name = osp.splitext(osp.basename(path))[0]
        if name not in TRIVIAL_PRIORS:
            raise RecordError(f'{path}: prior files are named {", ".join(TRIVIAL_PRIORS)} '
                              '(.csv), as cam_priors.py writes them')
        if name in priors:
            raise RecordError(f'{path}: prior {name!r} given twice')
        priors[name] = load_causality(path)
    return priors


def load_prior_dirs(dirs: Sequence[str], names: Sequence[str]
                    ) -> Tuple[Dict[str, Dict[str, pd.DataFrame]], Dict[str, pd.DataFrame]]:
    """Read ``cam_priors.py --out-dir`` folders: one per model, or one shared by all.

    Each folder holds ``uniform.csv``, ``centre.csv``, ``dataset_roi.csv`` (scored in that
    model's network-input coordinates) and, when made with ``--checkpoint``,
    ``random_weights/causality.csv``.

    Returns:
        tuple: model -> {prior -> scores}, and model -> random-weights scores (models whose
        folder has them).

    Raises:
        RecordError: a wrong number of folders, or a folder without the prior files.
    """
    if len(dirs) not in (1, len(names)):
        raise RecordError(f'--priors needs one cam_priors.py folder per model ({len(names)}) '
                          f'or one for all, got {len(dirs)}')
    folders = list(dirs) * len(names) if len(dirs) == 1 else list(dirs)
    priors, random = {}, {}
    for name, folder in zip(names, folders):
        files = [osp.join(folder, f'{p}.csv') for p in TRIVIAL_PRIORS]
        missing = [f for f in files if not osp.isfile(f)]
        if missing:
            raise RecordError(f'{folder}: not a cam_priors.py folder (no {missing[0]})')
        priors[name] = load_priors(files)
        rnd = osp.join(folder, RANDOM_DIR, 'causality.csv')
        if osp.isfile(rnd) and len(dirs) == len(names):
            random[name] = load_causality(rnd)
    return priors, random


def _compare(values: pd.Series, other: pd.Series, groups: Optional[pd.Series]) -> dict:
    """Mean of ``other``, mean paired difference and Wilcoxon p on the images both score.

    With ``groups`` (img_id -> patient) the pairs are per-patient means first: the patient is
    the unit of analysis, as in the model-vs-model tests.
    """
    both = values.notna() & other.notna()
    a, b = values[both], other[both]
    if groups is not None and len(a):
        patient = groups.reindex(a.index).fillna(pd.Series(a.index, index=a.index))
        means, _ = patient_means(np.stack([a.to_numpy(), b.to_numpy()], axis=1),
                                 patient.to_numpy())
        a, b = pd.Series(means[:, 0]), pd.Series(means[:, 1])
    if not len(a):
        return dict(other_mean=np.nan, diff=np.nan, p=np.nan)
    p = wilcoxon_test(a.to_numpy(), b.to_numpy()).p_value if (a != b).any() else 1.0
    return dict(other_mean=float(b.mean()), diff=float((a - b).mean()), p=p)


def baseline_table(causality: Dict[str, pd.DataFrame],
                   priors: Dict[str, Dict[str, pd.DataFrame]],
                   random: Optional[Dict[str, pd.DataFrame]] = None,
                   alpha: float = 0.05,
                   groups: Optional[Dict[str, pd.Series]] = None) -> pd.DataFrame:
    """Each model's mean score beside the priors', with lift and Holm-adjusted paired tests.

    Args:
        causality (dict[str, pd.DataFrame]): model -> per-image scores (index ``img_id``).
        priors (dict[str, dict[str, pd.DataFrame]]): model -> trivial prior -> per-image
            scores (in that model's network-input coordinates).
        random (dict[str, pd.DataFrame], optional): model -> its random-weights copy's scores.
        alpha (float): significance level of the verdict columns. Defaults to 0.05.
        groups (dict[str, pd.Series], optional): model -> (img_id -> patient); pairs are then
            per-patient means (the unit of analysis). Without it every image is a patient.

    Returns:
        pd.DataFrame: one row per (model, score) with ``model, score, n, model_mean``, one
        ``<prior>`` mean column per prior (and ``random_weights``), ``best_prior``, ``lift``,
        ``p_<prior>`` and ``p_holm_<prior>`` (model vs prior), ``p_holm_random``,
        ``beats_chance`` and ``beats_priors`` (bool; NaN-free).
    """
    rows, tests = [], []
    for model, table in causality.items():
        model_priors = priors[model]
        scores = [c for c in table.columns if c not in NOT_SCORES
                  and all(c in p.columns for p in model_priors.values())]
        for score in scores:
            values = table[score]
            row = dict(model=model, score=score, n=int(values.notna().sum()),
                       model_mean=float(values.mean()))
            sign = -1.0 if lower_is_better(score) else 1.0
            means = {}
            for name, prior in model_priors.items():
                other = prior[score].reindex(values.index)
                result = _compare(values, other, groups.get(model) if groups else None)
                means[name] = row[name] = result['other_mean']
                row[f'diff_{name}'], row[f'p_{name}'] = result['diff'], result['p']
                tests.append((len(rows), f'p_{name}'))
            finite = {k: v for k, v in means.items() if np.isfinite(v)}
            row['best_prior'] = max(finite, key=lambda k: sign * finite[k]) if finite else ''
            row['lift'] = row.get(f'diff_{row["best_prior"]}', np.nan) if finite else np.nan
            if random and model in random and score in random[model].columns:
                other = random[model][score].reindex(values.index)
                result = _compare(values, other, groups.get(model) if groups else None)
                row['random_weights'] = result['other_mean']
                row['diff_random_weights'], row['p_random_weights'] = result['diff'], result['p']
                tests.append((len(rows), 'p_random_weights'))
            rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    p = np.array([table.loc[i, c] for i, c in tests], float)
    ok = np.isfinite(p)
    adjusted = np.full(p.shape, np.nan)
    adjusted[ok] = holm(p[ok])
    for (i, column), value in zip(tests, adjusted):
        table.loc[i, column.replace('p_', 'p_holm_', 1)] = value

    def significant(row: pd.Series, name: str) -> bool:
        sign = -1.0 if lower_is_better(row['score']) else 1.0
        p_holm = row.get(f'p_holm_{name}', np.nan)
        return bool(np.isfinite(p_holm) and p_holm < alpha
                    and sign * row.get(f'diff_{name}', np.nan) > 0)

    table['beats_chance'] = [significant(r, 'uniform') if 'uniform' in priors[r['model']]
                             else False for _, r in table.iterrows()]
    table['beats_priors'] = [bool(priors[r['model']])
                             and all(significant(r, n) for n in priors[r['model']])
                             for _, r in table.iterrows()]
    if random:
        table['beats_random'] = [significant(r, 'random_weights') for _, r in table.iterrows()]
    return table


def load_effects(paths: Sequence[str], names: Sequence[str], n_boot: int = 2000,
                 seed: int = 0, alpha: float = 0.05) -> pd.DataFrame:
    """Summaries of ``roi_intervention.csv`` files, one per model (same order as ``names``).

    Returns:
        pd.DataFrame: indexed by model, the fields of
        :func:`osteo_mm.explain.intervention.summarize_effects` plus ``p_holm`` (Holm over the
        models) and ``fill`` when the file's summary JSON records it.

    Raises:
        RecordError: a missing file or column.
    """
    if len(paths) != len(names):
        raise RecordError(f'--roi-effects needs one file per model ({len(names)}), got '
                          f'{len(paths)}')
    rows = {}
    for name, path in zip(names, paths):
        if not osp.isfile(path):
            raise RecordError(f'file not found: {path}')
        table = pd.read_csv(path, dtype={'img_id': str, 'patient_id': str})
        missing = {'img_id', 'roi_effect', 'control_effect'} - set(table.columns)
        if missing:
            raise RecordError(f'{path}: missing column(s) {sorted(missing)}')
        summary = summarize_effects(table, n_boot=n_boot, seed=seed, alpha=alpha)
        meta = osp.join(osp.dirname(path), 'roi_intervention_summary.json')
        if osp.isfile(meta):
            summary['fill'] = pd.read_json(meta, typ='series').get('fill', '')
        rows[name] = summary
    effects = pd.DataFrame.from_dict(rows, orient='index')
    ok = effects['p_value'].notna()
    effects['p_holm'] = np.nan
    effects.loc[ok, 'p_holm'] = holm(effects.loc[ok, 'p_value'].to_numpy())
    return effects


def causal_verdict(row: pd.Series, alpha: float = 0.05) -> str:
    """One sentence on whether the decision depends on the ROI (from an effects row)."""
    if not np.isfinite(row.get('difference', np.nan)):
        return 'no image had both an ROI and a control region, so causal dependence is untested'
    text = (f"filling the ROI{' (' + row['fill'] + ')' if row.get('fill') else ''} moves the "
            f"log-odds by {row['mean_roi_effect']:+.3f} against {row['mean_control_effect']:+.3f}"
            f" for same-shape control regions (difference {row['difference']:+.3f} "
            f"[{row['ci_low']:+.3f}, {row['ci_high']:+.3f}], {row['n_patients']} patients, "
            f"Holm p {_p(row['p_holm'])})")
    if row['p_holm'] < alpha and row['difference'] > 0:
        return 'its decision depends causally on the ROI: ' + text
    return 'no causal dependence on the ROI is shown: ' + text


def _p(p: float) -> str:
    """``'= 0.012'`` or ``'< 0.0001'`` for a sentence."""
    return '= n/a' if p != p else ('< 0.0001' if p < 1e-4 else f'= {p:.2g}')


def evidence_sentences(baselines: pd.DataFrame, model: str, scores: Sequence[str]) -> List[str]:
    """Per-score phrases on chance and priors for one model (the report's summary)."""
    parts = []
    rows = baselines[(baselines['model'] == model) & baselines['score'].isin(scores)]
    for _, row in rows.iterrows():
        if not row['best_prior'] or row['n'] == 0:
            parts.append(f"{row['score']} has no scored image")
            continue
        best = PRIOR_NAMES.get(row['best_prior'], row['best_prior'])
        verdict = ('above chance and every prior' if row['beats_priors']
                   else 'above chance but not above every prior' if row['beats_chance']
                   else 'not above chance')
        parts.append(f"{row['score']} {row['model_mean']:.3f} is {verdict} (best prior: {best} "
                     f"{row[row['best_prior']]:.3f}, lift {row['lift']:+.3f}, Holm p "
                     f"{_p(row.get('p_holm_' + row['best_prior'], np.nan))})")
    return parts
