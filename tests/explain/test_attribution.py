"""Every attribution method on analytic models whose outputs read a known box only."""
import numpy as np
import pytest
import torch
from analytic_models import box_classifier, box_vit, mass_inside
from cam_models import tiny_resnet, tiny_vit

from osteo_mm.explain import METHODS, BatchCAM
from osteo_mm.explain.attribution import (
    PATCH_METHODS,
    VIT_METHODS,
    all_class_scores,
    occlusion_window,
    recording_attention,
)
from osteo_mm.explain.targets import log_odds

BOX = (8, 10, 18, 22)  # y0, x0, y1, x1 of the CNN's gate at 40 px
CNN_METHODS = [m for m in METHODS if m not in VIT_METHODS]
# On the analytic ViT the class token reads the patch tokens of grid box (2, 2, 5, 5) only.
VIT_BOX, PATCH = (16, 16, 40, 40), 8
# Methods whose ViT maps keep to the tokens the output reads. Grad-CAM, XGrad-CAM and
# Ablation-CAM weight whole channels and so paint tokens the output never reads (measured in
# docs/benchmarks.md); they are checked on the CNN only.
VIT_LOCAL = ['attention-rollout', 'transformer-attribution', 'hirescam', 'layercam',
             'gradcam++', 'integrated-gradients', 'input-x-gradient', 'occlusion']


def _images(n, size, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('method', CNN_METHODS)
def test_cnn_maps_put_their_mass_in_the_box(method):
    model = box_classifier(BOX)
    result = BatchCAM(model, method=method, score='log-odds')(_images(2, 40), [0, 1])
    assert result.cams.shape == (2, 40, 40)
    margin = occlusion_window(40, 40)[0] if method in PATCH_METHODS else 0
    share = mass_inside(result.cams, BOX, margin)
    assert (share >= 0.95).all(), share


@pytest.mark.parametrize('method', VIT_LOCAL)
def test_vit_maps_put_their_mass_in_the_box_within_a_patch(method):
    model = box_vit()
    result = BatchCAM(model, method=method, score='log-odds')(_images(2, 64), [0, 1])
    share = mass_inside(result.cams, VIT_BOX, PATCH)
    assert (share >= 0.95).all(), share
    assert (result.cams.reshape(2, -1).max(axis=1) > 0.99).all()  # not an empty map


def test_analytic_vit_reads_the_box_only():
    model = box_vit()
    images = _images(2, 64)
    with torch.no_grad():
        base = model(images)
        outside = images.clone()
        outside[:, :, :16] = 3.0
        outside[:, :, :, 40:] = -3.0
        inside = images.clone()
        inside[:, :, 16:40, 16:40] = 0.0
        assert torch.equal(model(outside), base)
        assert (model(inside) - base).abs().max() > 1e-4


def test_vit_only_methods_refuse_cnns():
    with pytest.raises(ValueError, match='ViTs only'):
        BatchCAM(tiny_resnet(), method='attention-rollout')


def test_recorded_attention_keeps_the_outputs_and_is_restored():
    model = tiny_vit()
    images = _images(2, 32)
    attn = model.backbone.layers[0].attn
    before = attn.scaled_dot_product_attention
    with torch.no_grad():
        fused = model(images)
        with recording_attention(model) as store:
            explicit = model(images)
    assert len(store) == 12 and store[0].shape == (2, 3, 17, 17)
    torch.testing.assert_close(store[0].sum(-1), torch.ones(2, 3, 17))
    torch.testing.assert_close(explicit, fused, rtol=1e-4, atol=1e-5)
    assert attn.scaled_dot_product_attention is before


def test_all_class_log_odds_match_the_cam_target():
    logits = torch.randn(5, 3)
    scores = all_class_scores(logits, True)
    for c in range(3):
        index = torch.full((5, 1), c)
        torch.testing.assert_close(scores[:, c], log_odds(logits, index))
    assert all_class_scores(logits, False) is logits


@pytest.mark.parametrize('method', ['occlusion', 'integrated-gradients', 'input-x-gradient'])
def test_attributions_leave_no_gradients_and_follow_the_prediction(method):
    model = box_classifier(BOX)
    images = _images(3, 40)
    result = BatchCAM(model, method=method)(images, None)
    assert result.target_classes.tolist() == model(images).argmax(1).tolist()
    assert all(p.grad is None for p in model.parameters())
    assert np.isfinite(result.cams).all() and result.cams.max() <= 1 + 1e-6
