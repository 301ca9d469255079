# Cross-validation study on the shoulder phantom (docs/benchmarks.md, "Cross-validation"):
# the demo's ResNet-18 recipe shrunk to 64 px and 4 epochs so that 5 folds x 2 repeats x 2
# initialisations fit a shared 2-core CPU. Use with tools/cross_validate.py.
_base_ = './resnet18_phantom-shoulder_demo.py'

img_size = 64
train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.7, 1.0)),
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
train_dataloader = dict(num_workers=0, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(num_workers=0, dataset=dict(pipeline=test_pipeline))

max_epochs = 4
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-5),
]
# Validate (and choose the threshold) once, after the last epoch.
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
