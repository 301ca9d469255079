# ResNet-18 for X-ray classification: MMPretrain's ImageNet model, binary head by default.
# Task configs override head.num_classes (3 for WHO classes) or the head type (multi-label).
_base_ = 'mmpretrain::_base_/models/resnet18.py'

model = dict(head=dict(num_classes=2, in_channels=512, topk=(1, )))
