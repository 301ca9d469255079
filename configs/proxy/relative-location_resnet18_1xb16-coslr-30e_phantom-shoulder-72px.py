# Relative location on the shoulder phantom at 72 px: 16 px tiles, half-tile (8 px) gap,
# +-2 px jitter (68 px needed). The CPU run behind docs/benchmarks.md.
_base_ = './relative-location_resnet18_8xb32-coslr-100e_shoulder.py'

img_size = 72
model = dict(patch_size=16, gap=8, jitter=2)
train_pipeline = [
    dict(type='LoadXrayFromFile', window='file'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0)),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackXrayInputs'),
]
# CPU demo: one process, 16 images per step, a few epochs; the lr is above the linear-scaling
# value (0.1 x 16 / 256) so minutes of training move the loss.
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(data_root='data/phantom_shoulder/', pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.05))
auto_scale_lr = dict(base_batch_size=16)
max_epochs = 30
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True, begin=1,
         end=max_epochs, eta_min=1e-4, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=max_epochs))
