"""The configs/guided/ configs build and train one step on a tiny shoulder phantom."""
import glob
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmpretrain.registry import DATASETS, MODELS

from osteo_mm.datasets.phantom import generate_shoulder

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'guided', '*.py')))
SIZE = 64


@pytest.fixture(scope='module')
def phantom(tmp_path_factory) -> str:
    """Four 64 px shoulder films (PNG) with expert ROI masks, all in the training split."""
    out = str(tmp_path_factory.mktemp('phantom'))
    generate_shoulder(out, num_patients=4, size=SIZE, fmt='png', split_ratios=(1.0, 0.0, 0.0),
                      progress=False)
    return out


def small(cfg: Config, data_root: str) -> Config:
    """Shrink a config to 64 px on ``data_root`` (the pipelines read img_size when loaded)."""
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = data_root
    for transform in dataset.pipeline:
        if transform.type == 'XrayRandomResizedCrop':
            transform.scale = SIZE
    return cfg


def test_every_guided_config_is_covered():
    names = {osp.basename(path) for path in CONFIGS}
    for arch in ('resnet18', 'deit-tiny'):
        for data in ('phantom-shoulder', 'phantom-shoulder-shortcut'):
            for kind in ('rrr', 'cam'):
                assert f'{arch}_{data}+guided-{kind}.py' in names


@pytest.mark.parametrize('path', [p for p in CONFIGS if 'shortcut' not in p], ids=osp.basename)
def test_config_trains_one_guided_step(path, phantom):
    cfg = small(Config.fromfile(path), phantom)
    assert cfg.model.type == 'GuidedImageClassifier'
    assert cfg.model.guidance.weight == cfg.guidance_weight
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = pseudo_collate([dataset[0], dataset[1]])
    assert all(sample.has_roi for sample in batch['data_samples'])
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_guidance']) and losses['roi_frac'] > 0
    sum(value for key, value in losses.items() if 'loss' in key).backward()
    first = next(p for p in model.backbone.parameters() if p.requires_grad)
    assert first.grad is not None


def test_shortcut_configs_only_change_the_data_root():
    for path in CONFIGS:
        if 'shortcut' in path:
            cfg = Config.fromfile(path)
            plain = Config.fromfile(path.replace('-shortcut', ''))
            assert cfg.model == plain.model
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
                assert cfg[loader].dataset.data_root == 'data/phantom_shoulder_shortcut/'


def test_lambda_grid_names_the_guidance_weight():
    with open(osp.join(ROOT, 'configs', 'guided', 'grid_lambda.yaml')) as file:
        grid = yaml.safe_load(file)
    cfg = Config.fromfile(CONFIGS[0])
    for key in grid:
        node = cfg
        for part in key.split('.'):
            node = node[part]  # every grid key exists in the config
    assert grid['model.guidance.weight'] == [0.1, 1.0, 10.0]
