# Supervised proxy route, CPU run on the chest phantom at 64 px (the pre-training behind the
# "Proxy tasks" transfer table of docs/benchmarks.md): multi-label findings, 6 short epochs.
_base_ = './supervised_resnet18_phantom-chest.py'

img_size = 64
train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0)),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackXrayInputs'),
]
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
loader = dict(num_workers=1, persistent_workers=False)
train_dataloader = dict(batch_size=16, **loader, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, **loader,
                      dataset=dict(pipeline=test_pipeline, bbox_file=None))
# The test loop keeps the base's test split (test_list.txt); only its pipeline changes here.
test_dataloader = dict(batch_size=64, **loader, dataset=dict(pipeline=test_pipeline))
max_epochs = 6
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
