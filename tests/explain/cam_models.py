"""Tiny MMPretrain classifiers for the explanation tests (a helper module, not a conftest:
``from conftest import ...`` in tests/tools must keep resolving to tests/conftest.py)."""
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401  (registers CAMClassifier and CausalityMetric)


def tiny_resnet(num_classes: int = 2, model_type: str = 'ImageClassifier', **extra):
    """ResNet-18 classifier (random weights) for 32-64 px inputs."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type=model_type,
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=512),
        data_preprocessor=dict(num_classes=num_classes, mean=[127.5] * 3, std=[64.0] * 3),
        **extra)).eval()


def tiny_vit(num_classes: int = 2, img_size: int = 32, patch_size: int = 8):
    """DeiT-tiny classifier (random weights) with a class token, for ``img_size`` inputs."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-t', img_size=img_size,
                      patch_size=patch_size),
        head=dict(type='VisionTransformerClsHead', num_classes=num_classes, in_channels=192),
    )).eval()
