# Relative location with a DeiT-small (patch 16) on NIH ChestX-ray14 (train_val_list.txt
# images, labels unused). The backbone matches configs/_base_/models/deit-small_xray.py.
_base_ = './relative-location_deit-t-p16_8xb32-coslr-100e_shoulder.py'

model = dict(backbone=dict(arch='deit-small'), head=dict(in_channels=384))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='NIHChestXray14Dataset',
        data_root='data/nih_cxr14/',
        split='trainval',
        pipeline={{_base_.train_pipeline}}))
