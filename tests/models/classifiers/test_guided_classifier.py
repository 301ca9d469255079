"""GuidedImageClassifier with real MMPretrain backbones (tiny ResNet-18 and DeiT-tiny)."""
import copy

import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

SIZE = 64  # ResNet-18's last stage is then a 2 x 2 grid, DeiT's patches 4 x 4

RESNET = dict(
    backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=2, in_channels=512,
              loss=dict(type='CrossEntropyLoss')))
VIT = dict(
    backbone=dict(type='VisionTransformer', arch='deit-t', img_size=SIZE, patch_size=16),
    neck=None,
    head=dict(type='VisionTransformerClsHead', num_classes=2, in_channels=192,
              loss=dict(type='CrossEntropyLoss')))
PREPROCESSOR = dict(type='ClsDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3)
GUIDANCES = [dict(type='InputGradientGuidance', weight=1.0),
             dict(type='CAMAlignmentGuidance', weight=1.0)]
ARCHS = [pytest.param(RESNET, id='resnet18'), pytest.param(VIT, id='deit-t')]


def build(arch: dict, guidance: dict = None, **kwargs):
    """A guided classifier, or the plain ``ImageClassifier`` when ``guidance`` is None."""
    cfg = dict(copy.deepcopy(arch), data_preprocessor=dict(PREPROCESSOR), **kwargs)
    if guidance is None:
        return MODELS.build(dict(cfg, type='ImageClassifier'))
    return MODELS.build(dict(cfg, type='GuidedImageClassifier', guidance=guidance))


def batch(roi_flags, seed: int = 0) -> dict:
    """Raw uint8 images and packed samples; an ROI (top-left quarter) where the flag is set."""
    generator = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for index, flag in enumerate(roi_flags):
        inputs.append(torch.randint(0, 256, (3, SIZE, SIZE), generator=generator,
                                    dtype=torch.uint8))
        sample = DataSample(metainfo=dict(img_id=f'img{index}.png', img_shape=(SIZE, SIZE)))
        sample.set_gt_label(index % 2)
        sample.set_field(flag, 'has_roi', field_type='metainfo')
        if flag:
            mask = torch.zeros(SIZE, SIZE, dtype=torch.uint8)
            mask[:SIZE // 2, :SIZE // 2] = 1
            sample.set_field(mask, 'roi_mask')
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('guidance', GUIDANCES, ids=lambda g: g['type'])
def test_guidance_gradients_reach_the_first_backbone_layer(arch, guidance):
    torch.manual_seed(0)
    model = build(arch, guidance)
    data = model.data_preprocessor(batch([True, False, True]), training=True)
    losses = model(**data, mode='loss')
    assert losses['loss_guidance'] > 0
    losses['loss_guidance'].backward()
    first = next(p for p in model.backbone.parameters() if p.requires_grad)
    assert first.grad is not None and first.grad.abs().sum() > 0


@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('guidance', GUIDANCES, ids=lambda g: g['type'])
def test_without_roi_the_loss_equals_the_plain_classifier(arch, guidance):
    torch.manual_seed(0)
    guided = build(arch, guidance)
    plain = build(arch)
    plain.load_state_dict(guided.state_dict())
    data = guided.data_preprocessor(batch([False, False]), training=True)
    guided_losses = guided(**data, mode='loss')
    plain_losses = plain(**data, mode='loss')
    assert guided_losses['loss_guidance'].item() == 0.0
    assert guided_losses['roi_frac'].item() == 0.0
    torch.testing.assert_close(guided_losses['loss'], plain_losses['loss'])


def test_classification_loss_is_unchanged_by_rois():
    torch.manual_seed(0)
    guided = build(RESNET, GUIDANCES[1])
    plain = build(RESNET)
    plain.load_state_dict(guided.state_dict())
    data = guided.data_preprocessor(batch([True, False]), training=True)
    torch.testing.assert_close(guided(**data, mode='loss')['loss'],
                               plain(**data, mode='loss')['loss'])


def test_predictions_match_the_plain_classifier():
    guided = build(VIT, GUIDANCES[0]).eval()
    plain = build(VIT).eval()
    plain.load_state_dict(guided.state_dict())
    data = guided.data_preprocessor(batch([True, False]), training=False)
    guided_scores = torch.stack([s.pred_score for s in guided(**data, mode='predict')])
    plain_scores = torch.stack([s.pred_score for s in plain(**data, mode='predict')])
    torch.testing.assert_close(guided_scores, plain_scores)


def test_batch_augments_are_refused():
    with pytest.raises(ValueError, match='Mixup/CutMix'):
        build(RESNET, GUIDANCES[0], train_cfg=dict(augments=dict(type='Mixup', alpha=0.8)))


def test_multi_label_heads_are_refused():
    arch = dict(RESNET, head=dict(type='MultiLabelLinearClsHead', num_classes=3,
                                  in_channels=512))
    with pytest.raises(TypeError, match='single-label'):
        build(arch, GUIDANCES[0])


def test_cam_target_layer_must_reach_the_scores():
    model = build(RESNET, dict(type='CAMAlignmentGuidance', target_layer='backbone.layer4'))
    model.backbone.out_indices = (2, )  # the head now reads layer3; layer4 is a dead end
    model.head.fc = torch.nn.Linear(256, 2)
    data = model.data_preprocessor(batch([True]), training=True)
    with pytest.raises(ValueError, match="do not depend on target_layer 'backbone.layer4'"):
        model(**data, mode='loss')
