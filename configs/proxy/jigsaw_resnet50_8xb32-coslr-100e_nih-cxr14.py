# Jigsaw puzzles with a ResNet-50 on NIH ChestX-ray14 (train_val_list.txt images, labels
# unused). The backbone matches resnet50_xray.py key for key.
_base_ = './jigsaw_resnet18_8xb32-coslr-100e_shoulder.py'

model = dict(backbone=dict(depth=50), head=dict(in_channels=2048))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='NIHChestXray14Dataset',
        data_root='data/nih_cxr14/',
        split='trainval',
        pipeline={{_base_.train_pipeline}}))
