# CPU demo: MAE DeiT-tiny on the chest phantom at 128 px (64 patches, 6 visible at 0.9 masking),
# fp32 (AMP needs a GPU), one process, 8 short epochs (minutes on a shared 2-core box). The lr is
# above MAE's batch rule (1.5e-4 x 32 / 256) so that minutes of training move the loss.
_base_ = './mae_deit-t-p16_8xb64-amp-coslr-400e_phantom-chest.py'

img_size = 128
model = dict(
    backbone=dict(img_size=img_size),
    neck=dict(num_patches=(img_size // 16)**2))
train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0),
         interpolation='bicubic'),
    dict(type='XrayRandomFlip', prob=0.5),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(batch_size=32, num_workers=2, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg={{_base_.optim_wrapper.paramwise_cfg}})
auto_scale_lr = dict(base_batch_size=32)
max_epochs = 8
warmup_epochs = 1
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=2, max_keep_ckpts=2))
