# MAE DeiT-tiny on NIH ChestX-ray14 with MAE's ImageNet mask ratio (0.75) instead of 0.9.
_base_ = './mae_deit-t-p16_8xb64-amp-coslr-400e_nih-cxr14.py'

model = dict(backbone=dict(mask_ratio=0.75))
