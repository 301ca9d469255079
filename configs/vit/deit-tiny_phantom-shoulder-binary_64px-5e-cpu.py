# CPU-sized run of deit-tiny_phantom-shoulder-binary: 64 px inputs, 16 px patches (16 tokens),
# batch 32, 5 epochs (the "Classification" measurements in docs/benchmarks.md). The phantom is best
# written at 128 px: make_phantom.py shoulder --num-patients 800 --size 128 --format png.
_base_ = './deit-tiny_phantom-shoulder-binary.py'

img_size = 64
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
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64, num_workers=1, dataset=dict(pipeline=test_pipeline))

model = dict(backbone=dict(img_size=img_size, patch_size=16))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=5, eta_min=1e-6),
]
train_cfg = dict(max_epochs=5)
