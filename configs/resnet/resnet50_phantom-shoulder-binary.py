# resnet50 on the shoulder phantom, binary task.
_base_ = [
    '../_base_/models/resnet50_xray.py',
    '../_base_/datasets/phantom_shoulder.py',
    '../_base_/schedules/xray_sgd_cos_50e.py',
    '../_base_/default_runtime.py',
]

# Youden threshold chosen on the validation set, written to work_dir and fixed for the test set.
val_evaluator = dict(
    type='BinaryDiagnosticMetric', threshold='youden', threshold_file='youden_threshold.json')
test_evaluator = dict(
    type='BinaryDiagnosticMetric', threshold='from_val', threshold_file='youden_threshold.json')
