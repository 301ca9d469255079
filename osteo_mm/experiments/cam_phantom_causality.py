"""Causality of Grad-CAM on the shoulder phantom: trained vs random model vs fixed baselines,
and a model trained with the shortcut marker vs one trained without it.

Steps (each skipped when its output exists, so a killed run resumes):

1. write two shoulder phantoms with the same seed (pixel-identical films outside the marker;
   ``--signal-region roi`` for the variant whose bone signal lies only inside the expert ROI,
   ``--pose-shift`` for a wider range of the anatomy's position on the film):
   ``clean`` (no marker) and ``shortcut`` (a burned-in marker agreeing with the osteoporosis
   label in ``--shortcut-rate`` of the images of every split, test included);
2. train ResNet-18 on each with ``tools/train.py`` at ``--img-size`` (from scratch, or both from
   the backbone of ``--init-ckpt``, e.g. a chest-phantom SparK checkpoint), at output stride 32
   or, with ``--output-stride 16/8``, with dilated last stage(s) (same weights, finer maps);
3. test (``tools/test.py``: AUC, accuracy at 0.5) and explain (``run_gradcam``, target = ground
   truth) four pairs: clean model on the clean test split, shortcut model on the marker-bearing
   test split (where it is as accurate as it can be) and on the clean one (marker gone), and a
   randomly initialised model on the clean one; with the default phantom, also the clean model
   on a counterfactual copy of the test films whose bone outside the expert ROI is a reference
   skeleton (``signal_region='roi'``): the AUC it keeps there is what the ROI alone gives it;
   with ``--guided-weight W``, also a model trained on the clean phantom with the expert-guided
   CAM-alignment penalty (``CAMAlignmentGuidance``, weight W, ``--guided-loss``) on the clean
   test split;
4. score model-free maps on the same expert masks: a uniform map, a centre-bias map (an
   isotropic Gaussian at the image centre, sigma = 1/4 of the side) and, for the default CAM
   layer, the expert ROI area-averaged to that layer's grid and upsampled as a CAM is: the
   ceiling of a map of that resolution.

Besides the ROI causality scores, ``marker_mass`` is the CAM mass inside the marker tag over the
total (mean over test films that carry the tag; the tag's area share is printed beside it).
Prints one table and writes ``summary_<method>_<layers>.csv``. Results go to the "Grad-CAM and
causality" section of docs/benchmarks.md.

Example (CPU, small)::

    nice -n 10 .venv/bin/python tools/analysis/cam_phantom_causality.py /tmp/cam_phantom \
        --num-patients 400 --epochs 6

Example (one GPU)::

    python tools/analysis/cam_phantom_causality.py /tmp/cam_phantom_gpu --num-patients 2000 \
        --phantom-size 256 --img-size 256 --epochs 30 --batch-size 64 --num-workers 8 \
        --gen-workers 16 --amp
"""
import argparse
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401
from osteo_mm.datasets.phantom import generate_shoulder
from osteo_mm.evaluation.metrics.causality import causality_scores
from osteo_mm.explain.analysis import build_split, image_ids, load_classifier, run_gradcam
from osteo_mm.explain.io import id_to_relpath
from osteo_mm.stats import holm, wilcoxon_test

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE = osp.join(ROOT, 'configs', 'resnet', 'resnet18_phantom-shoulder-binary_64px-8e-cpu.py')
CONFIG = '''_base_ = [{base!r}]
data_root = {root!r}
img_size = {img_size}
# Gray normalisation of the MAE/SparK pre-training (and the demo), for every arm.
data_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0])
{init}
train_pipeline = [
    dict(type='LoadXrayFromFile'),{roi}
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.8, 1.0)),
    dict(type='XrayRandomAffine', max_rotate_degree=10, scale_range=(0.9, 1.1),
         max_translate_ratio=0.05),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2),
    dict(type='PackXrayInputs'),
]
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='LoadRoiMask'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
loader = dict(num_workers={workers}, persistent_workers={persistent})
train_dataloader = dict(batch_size={batch}, **loader,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, **loader,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(batch_size=64, **loader,
                       dataset=dict(data_root=data_root, pipeline=test_pipeline))
train_cfg = dict(max_epochs={epochs}, val_interval={val_interval})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end={epochs}, eta_min=1e-5,
         convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(interval={epochs}, max_keep_ckpts=1),
                     logger=dict(interval=20))
# Fixed 0.5 threshold, no bootstrap: this script compares explanations, not operating points.
val_evaluator = dict(type='BinaryDiagnosticMetric', threshold=0.5, n_boot=0)
test_evaluator = val_evaluator
'''
INIT = "init_cfg=dict(type='Pretrained', checkpoint={ckpt!r}, prefix='backbone.')"
GUIDED = ("type='GuidedImageClassifier', train_cfg=None, "
          "guidance=dict(type='CAMAlignmentGuidance', weight={weight}, loss={loss!r})")
