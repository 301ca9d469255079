# Demo (tools/demo.py): MAE DeiT-tiny on the chest phantom, 128 px, patch 16 (64 patches),
# mask ratio 0.9, a few CPU minutes. The shoulder DeiT-tiny demo fine-tunes from it.
_base_ = '../mae/mae_deit-t-p16_1xb32-coslr-8e_phantom-chest-128px.py'

max_epochs = 4
warmup_epochs = 1
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(num_workers=1)
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
