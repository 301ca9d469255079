# deit-small (ViT, patch 16) for X-ray classification on MMPretrain's ViT base, binary head by
# default. Plain cross-entropy replaces the ImageNet label smoothing; leaf configs set img_size
# to the pipeline's crop size (the position embedding is resized when a checkpoint loads).
_base_ = 'mmpretrain::_base_/models/vit-base-p16.py'

model = dict(
    backbone=dict(
        _delete_=True,  # drops the base's backbone init_cfg (moved to model level)
        type='VisionTransformer',
        arch='deit-small',
        img_size=224,
        patch_size=16),
    head=dict(
        num_classes=2,
        in_channels=384,
        loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )),
    # Model-level init (DeiT recipe + the base's Kaiming patch projection), so that
    # backbone.init_cfg stays free for `Pretrained` (see configs/resnet/README.md).
    init_cfg=[
        dict(type='Kaiming', layer='Conv2d', mode='fan_in', nonlinearity='linear'),
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ])
