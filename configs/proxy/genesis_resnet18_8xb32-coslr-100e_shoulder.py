# Models Genesis restoration on the shoulder X-rays themselves (self-training on the target
# domain, labels unused, `train` split only). Fine-tune like
# rotation_resnet18_8xb32-coslr-100e_shoulder.py (the decoder is dropped).
_base_ = [
    '../_base_/models/proxy_genesis_resnet18.py',
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
# The algorithms take one stacked batch (MMEngine's default collate gives a list).
train_dataloader = dict(
    batch_size=32,
    drop_last=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(pipeline=train_pipeline))
# AdamW: on the phantom, SGD (lr 0.02) stalled at the per-image-mean prediction within 50
# steps while AdamW kept improving (docs/benchmarks.md, "Proxy tasks").
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05))
# Pretext training has no labelled evaluation.
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
