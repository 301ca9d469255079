"""Data efficiency on the phantoms at CPU scale: shoulder test AUC vs fraction of labelled
patients, scratch vs chest-MAE (DeiT-tiny), chest-SparK and proxy-task inits (ResNet-18).

All arms of a backbone share one recipe (the MAE / SparK fine-tuning configs in
``configs/{mae,spark}/benchmarks``); this script only shrinks them to the phantom at a small
image size and runs ``osteo_mm.experiments.data_efficiency`` (resumable: re-run to continue).
Further initialisations (proxy tasks, supervised chest pre-training) join with
``--init NAME@BACKBONE=CKPT``; ``benchmarks/proxy_transfer_phantom.sh`` runs the whole study.

Usage (numbers in docs/benchmarks.md):
    nice -n 10 python tools/analysis/data_efficiency_phantom.py \
        --shoulder-root data/phantom_shoulder --mae-ckpt work_dirs/mae/epoch_8.pth \
        --spark-ckpt work_dirs/spark/epoch_8.pth --work-dir work_dirs/data_efficiency_phantom
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config

from osteo_mm.experiments.data_efficiency import parse_inits, plan_runs, run_study, write_outputs
from osteo_mm.utils.cli import UserInputError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BACKBONES = {
    'deit-tiny': ('configs/mae/benchmarks/deit-tiny_shoulder-binary_mae-ft.py',
                  'model = dict(backbone=dict(img_size=img_size))'),
    'resnet18': ('configs/spark/benchmarks/resnet18_shoulder-binary_spark-ft.py', ''),
}
CHILD = """_base_ = '{base}'
img_size = {size}
data_root = '{root}'
{extra}
train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0)),
    dict(type='XrayRandomFlip', prob=0.5),
    dict(type='PackXrayInputs'),
]
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(batch_size=16, **loader,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
test_dataloader = dict(batch_size=64, **loader,
                       dataset=dict(data_root=data_root, pipeline=test_pipeline))
# Only the test AUC is collected (threshold-free): no validation pass, 200 bootstrap resamples.
val_dataloader = val_evaluator = val_cfg = None
test_evaluator = dict(threshold=0.5, threshold_file=None, n_boot=200)
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end={epochs}, eta_min=1e-6,
         convert_to_iter_based=True),
]
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval={epochs}, max_keep_ckpts=1))
"""


def write_configs(work_dir: str, backbones, shoulder_root: str, img_size: int,
                  epochs: int) -> dict:
    """Write the shrunk fine-tuning config of each backbone; return name -> Config."""
    config_dir = osp.join(work_dir, 'configs')
    os.makedirs(config_dir, exist_ok=True)
    configs = {}
    for name in backbones:
        base, extra = BACKBONES[name]
        path = osp.join(config_dir, f'{name}.py')
        with open(path, 'w') as f:
            f.write(CHILD.format(base=osp.join(ROOT, base), extra=extra, size=img_size,
                                 root=osp.abspath(shoulder_root), epochs=epochs))
        configs[name] = Config.fromfile(path)
    return configs


def run(args: argparse.Namespace) -> None:
    """Run the study with the options of ``tools/analysis/data_efficiency_phantom.py``."""
    configs = write_configs(args.work_dir, args.backbones, args.shoulder_root, args.img_size,
                            args.epochs)
    inits = [('scratch', None, None)]
    for name, ckpt, backbone in (('chest-mae', args.mae_ckpt, 'deit-tiny'),
                                 ('chest-spark', args.spark_ckpt, 'resnet18')):
        if ckpt and backbone in args.backbones:
            inits.append((name, osp.abspath(ckpt), backbone))
    try:  # plan_runs refuses an init for a backbone that is not run
        inits += [(name, osp.abspath(ckpt) if ckpt else None, only)
                  for name, ckpt, only in parse_inits(args.init)]
        runs = plan_runs(configs, inits, args.fractions, args.seeds)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    metric = 'binary/roc_auc'
    results = run_study(configs, runs, args.work_dir, metric)
    summary = write_outputs(results, args.work_dir, metric)
    print(summary.to_string(index=False, float_format='%.3f'))

