"""Summarise short pretext-task runs: does the loss fall well below chance?

Reads the work dirs written by ``tools/train.py`` (the dumped config and MMEngine's
``vis_data/scalars.json``) and prints one Markdown row per run: the pretext chance level
(``log K`` for a K-way task; for restoration, the L2 error of returning the corrupted input),
the first and the final logged loss (mean of the last ``--last`` log entries) and, for the
classification tasks, the final pretext accuracy. For restoration a second baseline is the
error of predicting each channel's mean. Logged values are MMEngine's running means over the
last 10 iterations.

Example:
    OMP_NUM_THREADS=1 nice -n 10 python tools/train.py \
        configs/proxy/rotation_resnet18_1xb16-coslr-3e_phantom-shoulder-64px.py \
        --work-dir work_dirs/proxy/rotation
    python tools/analysis/proxy_pretext_loss.py work_dirs/proxy/*
"""
import argparse
import glob
import json
import math
import os.path as osp
import sys

import numpy as np
from mmengine.config import Config


def read_run(work_dir: str) -> tuple:
    """Return the dumped config and the logged training records of one work dir."""
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not configs or not logs:
        raise FileNotFoundError(f'{work_dir}: no dumped config or vis_data/scalars.json')
    with open(logs[-1]) as f:
        records = [json.loads(line) for line in f if '"loss"' in line]
    if not records:
        raise ValueError(f'{logs[-1]}: no training loss logged')
    return Config.fromfile(configs[0]), records


def summarise(work_dir: str, last: int) -> str:
    """One Markdown table row for a run."""
    cfg, records = read_run(work_dir)
    loss = np.array([r['loss'] for r in records])
    final = loss[-last:].mean()
    if cfg.model.type == 'ModelsGenesis':
        identity = np.mean([r['identity_mse'] for r in records[-last:]])
        mean = np.mean([r['mean_mse'] for r in records[-last:]])
        baseline = f'identity {identity:.3f}; channel mean {mean:.3f}'
        ratio, acc = f'{final / identity:.2f}; {final / mean:.2f}', '-'
    else:
        chance = math.log(cfg.model.head.num_classes)
        baseline = f'chance log {cfg.model.head.num_classes} = {chance:.3f}'
        ratio = f'{final / chance:.2f}'
        acc = f"{np.mean([r['acc_pretext'] for r in records[-last:]]):.2f}"
    return (f'| {osp.basename(osp.normpath(work_dir))} | {records[-1]["step"]} | {baseline} '
            f'| {loss[0]:.3f} | {final:.3f} | {ratio} | {acc} |')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', help='work dirs of finished runs')
    parser.add_argument('--last', type=int, default=3, help='log entries averaged at the end')
    args = parser.parse_args(argv)
    print('| run | iters | baseline | first loss | final loss | final / baseline | final acc |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    for work_dir in args.work_dirs:
        try:
            print(summarise(work_dir, args.last))
        except (FileNotFoundError, ValueError) as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
    return 0

