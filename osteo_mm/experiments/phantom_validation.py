"""Ground-truth validation of the causality analysis on the shoulder phantom.

Two phantoms of the same patients with the bone signal confined to the expert ROI
(``signal_region='roi'``): every label-dependent pixel lies inside the ROI by construction.

* ``clean``: no marker;
* ``shortcut``: a burned-in marker tag on every osteoporotic film and on no other film
  (``shortcut_rate=1``, train, val and test), pixel-identical to ``clean`` outside the tag.

ResNet-18s are trained on each (``tools/train.py``, optionally from a chest-SparK backbone);
a randomised-weights copy of the clean model (Adebayo et al. 2018) is the untrained control.

**(i) ROI-only phantom, clean test films.** The clean model's decision must depend on the ROI:
its ROI effect (log-odds change when the ROI is filled) must be well above its control effect
(same-shape regions elsewhere on the anatomy), and the random model's near 0
(:func:`osteo_mm.explain.intervention.run_roi_intervention`, fills ``blur`` and ``reference``;
on this phantom the reference film equals the original outside the ROI, so ``reference``
control effects are exactly 0). Every attribution method is then ranked on plausibility
(overlap with the ROI) and, where ``causality.csv`` carries them, faithfulness scores, against
the uniform, centre and dataset ROI priors and the random model's maps, with paired Wilcoxon
tests (one film per patient: image = patient) and Holm's adjustment.

**(ii) Shortcut phantom, marker-bearing test films.** The shortcut model must demonstrably use
the tag: removing it (``reference`` fill from the clean films, i.e. exactly the tag's pixels
restored) moves its log-odds a lot, and its ROI effect (``blur``) must be below the clean
model's on the same films; AUCs are reported on the marker-bearing and the clean films.

Every step is skipped when its output exists (a killed run resumes). Tables go to
``<work_dir>/validation.md`` and CSVs beside it.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np
import pandas as pd
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import Subset

from osteo_mm.datasets.phantom import generate_shoulder
from osteo_mm.explain.analysis import build_split, image_ids, load_classifier, run_gradcam
from osteo_mm.explain.faithfulness import deletion_insertion
from osteo_mm.explain.intervention import build_reference_split, run_roi_intervention
from osteo_mm.explain.priors import PRIOR_LABELS, TRIVIAL_PRIORS, randomized_copy, write_priors
from osteo_mm.stats import delong_auc_ci, holm, wilcoxon_test

from .cam_phantom_causality import write_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Plausibility scores compared in the paired tests (higher = more overlap with the ROI).
PLAUSIBILITY = ('energy_pointing_game', 'saliency_auroc', 'pointing_game', 'iou_otsu')
#: Faithfulness columns used when ``causality.csv`` has them; True = lower is better.
FAITHFULNESS = {'deletion_auc': True, 'insertion_auc': False}


def _train(work: str, name: str, config: str, epochs: int, amp: bool) -> str:
    run_dir = osp.join(work, f'train_{name}')
    ckpt = osp.join(run_dir, f'epoch_{epochs}.pth')
    if not osp.isfile(ckpt):
        subprocess.run([sys.executable, 'tools/train.py', config, '--work-dir', run_dir]
                       + (['--amp'] if amp else []), cwd=ROOT, check=True)
    return ckpt


def _untrained(work: str, name: str, cfg: Config, seed: int) -> str:
    """A checkpoint of the freshly built model (toy runs without training)."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    ckpt = osp.join(work, f'untrained_{name}.pth')
    if not osp.isfile(ckpt):
        init_default_scope('mmpretrain')
        torch.manual_seed(seed)
        torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
    return ckpt


@torch.no_grad()
def predict(model: torch.nn.Module, dataset, loader_cfg: dict) -> pd.DataFrame:
    """``img_id, gt_label, score`` (probability of class 1) for every image of ``dataset``."""
    ids = image_ids(dataset)
    loader = Runner.build_dataloader(dict(loader_cfg, dataset=Subset(dataset, range(len(ids))),
                                          sampler=dict(type='DefaultSampler', shuffle=False)))
    device = next(model.parameters()).device
    rows = []
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        probs = torch.softmax(model(data['inputs'].to(device)).float(), dim=1)[:, 1]
        for sample, p in zip(data['data_samples'], probs.tolist()):
            rows.append(dict(img_id=ids[int(sample.sample_idx)],
                             gt_label=int(sample.gt_label[0]), score=p))
    return pd.DataFrame(rows).set_index('img_id').reindex(ids)


