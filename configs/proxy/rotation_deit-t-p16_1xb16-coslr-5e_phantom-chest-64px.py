# Rotation prediction with a DeiT-tiny (patch 16, 4x4 tokens) on the chest phantom
# (tools/dataset_converters/make_phantom.py chest --out data/phantom_chest; NIH layout,
# train_val_list.txt images) at 64 px: a CPU run behind docs/benchmarks.md.
_base_ = './rotation_deit-t-p16_8xb32-coslr-100e_shoulder.py'

img_size = 64
train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0)),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackXrayInputs'),
]
# CPU demo: one process, 16 images per step, a few epochs.
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='NIHChestXray14Dataset',
        data_root='data/phantom_chest/',
        split='trainval',
        pipeline=train_pipeline))
auto_scale_lr = dict(base_batch_size=16)
max_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True, begin=1,
         end=max_epochs, eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=max_epochs))
