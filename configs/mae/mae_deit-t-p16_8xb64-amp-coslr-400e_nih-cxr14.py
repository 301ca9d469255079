# MAE pretraining of a DeiT-tiny encoder on NIH ChestX-ray14 images (labels unused), inheriting
# MMPretrain's MAE recipe (AdamW, betas 0.9/0.95, warm-up + cosine, AMP, auto-resume).
# X-ray defaults: 90 % of patches masked (chest X-rays are redundant; set mask_ratio = 0.75 for
# MAE's ImageNet value), random-resized crops keeping 50-100 % of the film, grayscale
# normalisation (the same mean/std on the 3 replicated channels), 224 px.
# To continue from an ImageNet MAE checkpoint instead of random weights, set `load_from` to it
# and `resume = False` (see mae_vit-base-p16_8xb64-amp-coslr-400e_nih-cxr14_in1k-pre.py).
_base_ = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'

default_scope = 'mmpretrain'
custom_imports = dict(imports=['osteo_mm'], allow_failed_imports=False)

img_size = 224
patch_size = 16
mask_ratio = 0.9
gray_mean = [127.5] * 3
gray_std = [64.0] * 3

model = dict(
    backbone=dict(arch='deit-t', img_size=img_size, patch_size=patch_size, mask_ratio=mask_ratio),
    neck=dict(
        num_patches=(img_size // patch_size)**2,
        patch_size=patch_size,
        embed_dim=192,
        decoder_embed_dim=128,
        decoder_depth=4,
        decoder_num_heads=4),
    head=dict(patch_size=patch_size))
data_preprocessor = dict(mean=gray_mean, std=gray_std, to_rgb=False)

train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0),
         interpolation='bicubic'),
    dict(type='XrayRandomFlip', prob=0.5),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    # Restated without the `_scope_` key that inheriting `mmpretrain::` adds to every typed dict:
    # MMEngine passes collate_fn's keys to the function, and default_collate rejects `_scope_`.
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(
        _delete_=True,
        type='NIHChestXray14Dataset',
        data_root='data/nih_cxr14',
        split='trainval',
        pipeline=train_pipeline))

# lr = 1.5e-4 x total batch / 256 (MAE's rule) for 8 GPUs x 64; `--auto-scale-lr` rescales it.
optim_wrapper = dict(optimizer=dict(lr=1.5e-4 * 512 / 256))
auto_scale_lr = dict(base_batch_size=512)
max_epochs = 400
warmup_epochs = 40
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
