# Continue MMPretrain's ImageNet MAE ViT-Base (1600 epochs) on NIH ChestX-ray14 X-rays: the
# whole model (encoder and decoder) starts from the ImageNet checkpoint; the schedule restarts.
_base_ = './mae_vit-base-p16_8xb64-amp-coslr-400e_nih-cxr14.py'

load_from = ('https://download.openmmlab.com/mmselfsup/1.x/mae/'
             'mae_vit-base-p16_8xb512-fp16-coslr-1600e_in1k/'
             'mae_vit-base-p16_8xb512-fp16-coslr-1600e_in1k_20220825-f7569ca2.pth')
resume = False  # `resume=True` would treat load_from as an interrupted run of this config
