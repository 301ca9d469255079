# ResNet-18 shoulder classifier (binary, 224 px, SGD) trained to look where the expert looks:
# the input-gradient "Right for the Right Reasons" penalty (Ross et al., 2017) on images that
# carry an expert ROI; images without ROI train as usual.
# Grid search: vary `model.guidance.weight` (as in grid_lambda.yaml). `guidance_weight` below is
# resolved when this file is read, so a child config overriding it would not reach the model.
_base_ = [
    '../_base_/models/resnet18_xray.py',
    '../_base_/datasets/phantom_shoulder.py',
    '../_base_/schedules/xray_sgd_cos_50e.py',
    '../_base_/default_runtime.py',
]

guidance_weight = 1.0  # λ
model = dict(
    type='GuidedImageClassifier',
    train_cfg=None,  # no Mixup/CutMix: they would mix images but not their ROI masks
    guidance=dict(type='InputGradientGuidance', weight=guidance_weight))
