"""Data efficiency on the phantoms at CPU scale: shoulder test AUC vs fraction of labelled
patients, scratch vs chest-MAE (DeiT-tiny), chest-SparK and proxy-task inits (ResNet-18).

All arms of a backbone share one recipe (the MAE / SparK fine-tuning configs in
``configs/{mae,spark}/benchmarks``); this script only shrinks them to the phantom at a small
image size and runs ``osteo_mm.experiments.data_efficiency`` (resumable: re-run to continue).
Further initialisations (proxy tasks, supervised chest pre-training) join with
``--init NAME@BACKBONE=CKPT``; ``benchmarks/proxy_transfer_phantom.sh`` runs the whole study.

Usage (numbers in docs/benchmarks.md):
    nice -n 10 python benchmarks/data_efficiency_phantom.py \
        --shoulder-root data/phantom_shoulder --mae-ckpt work_dirs/mae/epoch_8.pth \
        --spark-ckpt work_dirs/spark/epoch_8.pth --work-dir work_dirs/data_efficiency_phantom
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config

from osteo_mm.experiments.data_efficiency import parse_inits, plan_runs, run_study, write_outputs
from osteo_mm.utils.cli import UserInputError

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shoulder-root', required=True)
    parser.add_argument('--mae-ckpt', help='chest-MAE DeiT-tiny checkpoint (init chest-mae)')
    parser.add_argument('--spark-ckpt', help='chest-SparK ResNet-18 checkpoint (chest-spark)')
    parser.add_argument('--init', action='append', default=[], metavar='NAME[@BACKBONE]=CKPT',
                        help='another initialisation, as in tools/analysis/data_efficiency.py '
                        '(repeatable)')
    parser.add_argument('--backbones', nargs='+', choices=sorted(BACKBONES),
                        default=sorted(BACKBONES))
    parser.add_argument('--work-dir', default='work_dirs/data_efficiency_phantom')
    parser.add_argument('--img-size', type=int, default=64)
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--fractions', nargs='+', type=float, default=[0.1, 0.25, 1.0])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1])
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config_dir = osp.join(args.work_dir, 'configs')
    os.makedirs(config_dir, exist_ok=True)
    configs = {}
    for name in args.backbones:
        base, extra = BACKBONES[name]
        path = osp.join(config_dir, f'{name}.py')
        with open(path, 'w') as f:
            f.write(CHILD.format(base=osp.join(ROOT, base), extra=extra, size=args.img_size,
                                 root=osp.abspath(args.shoulder_root), epochs=args.epochs))
        configs[name] = Config.fromfile(path)
    inits = [('scratch', None, None)]
    for name, ckpt, backbone in (('chest-mae', args.mae_ckpt, 'deit-tiny'),
                                 ('chest-spark', args.spark_ckpt, 'resnet18')):
        if ckpt and backbone in args.backbones:
            inits.append((name, osp.abspath(ckpt), backbone))
    try:  # plan_runs refuses an init for a backbone that is not run
        inits += [(name, osp.abspath(ckpt) if ckpt else None, only)
                  for name, ckpt, only in parse_inits(args.init)]
        runs = plan_runs(configs, inits, args.fractions, args.seeds)
    except (UserInputError, ValueError) as err:
        raise SystemExit(f'error: {err}') from None
    metric = 'binary/roc_auc'
    results = run_study(configs, runs, args.work_dir, metric)
    summary = write_outputs(results, args.work_dir, metric)
    print(summary.to_string(index=False, float_format='%.3f'))


if __name__ == '__main__':
    main()
