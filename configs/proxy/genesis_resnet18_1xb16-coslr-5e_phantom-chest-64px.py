# Models Genesis restoration with a ResNet-18 on the chest phantom (NIH layout,
# train_val_list.txt images) at 64 px: the shoulder-phantom CPU run on chest films.
_base_ = './genesis_resnet18_1xb16-coslr-5e_phantom-shoulder-64px.py'

train_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayRandomResizedCrop', scale=64, crop_ratio_range=(0.5, 1.0)),
    dict(type='XrayRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackXrayInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='NIHChestXray14Dataset',
        data_root='data/phantom_chest/',
        split='trainval',
        pipeline=train_pipeline))
