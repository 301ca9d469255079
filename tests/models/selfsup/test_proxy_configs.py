"""Every config in configs/proxy builds, and pretext backbones match the classifiers'."""
import os.path as osp
from glob import glob

import pytest
from mmengine.config import Config
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401  (registers the algorithms)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = sorted(glob(osp.join(ROOT, 'configs', 'proxy', '*.py')))
PRETEXT = [c for c in CONFIGS if not osp.basename(c).startswith('supervised_')]


def classifier_base(backbone: dict) -> str:
    """The classification model base whose backbone a pretext backbone must equal."""
    if backbone['type'] == 'ResNet':
        name = f"resnet{backbone['depth']}_xray.py"
    else:
        name = f"{backbone['arch']}_xray.py"
    return osp.join(ROOT, 'configs', '_base_', 'models', name)


def test_every_task_has_shoulder_and_chest_configs_for_resnet_and_vit():
    names = [osp.basename(c) for c in PRETEXT]
    for task in ('rotation', 'jigsaw', 'relative-location', 'genesis'):
        mine = [n for n in names if n.startswith(task + '_')]
        assert any('_resnet' in n and 'shoulder' in n for n in mine), task
        assert any('_deit' in n and 'shoulder' in n for n in mine), task
        assert any(d in n for n in mine for d in ('nih', 'chexpert', 'unlabeled')), task
        assert any('phantom' in n for n in mine), task


@pytest.mark.parametrize('path', PRETEXT, ids=osp.basename)
def test_pretext_config_builds_with_the_classifier_backbone(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    classifier = MODELS.build(Config.fromfile(classifier_base(cfg.model.backbone)).model)

    assert isinstance(model, BaseSelfSupervisor)
    assert cfg.val_dataloader is None and cfg.test_dataloader is None
    assert cfg.train_dataloader.dataset.get('split', 'train') in ('train', 'trainval')
    assert cfg.train_dataloader.collate_fn.type == 'default_collate'
    mine = {k: v.shape for k, v in model.backbone.state_dict().items()}
    theirs = {k: v.shape for k, v in classifier.backbone.state_dict().items()}
    assert mine == theirs


@pytest.mark.parametrize('stage2', [c for c in CONFIGS if '-pre_' in osp.basename(c)],
                         ids=osp.basename)
def test_supervised_route_stage2_loads_the_stage1_checkpoint(stage2):
    cfg = Config.fromfile(stage2)
    stage1_name = osp.basename(stage2).split('-pre_')[0]
    stage1 = Config.fromfile(osp.join(ROOT, 'configs', 'proxy', stage1_name + '.py'))

    init = cfg.model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.prefix == 'backbone.'
    assert init.checkpoint == (f'work_dirs/{stage1_name}/'
                               f'epoch_{stage1.train_cfg.max_epochs}.pth')
    assert stage1.model.head.type == 'MultiLabelLinearClsHead'
    assert cfg.model.head.num_classes == 2
    assert MODELS.build(stage1.model).backbone.state_dict().keys() == \
        MODELS.build(cfg.model).backbone.state_dict().keys()


def test_supervised_cpu_config_reads_the_chest_phantom_at_64px(tmp_path):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS

    from osteo_mm.datasets.phantom import generate_chest

    root = str(tmp_path / 'chest')
    generate_chest(root, 6, size=32, seed=0, images_per_patient=2, test_ratio=0.5,
                   progress=False)
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs', 'proxy', 'supervised_resnet18_1xb16-coslr-6e_phantom-chest-64px.py'))
    init_default_scope('mmpretrain')
    for split in ('train', 'val'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = root
        dataset = DATASETS.build(loader.dataset)
        assert len(dataset.metainfo['classes']) == 14, split
        assert tuple(dataset[0]['inputs'].shape[-2:]) == (64, 64), split
    assert cfg.train_cfg.max_epochs == cfg.train_cfg.val_interval == 6
    model = MODELS.build(cfg.model)
    assert model.head.num_classes == 14
    shoulder = MODELS.build(Config.fromfile(classifier_base(cfg.model.backbone)).model)
    assert model.backbone.state_dict().keys() == shoulder.backbone.state_dict().keys()
