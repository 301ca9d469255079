# Shoulder X-rays, three WHO classes (normal / osteopenia / osteoporosis).
_base_ = './shoulder_xray.py'

task = 'who3'
num_classes = 3
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(task=task))
val_dataloader = dict(dataset=dict(task=task))
test_dataloader = dict(dataset=dict(task=task))
val_evaluator = dict(_delete_=True, type='MultiClassDiagnosticMetric')
test_evaluator = val_evaluator
