"""Cascading randomisation sanity check: tool, SSIM and the randomisation order."""
import os.path as osp

import numpy as np
import pandas as pd
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from test_gradcam import run_main, tiny_cam_setup  # noqa: F401

from osteo_mm.explain.sanity import cascade_blocks, randomize_, ssim


def test_ssim_identity_inverse_and_noise():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:32, :32]
    blob = np.exp(-((yy - 12) ** 2 + (xx - 18) ** 2) / 40.0)
    assert ssim(blob, blob) == pytest.approx(1.0)
    assert ssim(blob, 1 - blob) < 0
    assert 0 < ssim(blob, np.clip(blob + rng.normal(0, 0.1, blob.shape), 0, 1)) < 0.9


def test_cascade_goes_from_head_to_stem_and_randomises_in_place(tiny_cam_setup):  # noqa: F811
    init_default_scope('mmpretrain')
    model = MODELS.build(Config.fromfile(tiny_cam_setup[0]).model)
    names = [name for name, _ in cascade_blocks(model)]
    assert names == ['head', 'backbone.layer4', 'backbone.layer3', 'backbone.layer2',
                     'backbone.layer1', 'backbone.bn1', 'backbone.conv1']
    before = model.backbone.layer4[0].conv1.weight.clone()
    stem = model.backbone.conv1.weight.clone()
    randomize_(model.backbone.layer4, seed=1)
    assert not torch.equal(before, model.backbone.layer4[0].conv1.weight)
    assert torch.equal(stem, model.backbone.conv1.weight)


def test_tool_writes_csv_and_plot(tiny_cam_setup, tmp_path, monkeypatch, capsys):  # noqa: F811
    config, ckpt = tiny_cam_setup
    out = tmp_path / 'sanity'
    assert run_main('analysis/cam_sanity.py', [config, ckpt, '--num-images', '3', '--score',
                                               'log-odds', '--out-dir', out],
                    monkeypatch) == 0
    table = pd.read_csv(out / 'cam_sanity.csv')
    assert list(table.columns) == ['img_id', 'step', 'randomized_block', 'spearman', 'ssim']
    assert table['step'].max() == 7 and len(table) == 3 * 8
    assert (table.loc[table.step == 0, ['spearman', 'ssim']] == 1).all().all()
    assert osp.getsize(out / 'cam_sanity.png') > 1000
    assert 'backbone.conv1' in capsys.readouterr().out
