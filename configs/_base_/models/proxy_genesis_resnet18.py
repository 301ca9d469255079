# Models Genesis restoration (Zhou et al., MICCAI 2019) with a ResNet-18 encoder and
# MMPretrain's light U-Net decoder from SparK (skip connections from all four stages), L2 loss.
# Plain BN runs on CPU and one GPU; multi-GPU configs may switch the decoder to SyncBN.
# The backbone matches resnet18_xray.py key for key (see proxy_rotation_resnet18.py).
model = dict(
    type='ModelsGenesis',
    nonlinear_prob=0.9,
    shuffle_prob=0.5,
    shuffle_block_size=8,
    shuffle_fraction=0.5,
    paint_prob=0.9,
    inpaint_prob=0.2,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    backbone=dict(
        type='ResNet', depth=18, num_stages=4, out_indices=(0, 1, 2, 3), style='pytorch'),
    neck=dict(
        type='SparKLightDecoder',
        feature_dim=512,
        upsample_ratio=32,
        mid_channels=0,
        norm_cfg=dict(type='BN'),
        last_act=False),
    head=dict(type='MIMHead', loss=dict(type='PixelReconstructionLoss', criterion='L2')))