#: ResNet stage strides and dilations per output stride: below 32 the last stage(s) keep their
#: resolution and dilate instead (same weights; the CAM layer gets 2x or 4x finer).
OUTPUT_STRIDES = {32: ((1, 2, 2, 2), (1, 1, 1, 1)), 16: ((1, 2, 2, 1), (1, 1, 1, 2)),
                  8: ((1, 2, 1, 1), (1, 1, 2, 4))}
#: Scores compared image by image in the paired tests.
TESTED = ['energy_pointing_game', 'saliency_auroc', 'pointing_game']
SCORES = ['energy_pointing_game', 'roi_area_share', 'pointing_game', 'saliency_auroc',
          'relevance_rank_accuracy', 'iou_otsu', 'dice_otsu']


def _tool(args) -> None:
    subprocess.run([sys.executable] + args, cwd=ROOT, check=True)


def write_config(work: str, name: str, data_root: str, args: argparse.Namespace,
                 guided: bool = False) -> str:
    """Write the run config of one phantom (``guided``: with the CAM-alignment penalty);
    returns its path."""
    path = osp.join(work, f'{name}.py')
    backbone = []
    if args.init_ckpt:
        backbone.append(INIT.format(ckpt=osp.abspath(args.init_ckpt)))
    if args.output_stride != 32:
        strides, dilations = OUTPUT_STRIDES[args.output_stride]
        backbone.append(f'strides={strides}, dilations={dilations}')
    model = [f"backbone=dict({', '.join(backbone)})"] if backbone else []
    if guided:
        model.append(GUIDED.format(weight=args.guided_weight, loss=args.guided_loss))
    with open(path, 'w') as f:
        f.write(CONFIG.format(base=getattr(args, 'base_config', None) or BASE,
                              root=data_root + '/', epochs=args.epochs,
                              img_size=args.img_size, batch=args.batch_size,
                              workers=args.num_workers, persistent=args.num_workers > 0,
                              val_interval=max(1, args.epochs // 5),
                              init=f"model = dict({', '.join(model)})" if model else '',
                              roi="\n    dict(type='LoadRoiMask')," if guided else ''))
    return path


def baselines(cfg: Config, grid: int | None = None) -> dict[str, pd.DataFrame]:
    """Per-image scores of model-free maps against the test expert masks: uniform, centre
    bias and, given the CAM layer's ``grid`` side, the expert ROI itself area-averaged to that
    grid and upsampled like a CAM (the best-placed map a CAM of that resolution can draw)."""
    dataset, _ = build_split(cfg, 'test')
    samples = [dataset[i]['data_samples'] for i in range(len(dataset))]
    ids = [i for i, s in zip(image_ids(dataset), samples) if s.has_roi]
    masks = np.stack([s.roi_mask.numpy() for s in samples if s.has_roi])
    h, w = masks.shape[1:]
    yy, xx = np.mgrid[:h, :w]
    centre = np.exp(-((yy - (h - 1) / 2) ** 2 + (xx - (w - 1) / 2) ** 2) / (2 * (h / 4) ** 2))
    maps = {'uniform map': np.repeat(np.ones((1, h, w), np.float32), len(masks), 0),
            'centre-bias map': np.repeat(centre[None].astype(np.float32), len(masks), 0)}
    if grid:
        maps[f'ROI on the {grid}x{grid} CAM grid'] = np.stack([cv2.resize(
            cv2.resize((m > 0).astype(np.float32), (grid, grid), interpolation=cv2.INTER_AREA),
            (w, h), interpolation=cv2.INTER_LINEAR) for m in masks])
    return {name: pd.DataFrame(causality_scores(cam, masks),
                               index=pd.Index(ids, name='img_id'))[SCORES]
            for name, cam in maps.items()}


def paired_tests(per_image: dict[str, pd.DataFrame], references: list[str]) -> pd.DataFrame:
    """Two-sided Wilcoxon signed-rank tests of each reference vs every other condition on the
    same test films (per-image scores, pairs with a NaN dropped; a pair of references is tested
    once), Holm-adjusted over all rows.
    """
    rows = []
    for k, reference in enumerate(references):
        ref = per_image[reference]
        for name, table in per_image.items():
            if name == reference or name in references[:k]:
                continue
            other = table.reindex(ref.index)
            for score in TESTED:
                both = ref[score].notna() & other[score].notna()  # all-zero CAM: no energy
                result = wilcoxon_test(ref.loc[both, score].to_numpy(),
                                       other.loc[both, score].to_numpy())
                rows.append(dict(comparison=f'{reference} vs {name}', score=score,
                                 difference=result.difference, n=result.n, p=result.p_value))
    tests = pd.DataFrame(rows)
    tests['p_holm'] = holm(tests['p'].to_numpy())
    return tests


def marker_mass(cam_dir: str, data_root: str) -> tuple[float, float, int]:
    """Mean CAM mass share inside the marker tag and the tag's area share, over tagged films.

    Returns NaNs and 0 when no test film carries the tag.
    """
    labels = pd.read_csv(osp.join(data_root, 'labels.csv'))
    tagged = labels[(labels['split'] == 'test') & (labels['marker'] == 1)]
    shares, areas = [], []
    for image, box in zip(tagged['image'], tagged['marker_bbox']):
        with np.load(osp.join(cam_dir, 'maps', id_to_relpath(image, '.npz'))) as stored:
            cam = np.clip(stored['cam_ori'].astype(np.float64), 0, None)
        x, y, w, h = (int(v) for v in str(box).split(','))
        total = cam.sum()
        shares.append(cam[y:y + h, x:x + w].sum() / total if total > 0 else np.nan)
        areas.append(w * h / cam.size)
    if not shares:
        return float('nan'), float('nan'), 0
    return float(np.nanmean(shares)), float(np.mean(areas)), len(shares)


def run(args: argparse.Namespace) -> None:
    """Run the study with the options of ``tools/analysis/cam_phantom_causality.py``."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    layers_tag = '_'.join(args.target_layers or ['default'])
    if args.score != 'logit':
        layers_tag += f'_{args.score}'
    work = args.work_dir
    roots = {'clean': osp.join(work, 'phantom_clean')}
    if not args.no_shortcut:
        roots['shortcut'] = osp.join(work, 'phantom_shortcut')
    regions = dict.fromkeys(roots, args.signal_region)
    if args.signal_region == 'anatomy':
        # The same films with a reference skeleton outside the ROI: a counterfactual test set.
        roots['roi-only'] = osp.join(work, 'phantom_roi-only')
        regions['roi-only'] = 'roi'
    for name, root in roots.items():
        if not osp.isfile(osp.join(root, 'labels.csv')):
            generate_shoulder(root, num_patients=args.num_patients, size=args.phantom_size,
                              fmt='png', workers=args.gen_workers, signal_region=regions[name],
                              pose_shift=args.pose_shift,
                              shortcut_rate=args.shortcut_rate if name == 'shortcut' else None,
                              shortcut_splits=('train', 'val', 'test'))
    configs = {name: write_config(work, name, root, args) for name, root in roots.items()}
    trained = [n for n in ('clean', 'shortcut') if n in roots]
    # The guided arm's name carries its settings, so a resumed run never reuses another's model.
    guided = f'guided_{args.guided_loss}_w{args.guided_weight:g}'
    guided_row = f'guided model ({args.guided_loss}, W={args.guided_weight:g}), clean test'
    if args.guided_weight:
        configs[guided] = write_config(work, guided, roots['clean'], args, guided=True)
        trained.append(guided)
    ckpts = {}
    for name in trained:
        run_dir = osp.join(work, f'train_{name}')
        ckpts[name] = osp.join(run_dir, f'epoch_{args.epochs}.pth')
        if not osp.isfile(ckpts[name]):
            _tool(['tools/train.py', configs[name], '--work-dir', run_dir]
                  + (['--amp'] if args.amp else []))
    cfg = Config.fromfile(configs['clean'])
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    ckpts['random'] = osp.join(work, 'random_init.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpts['random'])

    pairs = {'clean model, clean test': ('clean', 'clean'),
             'shortcut model, marker test': ('shortcut', 'shortcut'),
             'shortcut model, clean test': ('shortcut', 'clean'),
             'random init, clean test': ('random', 'clean')}
    if args.no_shortcut:
        pairs = {k: v for k, v in pairs.items() if 'shortcut' not in v}
    if 'roi-only' in roots:
        pairs['clean model, ROI-only-signal test'] = ('clean', 'roi-only')
    if args.guided_weight:
        pairs[guided_row] = (guided, 'clean')
    rows, per_image = {}, {}
    for name, (model_name, data_name) in pairs.items():
        tag = f'{model_name}_on_{data_name}'
        metrics_file = osp.join(work, f'test_{tag}.json')
        if not osp.isfile(metrics_file):
            _tool(['tools/test.py', configs[data_name], ckpts[model_name],
                   '--work-dir', osp.join(work, 'test'), '--out-metrics', metrics_file])
        data_cfg = Config.fromfile(configs[data_name])
        dataset, loader_cfg = build_split(data_cfg, 'test')
        model, _ = load_classifier(data_cfg, ckpts[model_name], device=device)
        cam_dir = osp.join(work, f'cam_{tag}_{args.method}_{layers_tag}')
        table = run_gradcam(model, dataset, loader_cfg, cam_dir, method=args.method,
                            target='gt', num_vis=8, target_layers=args.target_layers,
                            score=args.score)
        per_image[name] = table.set_index('img_id')[SCORES]
        row = table[SCORES].mean().to_dict()
        row['marker_mass'], row['marker_area'], row['n_tagged'] = marker_mass(
            cam_dir, roots[data_name])
        with open(metrics_file) as f:
            test = json.load(f)
        row.update({k.split('/')[-1]: v for k, v in test.items()
                    if k.endswith('roc_auc') or k.split('/')[-1].startswith('accuracy')})
        rows[name] = row
    # The default CAM layer (last stage) has stride output_stride: name its grid for the oracle.
    per_image.update(baselines(cfg, None if args.target_layers
                               else args.img_size // args.output_stride))
    means = pd.DataFrame({name: per_image[name].mean() for name in per_image if name not in rows})
    result = pd.concat([pd.DataFrame(rows).T, means.T])
    pd.set_option('display.width', 250)
    print(f'{args.method} on {layers_tag} layers, target = {args.score} of the ground truth, '
          f'{len(dataset)} test films, {args.img_size} px input, {args.epochs} epochs; means '
          'over films with an expert ROI (marker_mass: over films with the tag)')
    print(result.to_string(float_format='%.3f'))
    result.to_csv(osp.join(work, f'summary_{args.method}_{layers_tag}.csv'))
    tests = paired_tests(per_image, [n for n in ('clean model, clean test', guided_row)
                                     if n in rows])
    print('\nPaired per-image Wilcoxon tests (difference = reference minus other, Holm over rows)')
    print(tests.to_string(index=False, float_format='%.4g'))
    tests.to_csv(osp.join(work, f'paired_tests_{args.method}_{layers_tag}.csv'), index=False)

