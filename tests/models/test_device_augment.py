"""On-device random-resized-crop + flip: same pixels and geometry as the CPU transforms."""
import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.dataset import default_collate

from osteo_mm.datasets.tools import build_array_cache
from osteo_mm.datasets.transforms import LoadXrayFromArrayCache, PackXrayInputs
from osteo_mm.models.data_preprocessors import XrayDeviceAugPreprocessor
from osteo_mm.models.data_preprocessors.device_augment import (
    crop_matrix,
    crop_resize_flip,
    sample_crops,
)


def test_fixed_crop_matches_opencv_crop_and_resize():
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 255, (40, 48)).astype(np.float32), (0, 0), 1.5)
    x0, y0, w, h = 6, 4, 30, 24
    ref = cv2.resize(img[y0:y0 + h, x0:x0 + w], (16, 16), interpolation=cv2.INTER_LINEAR)
    box = torch.tensor([[x0, y0, w, h]], dtype=torch.float32)
    for flip in (False, True):
        out = crop_resize_flip(torch.from_numpy(img)[None, None], box, torch.tensor([flip]), 16)
        expect = ref[:, ::-1] if flip else ref
        assert np.abs(out[0, 0].numpy() - expect).max() < 0.5


def test_crops_stay_inside_the_valid_region_and_follow_the_ranges():
    torch.manual_seed(0)
    valid = torch.tensor([[60.0, 40.0], [32.0, 64.0], [50.0, 50.0]]).repeat(200, 1)
    boxes = sample_crops(valid, (0.3, 0.9), (0.75, 4 / 3))
    x0, y0, bw, bh = boxes.unbind(1)
    assert (x0 >= 0).all() and (y0 >= 0).all()
    assert (x0 + bw <= valid[:, 1] + 1e-4).all() and (y0 + bh <= valid[:, 0] + 1e-4).all()
    frac = bw * bh / (valid[:, 0] * valid[:, 1])
    assert frac.min() >= 0.3 - 1e-4 and frac.max() <= 0.9 + 1e-4
    assert frac.std() > 0.1  # really random
    aspect = bw / bh
    assert aspect.min() >= 0.75 - 1e-4 and aspect.max() <= 4 / 3 + 1e-4


def test_preprocessor_keeps_transform_matrix_exact(tmp_path):
    """A bright dot of the original film lands where transform_matrix says, after aug."""
    src = tmp_path / 'src'
    src.mkdir()
    dots = {'a.png': ((70, 50), (30, 21)), 'b.png': ((50, 90), (66, 12))}
    for name, ((h, w), (x, y)) in dots.items():
        img = np.zeros((h, w), np.uint8)
        cv2.circle(img, (x, y), 4, 255, -1)
        cv2.imwrite(str(src / name), img)
    build_array_cache(str(src), str(tmp_path / 'cache'), long_side=48, progress=False)
    pipe = Compose([LoadXrayFromArrayCache(str(tmp_path / 'cache'), channels=1,
                                           letterbox=True), PackXrayInputs()])
    batch = default_collate([pipe(dict(img_id=n)) for n in dots] * 8)
    assert batch['inputs'].shape == (16, 1, 48, 48) and batch['inputs'].dtype == torch.uint8
    prep = XrayDeviceAugPreprocessor(crop_size=32, scale=(0.6, 1.0), mean=[0.0] * 3,
                                     std=[1.0] * 3, flip_prob=0.5)
    torch.manual_seed(1)
    out = prep(batch, training=True)
    assert out['inputs'].shape == (16, 3, 32, 32)
    flips = [s.flip for s in out['data_samples']]
    assert any(flips) and not all(flips)
    hits = 0
    for img, sample in zip(out['inputs'], out['data_samples']):
        (x, y) = dots[sample.img_id][1]
        u, v, _ = sample.transform_matrix @ [x, y, 1]
        if not (2 <= u <= 29 and 2 <= v <= 29):
            continue
        hits += 1
        peak = np.unravel_index(int(img[0].argmax()), img[0].shape)
        assert abs(peak[1] - u) <= 1.5 and abs(peak[0] - v) <= 1.5, (sample.img_id, u, v, peak)
    assert hits >= 8
    evaluated = prep(batch, training=False)
    np.testing.assert_allclose(evaluated['data_samples'][0].transform_matrix[:2, :2],
                               np.diag([32 / 50, 32 / 70]), rtol=1e-6)  # whole film


def test_crop_matrix_equals_cpu_transforms():
    """Integer boxes: the matrix of XrayRandomResizedCrop's crop + resize, then the flip."""
    from osteo_mm.datasets.transforms.geometry import _crop, _resize
    res = dict(img=np.zeros((40, 50), np.uint8), transform_matrix=np.eye(3))
    _crop(res, 7, 3, 20, 30)
    _resize(res, (16, 16), cv2.INTER_LINEAR)
    np.testing.assert_allclose(crop_matrix((7, 3, 20, 30), False, 16), res['transform_matrix'])
    flip = np.array([[-1.0, 0, 15], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(crop_matrix((7, 3, 20, 30), True, 16),
                               flip @ res['transform_matrix'])
