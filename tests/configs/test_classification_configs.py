"""Classification configs: they load consistently and train (and test) at tiny size on CPU."""
import copy
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import osteo_mm  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'resnet', '*.py')) +
                 glob.glob(osp.join(ROOT, 'configs', 'vit', '*.py')))
NUM_CLASSES = {'shoulder-binary': 2, 'shoulder-who3': 3, 'nih-cxr14': 14, 'chexpert': 5}


def config(name: str) -> Config:
    folder = 'vit' if name.startswith(('deit', 'vit')) else 'resnet'
    return Config.fromfile(osp.join(ROOT, 'configs', folder, f'{name}.py'))


def task_of(path: str) -> str:
    return next(t for t in NUM_CLASSES if t in osp.basename(path).replace('phantom-', ''))


def test_every_model_and_task_has_a_config():
    names = {osp.basename(p)[:-3] for p in CONFIGS}
    for model in ('resnet18', 'resnet34', 'resnet50', 'deit-tiny', 'deit-small', 'vit-base'):
        for task in NUM_CLASSES:
            assert f'{model}_{task}' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_is_consistent(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain' and cfg.custom_imports.imports == ['osteo_mm']
    n = NUM_CLASSES[task_of(path)]
    assert cfg.model.head.num_classes == cfg.data_preprocessor.num_classes == n
    assert cfg.model.head.get('topk', (1, )) == (1, )  # no ImageNet top-5
    if cfg.model.backbone.type == 'VisionTransformer':
        crop = cfg.val_dataloader.dataset.pipeline[-2].crop_size
        assert cfg.model.backbone.img_size == crop
    evaluators = {'shoulder-binary': 'BinaryDiagnosticMetric',
                  'shoulder-who3': 'MultiClassDiagnosticMetric'}
    assert cfg.test_evaluator.type == evaluators.get(task_of(path), 'MultiLabelAUCMetric')
    if task_of(path) == 'shoulder-binary':
        assert cfg.val_evaluator.threshold == 'youden'
        assert cfg.test_evaluator.threshold == 'from_val'
        assert cfg.test_evaluator.threshold_file == cfg.val_evaluator.threshold_file


def fake_batch(cfg: Config, n_classes: int, multilabel: bool, size: int = 32) -> dict:
    samples = []
    for i in range(2):
        sample = DataSample()
        if multilabel:
            target = torch.tensor([1.0, -1.0] + [0.0] * (n_classes - 2))
            sample.set_gt_score(target)
        else:
            sample.set_gt_label(i % n_classes)
        samples.append(sample)
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8) for _ in samples]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('name', [
    'resnet18_shoulder-binary_mixup-cutmix', 'resnet18_chexpert-uignore',
    'deit-tiny_shoulder-who3', 'deit-tiny_nih-cxr14'
])
def test_one_training_step_at_32px(name):
    cfg = config(name)
    if cfg.model.backbone.type == 'VisionTransformer':
        cfg.model.backbone.img_size = 32
    cfg.model.data_preprocessor = cfg.data_preprocessor
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        optim = torch.optim.SGD(model.parameters(), lr=0.01)
        before = [p.detach().clone() for p in model.backbone.parameters()]
        n = cfg.model.head.num_classes
        log = model.train_step(
            fake_batch(cfg, n, 'MultiLabel' in cfg.model.head.type), OptimWrapper(optim))
    assert torch.isfinite(log['loss'])
    assert any(not torch.equal(a, b) for a, b in zip(before, model.backbone.parameters()))


def write_shoulder_set(root: str, size: int = 40) -> None:
    """Eight PNG shoulder films in the osteo_mm CSV schema: 4 train, 2 val, 2 test patients."""
    rng = np.random.default_rng(0)
    rows = ['image,patient_id,label,split']
    splits = ['train'] * 4 + ['val'] * 2 + ['test'] * 2
    for i, split in enumerate(splits):
        label = 'osteoporosis' if i % 2 else 'normal'
        img = rng.integers(0, 255, (size, size), dtype=np.uint8)
        cv2.imwrite(osp.join(root, f'{i}.png'), img)
        rows.append(f'{i}.png,P{i},{label},{split}')
    with open(osp.join(root, 'labels.csv'), 'w') as f:
        f.write('\n'.join(rows) + '\n')


def tiny_runner_cfg(cfg: Config, data_root: str, work_dir: str) -> Config:
    cfg = copy.deepcopy(cfg)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=2, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = data_root
        for t in cfg[loader].dataset.pipeline:
            for key in ('scale', 'crop_size'):
                if key in t:
                    t[key] = 32
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.val_evaluator.n_boot = cfg.test_evaluator.n_boot = 20
    cfg.work_dir = work_dir
    cfg.default_hooks.logger.interval = 1
    return cfg


def test_runner_trains_validates_and_tests_with_the_fixed_val_threshold(tmp_path):
    write_shoulder_set(str(tmp_path))
    cfg = tiny_runner_cfg(config('resnet18_shoulder-binary'), str(tmp_path) + '/',
                          str(tmp_path / 'work'))
    runner = Runner.from_cfg(cfg)
    runner.train()
    threshold = json.load(open(tmp_path / 'work' / 'youden_threshold.json'))['threshold']
    metrics = runner.test()
    assert metrics['binary/threshold'] == threshold
    assert 0 <= metrics['binary/roc_auc'] <= 1 and 'binary/roc_auc_ci_low' in metrics
