# vit-base on Shoulder X-ray WHO classes (normal / osteopenia / osteoporosis).
_base_ = [
    '../_base_/models/vit-base_xray.py',
    '../_base_/datasets/shoulder_xray_who3.py',
    '../_base_/schedules/xray_adamw_cos_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=3))
