# Image-mixing preset: MMPretrain's Mixup and CutMix batch augments (one picked per batch).
# The mixed (soft) targets need the soft cross-entropy.
_base_ = './deit-tiny_shoulder-binary.py'

model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', use_soft=True)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.2), dict(type='CutMix', alpha=1.0)]))