def marker_region_fn(data_root: str) -> Callable:
    """``(sample, img_id) -> mask`` of the marker tag in network-input coordinates (or None)."""
    labels = pd.read_csv(osp.join(data_root, 'labels.csv'), dtype={'marker_bbox': str})
    boxes = {img: box for img, box, flag in zip(labels['image'], labels['marker_bbox'],
                                               labels['marker']) if int(flag) == 1}

    def region(sample, img_id: str) -> Optional[np.ndarray]:
        if img_id not in boxes:
            return None
        x, y, w, h = (int(v) for v in str(boxes[img_id]).split(','))
        ori_h, ori_w = sample.ori_shape
        mask = np.zeros((ori_h, ori_w), np.uint8)
        mask[y:y + h, x:x + w] = 1
        out_h, out_w = sample.img_shape
        matrix = np.asarray(sample.transform_matrix, np.float64)[:2]
        return cv2.warpAffine(mask, matrix, (out_w, out_h), flags=cv2.INTER_NEAREST) > 0

    return region


def paired(a: pd.Series, b: pd.Series) -> dict:
    """Wilcoxon signed-rank test of ``a`` vs ``b`` on the images where both are finite."""
    both = pd.concat([a, b], axis=1, join='inner').dropna()
    if len(both) == 0 or (both.iloc[:, 0] == both.iloc[:, 1]).all():
        diff = float((both.iloc[:, 0] - both.iloc[:, 1]).mean()) if len(both) else np.nan
        return dict(difference=diff, n=len(both), p=1.0 if len(both) else np.nan)
    res = wilcoxon_test(both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy())
    return dict(difference=res.difference, n=res.n, p=res.p_value)


