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


ARRAY_MAE = osp.join(ROOT, 'configs', 'mae',
                     'mae_vit-base-p16_1xb256-bf16-coslr-400e_nih-cxr14-array256_mask0.75.py')


def _crop(cfg):
    """The random crop: a CPU transform, or the device preprocessor of array-cache recipes."""
    if cfg.data_preprocessor.type == 'XrayDeviceAugPreprocessor':
        pre = cfg.data_preprocessor
        return dict(scale=pre.crop_size, crop_ratio_range=pre.scale)
    return next(t for t in cfg.train_dataloader.dataset.pipeline
                if t.type == 'XrayRandomResizedCrop')


@pytest.mark.parametrize('path', MAE_CONFIGS + SPARK_CONFIGS, ids=osp.basename)
def test_config_keeps_xray_defaults(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports == dict(imports=['osteo_mm'], allow_failed_imports=False)
    pipeline = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert pipeline[0] in ('LoadXrayFromFile', 'LoadXrayFromArrayCache')
    assert pipeline[-1] == 'PackXrayInputs'
    assert tuple(_crop(cfg)['crop_ratio_range']) == (0.5, 1.0)
    pre = cfg.data_preprocessor
    assert len(set(pre.mean)) == 1 and len(set(pre.std)) == 1 and not pre.to_rgb  # grayscale
    size = _crop(cfg)['scale']
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


def test_array_cache_recipe_trains_one_step(tmp_path):
    """Cache slots -> default_collate -> crops/flips on the device -> MAE loss, at 64 px."""
    from mmengine.dataset import default_collate

    from osteo_mm.datasets.tools import build_array_cache
    cfg = Config.fromfile(ARRAY_MAE)
    assert cfg.optim_wrapper.dtype == 'bfloat16' and cfg.optim_wrapper.optimizer.fused
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1.5e-4 * 256 / 256)
    assert cfg.auto_scale_lr.base_batch_size == cfg.train_dataloader.batch_size
    rng = np.random.default_rng(0)
    for i, shape in enumerate([(90, 70), (60, 96)]):
        cv2.imwrite(str(tmp_path / f'{i}.png'), rng.integers(0, 256, shape, dtype=np.uint8))
    build_array_cache(str(tmp_path), str(tmp_path / 'cache'), long_side=80, progress=False)
    steps = cfg.train_dataloader.dataset.pipeline
    steps[0].cache_dir = str(tmp_path / 'cache')
    pipeline = [TRANSFORMS.build(t) for t in steps]
    batch = []
    for i in range(2):
        results = dict(img_id=f'{i}.png', patient_id=f'p{i}')
        for t in pipeline:
            results = t(results)
        batch.append(results)
    assert batch[0]['inputs'].shape == (1, 80, 80)  # workers only slice the slot
    cfg.model.backbone.update(arch='deit-t', img_size=64)
    cfg.model.neck.update(num_patches=16, embed_dim=192, decoder_embed_dim=64, decoder_depth=1,
                          decoder_num_heads=2)
    cfg.model.data_preprocessor = dict(cfg.data_preprocessor, crop_size=64)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = model.data_preprocessor(default_collate(batch), True)
    assert data['inputs'].shape == (2, 3, 64, 64)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss']) and losses['loss'] > 0
