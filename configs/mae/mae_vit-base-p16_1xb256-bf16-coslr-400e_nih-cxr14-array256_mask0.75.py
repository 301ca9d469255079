# Research-scale MAE ViT-B/16 on NIH ChestX-ray14 for one large GPU: the array cache, crops and
# flips on the device, bf16 autocast, fused AdamW, 256 films per step with the lr scaled
# linearly (MAE's 1.5e-4 x batch / 256; `--auto-scale-lr` rescales it for other batch sizes).
# Mask ratio 0.75 (MAE's ImageNet value; the X-ray default of the other configs is 0.9).
# Build the cache once (about 7 GiB for the 112,120 films at 256 px):
#   python tools/dataset_converters/prepare_xray.py data/nih_cxr14 data/nih_cxr14_array256 \
#       --format array --max-side 256 --workers 16
# The loader workers only slice films out of the cache (letterboxed 256 px slots, 1 channel);
# XrayDeviceAugPreprocessor crops 50-100 % of each film, flips it and repeats the gray channel
# on the GPU. Optional: `tools/train.py CONFIG --compile`.
_base_ = './mae_vit-base-p16_8xb64-amp-coslr-400e_nih-cxr14.py'

cache_dir = 'data/nih_cxr14_array256'
mask_ratio = 0.75
batch_size = 256

model = dict(backbone=dict(mask_ratio=mask_ratio))
data_preprocessor = dict(
    _delete_=True,
    type='XrayDeviceAugPreprocessor',
    crop_size=224,
    scale=(0.5, 1.0),
    flip_prob=0.5,
    channels=3,
    interpolation='bicubic',
    mean=[127.5] * 3,
    std=[64.0] * 3,
    to_rgb=False,
    non_blocking=True)

train_pipeline = [
    dict(type='LoadXrayFromArrayCache', cache_dir=cache_dir, channels=1, letterbox=True,
         with_roi=False),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=14,
    pin_memory=True,
    persistent_workers=True,
    prefetch_factor=4,
    dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(lr=1.5e-4 * batch_size / 256, fused=True))
auto_scale_lr = dict(base_batch_size=batch_size)
