# Tiny CPU config for the cross-validation tool test: ResNet-18 at 32 px on a binary shoulder
# CSV (data_root and ann_file set by the test), one epoch, no bootstrap CIs.
_base_ = [
    '../../../configs/_base_/models/resnet18_xray.py',
    '../../../configs/_base_/datasets/shoulder_xray.py',
    '../../../configs/_base_/default_runtime.py',
]
img_size = 32
data_preprocessor = dict(mean=[127.5] * 3, std=[64.0] * 3)
pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=pipeline))
val_dataloader = dict(batch_size=32, num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=pipeline))
test_dataloader = dict(batch_size=32, num_workers=0, persistent_workers=False,
                       dataset=dict(pipeline=pipeline))
test_evaluator = dict(type='BinaryDiagnosticMetric', n_boot=0)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0, deterministic=True)
