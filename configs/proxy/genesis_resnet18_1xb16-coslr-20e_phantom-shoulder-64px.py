# The shoulder-phantom restoration CPU run for 20 epochs instead of 5 (docs/benchmarks.md).
_base_ = './genesis_resnet18_1xb16-coslr-5e_phantom-shoulder-64px.py'

max_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True, begin=1,
         end=max_epochs, eta_min=1e-4, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
