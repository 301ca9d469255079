"""Causality scores on hand-built maps and masks (perfect, disjoint, uniform, single peak)."""
import cv2
import numpy as np
import pytest
import torch
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample
from sklearn.metrics import roc_auc_score

import osteo_mm  # noqa: F401
from osteo_mm.datasets.transforms.loading import rasterize_boxes
from osteo_mm.evaluation.metrics.causality import (
    binarize,
    causality_scores,
    energy_pointing_game,
    iou_dice,
    pointing_game,
    quantize,
    relevance_rank_accuracy,
    roi_area_share,
    saliency_auroc,
    spearman_correlation,
    zero_maps,
)

H = W = 32


def _box_mask(y1, y2, x1, x2):
    mask = np.zeros((H, W), np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask


ROI = _box_mask(8, 16, 8, 24)  # 8 x 16 = 128 px = 1/8 of the image
OUTSIDE = _box_mask(20, 30, 0, 32)


def _batch(*maps):
    return np.stack(maps).astype(np.float32)


def test_perfect_map_scores_one_everywhere():
    scores = causality_scores(_batch(ROI), _batch(ROI))
    for name in ('pointing_game', 'energy_pointing_game', 'iou_otsu', 'dice_otsu',
                 'saliency_auroc', 'relevance_rank_accuracy'):
        assert scores[name][0] == pytest.approx(1.0), name
    assert scores['roi_area_share'][0] == pytest.approx(128 / 1024)
    # Top 20 % = 205 px > the 128 ROI px, so the cut falls on the zero level and, ties being
    # kept, the whole image is selected.
    assert scores['iou_top20'][0] == pytest.approx(128 / 1024)


def test_disjoint_map_scores_zero():
    scores = causality_scores(_batch(OUTSIDE), _batch(ROI))
    for name in ('pointing_game', 'energy_pointing_game', 'iou_otsu', 'dice_otsu',
                 'relevance_rank_accuracy'):
        assert scores[name][0] == pytest.approx(0.0), name
    # ROI pixels never win; they tie (half credit) with the 576 zero background pixels.
    assert scores['saliency_auroc'][0] == pytest.approx(0.5 * 576 / 896)


def test_uniform_map_scores_chance():
    scores = causality_scores(_batch(np.ones((H, W))), _batch(ROI))
    share = 128 / 1024
    assert scores['pointing_game'][0] == pytest.approx(share)  # every pixel ties for the peak
    assert scores['energy_pointing_game'][0] == pytest.approx(share)
    assert scores['relevance_rank_accuracy'][0] == pytest.approx(share)
    assert scores['saliency_auroc'][0] == pytest.approx(0.5)
    assert scores['iou_otsu'][0] == 0  # a flat map marks nothing out


def test_single_peak_inside_outside_and_within_tolerance():
    peak_in, peak_out = np.zeros((H, W)), np.zeros((H, W))
    peak_in[10, 10] = 1
    peak_out[10, 27] = 1  # 4 px right of the ROI's last column (x=23)
    maps, masks = _batch(peak_in, peak_out), _batch(ROI, ROI)
    assert pointing_game(maps, masks).tolist() == [1.0, 0.0]
    assert pointing_game(maps, masks, tolerance=3).tolist() == [1.0, 0.0]
    assert pointing_game(maps, masks, tolerance=4).tolist() == [1.0, 1.0]
    assert energy_pointing_game(maps, masks).tolist() == [1.0, 0.0]


def test_gaussian_blob_scores_match_hand_counts_and_sklearn():
    yy, xx = np.mgrid[:H, :W]
    blob = np.exp(-((yy - 12) ** 2 + (xx - 20) ** 2) / 30.0)
    maps, masks = _batch(blob, blob[::-1]), _batch(ROI, ROI)
    auroc = saliency_auroc(maps, masks)
    for i in range(2):  # exact Mann-Whitney on the quantised map == sklearn's ROC AUC
        assert auroc[i] == pytest.approx(roc_auc_score(ROI.ravel(), quantize(maps)[i].ravel()))
        assert auroc[i] == pytest.approx(roc_auc_score(ROI.ravel(), maps[i].ravel()), abs=1e-3)
    inside = (blob * ROI).sum() / blob.sum()
    assert energy_pointing_game(maps, masks)[0] == pytest.approx(inside, rel=1e-5)
    # An off-grid, anisotropic blob has no ties, so "top 128 pixels" is unambiguous.
    skew = np.exp(-((yy - 12.3) ** 2 / 30.0 + (xx - 20.7) ** 2 / 17.0))
    top = np.argsort(-skew.ravel())[:128]
    expected = ROI.ravel()[top].mean()
    assert 0.3 < expected < 0.9
    assert relevance_rank_accuracy(_batch(skew), masks[:1])[0] == pytest.approx(expected)


def test_iou_dice_equal_counts_on_the_binarised_map():
    yy, xx = np.mgrid[:H, :W]
    blob = np.exp(-((yy - 12) ** 2 + (xx - 14) ** 2) / 20.0).astype(np.float32)[None]
    for method in ('otsu', 'topk'):
        pred = binarize(blob, method, top_fraction=0.1)[0]
        inter, union = (pred & (ROI > 0)).sum(), (pred | (ROI > 0)).sum()
        iou, dice = iou_dice(blob, ROI[None], method, top_fraction=0.1)
        assert iou[0] == pytest.approx(inter / union)
        assert dice[0] == pytest.approx(2 * inter / (pred.sum() + ROI.sum()))
    # Top 10 % = 103 px, plus the pixels tied with the 103rd (rings of the symmetric blob).
    kth = np.sort(blob.ravel())[::-1][102]
    assert binarize(blob, 'topk', top_fraction=0.1)[0].sum() == (blob >= kth).sum() > 103


def test_otsu_threshold_matches_opencv():
    rng = np.random.default_rng(0)
    image = np.concatenate([rng.normal(60, 10, 500), rng.normal(180, 15, 524)])
    image = np.clip(image, 0, 255).reshape(H, W)
    levels = quantize(image[None], 256)[0].astype(np.uint8)
    thresh, _ = cv2.threshold(levels, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ours = binarize(image[None], 'otsu', n_levels=256)[0]
    np.testing.assert_array_equal(ours, levels > thresh)


def test_box_only_annotations_via_rasterised_boxes():
    # NIH BBox_List style x, y, w, h -> x1, y1, x2, y2 -> mask.
    x, y, w, h = 8, 8, 16, 8
    mask = rasterize_boxes(np.array([[x, y, x + w, y + h]]), (H, W))
    np.testing.assert_array_equal(mask, ROI)
    assert causality_scores(_batch(ROI), _batch(mask))['iou_otsu'][0] == 1


def test_empty_mask_scores_nan_and_bad_maps_are_errors():
    scores = causality_scores(_batch(ROI), np.zeros((1, H, W)))
    assert all(np.isnan(v[0]) for v in scores.values())
    with pytest.raises(ValueError, match='batch indices \\[1\\]'):
        energy_pointing_game(_batch(ROI, -1.0 * ROI), _batch(ROI, ROI))
    with pytest.raises(ValueError, match='differ in shape'):
        pointing_game(_batch(ROI), np.zeros((1, H, W + 1)))
    assert roi_area_share(_batch(ROI)).tolist() == [0.125]


def test_spearman_with_expert_heatmap():
    yy, xx = np.mgrid[:H, :W]
    heat = np.exp(-((yy - 12) ** 2 + (xx - 16) ** 2) / 40.0)
    rho = spearman_correlation(_batch(heat, heat.max() - heat, np.ones((H, W))),
                               _batch(heat, heat, heat))
    assert rho[0] == pytest.approx(1.0) and rho[1] == pytest.approx(-1.0) and np.isnan(rho[2])


def test_registered_metric_averages_samples_with_roi():
    metric = METRICS.build(dict(type='CausalityMetric'))
    samples = []
    for cam, has_roi in ((ROI, True), (OUTSIDE, True), (ROI, False)):
        sample = DataSample(metainfo=dict(has_roi=has_roi))
        sample.set_field(torch.from_numpy(cam.astype(np.float32)), 'cam', dtype=torch.Tensor)
        if has_roi:
            sample.set_field(torch.from_numpy(ROI), 'roi_mask', dtype=torch.Tensor)
        samples.append(sample.to_dict())
    metric.process(None, samples)
    result = metric.evaluate(3)
    assert result['causality/num_scored'] == 2
    assert result['causality/energy_pointing_game'] == pytest.approx(0.5)
    assert result['causality/saliency_auroc'] == pytest.approx((1 + 0.5 * 576 / 896) / 2)


def test_registered_metric_explains_missing_cam():
    metric = METRICS.build(dict(type='CausalityMetric'))
    with pytest.raises(KeyError, match='CAMClassifier'):
        metric.process(None, [DataSample(metainfo=dict(img_id='x', has_roi=True)).to_dict()])


def test_batch_of_random_224_px_maps_scores_near_chance():
    # The 1,000-map timing lives in benchmarks/cam_causality_speed.py.
    rng = np.random.default_rng(0)
    small = rng.random((100, 7, 7)).astype(np.float32)
    maps = np.stack([cv2.resize(s, (224, 224)) for s in small])
    masks = np.zeros(maps.shape, np.uint8)
    masks[:, 60:140, 50:170] = 1
    scores = causality_scores(maps, masks, tolerance=8)
    assert all(v.shape == (100,) for v in scores.values())
    assert 0.45 < np.nanmean(scores['saliency_auroc']) < 0.55  # random maps: chance


def test_all_zero_maps_are_scored_by_the_stated_rule_and_counted():
    zero = np.zeros((H, W))
    scores = causality_scores(_batch(zero, ROI), _batch(ROI, ROI))
    share = ROI.mean()
    assert zero_maps(_batch(zero, ROI, 0.5 * OUTSIDE)).tolist() == [True, False, False]
    assert scores['energy_pointing_game'][0] == 0  # no mass inside the ROI, not NaN
    assert scores['saliency_auroc'][0] == 0.5  # every pixel tied
    assert scores['pointing_game'][0] == pytest.approx(share)
    assert scores['relevance_rank_accuracy'][0] == pytest.approx(share)
    assert scores['iou_otsu'][0] == 0 and scores['iou_top20'][0] == pytest.approx(share)
    assert all(np.isfinite(v[0]) for v in scores.values())


def test_metric_counts_zero_maps_and_averages_every_score_over_the_same_images():
    metric = METRICS.build(dict(type='CausalityMetric'))
    full = np.ones((H, W), np.uint8)  # no background: saliency AUROC undefined
    cases = ((ROI, ROI, True), (np.zeros((H, W)), ROI, True), (ROI, full, True),
             (np.zeros((H, W)), None, False))
    samples = []
    for cam, mask, has_roi in cases:
        sample = DataSample(metainfo=dict(has_roi=has_roi))
        sample.set_field(torch.from_numpy(cam.astype(np.float32)), 'cam', dtype=torch.Tensor)
        if has_roi:
            sample.set_field(torch.from_numpy(mask), 'roi_mask', dtype=torch.Tensor)
        samples.append(sample.to_dict())
    metric.process(None, samples)
    result = metric.evaluate(4)
    assert result['causality/n_zero_maps'] == 2
    assert result['causality/num_scored'] == 2 and result['causality/num_undefined'] == 1
    # Energy is defined on the full-mask image (1.0) but left out with its other scores.
    assert result['causality/energy_pointing_game'] == pytest.approx(0.5)
    assert result['causality/saliency_auroc'] == pytest.approx(0.75)
