"""The array cache gives the file path's tensors, geometry and CAM mapping."""
import os

import cv2
import numpy as np
import pandas as pd
import pytest
from mmcv.transforms import Compose

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.tools import build_array_cache, read_array_index
from osteo_mm.datasets.transforms import (
    LoadRoiMask,
    LoadXrayFromArrayCache,
    LoadXrayFromFile,
    PackXrayInputs,
    XrayCenterCrop,
    XrayResize,
)

LONG = 32


@pytest.fixture
def films(tmp_path):
    """Five PNG films (8/16 bit, portrait/landscape, one smaller than the slot), two masks."""
    rng = np.random.default_rng(0)
    src = tmp_path / 'src'
    (src / 'sub').mkdir(parents=True)
    sizes = [(60, 45), (41, 70), (20, 27), (64, 64), (33, 90)]
    rows = []
    for i, (h, w) in enumerate(sizes):
        yy, xx = np.mgrid[:h, :w]
        blob = np.exp(-((xx - 0.7 * w) ** 2 + (yy - 0.3 * h) ** 2) / (0.1 * w * h))
        dtype = np.uint16 if i % 2 else np.uint8
        top = np.iinfo(dtype).max
        img = np.clip(blob * 0.8 * top + rng.integers(0, top // 8, (h, w)), 0, top)
        rel = f'sub/f{i}.png'
        cv2.imwrite(str(src / rel), img.astype(dtype))
        mask_rel = ''
        if i in (0, 3):
            mask = np.zeros((h, w), np.uint8)
            mask[h // 4:h // 2, w // 3:w - 2] = 255
            mask_rel = f'sub/f{i}_roi.png'
            cv2.imwrite(str(src / mask_rel), mask)
        rows.append(dict(image=rel, roi_mask=mask_rel, patient_id=f'P{i}'))
    pd.DataFrame(rows).to_csv(src / 'ann.csv', index=False)
    return src, rows


def build(src, out, **kw):
    return build_array_cache(str(src), str(out), ann_file=str(src / 'ann.csv'), long_side=LONG,
                             shard_size=2, progress=False, **kw)


@pytest.mark.parametrize('io_backend', ['pread', 'mmap'])
def test_cached_path_equals_file_path_after_resize(films, tmp_path, io_backend):
    src, rows = films
    counts = build(src, tmp_path / 'cache')
    assert counts == dict(converted=5, skipped=0, failed=0)
    assert sorted(f for f in os.listdir(tmp_path / 'cache') if f.startswith('images_')) == [
        'images_00000.npy', 'images_00001.npy', 'images_00002.npy']
    load = LoadXrayFromArrayCache(str(tmp_path / 'cache'), io_backend=io_backend)
    for row in rows:
        info = dict(img_id=row['image'], img_path=str(src / row['image']),
                    roi_mask_path=str(src / row['roi_mask']) if row['roi_mask'] else '')
        cached = load(dict(info))
        h, w = cached['img_shape']
        assert max(h, w) == min(LONG, max(cached['ori_shape']))
        ref = Compose([LoadXrayFromFile(), LoadRoiMask(),
                       XrayResize(scale=(w, h), interpolation='area')])(dict(info))
        diff = np.abs(cached['img'].astype(int) - ref['img'].astype(int))
        assert diff.max() <= 1, row
        assert cached['img'].shape == ref['img'].shape and cached['img'].dtype == np.uint8
        assert cached['ori_shape'] == tuple(ref['ori_shape'])
        assert tuple(cached['img_shape']) == tuple(ref['img_shape'])
        np.testing.assert_allclose(cached['transform_matrix'], ref['transform_matrix'])
        assert ('roi_mask' in cached) == bool(row['roi_mask'])
        if row['roi_mask']:
            np.testing.assert_array_equal(cached['roi_mask'], ref['roi_mask'])


def test_boxes_follow_the_film(films, tmp_path):
    src, rows = films
    build(src, tmp_path / 'cache')
    boxes = np.array([[5, 6, 30, 20]], np.float32)
    info = dict(img_id=rows[1]['image'], img_path=str(src / rows[1]['image']), gt_bboxes=boxes)
    cached = LoadXrayFromArrayCache(str(tmp_path / 'cache'))(dict(info))
    h, w = cached['img_shape']
    ref = Compose([LoadXrayFromFile(), LoadRoiMask(),
                   XrayResize(scale=(w, h), interpolation='area')])(dict(info))
    np.testing.assert_allclose(cached['gt_bboxes'], ref['gt_bboxes'], atol=1e-4)
    # The rasterised box differs from the resized full-size mask by at most its rim.
    assert np.mean(cached['roi_mask'] != ref['roi_mask']) < 0.1
    assert cached['roi_mask'].sum() > 0


def test_cams_map_back_identically(films, tmp_path):
    """A map on the network input returns to the same original pixels from either path."""
    src, rows = films
    build(src, tmp_path / 'cache')
    pipe_tail = [XrayResize(scale=24), XrayCenterCrop(crop_size=24), PackXrayInputs()]
    cache_pipe = Compose([LoadXrayFromArrayCache(str(tmp_path / 'cache'))] + pipe_tail)
    for row in rows:
        info = dict(img_id=row['image'], img_path=str(src / row['image']))
        cached = cache_pipe(dict(info))['data_samples']
        h, w = cached.metainfo['valid_shape']
        file_pipe = Compose([LoadXrayFromFile(), XrayResize(scale=(w, h), interpolation='area')]
                            + pipe_tail)
        ref = file_pipe(dict(info))['data_samples']
        np.testing.assert_allclose(cached.transform_matrix, ref.transform_matrix)
        h0, w0 = cached.ori_shape
        cam = np.random.default_rng(1).random(cached.img_shape).astype(np.float32)
        back = [cv2.warpAffine(cam, np.linalg.inv(s.transform_matrix)[:2], (w0, h0))
                for s in (cached, ref)]
        np.testing.assert_allclose(back[0], back[1], atol=1e-5)
        # Independent check: the network-input pixel of an original point holds its value.
        img = cv2.imread(str(src / row['image']), cv2.IMREAD_UNCHANGED).astype(float)
        y, x = np.unravel_index(np.argmax(cv2.GaussianBlur(img, (0, 0), 3)), img.shape)
        u, v, _ = cached.transform_matrix @ [x, y, 1]
        if 0 <= u <= 23 and 0 <= v <= 23:
            assert abs(back[0][y, x] - cam[round(v), round(u)]) < 0.6


def test_letterbox_resume_and_errors(films, tmp_path):
    src, rows = films
    out = tmp_path / 'cache'
    build(src, out)
    meta, index = read_array_index(str(out))
    assert meta['long_side'] == LONG and len(index) == 5
    assert build(src, out) == dict(converted=0, skipped=5, failed=0)
    load = LoadXrayFromArrayCache(str(out), letterbox=True, channels=1)
    res = load(dict(img_id=rows[2]['image']))
    assert res['img'].shape == (LONG, LONG) and res['valid_shape'] == (20, 27)
    assert not res['img'][20:].any() and not res['img'][:, 27:].any()
    with pytest.raises(XrayDataError, match='not in the array cache'):
        load(dict(img_id='sub/missing.png'))
    (src / rows[4]['image']).write_bytes(b'not a png')
    os.remove(out / 'index_00002.csv')
    with pytest.raises(XrayDataError, match='f4.png'):
        build(src, out)
    assert 'f4.png' in (out / 'errors.csv').read_text()
    with pytest.raises(ValueError, match='built with'):
        build_array_cache(str(src), str(out), ann_file=str(src / 'ann.csv'), long_side=16,
                          shard_size=2, progress=False)
