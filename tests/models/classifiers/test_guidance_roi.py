"""Stacking the packed ROI masks of a batch (``osteo_mm.models.guidance.stack_roi_masks``)."""
import pytest
import torch
from mmpretrain.structures import DataSample

from osteo_mm.models.guidance import stack_roi_masks

CPU = torch.device('cpu')


def sample(img_id: str, mask=None, has_roi=None, img_shape=None) -> DataSample:
    """A packed sample; ``has_roi`` defaults to whether a mask is given."""
    metainfo = dict(img_id=img_id, has_roi=mask is not None if has_roi is None else has_roi)
    if img_shape is not None:
        metainfo['img_shape'] = img_shape
    data_sample = DataSample(metainfo=metainfo)
    if mask is not None:
        data_sample.set_field(mask, 'roi_mask')
    return data_sample


def test_masks_are_binarised_padded_and_flagged():
    mask = torch.tensor([[0, 255], [0, 1]], dtype=torch.uint8)
    roi, has_roi = stack_roi_masks([sample('a', mask), sample('b')], (3, 2), CPU)
    assert roi.shape == (2, 1, 3, 2)
    assert roi[0, 0].tolist() == [[0, 1], [0, 1], [0, 0]]  # padded bottom, like stack_batch
    assert roi[1].sum() == 0
    assert has_roi.tolist() == [True, False]


def test_sample_without_has_roi_field_and_mask_is_unannotated():
    roi, has_roi = stack_roi_masks([DataSample()], (4, 4), CPU)
    assert has_roi.tolist() == [False] and roi.sum() == 0


def test_has_roi_without_mask_names_the_image():
    with pytest.raises(ValueError, match="img_id='b.png': has_roi=True but roi_mask is missing"):
        stack_roi_masks([sample('a.png'), sample('b.png', has_roi=True)], (4, 4), CPU)


def test_mask_without_has_roi_is_an_error():
    with pytest.raises(ValueError, match='has_roi=False but roi_mask is present'):
        stack_roi_masks([sample('a.png', torch.ones(4, 4), has_roi=False)], (4, 4), CPU)


def test_mask_must_follow_the_image_geometry():
    with pytest.raises(ValueError, match=r"'a.png': roi_mask shape \(4, 4\) differs from img_sh"):
        stack_roi_masks([sample('a.png', torch.ones(4, 4), img_shape=(8, 8))], (8, 8), CPU)
    with pytest.raises(ValueError, match='larger than the network input'):
        stack_roi_masks([sample('a.png', torch.ones(9, 8))], (8, 8), CPU)
    with pytest.raises(ValueError, match='must be H x W'):
        stack_roi_masks([sample('a.png', torch.ones(1, 8, 8))], (8, 8), CPU)


def test_empty_mask_trains_without_guidance():
    roi, has_roi = stack_roi_masks([sample('a.png', torch.zeros(4, 4))], (4, 4), CPU)
    assert has_roi.tolist() == [False] and roi.sum() == 0
