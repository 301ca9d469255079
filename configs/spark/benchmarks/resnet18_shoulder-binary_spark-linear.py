# Linear probe of an X-ray SparK ResNet-18 on the shoulder task: the stem and the 4 stages are
# loaded from `pretrained` and frozen (BN statistics too); only the linear head trains.
_base_ = '../../resnet/resnet18_shoulder-binary.py'

pretrained = 'work_dirs/spark_sparse-resnet18_8xb64-amp-coslr-400e_nih-cxr14/epoch_400.pth'
gray_mean = [127.5] * 3
gray_std = [64.0] * 3

data_preprocessor = dict(mean=gray_mean, std=gray_std, to_rgb=False)
model = dict(
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
