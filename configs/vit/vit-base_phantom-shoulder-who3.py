# vit-base on the shoulder phantom, WHO classes.
_base_ = [
    '../_base_/models/vit-base_xray.py',
    '../_base_/datasets/phantom_shoulder.py',
    '../_base_/schedules/xray_adamw_cos_50e.py',
    '../_base_/default_runtime.py',
]

# WHO classes on the phantom (the same overrides as shoulder_xray_who3.py).
task = 'who3'
num_classes = 3
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(task=task))
val_dataloader = dict(dataset=dict(task=task))
test_dataloader = dict(dataset=dict(task=task))
val_evaluator = dict(_delete_=True, type='MultiClassDiagnosticMetric')
test_evaluator = val_evaluator
model = dict(head=dict(num_classes=num_classes))
