"""Tests for the data-efficiency study (tools/analysis/data_efficiency.py)."""
import json
import os.path as osp
import runpy
import sys
from unittest import mock

import pandas as pd
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from osteo_mm.experiments.data_efficiency import (
    RunSpec,
    build_run_config,
    plan_runs,
    run_study,
    summarize,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_resnet_folder.py')


def _tool(script, *args):
    """Run ``tools/<script>`` in this process as its command line would; return the exit code."""
    with mock.patch.object(sys, 'argv', [script, *map(str, args)]):
        try:
            runpy.run_path(osp.join(ROOT, 'tools', script), run_name='__main__')
        except SystemExit as exit_:
            return exit_.code
    return 0


def test_plan_runs_restricts_backbone_specific_inits():
    inits = [('scratch', None, None), ('chest-mae', 'mae.pth', 'deit-t')]
    runs = plan_runs(['resnet18', 'deit-t'], inits, [0.1, 1.0], [0, 1])
    assert len(runs) == 2 * 2 * 2 + 1 * 2 * 2
    assert {r.backbone for r in runs if r.init == 'chest-mae'} == {'deit-t'}
    assert runs[0].name == osp.join('resnet18', 'scratch', 'frac0.1', 'seed0')
    with pytest.raises(ValueError, match="backbone 'vit-b'"):
        plan_runs(['resnet18'], [('x', 'a.pth', 'vit-b')], [1.0], [0])
    with pytest.raises(ValueError, match='fractions'):
        plan_runs(['resnet18'], inits[:1], [0.0], [0])


def test_run_config_wraps_train_set_and_loads_backbone():
    base = Config.fromfile(TINY_CONFIG)
    spec = RunSpec('tiny', 'chest', 'ckpt.pth', 0.25, 3)
    cfg = build_run_config(base, spec, '/tmp/run')
    assert cfg.train_dataloader.dataset.type == 'LabelFractionDataset'
    assert cfg.train_dataloader.dataset.fraction == 0.25
    assert cfg.train_dataloader.dataset.dataset.type == 'CustomDataset'
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='ckpt.pth',
                                               prefix='backbone.')
    assert cfg.randomness.seed == 3 and cfg.work_dir == '/tmp/run'
    assert base.train_dataloader.dataset.type == 'CustomDataset'  # base untouched
    scratch = build_run_config(base, RunSpec('tiny', 'scratch', None, 1.0, 0), '/tmp/s')
    assert 'init_cfg' not in scratch.model.backbone
    finetune = build_run_config(cfg, RunSpec('tiny', 'scratch', None, 1.0, 0), '/tmp/s')
    assert 'init_cfg' not in finetune.model.backbone  # the config's checkpoint is dropped


def test_summary_t_interval_over_seeds():
    results = pd.DataFrame(dict(backbone='r18', init='scratch', fraction=0.1, seed=[0, 1, 2],
                                auc=[0.6, 0.7, 0.8]))
    row = summarize(results, 'auc').iloc[0]
    assert row.n_seeds == 3 and row['mean'] == pytest.approx(0.7)
    # t(0.975, df=2) = 4.3027; half-width = 4.3027 * 0.1 / sqrt(3) = 0.2484
    assert (row.ci_low, row.ci_high) == pytest.approx((0.4516, 0.9484), abs=1e-4)
    single = summarize(results.iloc[:1], 'auc').iloc[0]
    assert single['mean'] == pytest.approx(0.6) and pd.isna(single.ci_low)


def test_finished_runs_are_skipped(tmp_path):
    calls = []

    def fake_runner(cfg):
        calls.append(cfg.work_dir)
        return {'binary/roc_auc': 0.5 + 0.1 * cfg.train_dataloader.dataset.fraction,
                'num_train_images': 10}

    base = Config.fromfile(TINY_CONFIG)
    runs = plan_runs(['tiny'], [('scratch', None, None)], [0.5, 1.0], [0])
    first = run_study({'tiny': base}, runs, str(tmp_path), 'binary/roc_auc', fake_runner)
    again = run_study({'tiny': base}, runs, str(tmp_path), 'binary/roc_auc', fake_runner)
    assert len(calls) == 2  # the second study found both results and trained nothing
    assert first.equals(again)
    assert list(first['binary/roc_auc']) == pytest.approx([0.55, 0.6])
    with pytest.raises(KeyError, match="no 'binary/pr_auc'.*available"):
        run_study({'tiny': base}, runs[:1], str(tmp_path / 'other'), 'binary/pr_auc',
                  fake_runner)


def test_tool_end_to_end_on_tiny_folder(tmp_path, tiny_folder):
    config = tmp_path / 'tiny_binary.py'
    config.write_text(f"""_base_ = '{TINY_CONFIG}'
train_dataloader = dict(dataset=dict(data_root='{tiny_folder}'))
test_dataloader = dict(dataset=dict(data_root='{tiny_folder}'))
train_cfg = dict(max_epochs=1, val_interval=1)
val_cfg = val_dataloader = val_evaluator = None
test_evaluator = dict(_delete_=True, type='BinaryDiagnosticMetric', n_boot=0, threshold=0.5)
""")
    model = MODELS.build(Config.fromfile(TINY_CONFIG).model)
    ckpt = str(tmp_path / 'pre.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    work = str(tmp_path / 'study')
    assert _tool('analysis/data_efficiency.py', '--backbone', f'tiny={config}',
                 '--init', f'pre@tiny={ckpt}', '--fractions', '0.5', '1',
                 '--seeds', '0', '--metric', 'binary/roc_auc', '--work-dir', work) == 0
    results = pd.read_csv(osp.join(work, 'results.csv'))
    assert len(results) == 2
    assert results['binary/roc_auc'].between(0, 1).all()
    sizes = results.groupby('fraction')['num_train_images'].unique()
    assert list(sizes[0.5]) == [12] and list(sizes[1.0]) == [24]  # 6 of 12 per class
    with open(osp.join(work, 'tiny', 'pre', 'frac0.5', 'seed0', 'result.json')) as f:
        assert json.load(f)['checkpoint'] == ckpt
    for name in ('summary.csv', 'summary.md', 'learning_curve.png'):
        assert osp.getsize(osp.join(work, name)) > 0


def test_tool_rejects_bad_init(tmp_path, capsys):
    code = _tool('analysis/data_efficiency.py', '--backbone', f'tiny={TINY_CONFIG}',
                 '--init', 'mae=missing.pth', '--work-dir', tmp_path)
    assert code == 2
    assert capsys.readouterr().err.strip().startswith('error: --init mae checkpoint')


def test_parse_inits_reads_name_backbone_and_checkpoint(tmp_path):
    from osteo_mm.experiments.data_efficiency import parse_inits
    from osteo_mm.utils.cli import UserInputError

    ckpt = tmp_path / 'pre.pth'
    ckpt.write_bytes(b'')
    assert parse_inits(['scratch', f'spark@resnet18={ckpt}', f'any={ckpt}']) == [
        ('scratch', None, None), ('spark', str(ckpt), 'resnet18'), ('any', str(ckpt), None)]
    with pytest.raises(UserInputError, match='expected NAME=VALUE'):
        parse_inits(['spark@resnet18='])
    with pytest.raises(UserInputError, match='--init mae checkpoint file not found'):
        parse_inits([f'mae={tmp_path / "missing.pth"}'])
