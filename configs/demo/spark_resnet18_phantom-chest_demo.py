# Demo (tools/demo.py): SparK ResNet-18 on the chest phantom, 96 px (3x3 cells of 32 px),
# a few CPU minutes.
# The shoulder ResNet-18 demo fine-tunes from it (ResNets accept any input size).
_base_ = '../spark/spark_sparse-resnet18_1xb32-coslr-8e_phantom-chest-128px.py'

img_size = 96
model = dict(input_size=img_size)
train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0),
         interpolation='bicubic'),
    dict(type='XrayRandomFlip', prob=0.5),
    dict(type='PackXrayInputs'),
]

max_epochs = 4
warmup_epochs = 1
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
