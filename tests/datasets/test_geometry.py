"""Mask-aware geometry against hand-computed cases, and packing into a DataSample."""
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from osteo_mm.datasets.transforms import (
    PackXrayInputs,
    XrayCenterCrop,
    XrayCLAHE,
    XrayPad,
    XrayRandomAffine,
    XrayRandomFlip,
    XrayRandomResizedCrop,
    XrayResize,
)


def sample(h=4, w=8):
    """A sample whose ROI is the box x, y, w, h = 2, 1, 3, 2 (columns 2-4, rows 1-2)."""
    mask = np.zeros((h, w), np.uint8)
    mask[1:3, 2:5] = 1
    img = np.repeat((mask * 200 + 20)[..., None], 3, axis=2).astype(np.uint8)
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w), roi_mask=mask,
                gt_bboxes=np.array([[2, 1, 5, 3]], np.float32), transform_matrix=np.eye(3))


def mapped(results, x, y):
    return (results['transform_matrix'] @ [x, y, 1])[:2]


def test_resize_doubles_box_mask_and_points():
    res = XrayResize(scale=(16, 8))(sample())
    np.testing.assert_allclose(mapped(res, 0, 0), [0.5, 0.5])
    np.testing.assert_allclose(mapped(res, 3, 1), [6.5, 2.5])
    np.testing.assert_allclose(res['gt_bboxes'], [[4, 2, 10, 6]])
    expected = np.zeros((8, 16), np.uint8)
    expected[2:6, 4:10] = 1
    np.testing.assert_array_equal(res['roi_mask'], expected)
    assert res['img'].shape == (8, 16, 3) and res['img_shape'] == (8, 16)


def test_resize_short_edge_keeps_ratio():
    res = XrayResize(scale=8)(sample())
    assert res['img_shape'] == (8, 16)


def test_horizontal_flip_mirrors_everything():
    res = XrayRandomFlip(prob=1.0)(sample())
    np.testing.assert_allclose(mapped(res, 1, 2), [6, 2])
    np.testing.assert_allclose(res['gt_bboxes'], [[3, 1, 6, 3]])
    np.testing.assert_array_equal(res['roi_mask'], sample()['roi_mask'][:, ::-1])
    assert res['flip'] and res['flip_direction'] == 'horizontal'


def test_center_crop_and_pad_translate():
    res = XrayCenterCrop(crop_size=(4, 2))(sample())
    np.testing.assert_allclose(mapped(res, 3, 2), [1, 1])
    np.testing.assert_allclose(res['gt_bboxes'], [[0, 0, 3, 2]])
    np.testing.assert_array_equal(res['roi_mask'], [[1, 1, 1, 0], [1, 1, 1, 0]])
    res = XrayPad(pad_to_square=True, center=True)(sample())
    assert res['img_shape'] == (8, 8)
    np.testing.assert_allclose(res['gt_bboxes'], [[2, 3, 5, 5]])
    assert res['roi_mask'][3:5, 2:5].all() and res['roi_mask'].sum() == 6


def test_affine_matrix_rotates_counter_clockwise_about_the_centre():
    matrix = XrayRandomAffine.matrix((5, 5), angle=90, scale=1.0, shift=(0, 0))
    np.testing.assert_allclose((matrix @ [4, 2, 1])[:2], [2, 0], atol=1e-9)


@pytest.mark.parametrize('transform', [
    XrayRandomAffine(max_rotate_degree=30, scale_range=(0.8, 1.2), max_translate_ratio=0.1),
    XrayRandomResizedCrop(scale=48, crop_ratio_range=(0.5, 1.0)),
])
def test_random_transforms_keep_mask_centroid_on_the_matrix(transform):
    np.random.seed(3)
    mask = np.zeros((64, 64), np.uint8)
    mask[20:34, 24:40] = 1
    res = dict(img=np.zeros((64, 64), np.uint8), roi_mask=mask, transform_matrix=np.eye(3),
               gt_bboxes=np.array([[24, 20, 40, 34]], np.float32))
    res = transform(res)
    ys, xs = np.nonzero(res['roi_mask'])
    np.testing.assert_allclose([xs.mean(), ys.mean()], mapped(res, 31.5, 26.5), atol=1.0)
    x1, y1, x2, y2 = res['gt_bboxes'][0]
    assert x1 - 1 <= xs.min() and xs.max() + 1 <= x2 + 1 and y1 - 1 <= ys.min()


def test_pipeline_matrix_tracks_a_marked_pixel():
    img = np.zeros((40, 60), np.uint8)
    img[10, 45] = 255
    res = Compose([XrayResize(scale=(120, 80), interpolation='nearest'),
                   XrayRandomFlip(prob=1.0), XrayPad(size=(130, 90), center=True)])(
        dict(img=img, transform_matrix=np.eye(3)))
    rows, cols = np.nonzero(res['img'])
    centre = [cols.mean(), rows.mean()]
    np.testing.assert_allclose(centre, mapped(res, 45, 10), atol=0.01)


def test_pack_carries_mask_and_metainfo():
    res = dict(sample(), img_id='a/b.dcm', patient_id='p1', gt_label=1)
    packed = PackXrayInputs()(res)
    ds = packed['data_samples']
    assert packed['inputs'].shape == (3, 4, 8)
    assert ds.has_roi and ds.roi_mask.dtype == torch.uint8 and ds.roi_mask.shape == (4, 8)
    assert ds.img_id == 'a/b.dcm' and ds.patient_id == 'p1' and ds.gt_label.tolist() == [1]
    np.testing.assert_array_equal(ds.transform_matrix, np.eye(3))
    res.pop('roi_mask')
    ds = PackXrayInputs()(res)['data_samples']
    assert ds.has_roi is False and 'roi_mask' not in ds


def test_clahe_raises_local_contrast_and_stays_gray():
    rng = np.random.default_rng(0)
    gray = (100 + rng.integers(0, 8, (32, 32))).astype(np.uint8)
    out = XrayCLAHE(clip_limit=4.0)(dict(img=np.repeat(gray[..., None], 3, 2)))['img']
    assert out[..., 0].std() > 2 * gray.std()
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    out = XrayCLAHE()(dict(img=gray.astype(np.float32)))['img']
    assert out.dtype == np.float32
