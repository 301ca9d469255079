"""MAE (DeiT-tiny) and SparK (ResNet-18) pretraining on the chest phantom on CPU: loss curves.

Runs ``tools/train.py`` with the 8-epoch CPU demo configs (skipped when a run already finished
in the work dir), then plots the logged reconstruction loss of each run to
``docs/images/{mae,spark}_loss.png`` and prints the mean loss of the first and last 5 logged
iterations. SparK runs at ``--spark-size`` px (default 64: 2x2 cells of 32 px) because a
ResNet-18 step at 128 px costs ~10x an MAE step on a shared 2-core box.

Usage (numbers in docs/benchmarks.md):
    python tools/dataset_converters/make_phantom.py chest --out data/phantom_chest \
        --num-patients 200 --size 128 --seed 0
    nice -n 10 python tools/analysis/mae_pretrain_phantom.py --chest-root data/phantom_chest \
        --work-dir work_dirs/mim_phantom
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAE = 'configs/mae/mae_deit-t-p16_1xb32-coslr-8e_phantom-chest-128px.py'
SPARK = 'configs/spark/spark_sparse-resnet18_1xb32-coslr-8e_phantom-chest-128px.py'


def train(config: str, work_dir: str, options: list) -> None:
    """Run tools/train.py unless the work dir holds the final epoch's checkpoint."""
    if osp.isfile(osp.join(work_dir, 'epoch_8.pth')):
        return
    subprocess.run([sys.executable, osp.join(ROOT, 'tools/train.py'), config, '--work-dir',
                    work_dir, '--cfg-options', *options], cwd=ROOT, check=True)


def losses(work_dir: str) -> tuple:
    """(iterations, losses) of the latest run logged in ``work_dir``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    with open(logs[-1]) as f:
        rows = [json.loads(line) for line in f if '"loss"' in line]
    return [r['step'] for r in rows], [r['loss'] for r in rows]


def plot(steps: list, values: list, title: str, out: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(steps, values, marker='.')
    ax.set_xlabel('iteration')
    ax.set_ylabel('loss (norm-pix L2, masked)')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(f'{out}.tmp.png', dpi=120)
    plt.close(fig)
    os.replace(f'{out}.tmp.png', out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--chest-root', required=True)
    parser.add_argument('--work-dir', default='work_dirs/mim_phantom')
    parser.add_argument('--spark-size', type=int, default=64)
    parser.add_argument('--spark-batch', type=int, default=16)
    parser.add_argument('--out-dir', default=osp.join(ROOT, 'docs', 'images'))
    args = parser.parse_args(argv)
    root = osp.abspath(args.chest_root)
    common = [f'train_dataloader.dataset.data_root={root}', 'train_dataloader.num_workers=1']
    runs = {
        'mae': (MAE, common, 'MAE DeiT-tiny, 128 px, mask 0.9, batch 32'),
        'spark': (SPARK, common + [f'model.input_size={args.spark_size}',
                                   f'train_dataloader.dataset.pipeline.1.scale={args.spark_size}',
                                   f'train_dataloader.batch_size={args.spark_batch}'],
                  f'SparK ResNet-18, {args.spark_size} px, mask 0.6, batch {args.spark_batch}'),
    }
    for name, (config, options, title) in runs.items():
        work_dir = osp.abspath(osp.join(args.work_dir, name))
        train(config, work_dir, options)
        steps, values = losses(work_dir)
        plot(steps, values, f'Chest phantom, CPU: {title}',
             osp.join(args.out_dir, f'{name}_loss.png'))
        first, last = sum(values[:5]) / 5, sum(values[-5:]) / 5
        print(f'{name}: {len(values)} logged points, iterations {steps[0]}-{steps[-1]}, '
              f'mean loss first 5 {first:.4f}, last 5 {last:.4f}')

