# deit-tiny on CheXpert, 5 competition tasks (multi-label).
_base_ = [
    '../_base_/models/deit-tiny_xray.py',
    '../_base_/datasets/chexpert.py',
    '../_base_/schedules/xray_adamw_cos_50e.py',
    '../_base_/default_runtime.py',
]

# Sigmoid head; MaskedBCELoss skips U-Ignore (-1) targets (none with the default U-Zeros).
model = dict(
    head=dict(
        _delete_=True,
        type='MultiLabelLinearClsHead',
        num_classes=5,
        in_channels=192,
        loss=dict(type='MaskedBCELoss')))
# Bootstrap CIs on the test set only (validation runs every epoch on a large set).
val_evaluator = dict(type='MultiLabelAUCMetric', n_boot=0)
test_evaluator = dict(type='MultiLabelAUCMetric', n_boot=1000)
