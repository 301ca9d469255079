# NIH ChestX-ray14: 14 findings, multi-label. Official patient-wise lists: train_val_list.txt
# (train) and test_list.txt. For model selection without touching the test list, give the
# train/val loaders `split_file`s carved from train_val_list.txt by patient.
dataset_type = 'NIHChestXray14Dataset'
data_root = 'data/nih_cxr14/'
img_size = 224
num_classes = 14

data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
)

train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0)),
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

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, split='trainval',
                 pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 bbox_file='BBox_List_2017.csv', pipeline=test_pipeline, test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiLabelAUCMetric')
test_evaluator = val_evaluator