def _holm(rows: List[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    if len(table):
        ok = table['p'].notna()
        table['p_holm'] = np.nan
        table.loc[ok, 'p_holm'] = holm(table.loc[ok, 'p'].to_numpy())
    return table


def _auc_row(pred: pd.DataFrame) -> str:
    ci = delong_auc_ci(pred['gt_label'].to_numpy(), pred['score'].to_numpy())
    return f'{ci.auc:.3f} [{ci.low:.3f}, {ci.high:.3f}]'


def md_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A Markdown table (index included) with floats at ``digits`` decimals, p-values as %.1g."""
    def cell(column: str, value) -> str:
        if isinstance(value, (float, np.floating)):
            if value != value:
                return 'n/a'
            if column.startswith('p'):
                return f'{value:.1g}' if value < 0.001 else f'{value:.3f}'
            return f'{value:.{digits}f}'
        return str(value)

    header = [table.index.name or ''] + list(map(str, table.columns))
    lines = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    for index, row in table.iterrows():
        lines.append('| ' + ' | '.join([str(index)] + [cell(c, v) for c, v in row.items()])
                     + ' |')
    return '\n'.join(lines) + '\n'


class PhantomValidation:
    """Run validations (i) and (ii); see the module docstring.

    Args:
        work_dir (str): Everything goes here (phantoms, runs, tables).
        num_patients (int): Patients per phantom. Defaults to 1000.
        phantom_size (int): Film side in pixels. Defaults to 128.
        img_size (int): Network input side. Defaults to 128.
        epochs (int): Training epochs (0: no training, the models keep their initial weights;
            for toy runs only). Defaults to 20.
        batch_size (int): Training batch size. Defaults to 32.
        init_ckpt (str, optional): Backbone initialisation of both trained models.
        methods (Sequence[str]): Attribution methods of (i). Defaults to ``('gradcam',)``.
        controls (int): Control regions per image. Defaults to 4.
        seed (int): Seed of the phantoms, the random weights and the controls.
        num_workers (int): Dataloader workers. Defaults to 0.
        device (str): Torch device of the analysis. Defaults to ``'cpu'``.
        amp (bool): Train with mixed precision. Defaults to False.
        gen_workers (int): Phantom writer processes. Defaults to 1.
        train_images (int, optional): Train on the first N training films only (a smaller
            CPU budget; validation and test splits stay whole).
        faithfulness_steps (int): Steps of the deletion/insertion curves of (i), for the
            trained model's maps and the priors (0 skips them). Defaults to 8.
        attribution_options (dict, optional): ``ig_steps``, ``occlusion_window``, ...
            (see :func:`osteo_mm.explain.analysis.run_gradcam`).
        base_config (str, optional): Classifier config the run configs inherit (default: the
            ResNet-18 phantom config; e.g. a DeiT config at ``img_size`` to rank the ViT
            attribution rules). Its backbone must accept ``img_size`` inputs.
    """

    def __init__(self, work_dir: str, num_patients: int = 1000, phantom_size: int = 128,
                 img_size: int = 128, epochs: int = 20, batch_size: int = 32,
                 init_ckpt: Optional[str] = None, methods: Sequence[str] = ('gradcam', ),
                 controls: int = 4, seed: int = 0, num_workers: int = 0, device: str = 'cpu',
                 amp: bool = False, gen_workers: int = 1,
                 train_images: Optional[int] = None, faithfulness_steps: int = 8,
                 attribution_options: Optional[dict] = None,
                 base_config: Optional[str] = None) -> None:
        self.work = osp.abspath(work_dir)
        os.makedirs(self.work, exist_ok=True)
        self.num_patients, self.phantom_size, self.img_size = num_patients, phantom_size, img_size
        self.epochs, self.batch_size, self.init_ckpt = epochs, batch_size, init_ckpt
        self.methods, self.controls, self.seed = list(methods), controls, seed
        self.num_workers, self.device, self.amp = num_workers, device, amp
        self.gen_workers = gen_workers
        self.train_images = train_images
        self.faithfulness_steps = faithfulness_steps
        self.attribution_options = attribution_options or {}
        self.base_config = base_config

    def path(self, *parts: str) -> str:
        return osp.join(self.work, *parts)

    # ------------------------------------------------------------------ setup
    def write_configs(self) -> Dict[str, str]:
        """Phantoms and run configs (no training); returns model name -> config path."""
        for name, rate in (('clean', None), ('shortcut', 1.0)):
            root = self.path(f'phantom_{name}')
            if not osp.isfile(osp.join(root, 'labels.csv')):
                generate_shoulder(root, num_patients=self.num_patients, size=self.phantom_size,
                                  seed=self.seed, fmt='png', signal_region='roi',
                                  shortcut_rate=rate, shortcut_splits=('train', 'val', 'test'),
                                  workers=self.gen_workers, progress=False)
        args = argparse.Namespace(
            init_ckpt=self.init_ckpt, output_stride=32, guided_weight=None,
            guided_loss='outside_mass', epochs=max(self.epochs, 1), img_size=self.img_size,
            batch_size=self.batch_size, num_workers=self.num_workers,
            base_config=self.base_config)
        self.configs = {name: write_config(self.work, name, self.path(f'phantom_{name}'), args)
                        for name in ('clean', 'shortcut')}
        if self.train_images:
            for path in self.configs.values():
                with open(path, 'a') as f:
                    f.write(f"train_dataloader['dataset']['indices'] = {self.train_images}\n")
        self.cfgs = {name: Config.fromfile(path) for name, path in self.configs.items()}
        return self.configs

    def prepare(self, names: Sequence[str] = ('clean', 'shortcut')) -> Dict[str, str]:
        """Phantoms, configs and the checkpoints of ``names``; returns name -> checkpoint."""
        self.write_configs()
        ckpts = {}
        for name in names:
            ckpts[name] = (_train(self.work, name, self.configs[name], self.epochs, self.amp)
                           if self.epochs > 0 else
                           _untrained(self.work, name, self.cfgs[name], self.seed + 1 + len(ckpts)))
        return ckpts

    def models(self, ckpts: Dict[str, str]) -> Dict[str, torch.nn.Module]:
        models = {name: load_classifier(self.cfgs[name], ckpt, self.device)[0]
                  for name, ckpt in ckpts.items()}
        models['random'] = randomized_copy(models['clean'], self.seed)
        return models

    # ------------------------------------------------------------------ (i)
    def validation_i(self, models: Dict[str, torch.nn.Module]) -> Dict[str, pd.DataFrame]:
        cfg = self.cfgs['clean']
        dataset, loader_cfg = build_split(cfg, 'test')
        out = self.path('i')
        reference = build_reference_split(cfg, 'test', self.path('phantom_clean_reference'))
        effects, rows, per_model = {}, [], {}
        for name in ('clean', 'random'):
            for fill in ('blur', 'reference'):
                table, summary = run_roi_intervention(
                    models[name], dataset, loader_cfg, osp.join(out, f'roi_{name}_{fill}'),
                    fill=fill, controls=self.controls, seed=self.seed,
                    reference_dataset=reference if fill == 'reference' else None,
                    progress=False)
                effects[(name, fill)] = table.set_index('img_id')
                rows.append({'model': name, 'fill': fill, 'n': summary['n_used'],
                             'ROI effect': summary['mean_roi_effect'],
                             'control effect': summary['mean_control_effect'],
                             'ROI - control': summary['difference'],
                             'CI low': summary['ci_low'], 'CI high': summary['ci_high'],
                             'p': summary['p_value']})
        interventions = _holm(rows).set_index('model')
        tests = []
        for fill in ('blur', 'reference'):
            tests.append(dict(comparison=f'ROI effect, clean vs random ({fill})',
                              **paired(effects[('clean', fill)]['roi_effect'],
                                       effects[('random', fill)]['roi_effect'])))
        priors = write_priors(cfg, dataset, osp.join(out, 'priors'))
        tables = {name: pd.read_csv(path).set_index('img_id') for name, path in priors.items()}
        aucs = {name: _auc_row(predict(models[name], dataset, loader_cfg))
                for name in ('clean', 'random')}
        if self.faithfulness_steps:
            for name, table in self._prior_faithfulness(models['clean'], dataset, loader_cfg,
                                                        osp.join(out, 'priors')).items():
                tables[name] = tables[name].join(table)
        for method in self.methods:
            for name in ('clean', 'random'):
                # Curves only for the trained model: they ask what *it* relies on.
                cam = run_gradcam(models[name], dataset, loader_cfg,
                                  osp.join(out, f'cam_{name}_{method}'), method=method,
                                  target='gt', num_vis=8,
                                  attribution_options=self.attribution_options,
                                  faithfulness_steps=self.faithfulness_steps
                                  if name == 'clean' else 0)
                per_model[(name, method)] = cam.set_index('img_id')
        ranking = self._ranking(per_model, tables)
        tests = _holm(tests + ranking.pop('tests')).set_index('comparison')
        summary = pd.DataFrame({'test AUC': aucs}).rename_axis('model')
        return dict(interventions=interventions, methods=ranking['table'], tests=tests,
                    auc=summary)

    @torch.no_grad()
    def _prior_faithfulness(self, model: torch.nn.Module, dataset, loader_cfg: dict,
                            prior_dir: str) -> Dict[str, pd.DataFrame]:
        """Deletion/insertion AUCs of the trained model with pixels ordered by each prior."""
        with np.load(osp.join(prior_dir, 'priors.npz')) as stored:
            maps = {name: stored[name].astype(np.float32) for name in TRIVIAL_PRIORS}
        ids = image_ids(dataset)
        loader = Runner.build_dataloader(dict(
            loader_cfg, dataset=Subset(dataset, range(len(ids))),
            sampler=dict(type='DefaultSampler', shuffle=False)))
        device = next(model.parameters()).device
        rows = {name: [] for name in maps}
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            inputs, samples = data['inputs'].to(device), data['data_samples']
            classes = [int(s.gt_label[0]) for s in samples]
            for name, prior in maps.items():
                curves = deletion_insertion(model, inputs,
                                            np.broadcast_to(prior, (len(samples), *prior.shape)),
                                            classes, steps=self.faithfulness_steps,
                                            seed=self.seed)
                rows[name] += [dict(img_id=ids[int(s.sample_idx)],
                                    deletion_auc=float(curves['deletion_auc'][k]),
                                    insertion_auc=float(curves['insertion_auc'][k]))
                               for k, s in enumerate(samples)]
        return {name: pd.DataFrame(r).set_index('img_id') for name, r in rows.items()}

    def _ranking(self, per_model: Dict[tuple, pd.DataFrame],
                 priors: Dict[str, pd.DataFrame]) -> dict:
        """Mean scores per method (trained and random) and prior, lifts and paired tests."""
        scores = [s for s in PLAUSIBILITY]
        first = next(iter(per_model.values()))
        faithful = [c for c in FAITHFULNESS if c in first.columns]
        rows, tests = {}, []
        best = {s: max(TRIVIAL_PRIORS, key=lambda p: priors[p][s].mean()) for s in scores}
        for (name, method), table in per_model.items():
            label = f'{method} ({"trained" if name == "clean" else "random weights"})'
            row = {s: table[s].mean() for s in scores + faithful if s in table}
            row['n_zero_maps'] = (int(table['zero_map'].fillna(0).sum()) if 'zero_map' in table
                                  else int(table['energy_pointing_game'].isna().sum()
                                           - priors['uniform']['energy_pointing_game']
                                           .isna().sum()))
            for s in ('energy_pointing_game', 'saliency_auroc'):
                res = paired(table[s], priors['dataset_roi'][s])
                row[f'{s} lift vs dataset ROI prior'] = res['difference']
                tests.append(dict(comparison=f'{label} vs dataset ROI prior: {s}', **res))
                if best[s] != 'dataset_roi':
                    res = paired(table[s], priors[best[s]][s])
                    tests.append(dict(comparison=f'{label} vs {best[s]}: {s}', **res))
            for s in faithful:
                if s in priors['dataset_roi'] and s in table:
                    res = paired(table[s], priors['dataset_roi'][s])
                    row[f'{s} vs dataset ROI prior'] = res['difference']
                    tests.append(dict(comparison=f'{label} vs dataset ROI prior: {s}', **res))
            if name == 'clean':
                for s in scores:
                    tests.append(dict(comparison=f'{label} vs random weights: {s}',
                                      **paired(table[s], per_model[('random', method)][s])))
            rows[label] = row
        for prior in TRIVIAL_PRIORS:
            rows[PRIOR_LABELS[prior]] = {s: priors[prior][s].mean() for s in scores + faithful
                                         if s in priors[prior]}
        table = pd.DataFrame.from_dict(rows, orient='index').rename_axis('map')
        return dict(table=table, tests=tests)

    # ------------------------------------------------------------------ (ii)
    def validation_ii(self, models: Dict[str, torch.nn.Module]) -> Dict[str, pd.DataFrame]:
        cfg = self.cfgs['shortcut']
        dataset, loader_cfg = build_split(cfg, 'test')
        clean_films, _ = build_split(self.cfgs['clean'], 'test')
        out = self.path('ii')
        labels = pd.read_csv(osp.join(self.path('phantom_shortcut'), 'labels.csv'))
        tagged = set(labels.loc[(labels['split'] == 'test') & (labels['marker'] == 1), 'image'])
        auc_rows, effects, rows = {}, {}, []
        for name in ('clean', 'shortcut', 'random'):
            auc_rows[name] = {
                'AUC, marker-bearing test films': _auc_row(predict(models[name], dataset,
                                                                   loader_cfg)),
                'AUC, clean test films': _auc_row(predict(models[name], clean_films,
                                                          loader_cfg))}
            for region, fill in (('roi', 'blur'), ('marker', 'reference')):
                table, summary = run_roi_intervention(
                    models[name], dataset, loader_cfg, osp.join(out, f'{region}_{name}_{fill}'),
                    fill=fill, controls=self.controls, seed=self.seed,
                    reference_dataset=clean_films if fill == 'reference' else None,
                    region_fn=marker_region_fn(self.path('phantom_shortcut'))
                    if region == 'marker' else None, region_name=region, progress=False)
                effects[(name, region)] = table.set_index('img_id')
                rows.append({'model': name, 'region (fill)': f'{region} ({fill})',
                             'n': summary['n_used'],
                             'region effect': summary['mean_roi_effect'],
                             'control effect': summary['mean_control_effect'],
                             'region - control': summary['difference'],
                             'CI low': summary['ci_low'], 'CI high': summary['ci_high'],
                             'p': summary['p_value']})
        tests = []
        marker_ids = [i for i in effects[('clean', 'roi')].index if i in tagged]
        for region in ('roi', 'marker'):
            for other in ('clean', 'random'):
                a = effects[('shortcut', region)]['roi_effect'].loc[marker_ids]
                b = effects[(other, region)]['roi_effect'].loc[marker_ids]
                tests.append(dict(comparison=f'{region} effect on marker-bearing films: '
                                  f'shortcut vs {other}', **paired(a, b)))
        per_model = {}
        for name in ('clean', 'shortcut', 'random'):
            cam = run_gradcam(models[name], dataset, loader_cfg, osp.join(out, f'cam_{name}'),
                              method='gradcam', target='gt', num_vis=8)
            per_model[name] = cam.set_index('img_id')
        priors = {n: pd.read_csv(p).set_index('img_id')
                  for n, p in write_priors(cfg, dataset, osp.join(out, 'priors')).items()}
        cam_rows = {}
        for name, table in per_model.items():
            cam_rows[f'Grad-CAM, {name} model'] = {s: table[s].mean() for s in PLAUSIBILITY}
            for s in ('energy_pointing_game', 'saliency_auroc'):
                tests.append(dict(comparison=f'Grad-CAM {name} vs dataset ROI prior: {s}',
                                  **paired(table[s], priors['dataset_roi'][s])))
        for s in ('energy_pointing_game', 'saliency_auroc'):
            tests.append(dict(comparison=f'Grad-CAM shortcut vs clean: {s}',
                              **paired(per_model['shortcut'][s], per_model['clean'][s])))
        for prior in TRIVIAL_PRIORS:
            cam_rows[PRIOR_LABELS[prior]] = {s: priors[prior][s].mean() for s in PLAUSIBILITY}
        return dict(auc=pd.DataFrame.from_dict(auc_rows, orient='index').rename_axis('model'),
                    interventions=_holm(rows).set_index('model'),
                    cams=pd.DataFrame.from_dict(cam_rows, orient='index').rename_axis('map'),
                    tests=_holm(tests).set_index('comparison'),
                    counts=pd.DataFrame({'films': [len(dataset), len(marker_ids)]},
                                        index=['test films', 'marker-bearing test films']))

    def run(self, parts: Sequence[str] = ('i', 'ii')) -> str:
        """Run the validations; write ``validation.md`` and the CSVs; return the Markdown path."""
        # (i) needs the clean model only; (ii) both.
        models = self.models(self.prepare(('clean', 'shortcut') if 'ii' in parts
                                          else ('clean', )))
        lines = [f'# Phantom validation ({self.num_patients} patients, {self.img_size} px, '
                 f'{self.epochs} epochs)\n']
        results = {}
        if 'i' in parts:
            results['i'] = self.validation_i(models)
        if 'ii' in parts:
            results['ii'] = self.validation_ii(models)
        for part, tables in results.items():
            lines.append(f'## ({part})\n')
            for name, table in tables.items():
                table.to_csv(self.path(f'{part}_{name}.csv'))
                lines += [f'### {name}\n', md_table(table)]
        path = self.path('validation.md')
        with open(path, 'w') as f:
            f.write('\n'.join(lines))
        with open(self.path('validation.json'), 'w') as f:
            json.dump({p: {n: json.loads(t.reset_index().to_json(orient='records'))
                           for n, t in tables.items()}
                       for p, tables in results.items()}, f, indent=1)
        return path
