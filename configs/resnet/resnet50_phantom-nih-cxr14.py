# resnet50 on the chest phantom (NIH ChestX-ray14 layout, 14 labels).
_base_ = [
    '../_base_/models/resnet50_xray.py',
    '../_base_/datasets/phantom_chest.py',
    '../_base_/schedules/xray_sgd_cos_50e.py',
    '../_base_/default_runtime.py',
]

# Sigmoid multi-label head.
model = dict(
    head=dict(
        _delete_=True,
        type='MultiLabelLinearClsHead',
        num_classes=14,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True)))
# Bootstrap CIs on the test set only (validation runs every epoch on a large set).
val_evaluator = dict(type='MultiLabelAUCMetric', n_boot=0)
test_evaluator = dict(type='MultiLabelAUCMetric', n_boot=1000)
