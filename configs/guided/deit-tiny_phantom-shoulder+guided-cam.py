# DeiT-tiny shoulder classifier (deit-tiny_shoulder-binary.py, on the phantom) trained to look
# where the expert looks:
# the share of the ground-truth class's differentiable Grad-CAM outside the expert ROI is
# penalised (GAIN-style attention guidance). The map is taken at `ln1` of the last block, whose
# patch tokens (reshaped to the 14 x 14 grid) still reach the class token.
# Grid search: vary `model.guidance.weight` (as in grid_lambda.yaml). `guidance_weight` below is
# resolved when this file is read, so a child config overriding it would not reach the model.
_base_ = ['../vit/deit-tiny_shoulder-binary.py']

# The built-in shoulder phantom (configs/_base_/datasets/phantom_shoulder.py).
data_root = 'data/phantom_shoulder/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))

guidance_weight = 1.0  # λ; the penalty is a fraction in [0, 1]
model = dict(
    type='GuidedImageClassifier',
    train_cfg=None,  # no Mixup/CutMix: they would mix images but not their ROI masks
    guidance=dict(type='CAMAlignmentGuidance', weight=guidance_weight,
                  target_layer='backbone.layers.11.ln1'))
