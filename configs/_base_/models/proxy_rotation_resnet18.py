# Rotation prediction (Gidaris et al., ICLR 2018) with a ResNet-18. The backbone matches
# resnet18_xray.py key for key: fine-tune with
# model.backbone.init_cfg=dict(type='Pretrained', checkpoint=CKPT, prefix='backbone.').
# Inputs are normalised like the dataset bases (and so like the fine-tuning configs).
model = dict(
    type='RotationPrediction',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='PretextClsHead', in_channels=512, num_classes=4))
