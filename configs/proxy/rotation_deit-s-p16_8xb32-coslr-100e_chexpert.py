# Rotation prediction with a DeiT-small (patch 16) on CheXpert frontal training films (labels
# unused). The backbone matches configs/_base_/models/deit-small_xray.py key for key.
_base_ = './rotation_deit-t-p16_8xb32-coslr-100e_shoulder.py'

model = dict(backbone=dict(arch='deit-small'), head=dict(in_channels=384))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CheXpertDataset',
        data_root='data/CheXpert-v1.0-small/',
        ann_file='train.csv',
        frontal_only=True,
        pipeline={{_base_.train_pipeline}}))
