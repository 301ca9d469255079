"""Causality of Grad-CAM on the shoulder phantom: trained vs random model vs fixed baselines,
and a model trained with the shortcut marker vs one trained without it.

Steps (each skipped when its output exists, so a killed run resumes):

1. write two shoulder phantoms with the same seed: ``clean`` (no marker) and ``shortcut``
   (burned-in marker agreeing with the osteoporosis label in ``--shortcut-rate`` of train/val
   images, absent in test);
2. train ResNet-18 on each with ``tools/train.py`` (the 64 px CPU config);
3. on the clean test split: ``tools/test.py`` (accuracy/AUC) and ``run_gradcam`` for both
   trained models and for a randomly initialised one;
4. score two model-free baselines on the same expert masks: a uniform map and a centre-bias
   map (an isotropic Gaussian at the image centre, sigma = 1/4 of the side).

Prints one table of mean causality per condition. Results go to the "Grad-CAM and causality"
section of docs/benchmarks.md.

Example::

    nice -n 10 .venv/bin/python benchmarks/cam_phantom_causality.py /tmp/cam_phantom \
        --num-patients 400 --epochs 6
"""
import argparse
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pandas as pd
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401
from osteo_mm.datasets.phantom import generate_shoulder
from osteo_mm.evaluation.metrics.causality import causality_scores
from osteo_mm.explain.analysis import build_split, load_classifier, run_gradcam

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASE = osp.join(ROOT, 'configs', 'resnet', 'resnet18_phantom-shoulder-binary_64px-8e-cpu.py')
CONFIG = '''_base_ = [{base!r}]
data_root = {root!r}
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='LoadRoiMask'),
    dict(type='XrayResize', scale=64),
    dict(type='XrayCenterCrop', crop_size=64),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=dict(data_root=data_root, pipeline=test_pipeline))
train_cfg = dict(max_epochs={epochs})
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end={epochs},
                        eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1), logger=dict(interval=50))
# Fixed 0.5 threshold, no bootstrap: this script compares explanations, not operating points.
val_evaluator = dict(type='BinaryDiagnosticMetric', threshold=0.5, n_boot=0)
test_evaluator = val_evaluator
'''
SCORES = ['energy_pointing_game', 'roi_area_share', 'pointing_game', 'saliency_auroc',
          'relevance_rank_accuracy', 'iou_otsu', 'dice_otsu']


def _tool(args) -> None:
    subprocess.run([sys.executable] + args, cwd=ROOT, check=True)


def write_config(work: str, name: str, data_root: str, epochs: int) -> str:
    path = osp.join(work, f'{name}.py')
    with open(path, 'w') as f:
        f.write(CONFIG.format(base=BASE, root=data_root + '/', epochs=epochs))
    return path


def baselines(cfg: Config) -> pd.DataFrame:
    """Uniform and centre-bias maps scored against the test split's expert masks."""
    dataset, _ = build_split(cfg, 'test')
    masks = [dataset[i]['data_samples'] for i in range(len(dataset))]
    masks = np.stack([s.roi_mask.numpy() for s in masks if s.has_roi])
    h, w = masks.shape[1:]
    yy, xx = np.mgrid[:h, :w]
    centre = np.exp(-((yy - (h - 1) / 2) ** 2 + (xx - (w - 1) / 2) ** 2) / (2 * (h / 4) ** 2))
    rows = {}
    for name, cam in (('uniform map', np.ones((h, w))), ('centre-bias map', centre)):
        scores = causality_scores(np.repeat(cam[None], len(masks), 0).astype(np.float32), masks)
        rows[name] = {k: float(np.nanmean(v)) for k, v in scores.items()}
    return pd.DataFrame(rows).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument('--num-patients', type=int, default=400)
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--shortcut-rate', type=float, default=0.95)
    parser.add_argument('--method', default='gradcam')
    parser.add_argument('--target-layers', nargs='+', help='default: last backbone stage')
    args = parser.parse_args()
    layers_tag = '_'.join(args.target_layers or ['default'])
    work = args.work_dir
    roots = {'clean': osp.join(work, 'phantom_clean'),
             'shortcut': osp.join(work, 'phantom_shortcut')}
    for name, root in roots.items():
        if not osp.isfile(osp.join(root, 'labels.csv')):
            generate_shoulder(root, num_patients=args.num_patients, size=128, fmt='png',
                              shortcut_rate=args.shortcut_rate if name == 'shortcut' else None)
    test_cfg_path = write_config(work, 'clean', roots['clean'], args.epochs)
    ckpts = {}
    for name, root in roots.items():
        cfg_path = write_config(work, name, root, args.epochs)
        run_dir = osp.join(work, f'train_{name}')
        ckpts[f'trained on {name} phantom'] = osp.join(run_dir, f'epoch_{args.epochs}.pth')
        if not osp.isfile(ckpts[f'trained on {name} phantom']):
            _tool(['tools/train.py', cfg_path, '--work-dir', run_dir])
    cfg = Config.fromfile(test_cfg_path)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    random_ckpt = osp.join(work, 'random_init.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), random_ckpt)
    ckpts['random init'] = random_ckpt

    rows = {}
    for name, ckpt in ckpts.items():
        tag = name.replace(' ', '_')
        metrics_file = osp.join(work, f'test_{tag}.json')
        if not osp.isfile(metrics_file):
            _tool(['tools/test.py', test_cfg_path, ckpt, '--work-dir', osp.join(work, 'test'),
                   '--out-metrics', metrics_file])
        dataset, loader_cfg = build_split(cfg, 'test')
        model, _ = load_classifier(cfg, ckpt)
        table = run_gradcam(model, dataset, loader_cfg,
                            osp.join(work, f'cam_{tag}_{args.method}_{layers_tag}'),
                            method=args.method, target='gt', num_vis=8,
                            target_layers=args.target_layers)
        row = table[SCORES].mean().to_dict()
        test = json.load(open(metrics_file))
        row.update({k.split('/')[-1]: v for k, v in test.items()
                    if 'roc_auc' in k or k.split('/')[-1].startswith('accuracy')})
        rows[name] = row
    result = pd.concat([pd.DataFrame(rows).T, baselines(cfg)[SCORES]])
    pd.set_option('display.width', 200)
    print(f'{args.method} on {layers_tag} layers, target = ground truth, clean test split '
          f'({len(dataset)} images), means over images with an expert ROI')
    print(result.to_string(float_format='%.3f'))
    result.to_csv(osp.join(work, f'summary_{args.method}_{layers_tag}.csv'))


if __name__ == '__main__':
    main()
