"""Every pretext task trains with every backbone and transfers into an ImageClassifier."""
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import osteo_mm  # noqa: F401  (registers the algorithms)

IMG = 32
BACKBONES = {  # name: (backbone config, feature channels)
    'resnet18': (dict(type='ResNet', depth=18), 512),
    'resnet50': (dict(type='ResNet', depth=50), 2048),
    'deit-t': (dict(type='VisionTransformer', arch='deit-t', img_size=IMG, patch_size=8), 192),
    'deit-s': (dict(type='VisionTransformer', arch='deit-s', img_size=IMG, patch_size=8), 384),
}
TASKS = ('rotation', 'jigsaw', 'relative_location', 'genesis')


def tiny_algorithm(task: str, backbone: str) -> dict:
    """A tiny config of ``task`` on ``backbone``, shaped like configs/_base_/models/proxy_*."""
    cfg, channels = BACKBONES[backbone]
    vit = cfg['type'] == 'VisionTransformer'
    if task == 'genesis':
        if vit:
            encoder = dict(cfg, out_type='featmap')
            decoder = dict(type='SimMIMLinearDecoder', in_channels=channels, encoder_stride=8)
        else:
            encoder = dict(cfg, out_indices=(0, 1, 2, 3))
            stages = [channels // 2**i for i in range(4)]
            decoder = dict(type='SparKLightDecoder', feature_dim=64, upsample_ratio=32,
                           norm_cfg=dict(type='BN'))
        return dict(type='ModelsGenesis', backbone=encoder, neck=decoder,
                    encoder_channels=None if vit else stages,
                    head=dict(type='MIMHead',
                              loss=dict(type='PixelReconstructionLoss', criterion='L2')))
    backbone_cfg = dict(cfg, out_type='cls_token') if vit else cfg
    neck = None if vit else dict(type='GlobalAveragePooling')
    if task == 'rotation':
        return dict(type='RotationPrediction', backbone=backbone_cfg, neck=neck,
                    head=dict(type='PretextClsHead', in_channels=channels, num_classes=4))
    if task == 'jigsaw':
        return dict(type='JigsawPuzzle', backbone=backbone_cfg, neck=neck, grid=3, patch_size=8,
                    gap=2, jitter=1, num_permutations=10,
                    head=dict(type='PretextClsHead', in_channels=channels, num_classes=10,
                              num_patches=9, hidden_channels=16))
    return dict(type='RelativeLocation', backbone=backbone_cfg, neck=neck, patch_size=8, gap=2,
                jitter=1, head=dict(type='PretextClsHead', in_channels=channels, num_classes=8,
                                    num_patches=2, hidden_channels=16))


def classifier_for(backbone: str, checkpoint: str) -> dict:
    """The fine-tuning classifier config: same backbone, weights from a pretext checkpoint."""
    cfg, channels = BACKBONES[backbone]
    return dict(
        type='ImageClassifier',
        backbone=dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=checkpoint,
                                         prefix='backbone.')),
        neck=None if cfg['type'] == 'VisionTransformer' else dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=channels))


@pytest.mark.parametrize('backbone', BACKBONES)
@pytest.mark.parametrize('task', TASKS)
def test_one_loss_and_backward_step(task, backbone):
    torch.manual_seed(0)
    model = MODELS.build(tiny_algorithm(task, backbone))
    data = dict(inputs=torch.randint(0, 256, (2, 3, IMG, IMG), dtype=torch.uint8),
                data_samples=[DataSample() for _ in range(2)])

    losses = model(**model.data_preprocessor(data, training=True), mode='loss')
    losses['loss'].backward()

    assert torch.isfinite(losses['loss']) and losses['loss'] > 0
    grads = [p.grad for p in model.backbone.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0
    extras = ('identity_mse', 'mean_mse') if task == 'genesis' else ('acc_pretext', )
    assert all(not losses[key].requires_grad for key in extras)


# The classification tasks share one backbone set-up; restoration differs (ResNet stages,
# ViT patch-token map), so these two cover every backbone configuration the tasks use.
@pytest.mark.parametrize('backbone', ['resnet18', 'deit-t'])
@pytest.mark.parametrize('task', ['rotation', 'genesis'])
def test_backbone_checkpoint_loads_completely_into_classifier(task, backbone, tmp_path):
    torch.manual_seed(0)
    pretext = MODELS.build(tiny_algorithm(task, backbone))
    ckpt = tmp_path / 'pretext.pth'
    torch.save(dict(meta=dict(), state_dict=pretext.state_dict()), ckpt)

    classifier = MODELS.build(classifier_for(backbone, str(ckpt)))
    classifier.init_weights()

    expected = {k[len('backbone.'):]: v for k, v in pretext.state_dict().items()
                if k.startswith('backbone.')}
    loaded = classifier.backbone.state_dict()
    assert set(loaded) == set(expected)
    for key, value in loaded.items():
        assert torch.equal(value, expected[key]), key


def test_jigsaw_needs_an_image_large_enough_for_its_grid():
    model = MODELS.build(tiny_algorithm('jigsaw', 'resnet18'))
    with pytest.raises(ValueError, match='needs 30px, but the images are 16x16'):
        model.loss(torch.rand(2, 3, 16, 16))


@pytest.mark.parametrize('task', TASKS)
def test_a_list_of_images_is_rejected_with_the_collate_hint(task):
    model = MODELS.build(tiny_algorithm(task, 'resnet18'))
    with pytest.raises(TypeError, match='default_collate'):
        model.loss([torch.rand(3, IMG, IMG), torch.rand(3, IMG, IMG)])
