# Jigsaw puzzles with a ResNet-18 on CheXpert frontal training films (labels unused).
_base_ = './jigsaw_resnet18_8xb32-coslr-100e_shoulder.py'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CheXpertDataset',
        data_root='data/CheXpert-v1.0-small/',
        ann_file='train.csv',
        frontal_only=True,
        pipeline={{_base_.train_pipeline}}))
