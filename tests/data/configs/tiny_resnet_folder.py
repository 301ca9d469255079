# Tiny CPU config for the tool tests: a ResNet-18 inherited from MMPretrain's own base
# (proves `mmpretrain::` inheritance) on a folder of PNGs (`data_root/<class>/*.png`).
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    '../../../configs/_base_/default_runtime.py',
]
data_root = 'data/tiny_folder'
model = dict(head=dict(num_classes=2, topk=(1, )))
data_preprocessor = dict(num_classes=2, mean=[127.5] * 3, std=[64.0] * 3, to_rgb=False)
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0,
    dataset=dict(type='CustomDataset', data_root=data_root, pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=4, num_workers=0,
    dataset=dict(type='CustomDataset', data_root=data_root, pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=1))
randomness = dict(seed=0, deterministic=True)
# Train, val and test read the same folder on purpose (the tool tests need no real split):
# the protocol guard (osteo_mm.utils.protocol) is told so, and records it.
allow_overlap = True
