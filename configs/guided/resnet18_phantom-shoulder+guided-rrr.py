# ResNet-18 shoulder classifier (resnet18_shoulder-binary.py, on the phantom) trained to look
# where the expert looks:
# the input-gradient "Right for the Right Reasons" penalty (Ross et al., 2017) on images that
# carry an expert ROI; images without ROI train as usual.
# Grid search: vary `model.guidance.weight` (as in grid_lambda.yaml). `guidance_weight` below is
# resolved when this file is read, so a child config overriding it would not reach the model.
_base_ = ['../resnet/resnet18_shoulder-binary.py']

# The built-in shoulder phantom (configs/_base_/datasets/phantom_shoulder.py).
data_root = 'data/phantom_shoulder/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))

guidance_weight = 1.0  # λ
model = dict(
    type='GuidedImageClassifier',
    train_cfg=None,  # no Mixup/CutMix: they would mix images but not their ROI masks
    guidance=dict(type='InputGradientGuidance', weight=guidance_weight))
