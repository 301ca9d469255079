# Jigsaw puzzles with a DeiT-tiny (patch 16): every 64 px tile is a 4x4-token image (the position
# embedding is interpolated from 224 px) whose class token is classified. The backbone
# matches configs/_base_/models/deit-tiny_xray.py key for key.
_base_ = './jigsaw_resnet18_8xb32-coslr-100e_shoulder.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch='deit-tiny',
        img_size=224,
        patch_size=16,
        out_type='cls_token',
        drop_path_rate=0.1),
    neck=None,
    head=dict(in_channels=192))
# DeiT's AdamW: no decay on norms, biases, class token and position embedding.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={'.cls_token': dict(decay_mult=0.0), '.pos_embed': dict(decay_mult=0.0)}))
