# Unlabelled X-rays (a folder tree, or a CSV list via ann_file) for MAE / SparK / proxy-task
# pre-training. Stronger crops than for fine-tuning; still no vertical flip.
dataset_type = 'UnlabeledXrayDataset'
data_root = 'data/chest_unlabeled/'
img_size = 224

data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
)

train_pipeline = [
    dict(type='LoadXrayFromFile', on_bad_sample='skip'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.2, 1.0)),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackXrayInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
