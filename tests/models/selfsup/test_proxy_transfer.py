"""End to end: a pretext config trains with the Runner on phantom films, and its checkpoint
initialises the shoulder classifier through the documented transfer path."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401  (registers the algorithms)
from osteo_mm.datasets.phantom import generate_shoulder

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def test_rotation_checkpoint_initialises_the_shoulder_classifier(tmp_path):
    csv_path = generate_shoulder(str(tmp_path / 'phantom'), num_patients=8, size=64, fmt='png',
                                 progress=False)
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/proxy/rotation_resnet18_1xb16-coslr-3e_phantom-shoulder-64px.py'))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.update(batch_size=2, num_workers=0)
    cfg.train_dataloader.dataset.data_root = osp.dirname(csv_path)
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint.interval = 1

    Runner.from_cfg(cfg).train()

    ckpt = osp.join(cfg.work_dir, 'epoch_1.pth')
    finetune = Config.fromfile(osp.join(ROOT, 'configs/resnet/resnet18_shoulder-binary.py'))
    finetune.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=ckpt,
                                            prefix='backbone.')
    classifier = MODELS.build(finetune.model)
    classifier.init_weights()

    trained = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    loaded = classifier.backbone.state_dict()
    assert {f'backbone.{k}' for k in loaded} == {k for k in trained if k.startswith('backbone.')}
    assert all(torch.equal(v, trained[f'backbone.{k}']) for k, v in loaded.items())
