# Supervised proxy route on phantoms, stage 1 of 2: the 7 findings of the chest phantom
# (tools/dataset_converters/make_phantom.py chest --out data/phantom_chest, NIH layout and
# 14-label order) -> supervised_resnet18_phantom-chest-pre_phantom-shoulder-binary.py.
_base_ = './supervised_resnet18_nih-cxr14.py'

data_root = 'data/phantom_chest/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
