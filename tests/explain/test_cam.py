"""Batched CAMs for tiny CNN and ViT classifiers."""
import numpy as np
import pytest
import torch
from cam_models import tiny_resnet, tiny_vit
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from osteo_mm.explain import (
    CAM_METHODS,
    CAM_SCORES,
    BatchCAM,
    LogOddsTarget,
    default_target_layer_names,
    target_classes,
)
from osteo_mm.explain.device_cam import DEVICE_METHODS


@pytest.fixture
def resnet():
    return tiny_resnet()


@pytest.fixture
def vit():
    return tiny_vit()


def _images(n=3, size=64, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('method', sorted(CAM_METHODS))
def test_every_method_gives_one_normalised_map_per_image_for_resnet(resnet, method):
    # layer1 (16x16 at 64 px, 64 channels) keeps ScoreCAM's one-forward-per-channel cheap.
    explainer = BatchCAM(resnet, method=method, target_layers=['backbone.layer1'],
                         score_cam_batch_size=64)
    result = explainer(_images(2), [0, 1])
    assert result.cams.shape == (2, 64, 64) and result.cams.dtype == np.float32
    assert result.cams.min() >= 0 and result.cams.max() <= 1 + 1e-6
    assert (result.cams.reshape(2, -1).max(axis=1) > 0).all()  # no silent all-zero map
    assert result.logits.shape == (2, 2) and result.target_classes.tolist() == [0, 1]


def test_resnet_default_layer_is_last_stage(resnet):
    assert default_target_layer_names(resnet) == ['backbone.layer4']


def test_vit_maps_follow_the_patch_grid_for_any_input_size(vit):
    assert default_target_layer_names(vit) == ['backbone.layers.11.ln1']
    explainer = BatchCAM(vit, method='gradcam')
    for shape in ((32, 32), (48, 64)):  # 4x4 and 6x8 patch grids of 8-px patches
        images = torch.randn(2, 3, *shape, generator=torch.Generator().manual_seed(1))
        cams = explainer(images, [0, 1]).cams
        assert cams.shape == (2, *shape)
        # Gradients reached the patch tokens: every map varies over the image.
        assert (np.ptp(cams.reshape(2, -1), axis=1) > 0.5).all()


def test_each_image_gets_its_own_target(resnet):
    images = _images(2)
    explainer = BatchCAM(resnet)
    both = explainer(images, [0, 1]).cams
    first_alone = explainer(images[:1], [0]).cams[0]
    second_alone = explainer(images[1:], [1]).cams[0]
    np.testing.assert_allclose(both[0], first_alone, atol=1e-4)
    np.testing.assert_allclose(both[1], second_alone, atol=1e-4)
    other_class = explainer(images[1:], [0]).cams[0]
    assert np.abs(other_class - second_alone).max() > 1e-3


def test_short_target_list_is_an_error_not_zero_maps(resnet):
    with pytest.raises(ValueError, match='one per image'):
        BatchCAM(resnet)(_images(3), [0, 1])


def test_pred_target_explains_the_argmax_class(resnet):
    result = BatchCAM(resnet)(_images(4), None)
    assert result.target_classes.tolist() == result.logits.argmax(1).tolist()


@pytest.mark.parametrize('backend,weight_grads', [('grad-cam', ['layer4']), ('device', [])])
def test_backward_stops_at_the_target_layer_and_gradients_are_restored(resnet, backend,
                                                                        weight_grads):
    reached = []
    resnet.backbone.conv1.weight.register_hook(lambda grad: reached.append('conv1'))
    resnet.backbone.layer4[-1].conv2.weight.register_hook(lambda grad: reached.append('layer4'))
    existing = torch.ones_like(resnet.head.fc.weight)
    resnet.head.fc.weight.grad = existing
    BatchCAM(resnet, backend=backend)(_images(2), [0, 1])
    # pytorch-grad-cam backpropagates into the target layer's weights, the device backend
    # only to the layer's output; neither computes a weight gradient below the target layer.
    assert reached == weight_grads
    assert all(p.requires_grad for p in resnet.parameters())
    assert resnet.head.fc.weight.grad is existing


@pytest.mark.parametrize('method', sorted(DEVICE_METHODS))
@pytest.mark.parametrize('score', CAM_SCORES)
def test_device_backend_gives_the_maps_of_pytorch_grad_cam(method, score):
    resnet, vit = tiny_resnet(num_classes=3), tiny_vit(num_classes=3)
    cases = [(resnet, _images(3), None, [0, 2, 1]),
             (resnet, _images(3), ['backbone.layer3', 'backbone.layer4'], None),
             (vit, _images(3)[..., :32, :48], None, [2, 1, 0])]
    for model, images, layers, classes in cases:
        ours, library = (BatchCAM(model, method=method, target_layers=layers, score=score,
                                  backend=backend)(images, classes)
                         for backend in ('device', 'grad-cam'))
        assert ours.cams.shape == images.shape[:1] + images.shape[2:]
        np.testing.assert_allclose(ours.cams, library.cams, atol=1e-5)
        assert ours.target_classes.tolist() == library.target_classes.tolist()
        torch.testing.assert_close(ours.logits, library.logits)
        assert np.ptp(ours.cams.reshape(len(images), -1), axis=1).max() > 0.5  # not all zero


def test_auto_backend_uses_the_library_only_where_it_must(resnet):
    assert BatchCAM(resnet, method='gradcam').on_device
    assert not BatchCAM(resnet, method='gradcam', backend='grad-cam').on_device
    assert not BatchCAM(resnet, method='eigencam').on_device
    with pytest.raises(ValueError, match="'scorecam' has no device backend"):
        BatchCAM(resnet, method='scorecam', backend='device')
    with pytest.raises(ValueError, match='unknown CAM backend'):
        BatchCAM(resnet, backend='cuda')


def test_device_backend_refuses_layers_it_cannot_explain(resnet):
    with pytest.raises(ValueError, match=r"exactly once .*runs: \{'data_preprocessor': 0\}"):
        BatchCAM(resnet, target_layers=['backbone.layer4', 'data_preprocessor'],
                 backend='device')(_images(2), [0, 1])
    resnet.backbone.layer3.register_forward_hook(lambda module, args, out: out.detach())
    unreached = r"no gradient reaches target layer\(s\) \['backbone.layer3'\]"
    with pytest.raises(ValueError, match=unreached):
        BatchCAM(resnet, target_layers=['backbone.layer4', 'backbone.layer3'],
                 backend='device')(_images(2), [0, 1])


def test_target_classes_from_ground_truth_pred_or_index():
    samples = [DataSample(metainfo=dict(img_id='a')).set_gt_label(1),
               DataSample(metainfo=dict(img_id='b')).set_gt_label(0)]
    assert target_classes('gt', samples, 2) == [1, 0]
    assert target_classes('pred', samples, 2) is None
    assert target_classes(1, samples, 2) == [1, 1]
    with pytest.raises(ValueError, match='out of range'):
        target_classes(2, samples, 2)
    no_label = [DataSample(metainfo=dict(img_id='c'))]
    with pytest.raises(ValueError, match='sample c has 0 ground-truth labels'):
        target_classes('gt', no_label, 2)


def test_explain_runs_the_data_preprocessor(resnet):
    batch = dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)] * 2,
                 data_samples=[DataSample().set_gt_label(1), DataSample().set_gt_label(0)])
    result, samples = BatchCAM(resnet).explain(batch, target='gt')
    assert result.cams.shape == (2, 64, 64) and result.target_classes.tolist() == [1, 0]
    assert len(samples) == 2


