# Models Genesis restoration with a DeiT-tiny (patch 16): the patch-token map is decoded by
# MMPretrain's SimMIM linear decoder (1x1 conv + pixel shuffle). The backbone matches
# configs/_base_/models/deit-tiny_xray.py key for key (the featmap output adds no weights).
_base_ = './genesis_resnet18_8xb32-coslr-100e_shoulder.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch='deit-tiny',
        img_size=224,
        patch_size=16,
        out_type='featmap',
        drop_path_rate=0.1),
    neck=dict(_delete_=True, type='SimMIMLinearDecoder', in_channels=192, encoder_stride=16))
# DeiT's AdamW: no decay on norms, biases, class token and position embedding.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={'.cls_token': dict(decay_mult=0.0), '.pos_embed': dict(decay_mult=0.0)}))
