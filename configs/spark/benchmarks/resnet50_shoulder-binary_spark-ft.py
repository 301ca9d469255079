# Fine-tune the ResNet-50 shoulder classifier from an X-ray SparK checkpoint with SparK's
# fine-tuning recipe: LAMB, layer-wise lr decay 0.7 over the ResNet stages, no weight decay on
# 1-D parameters, grayscale normalisation of the pretraining; every backbone tensor loads.
_base_ = '../../resnet/resnet50_shoulder-binary.py'

pretrained = 'work_dirs/spark_sparse-resnet50_8xb64-amp-coslr-400e_nih-cxr14/epoch_400.pth'
gray_mean = [127.5] * 3
gray_std = [64.0] * 3

data_preprocessor = dict(mean=gray_mean, std=gray_std, to_rgb=False)
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

# SparK's ResNet-50 recipe uses lr 0.016 for a batch of 2048; linearly scaled to 64.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='Lamb', lr=0.016 * 64 / 2048, weight_decay=0.02),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.7, norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))
