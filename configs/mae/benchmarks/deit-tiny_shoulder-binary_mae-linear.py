# Linear probe of an X-ray MAE DeiT-tiny on the shoulder task: the whole encoder (embeddings,
# 12 blocks, final norm) is loaded from `pretrained` and frozen; only the linear head trains.
_base_ = '../../vit/deit-tiny_shoulder-binary.py'

pretrained = 'work_dirs/mae_deit-t-p16_8xb64-amp-coslr-400e_nih-cxr14/epoch_400.pth'
gray_mean = [127.5] * 3
gray_std = [64.0] * 3

data_preprocessor = dict(mean=gray_mean, std=gray_std, to_rgb=False)
model = dict(
    backbone=dict(
        frozen_stages=12,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
