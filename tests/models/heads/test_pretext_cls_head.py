import pytest
import torch
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401  (registers PretextClsHead)


def test_single_patch_head_is_linear_classifier_with_accuracy():
    head = MODELS.build(dict(type='PretextClsHead', in_channels=3, num_classes=3))
    with torch.no_grad():
        head.classifier.weight.copy_(torch.eye(3))
        head.classifier.bias.zero_()
    feats = torch.tensor([[5., 0., 0.], [0., 5., 0.], [0., 0., 5.], [5., 0., 0.]])
    target = torch.tensor([0, 1, 2, 2])

    losses = head.loss((feats, ), target)

    assert torch.equal(head((feats, )), feats)
    assert losses['acc_pretext'].item() == pytest.approx(0.75)
    expected = torch.nn.functional.cross_entropy(feats, target)
    assert losses['loss'].item() == pytest.approx(expected.item())


def test_multi_patch_head_concatenates_patches_of_a_sample_in_order():
    head = MODELS.build(dict(type='PretextClsHead', in_channels=4, num_classes=5,
                             num_patches=3, hidden_channels=8))
    feats = torch.randn(2 * 3, 4)

    logits = head((feats, ))
    swapped = head((feats[[1, 0, 2, 3, 4, 5]], ))

    assert logits.shape == (2, 5)
    assert not torch.allclose(logits[0], swapped[0])  # tile order of sample 0 matters
    assert torch.allclose(logits[1], swapped[1])  # sample 1 is untouched


def test_feature_count_must_be_a_multiple_of_num_patches():
    head = MODELS.build(dict(type='PretextClsHead', in_channels=4, num_classes=8,
                             num_patches=2))
    with pytest.raises(ValueError, match='multiple of num_patches=2'):
        head((torch.randn(3, 4), ))
