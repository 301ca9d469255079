# Models Genesis restoration on the shoulder phantom at 64 px (4 px shuffling windows). The
# CPU run behind docs/benchmarks.md.
_base_ = './genesis_resnet18_8xb32-coslr-100e_shoulder.py'

img_size = 64
model = dict(shuffle_block_size=4)
train_pipeline = [
    dict(type='LoadXrayFromFile', window='file'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0)),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackXrayInputs'),
]
# CPU demo: one process, 16 images per step, a few epochs; the base config's AdamW lr.
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(data_root='data/phantom_shoulder/', pipeline=train_pipeline))
auto_scale_lr = dict(base_batch_size=16)
max_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True, begin=1,
         end=max_epochs, eta_min=1e-4, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=max_epochs))
