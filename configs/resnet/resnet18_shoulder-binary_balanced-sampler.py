# Imbalance preset: every class drawn equally often on average (osteo_mm ClassBalancedSampler).
_base_ = './resnet18_shoulder-binary.py'

train_dataloader = dict(sampler=dict(_delete_=True, type='ClassBalancedSampler'))
