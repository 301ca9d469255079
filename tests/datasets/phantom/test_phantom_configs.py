"""The phantom dataset configs build and load phantom output through the real pipelines."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmpretrain.registry import DATASETS

from osteo_mm.datasets.phantom import generate_chest, generate_shoulder

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'datasets')


@pytest.mark.parametrize('name, real', [('phantom_shoulder', 'shoulder_xray'),
                                        ('phantom_chest', 'nih_cxr14')])
def test_phantom_config_differs_from_real_only_in_data_root(name, real):
    phantom = Config.fromfile(osp.join(CONFIGS, f'{name}.py'))
    base = Config.fromfile(osp.join(CONFIGS, f'{real}.py'))
    assert phantom.data_root == f'data/{name}/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = phantom[loader].dataset.to_dict()
        assert dataset.pop('data_root') == phantom.data_root
        expected = base[loader].dataset.to_dict()
        expected.pop('data_root')
        assert dataset == expected


@pytest.mark.parametrize('name', ['phantom_shoulder', 'phantom_chest'])
def test_phantom_config_loads_generated_data(tmp_path, name):
    root = str(tmp_path / name)
    if name == 'phantom_shoulder':
        generate_shoulder(root, 12, size=32, seed=0, progress=False)
    else:
        generate_chest(root, 6, size=32, seed=0, images_per_patient=2, test_ratio=0.5,
                       progress=False)
    cfg = Config.fromfile(osp.join(CONFIGS, f'{name}.py'))
    for loader in ('train_dataloader', 'test_dataloader'):
        dataset = DATASETS.build(dict(cfg[loader].dataset, data_root=root))
        sample = dataset[0]
        assert tuple(sample['inputs'].shape) == (3, cfg.img_size, cfg.img_size)
        assert sample['data_samples'].img_id
