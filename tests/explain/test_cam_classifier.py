"""CAMClassifier stores a saliency map in every prediction, even under no_grad."""
import numpy as np
import pytest
import torch
from cam_models import tiny_resnet
from mmpretrain.structures import DataSample


def test_predict_under_no_grad_adds_cam_and_matches_plain_predictions():
    cam_model = tiny_resnet(model_type='CAMClassifier', cam_cfg=dict(target='gt'))
    plain = tiny_resnet()  # same seed -> same weights
    inputs = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    samples = [DataSample().set_gt_label(1), DataSample().set_gt_label(0)]
    with torch.no_grad():  # as in MMEngine's TestLoop
        explained = cam_model.predict(inputs, samples)
        expected = plain.predict(inputs, [DataSample(), DataSample()])
    for got, ref, gt in zip(explained, expected, (1, 0)):
        assert got.cam.shape == (64, 64) and got.cam.dtype == torch.float32
        assert got.cam_target == gt
        torch.testing.assert_close(got.pred_score, ref.pred_score)
    # No gradient is left behind to leak into a training step after validation.
    assert all(p.grad is None and p.requires_grad for p in cam_model.parameters())


def test_pred_target_and_missing_labels():
    model = tiny_resnet(model_type='CAMClassifier', cam_cfg=dict(method='eigencam'))
    with torch.no_grad():
        out = model.predict(torch.randn(3, 3, 64, 64))
    assert [s.cam_target for s in out] == [int(s.pred_label) for s in out]
    assert all(np.ptp(s.cam.numpy()) > 0 for s in out)
    gt_model = tiny_resnet(model_type='CAMClassifier', cam_cfg=dict(target='gt'))
    with pytest.raises(ValueError, match='needs data samples'):
        gt_model.predict(torch.randn(1, 3, 64, 64))


def test_backend_choice_reaches_the_explainer_and_gives_the_same_maps():
    inputs = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    maps = {}
    for backend in ('device', 'grad-cam'):
        model = tiny_resnet(model_type='CAMClassifier', cam_cfg=dict(backend=backend))
        assert model.explainer.on_device == (backend == 'device')
        with torch.no_grad():
            maps[backend] = torch.stack([s.cam for s in model.predict(inputs)])
    torch.testing.assert_close(maps['device'], maps['grad-cam'], atol=1e-5, rtol=0)


def test_input_attributions_work_inside_the_test_loop():
    model = tiny_resnet(model_type='CAMClassifier',
                        cam_cfg=dict(method='input-x-gradient', score='log-odds'))
    with torch.no_grad():  # as in MMEngine's TestLoop
        out = model.predict(torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2)))
    assert all(s.cam.shape == (32, 32) and np.ptp(s.cam.numpy()) > 0 for s in out)
    assert [s.cam_target for s in out] == [int(s.pred_label) for s in out]
    assert all(p.grad is None and p.requires_grad for p in model.parameters())
