# deit-small on the shoulder phantom, binary task.
_base_ = [
    '../_base_/models/deit-small_xray.py',
    '../_base_/datasets/phantom_shoulder.py',
    '../_base_/schedules/xray_adamw_cos_50e.py',
    '../_base_/default_runtime.py',
]
