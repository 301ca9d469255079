# Relative location / context prediction (Doersch et al., ICCV 2015) with a ResNet-18 shared
# over the two tiles. Tiles of 64 px, a gap of half a tile and +-7 px jitter (their values
# scaled to 64 px) need crops of at least 3 * 64 + 2 * 32 + 2 * 7 = 270 px.
# The backbone matches resnet18_xray.py key for key (see proxy_rotation_resnet18.py).
model = dict(
    type='RelativeLocation',
    patch_size=64,
    gap=32,
    jitter=7,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='PretextClsHead',
        in_channels=512,
        num_classes=8,
        num_patches=2,
        hidden_channels=512))
