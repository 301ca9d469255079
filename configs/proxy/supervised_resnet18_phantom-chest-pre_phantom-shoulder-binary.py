# Supervised proxy route on phantoms, stage 2 of 2: the shoulder phantom
# (make_phantom.py shoulder --out data/phantom_shoulder) fine-tuned from the chest-phantom
# ResNet-18 of supervised_resnet18_phantom-chest.py.
_base_ = './supervised_resnet18_nih-cxr14-pre_shoulder-binary.py'

chest_checkpoint = 'work_dirs/supervised_resnet18_phantom-chest/epoch_50.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=chest_checkpoint)))
data_root = 'data/phantom_shoulder/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
