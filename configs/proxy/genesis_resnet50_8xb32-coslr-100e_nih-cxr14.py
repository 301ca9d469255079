# Models Genesis restoration with a ResNet-50 on NIH ChestX-ray14 (train_val_list.txt images).
# As in MMPretrain's SparK ResNet-50 config, 1x1 projections map the stages (2048, 1024, 512,
# 256 channels) to a ResNet-18-wide light decoder. The backbone matches resnet50_xray.py.
_base_ = './genesis_resnet18_8xb32-coslr-100e_shoulder.py'

model = dict(backbone=dict(depth=50), encoder_channels=(2048, 1024, 512, 256))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='NIHChestXray14Dataset',
        data_root='data/nih_cxr14/',
        split='trainval',
        pipeline={{_base_.train_pipeline}}))
