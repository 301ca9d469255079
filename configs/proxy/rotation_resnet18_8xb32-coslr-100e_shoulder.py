# Rotation prediction on the shoulder X-rays themselves (self-training on the target domain,
# labels unused). Only the `train` split is read, so validation/test films stay unseen.
# Fine-tune the checkpoint with configs/resnet/ shoulder configs via
# model.backbone.init_cfg=dict(type='Pretrained', checkpoint=CKPT, prefix='backbone.').
_base_ = [
    '../_base_/models/proxy_rotation_resnet18.py',
    '../_base_/datasets/shoulder_xray.py',
    '../_base_/default_runtime.py',
    './_base_/pretext_sgd-coslr-100e.py',
]

img_size = 224
train_pipeline = [
    dict(type='LoadXrayFromFile', window='file'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.3, 1.0)),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackXrayInputs'),
]
# Each image is shown in 4 rotations: the network sees 4 x 32 inputs per GPU and step.
# The algorithms take one stacked batch (MMEngine's default collate gives a list).
train_dataloader = dict(
    batch_size=32,
    drop_last=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(pipeline=train_pipeline))
# Pretext training has no labelled evaluation.
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
