"""MAE / SparK pretraining configs: they load, keep the X-ray defaults, and train at tiny size."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS, TRANSFORMS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAE_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'mae', '*.py')))
SPARK_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'spark', '*.py')))
MAE_CPU = osp.join(ROOT, 'configs', 'mae', 'mae_deit-t-p16_1xb32-coslr-8e_phantom-chest-128px.py')
SPARK_CPU = osp.join(ROOT, 'configs', 'spark',
                     'spark_sparse-resnet18_1xb32-coslr-8e_phantom-chest-128px.py')


def _crop(cfg):
    return next(t for t in cfg.train_dataloader.dataset.pipeline
                if t.type == 'XrayRandomResizedCrop')


@pytest.mark.parametrize('path', MAE_CONFIGS + SPARK_CONFIGS, ids=osp.basename)
def test_config_keeps_xray_defaults(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports == dict(imports=['osteo_mm'], allow_failed_imports=False)
    pipeline = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert pipeline[0] == 'LoadXrayFromFile' and pipeline[-1] == 'PackXrayInputs'
    assert tuple(_crop(cfg).crop_ratio_range) == (0.5, 1.0)
    pre = cfg.data_preprocessor
    assert len(set(pre.mean)) == 1 and len(set(pre.std)) == 1 and not pre.to_rgb  # grayscale
    size = _crop(cfg).scale
    assert size == (128 if '128px' in path else 224)
    if cfg.model.type == 'MAE':
        assert cfg.model.backbone.mask_ratio == (0.75 if 'mask0.75' in path else 0.9)
        assert cfg.model.backbone.img_size == size
        assert cfg.model.neck.num_patches == (size // cfg.model.backbone.patch_size)**2
        assert cfg.model.neck.embed_dim == {'deit-t': 192, 'deit-s': 384, 'b': 768}[
            cfg.model.backbone.arch]
    else:
        assert cfg.model.type == 'SparK' and cfg.model.input_size == size
        assert cfg.model.backbone.norm_cfg.type == 'BN'  # runs on CPU
    # AMP needs a GPU: the CPU demos use the fp32 wrapper, the GPU recipes keep AMP.
    assert cfg.optim_wrapper.type == ('OptimWrapper' if '128px' in path else 'AmpOptimWrapper')


@pytest.mark.parametrize('path', [p for p in MAE_CONFIGS + SPARK_CONFIGS  # one per model
                                  if p.endswith('nih-cxr14.py') and 'vit-base' not in p
                                  and 'resnet50' not in p], ids=osp.basename)
def test_small_models_build(path):
    model = MODELS.build(Config.fromfile(path).model)
    assert model.backbone is not None and model.head is not None


def _tiny(path, size=64):
    cfg = Config.fromfile(path)
    if cfg.model.type == 'MAE':
        cfg.model.backbone.img_size = size
        cfg.model.neck.num_patches = (size // 16)**2
    else:
        cfg.model.input_size = size
    cfg.model.data_preprocessor = cfg.data_preprocessor
    return cfg


@pytest.mark.parametrize('path', [MAE_CPU, SPARK_CPU], ids=osp.basename)
def test_one_loss_backward_step_at_64px(path, tmp_path):
    cfg = _tiny(path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    rng = np.random.default_rng(0)
    pipeline = [TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline]
    pipeline[1] = TRANSFORMS.build(dict(_crop(cfg), scale=64))
    batch = []
    for i in range(2):
        png = str(tmp_path / f'{i}.png')
        cv2.imwrite(png, rng.integers(0, 256, (80, 72), dtype=np.uint8))
        results = dict(img_path=png, img_id=f'{i}.png', patient_id=f'p{i}')
        for t in pipeline:
            results = t(results)
        batch.append(results)
    assert batch[0]['inputs'].shape == (3, 64, 64)
    # The recipes collate with `default_collate`, which stacks the images.
    data = model.data_preprocessor(dict(inputs=torch.stack([b['inputs'] for b in batch]),
                                        data_samples=[b['data_samples'] for b in batch]), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss']) and losses['loss'] > 0
    losses['loss'].backward()
    first = next(model.backbone.parameters())
    assert first.grad is not None and first.grad.abs().sum() > 0
