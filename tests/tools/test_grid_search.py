"""tools/grid_search.py: child configs, resumable sequential runs, results table."""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest
from mmengine.config import Config
from tool_runner import ROOT, TINY_CONFIG, tiny_options

from osteo_mm.experiments.grid_search import load_grid, point_name, run_grid, write_child_config
from osteo_mm.utils.cli import UserInputError


def test_grid_file_and_set_options(tmp_path):
    grid_file = tmp_path / 'grid.yaml'
    grid_file.write_text('model.backbone.mask_ratio: [0.75, 0.9]\n')
    grid = load_grid(str(grid_file), ['optim_wrapper.optimizer.lr=0.001,0.0001'])
    assert grid == {'model.backbone.mask_ratio': [0.75, 0.9],
                    'optim_wrapper.optimizer.lr': [0.001, 0.0001]}
    with pytest.raises(UserInputError, match='non-empty list'):
        grid_file.write_text('train_cfg.max_epochs: 3\n')
        load_grid(str(grid_file))
    with pytest.raises(UserInputError, match='key=v1,v2'):
        load_grid(None, ['lr'])


def test_child_config_inherits_base_and_overrides(tmp_path):
    point = {'optim_wrapper.optimizer.lr': 0.5, 'train_cfg.max_epochs': 7}
    path = write_child_config(TINY_CONFIG, point, str(tmp_path / 'p' / 'child.py'))
    text = open(path).read()
    assert '_base_' in text and 'lr=0.5' in text
    cfg = Config.fromfile(path)
    assert cfg.optim_wrapper.optimizer.lr == 0.5
    assert cfg.optim_wrapper.optimizer.momentum == 0.9  # kept from the base
    assert cfg.train_cfg.max_epochs == 7 and cfg.train_cfg.val_interval == 1
    assert point_name(point) == 'lr-0.5_max_epochs-7'


def _run_dirs(point_dir: str) -> list:
    return [d for d in os.listdir(point_dir) if re.fullmatch(r'\d{8}_\d{6}', d)]


def test_killed_grid_resumes_without_redoing_finished_points(tmp_path, tiny_folder):
    work_dir = str(tmp_path / 'grid')
    opts = tiny_options(tiny_folder)[1:] + ['train_cfg.max_epochs=1']
    cmd = [sys.executable, 'tools/grid_search.py', TINY_CONFIG, '--set',
           'optim_wrapper.optimizer.lr=0.01,0.001', '--work-dir', work_dir, '--sort-by',
           'accuracy/top1', '--train-args', '--cfg-options'] + opts
    first = osp.join(work_dir, 'lr-0.01')
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while not osp.isfile(osp.join(first, 'result.json')) and time.time() < deadline:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # kill the grid and its training child
    proc.wait()
    assert osp.isfile(osp.join(first, 'result.json'))
    assert len(_run_dirs(first)) == 1

    rows = run_grid(TINY_CONFIG, {'optim_wrapper.optimizer.lr': [0.01, 0.001]}, work_dir,
                    sort_by='accuracy/top1', train_args=['--cfg-options'] + opts)
    assert len(_run_dirs(first)) == 1  # finished point not trained again
    assert {r['name'] for r in rows} == {'lr-0.01', 'lr-0.001'}
    table = open(osp.join(work_dir, 'results.csv')).read().splitlines()
    assert table[0].startswith('name,optim_wrapper.optimizer.lr,accuracy/top1')
    accuracies = [float(line.split(',')[2]) for line in table[1:]]
    assert accuracies == sorted(accuracies, reverse=True)


def test_print_mode_writes_configs_and_prints_commands(tmp_path, capsys):
    rows = run_grid(TINY_CONFIG, {'train_cfg.max_epochs': [1, 2]}, str(tmp_path / 'g'),
                    launcher='slurm', gpus=8, partition='gpu')
    out = capsys.readouterr().out
    assert rows == [] and out.count('slurm_train.sh gpu') == 2
    assert osp.isfile(tmp_path / 'g' / 'max_epochs-2' / 'max_epochs-2.py')
