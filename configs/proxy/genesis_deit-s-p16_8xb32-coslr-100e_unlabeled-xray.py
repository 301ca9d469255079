# Models Genesis restoration with a DeiT-small (patch 16) on an unlabelled X-ray collection.
# The backbone matches configs/_base_/models/deit-small_xray.py key for key.
_base_ = './genesis_deit-t-p16_8xb32-coslr-100e_shoulder.py'

model = dict(backbone=dict(arch='deit-small'), neck=dict(in_channels=384))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='UnlabeledXrayDataset',
        data_root='data/chest_unlabeled/',
        pipeline={{_base_.train_pipeline}}))
