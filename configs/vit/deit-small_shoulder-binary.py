# deit-small on Shoulder X-ray osteoporosis screening (binary).
_base_ = [
    '../_base_/models/deit-small_xray.py',
    '../_base_/datasets/shoulder_xray.py',
    '../_base_/schedules/xray_adamw_cos_50e.py',
    '../_base_/default_runtime.py',
]
