"""Maps go back to original-image pixels through the pipeline's transform_matrix."""
import numpy as np
import pytest

import osteo_mm  # noqa: F401
from osteo_mm.datasets.transforms import XrayResize
from osteo_mm.explain import cam_to_original


def _resized(mask: np.ndarray, scale) -> dict:
    results = dict(img=np.repeat(mask[:, :, None] * 255, 3, axis=2).astype(np.uint8),
                   img_shape=mask.shape, ori_shape=mask.shape, roi_mask=mask.copy(),
                   transform_matrix=np.eye(3))
    return XrayResize(scale=scale)(results)


def test_mask_resized_by_the_pipeline_maps_back_onto_itself():
    original = np.zeros((40, 56), np.uint8)
    original[10:30, 20:40] = 1
    out = _resized(original, (64, 64))
    back = cam_to_original(out['roi_mask'].astype(np.float32), out['transform_matrix'],
                           original.shape)
    assert back.shape == original.shape
    recovered = back > 0.5
    iou = (recovered & (original > 0)).sum() / (recovered | (original > 0)).sum()
    assert iou > 0.9


def test_single_hot_pixel_lands_on_the_scaled_position():
    matrix = np.diag([2.0, 4.0, 1.0])  # original (x, y) -> input (2x, 4y)
    cam = np.zeros((40, 40), np.float32)
    cam[4 * 5, 2 * 7] = 1.0  # input pixel of original (x=7, y=5)
    back = cam_to_original(cam, matrix, (10, 20))
    assert np.unravel_index(back.argmax(), back.shape) == (5, 7)


def test_bad_matrix_is_rejected():
    with pytest.raises(ValueError, match='3x3'):
        cam_to_original(np.zeros((4, 4)), np.eye(2), (4, 4))
