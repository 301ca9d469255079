# Relative location with a ResNet-18 on an unlabelled X-ray collection (folder tree or CSV).
_base_ = './relative-location_resnet18_8xb32-coslr-100e_shoulder.py'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='UnlabeledXrayDataset',
        data_root='data/chest_unlabeled/',
        pipeline={{_base_.train_pipeline}}))