def test_unknown_method_and_layer_are_clear_errors(resnet):
    with pytest.raises(ValueError, match='unknown CAM method'):
        BatchCAM(resnet, method='gradcam+++')
    with pytest.raises(ValueError, match="'backbone.layer9' not found"):
        BatchCAM(resnet, target_layers=['backbone.layer9'])


def test_three_class_vit_with_64px_input():
    model = tiny_vit(num_classes=3, img_size=64, patch_size=16)
    result = BatchCAM(model, method='gradcam++')(torch.randn(2, 3, 64, 64), [2, 1])
    assert result.cams.shape == (2, 64, 64) and result.logits.shape == (2, 3)


def test_three_class_resnet_layer3_target():
    model = tiny_resnet(num_classes=3)
    result = BatchCAM(model, target_layers=['backbone.layer3'])(_images(2, 64), [2, 0])
    assert result.cams.shape == (2, 64, 64)


def test_log_odds_target_is_the_log_odds_of_the_softmax():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.3, -2.0]])
    probs = logits.softmax(1)
    for c in range(3):
        expected = torch.log(probs[:, c] / (1 - probs[:, c]))
        torch.testing.assert_close(LogOddsTarget(c)(logits), expected)
        for row in range(2):  # pytorch-grad-cam calls a target on one image's 1-D output
            torch.testing.assert_close(LogOddsTarget(c)(logits[row]), expected[row])
    torch.testing.assert_close(LogOddsTarget()(logits),
                               torch.stack([LogOddsTarget(0)(logits[0]),
                                            LogOddsTarget(1)(logits[1])]))
    two = torch.tensor([1.5, -0.5])
    assert float(LogOddsTarget(0)(two)) == pytest.approx(2.0)
    with pytest.raises(ValueError, match='at least two softmax outputs'):
        LogOddsTarget(0)(torch.tensor([1.0]))


def test_log_odds_maps_ignore_what_all_classes_share(resnet):
    images = _images(3)
    before = {score: BatchCAM(resnet, score=score)(images, [0, 1, 0]).cams
              for score in CAM_SCORES}
    with torch.no_grad():  # a feature direction read by both classes alike moves no probability
        shared = torch.randn(resnet.head.fc.weight.shape[1],
                             generator=torch.Generator().manual_seed(3))
        resnet.head.fc.weight += 5 * shared.abs()
        resnet.head.fc.bias += 1.0
    after = {score: BatchCAM(resnet, score=score)(images, [0, 1, 0]).cams
             for score in CAM_SCORES}
    np.testing.assert_allclose(after['log-odds'], before['log-odds'], atol=1e-4)
    assert np.abs(after['logit'] - before['logit']).max() > 0.1


def test_log_odds_with_pred_target_explains_the_argmax_class(resnet):
    images = _images(4)
    result = BatchCAM(resnet, score='log-odds')(images, None)
    assert result.target_classes.tolist() == result.logits.argmax(1).tolist()
    explicit = BatchCAM(resnet, score='log-odds')(images, result.target_classes.tolist())
    np.testing.assert_allclose(result.cams, explicit.cams, atol=1e-5)


def test_log_odds_of_a_sigmoid_head_is_its_logit():
    model = tiny_resnet(num_classes=3)
    model.head = MODELS.build(dict(type='MultiLabelLinearClsHead', num_classes=3,
                                   in_channels=512)).eval()
    images = _images(2)
    np.testing.assert_allclose(BatchCAM(model, score='log-odds')(images, [2, 0]).cams,
                               BatchCAM(model, score='logit')(images, [2, 0]).cams, atol=1e-6)
    with pytest.raises(ValueError, match='unknown CAM score'):
        BatchCAM(model, score='probability')
