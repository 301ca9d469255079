# Demo (tools/demo.py): DeiT-tiny on the shoulder phantom (binary), 128 px with 16 px patches
# (the 8x8 token grid of the 128 px MAE demo, so every pre-trained tensor fits), 8 CPU epochs.
_base_ = '../vit/deit-tiny_phantom-shoulder-binary_64px-8e-cpu.py'

img_size = 128
train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0)),
    dict(type='XrayRandomAffine', max_rotate_degree=10, scale_range=(0.9, 1.1),
         max_translate_ratio=0.05),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2),
    dict(type='PackXrayInputs'),
]
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='LoadRoiMask'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(backbone=dict(img_size=img_size, patch_size=16))
default_hooks = dict(checkpoint=dict(interval=8, max_keep_ckpts=1))
