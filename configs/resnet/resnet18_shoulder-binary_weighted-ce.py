# Imbalance preset: class-weighted cross-entropy (MMPretrain's CrossEntropyLoss).
# Set class_weight to the inverse class frequencies of your training split, e.g.
# 1 : 3 for 25 % osteoporosis.
_base_ = './resnet18_shoulder-binary.py'

model = dict(head=dict(loss=dict(type='CrossEntropyLoss', class_weight=[1.0, 3.0])))
