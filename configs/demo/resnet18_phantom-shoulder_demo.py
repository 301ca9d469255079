# Demo (tools/demo.py): ResNet-18 on the shoulder phantom (binary), 96 px, 8 CPU epochs.
# Gray normalisation as in the MAE/SparK pre-training, so scratch and pre-trained runs see the
# same inputs. The test pipeline keeps the expert ROI so Grad-CAM causality can be scored.
_base_ = '../resnet/resnet18_phantom-shoulder-binary.py'

img_size = 96
data_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0])
train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.7, 1.0)),
    dict(type='XrayRandomAffine', max_rotate_degree=10, scale_range=(0.9, 1.1),
         max_translate_ratio=0.05),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2),
    dict(type='PackXrayInputs'),
]
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='LoadRoiMask'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(batch_size=32, num_workers=1, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, num_workers=1, persistent_workers=False,
                      dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=64, num_workers=1, persistent_workers=False,
                       dataset=dict(pipeline=test_pipeline))

max_epochs = 8
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min=1e-5),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
