# Backbone initialised from a local checkpoint: an ImageNet-style classifier or a
# self-supervised (MAE / SparK / proxy-task) run; keys under `backbone.` are loaded.
# Missing/unexpected keys are logged; fewer than 95 % of the backbone parameters loading is an
# error. Same effect on any config from the command line:
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=PATH model.backbone.init_cfg.prefix=backbone.
_base_ = './resnet18_shoulder-binary.py'

pretrained = 'checkpoints/resnet18_pretrained.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
