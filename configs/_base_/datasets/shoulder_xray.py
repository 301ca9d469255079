# Shoulder X-ray osteoporosis screening, binary task (osteoporosis vs not).
# One CSV in the osteo_mm schema (docs: data formats, section 3) with a `split` column
# train/val/test, e.g. written by tools/dataset_converters/split_patients.py --add-column.
# Pipelines are built from the values below: a child config that changes img_size must also
# override the pipelines (MMEngine resolves these names when this file is read).
dataset_type = 'ShoulderXrayDataset'
data_root = 'data/shoulder/'
ann_file = 'labels.csv'
task = 'binary'
num_classes = 2
img_size = 224

data_preprocessor = dict(
    num_classes=num_classes,
    # ImageNet statistics: the gray image is repeated on 3 channels for pretrained backbones.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
)

# X-ray augmentation preset: no vertical flip; mild rotation/scale/shift; brightness/contrast.
train_pipeline = [
    dict(type='LoadXrayFromFile', window='file'),
    dict(type='LoadRoiMask'),
    dict(type='XrayRandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0)),
    dict(type='XrayRandomAffine', max_rotate_degree=10, scale_range=(0.9, 1.1),
         max_translate_ratio=0.05),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2),
    dict(type='PackXrayInputs'),
]
test_pipeline = [
    dict(type='LoadXrayFromFile', window='file'),
    dict(type='LoadRoiMask'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file, split='train',
                 task=task, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file, split='val',
                 task=task, pipeline=test_pipeline, test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file, split='test',
                 task=task, pipeline=test_pipeline, test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
# Operating threshold: validation picks the Youden-J threshold and records it, bound to the
# checkpoint's weights, in <work_dir>/youden_threshold.json; the test metric reads the record of
# the checkpoint under test and keeps it fixed (tools/test.py refuses a record of other weights).
# Nothing is chosen on the test split.
threshold_file = 'youden_threshold.json'
val_evaluator = dict(type='BinaryDiagnosticMetric', threshold='youden',
                     threshold_file=threshold_file)
test_evaluator = dict(type='BinaryDiagnosticMetric', threshold='from_val',
                      threshold_file=threshold_file)
