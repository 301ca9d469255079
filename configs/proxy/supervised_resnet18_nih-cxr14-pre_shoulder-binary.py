# Supervised proxy route, stage 2 of 2: shoulder osteoporosis screening fine-tuned from the
# NIH multi-label ResNet-18 of supervised_resnet18_nih-cxr14.py (its `backbone.*` weights; the
# 14-finding head is dropped). Point `chest_checkpoint` at another epoch with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH.
_base_ = '../resnet/resnet18_shoulder-binary.py'

chest_checkpoint = 'work_dirs/supervised_resnet18_nih-cxr14/epoch_50.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=chest_checkpoint, prefix='backbone.')))
