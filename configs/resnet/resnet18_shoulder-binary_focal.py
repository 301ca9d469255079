# Imbalance preset: focal loss (MMPretrain's sigmoid FocalLoss, Lin et al., ICCV 2017).
_base_ = './resnet18_shoulder-binary.py'

model = dict(head=dict(loss=dict(_delete_=True, type='FocalLoss', gamma=2.0, alpha=0.25)))
