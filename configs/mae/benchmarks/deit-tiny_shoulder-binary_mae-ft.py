# Fine-tune the DeiT-tiny shoulder classifier from an X-ray MAE checkpoint (MAE's fine-tuning
# recipe): every backbone parameter loads from `pretrained` (keys under `backbone.`; the position
# embedding is resized if the image size differs), layer-wise lr decay, stochastic depth, and
# the grayscale normalisation the encoder was pretrained with.
_base_ = '../../vit/deit-tiny_shoulder-binary.py'

pretrained = 'work_dirs/mae_deit-t-p16_8xb64-amp-coslr-400e_nih-cxr14/epoch_400.pth'
gray_mean = [127.5] * 3
gray_std = [64.0] * 3

data_preprocessor = dict(mean=gray_mean, std=gray_std, to_rgb=False)
model = dict(
    backbone=dict(
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

# MAE's fine-tuning lr rule: 1e-3 x batch / 256 (the schedule's lr is for a batch of 64). Block
# i of 12 learns at lr x 0.75^(13 - i); the embeddings at lr x 0.75^13, the head at lr.
optim_wrapper = dict(
    optimizer=dict(lr=1e-3 * 64 / 256),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.75))
