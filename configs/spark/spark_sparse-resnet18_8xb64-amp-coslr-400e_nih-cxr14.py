# SparK (sparse masked modelling for CNNs) pretraining of a ResNet-18 on NIH ChestX-ray14 images
# (labels unused), inheriting MMPretrain's SparK ResNet-50 recipe (LAMB, warm-up + cosine lr,
# cosine weight decay, AMP, gradient clipping). SparK masks 32x32 cells; its paper's ratio 0.6 is
# kept (MAE's 0.9 would leave 5 of 49 cells at 224 px). X-ray pipeline and grayscale
# normalisation as in configs/mae.
# Norms: plain BN everywhere (CPU and one process). For synchronised statistics across GPUs set
# norm_cfg = dict(type='SyncBN') (the backbone turns it into SparseSyncBatchNorm2d) and
# enc_dec_norm_cfg = dict(type='SparseSyncBatchNorm2d'), MMPretrain's defaults.
# To continue from ImageNet SparK weights set `load_from` to MMPretrain's ResNet-50 checkpoint
# and `resume = False` (ResNet-50 config only).
_base_ = 'mmpretrain::spark/spark_sparse-resnet50_8xb512-amp-coslr-800e_in1k.py'

default_scope = 'mmpretrain'
custom_imports = dict(imports=['osteo_mm'], allow_failed_imports=False)

img_size = 224
mask_ratio = 0.6
norm_cfg = dict(type='BN')
enc_dec_norm_cfg = dict(type='SparseBatchNorm2d')
gray_mean = [127.5] * 3
gray_std = [64.0] * 3

model = dict(
    input_size=img_size,
    mask_ratio=mask_ratio,
    enc_dec_norm_cfg=enc_dec_norm_cfg,
    enc_dec_norm_dim=512,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    neck=dict(feature_dim=256, norm_cfg=norm_cfg))
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

# lr = 2e-4 x total batch / 512 (SparK's rule) for 8 GPUs x 64; `--auto-scale-lr` rescales it.
optim_wrapper = dict(optimizer=dict(lr=2e-4 * 512 / 512))
auto_scale_lr = dict(base_batch_size=512)
max_epochs = 400
warmup_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.2, T_max=max_epochs, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
