import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401


def test_equals_mmpretrain_sigmoid_ce_without_ignored_cells():
    logits, target = torch.randn(4, 5), torch.randint(0, 2, (4, 5)).float()
    ours = MODELS.build(dict(type='MaskedBCELoss'))
    ref = MODELS.build(dict(type='CrossEntropyLoss', use_sigmoid=True))
    assert ours(logits, target, avg_factor=4) == pytest.approx(ref(logits, target, avg_factor=4))


def test_ignored_cells_do_not_contribute_to_loss_or_gradient():
    logits = torch.randn(3, 2, requires_grad=True)
    target = torch.tensor([[1.0, -1.0], [0.0, 1.0], [-1.0, 0.0]])
    loss = MODELS.build(dict(type='MaskedBCELoss'))(logits, target)
    keep = target != -1
    expected = F.binary_cross_entropy_with_logits(logits[keep], target[keep])
    assert loss.item() == pytest.approx(expected.item())
    loss.backward()
    assert logits.grad[0, 1] == 0 and logits.grad[2, 0] == 0 and logits.grad[0, 0] != 0


def test_multilabel_head_trains_with_u_ignore_targets():
    from mmpretrain.structures import DataSample
    head = MODELS.build(dict(type='MultiLabelLinearClsHead', num_classes=2, in_channels=8,
                             loss=dict(type='MaskedBCELoss')))
    samples = [DataSample().set_gt_score(torch.tensor([1.0, -1.0])) for _ in range(2)]
    loss = head.loss((torch.randn(2, 8),), samples)['loss']
    assert torch.isfinite(loss) and loss > 0
