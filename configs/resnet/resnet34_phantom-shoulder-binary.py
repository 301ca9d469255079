# resnet34 on the shoulder phantom, binary task.
_base_ = [
    '../_base_/models/resnet34_xray.py',
    '../_base_/datasets/phantom_shoulder.py',
    '../_base_/schedules/xray_sgd_cos_50e.py',
    '../_base_/default_runtime.py',
]
