# SparK ResNet-18 pretraining on CheXpert training images (labels unused).
_base_ = './spark_sparse-resnet18_8xb64-amp-coslr-400e_nih-cxr14.py'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CheXpertDataset',
        data_root='data/chexpert',
        ann_file='train.csv',
        pipeline={{_base_.train_pipeline}}))
