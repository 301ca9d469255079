"""Reconstruction figures for MAE and SparK (tools/visualization/vis_mae.py)."""
import os.path as osp
import runpy
import sys
from unittest import mock

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from osteo_mm.visualization.mim import (
    _denormalize_pixels,
    _patchify,
    _unpatchify,
    mim_reconstruct,
    reconstruction_grid,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAE_CPU = osp.join(ROOT, 'configs/mae/mae_deit-t-p16_1xb32-coslr-8e_phantom-chest-128px.py')
SPARK_CPU = osp.join(ROOT,
                     'configs/spark/spark_sparse-resnet18_1xb32-coslr-8e_phantom-chest-128px.py')


def _tool(script, *args):
    """Run ``tools/<script>`` in this process as its command line would; return the exit code."""
    with mock.patch.object(sys, 'argv', [script, *map(str, args)]):
        try:
            runpy.run_path(osp.join(ROOT, 'tools', script), run_name='__main__')
        except SystemExit as exit_:
            return exit_.code
    return 0

def _model(config, size=64):
    cfg = Config.fromfile(config)
    if cfg.model.type == 'MAE':
        cfg.model.backbone.img_size = size
        cfg.model.neck.num_patches = (size // 16)**2
    else:
        cfg.model.input_size = size
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('config, hidden', [(MAE_CPU, 15 / 16), (SPARK_CPU, 2 / 4)],
                         ids=['mae', 'spark'])
def test_reconstruction_is_the_training_forward_pass(config, hidden):
    model = _model(config)
    inputs = torch.randn(2, 3, 64, 64)
    torch.manual_seed(1)
    out = mim_reconstruct(model, inputs)
    torch.manual_seed(1)
    with torch.no_grad():
        expected = model.loss(inputs, [])['loss']
    assert torch.allclose(out['loss'], expected)  # same masks, same decoder output
    assert out['reconstruction'].shape == inputs.shape
    # MAE at 0.9 keeps int(16 * 0.1) = 1 of 16 patches; SparK at 0.6 keeps round(4 * 0.4) = 2.
    assert out['mask'].mean(dim=(1, 2, 3)).tolist() == pytest.approx([hidden, hidden])


def test_denormalisation_inverts_the_heads_norm_pix_target():
    model = _model(MAE_CPU)
    inputs = torch.randn(2, 3, 64, 64) * 30 + 100
    target = model.head.construct_target(inputs)  # MMPretrain's per-patch standardisation
    restored = _unpatchify(_denormalize_pixels(target, inputs, 16), 16, 64, 64)
    assert torch.allclose(restored, inputs, atol=1e-3)
    assert torch.equal(_unpatchify(_patchify(inputs, 8), 8, 64, 64), inputs)


def test_grid_layout_and_masked_column():
    inputs = torch.zeros(2, 3, 8, 8)
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, :4] = 1
    grid = reconstruction_grid(inputs, mask, torch.full_like(inputs, 1.0), [100] * 3, [50] * 3)
    assert grid.shape == (2 * 8 + 2, 3 * 8 + 4, 3) and grid.dtype == np.uint8
    assert (grid[:8, :8] == 100).all()  # original
    assert (grid[:4, 10:18] == 127).all() and (grid[4:8, 10:18] == 100).all()  # masked
    assert (grid[:4, 20:28] == 150).all() and (grid[4:8, 20:28] == 100).all()  # pasted


def test_tool_writes_grid_png(tmp_path, capsys):
    model = _model(MAE_CPU, size=128)
    ckpt = str(tmp_path / 'mae.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    images = []
    for i in range(2):
        images.append(str(tmp_path / f'{i}.png'))
        cv2.imwrite(images[-1], np.random.default_rng(i).integers(0, 256, (100, 90), np.uint8))
    out = str(tmp_path / 'grid.png')
    assert _tool('visualization/vis_mae.py', MAE_CPU, ckpt, *images, '--out', out) == 0
    assert cv2.imread(out).shape == (2 * 128 + 2, 3 * 128 + 4, 3)
    vit_config = osp.join(ROOT, 'configs/vit/deit-tiny_shoulder-binary.py')
    assert _tool('visualization/vis_mae.py', vit_config, ckpt, images[0], '--out', out) == 2
    assert 'model type must be MAE or SparK' in capsys.readouterr().err
