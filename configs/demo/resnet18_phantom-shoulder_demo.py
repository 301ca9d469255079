# Demo (tools/demo.py): ResNet-18 on the shoulder phantom (binary), 64 px, 8 CPU epochs.
# The test pipeline keeps the expert ROI so Grad-CAM causality can be scored.
_base_ = '../resnet/resnet18_phantom-shoulder-binary_64px-8e-cpu.py'

img_size = 64
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='LoadRoiMask'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(checkpoint=dict(interval=8, max_keep_ckpts=1))
