# Fine-tune the ResNet-18 shoulder classifier from an X-ray SparK checkpoint (SparK's fine-tuning
# optimiser): every backbone parameter loads from `pretrained` (SparseResNet keys equal ResNet's),
# LAMB without weight decay on norms, biases and other 1-D parameters, and the grayscale
# normalisation of the pretraining. MMPretrain's layer-wise lr decay does not support ResNet-18
# (`ResNet.get_layer_depth` knows only the 50+ layouts): resnet50_shoulder-binary_spark-ft.py
# has it.
_base_ = '../../resnet/resnet18_shoulder-binary.py'

pretrained = 'work_dirs/spark_sparse-resnet18_8xb64-amp-coslr-400e_nih-cxr14/epoch_400.pth'
gray_mean = [127.5] * 3
gray_std = [64.0] * 3

data_preprocessor = dict(mean=gray_mean, std=gray_std, to_rgb=False)
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

# SparK's ResNet-50 recipe uses lr 0.016 for a batch of 2048; linearly scaled to 64.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='Lamb', lr=0.016 * 64 / 2048, weight_decay=0.02),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))
