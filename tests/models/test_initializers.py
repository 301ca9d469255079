import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    """Configs run with ``default_scope='mmpretrain'``; the Runner sets it the same way."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


def resnet18(**init_cfg):
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=18, init_cfg=init_cfg or None),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=512)))


def test_backbone_loads_from_a_classifier_checkpoint_with_prefix(tmp_path):
    source = resnet18()
    ckpt = tmp_path / 'imagenet_style.pth'
    torch.save(dict(meta=dict(), state_dict=source.state_dict()), ckpt)
    model = resnet18(type='Pretrained', checkpoint=str(ckpt), prefix='backbone.')
    model.init_weights()
    for key, value in source.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value), key


def test_wrong_prefix_or_architecture_is_an_error(tmp_path):
    ckpt = tmp_path / 'partial.pth'
    state = {f'backbone.{k}': v for k, v in resnet18().backbone.state_dict().items()
             if k.startswith(('conv1', 'bn1', 'layer1'))}  # ~1.5 % of ResNet-18's weights
    torch.save(state, ckpt)
    model = resnet18(type='Pretrained', checkpoint=str(ckpt), prefix='backbone.')
    pattern = r'loaded \d+/\d+ parameters \(1\.\d %\).*not loaded .*layer2'
    with pytest.raises(RuntimeError, match=pattern):
        model.init_weights()


def test_min_loaded_can_be_lowered(tmp_path):
    ckpt = tmp_path / 'partial.pth'
    state = {k: v for k, v in resnet18().backbone.state_dict().items()
             if not k.startswith('layer4')}
    torch.save(state, ckpt)
    model = resnet18(type='Pretrained', checkpoint=str(ckpt), min_loaded=0.1)
    model.init_weights()
    assert torch.equal(model.backbone.conv1.weight, state['conv1.weight'])


def test_vit_position_embedding_resized_by_load_hook_counts_as_loaded(tmp_path):
    """An SSL checkpoint at 64 px initialises a ViT trained at 32 px (pos_embed is resized)."""
    def vit(img_size, **init_cfg):
        return MODELS.build(dict(type='VisionTransformer', arch='deit-tiny', img_size=img_size,
                                 patch_size=8, init_cfg=init_cfg or None))

    source = vit(64)
    source.init_weights()  # a trained checkpoint: pos_embed is not all zeros
    ckpt = tmp_path / 'mae_like.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in source.state_dict().items()}),
               ckpt)
    target = vit(32, type='Pretrained', checkpoint=str(ckpt), prefix='backbone.',
                 min_loaded=1.0)
    target.init_weights()
    assert torch.equal(target.layers[0].ffn.layers[1].weight,
                       source.layers[0].ffn.layers[1].weight)
