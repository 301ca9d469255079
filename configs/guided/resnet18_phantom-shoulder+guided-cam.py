# ResNet-18 shoulder classifier (binary, 224 px, SGD) trained to look where the expert looks:
# the share of the ground-truth class's differentiable Grad-CAM (last stage) outside the expert
# ROI is penalised (GAIN-style attention guidance); images without ROI train as usual.
# Grid search: vary `model.guidance.weight` (as in grid_lambda.yaml). `guidance_weight` below is
# resolved when this file is read, so a child config overriding it would not reach the model.
_base_ = [
    '../_base_/models/resnet18_xray.py',
    '../_base_/datasets/phantom_shoulder.py',
    '../_base_/schedules/xray_sgd_cos_50e.py',
    '../_base_/default_runtime.py',
]

guidance_weight = 1.0  # λ; the penalty is a fraction in [0, 1]
model = dict(
    type='GuidedImageClassifier',
    train_cfg=None,  # no Mixup/CutMix: they would mix images but not their ROI masks
    guidance=dict(type='CAMAlignmentGuidance', weight=guidance_weight,
                  target_layer='backbone.layer4'))
