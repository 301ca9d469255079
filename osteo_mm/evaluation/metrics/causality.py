"""Causality scores: how well a saliency map agrees with an expert region.

All functions are pure and vectorised over a batch: ``cams`` is an ``(N, H, W)`` array of
non-negative saliency maps and ``masks`` an ``(N, H, W)`` array of expert regions (non-zero = ROI),
both in the same (network-input) coordinates. Every score is per image; an image whose mask is
empty (or full, where a background is needed) scores ``NaN``. Box-only annotations (NIH
``BBox_List``) become masks through the data pipeline (``LoadRoiMask`` /
``osteo_mm.datasets.transforms.loading.rasterize_boxes``), so one rasterisation rule holds.

Rank-based scores (saliency AUROC, relevance rank accuracy, Otsu and top-k binarisation) work on
maps quantised to ``n_levels`` (default 4096) grey levels after per-map min-max scaling: values
closer than 1/4096 of a map's range count as tied. Ties are explicit (tied pixels share credit
equally, the expected value under random tie-breaking) and every score becomes a per-image
histogram computation instead of a sort per map, which keeps 1,000 maps at 224 px within the
2 s budget (docs/benchmarks.md).

All-zero maps (:func:`zero_maps`; e.g. a Grad-CAM whose rectified map is empty) are scored by one
rule instead of being dropped: a map without mass has none inside the ROI (energy pointing game
0), and every rank-based score is that of a map whose pixels are all tied (random tie-breaking:
saliency AUROC 0.5, pointing game and relevance rank accuracy = the ROI's area share, top-k
IoU/Dice of the whole image, Otsu foreground empty so Otsu IoU/Dice 0). They are counted
(``zero_map`` per image in ``causality.csv``, ``n_zero_maps`` in :class:`CausalityMetric`), so a
model whose maps are often empty is neither scored on a favourable subset nor hidden.

:class:`CausalityMetric` lets MMEngine's test loop report the batch means next to accuracy/AUC.
"""
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS
from scipy.stats import spearmanr

DEFAULT_LEVELS = 4096


def _nan_where(values: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    return np.where(invalid, np.nan, values)


def _quantize(cams: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_levels: int) -> np.ndarray:
    span = hi - lo
    scale = np.divide(n_levels - 1, span, out=np.zeros_like(span), where=span > 0)
    levels = cams - lo[:, None, None]
    levels *= scale[:, None, None]
    levels += 0.5
    return levels.astype(np.int32)


def quantize(cams: np.ndarray, n_levels: int = DEFAULT_LEVELS) -> np.ndarray:
    """Quantise each map to integer levels ``0 .. n_levels - 1`` after min-max scaling.

    A constant map becomes all zeros (every pixel tied).

    Args:
        cams (np.ndarray): ``(N, H, W)`` maps.
        n_levels (int): Number of grey levels. Defaults to 4096.

    Returns:
        np.ndarray: ``(N, H, W)`` int32 levels.
    """
    cams = np.asarray(cams, dtype=np.float32)
    return _quantize(cams, cams.min(axis=(1, 2)), cams.max(axis=(1, 2)), n_levels)


def _as_batch(cams: np.ndarray, masks: np.ndarray) -> tuple:
    """Check shapes and return float32 maps and bool masks."""
    cams = np.asarray(cams, dtype=np.float32)
    masks = np.asarray(masks) != 0
    if cams.ndim != 3:
        raise ValueError(f'cams must have shape (N, H, W), got {cams.shape}')
    if cams.shape != masks.shape:
        raise ValueError(f'cams {cams.shape} and masks {masks.shape} differ in shape')
    return cams, masks


def _near_roi(mask: np.ndarray, peak: np.ndarray, tolerance: int) -> np.ndarray:
    """For each peak pixel of one map, whether an ROI pixel lies within ``tolerance`` px."""
    ys, xs = np.nonzero(peak)
    if len(ys) > 64:  # many tied peaks: one distance transform beats windows
        distance = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2,
                                         cv2.DIST_MASK_PRECISE)
        return distance[ys, xs] <= tolerance
    near = np.empty(len(ys), bool)
    for k, (y, x) in enumerate(zip(ys, xs)):
        y0, x0 = max(y - tolerance, 0), max(x - tolerance, 0)
        wy, wx = np.nonzero(mask[y0:y + tolerance + 1, x0:x + tolerance + 1])
        near[k] = ((wy + y0 - y) ** 2 + (wx + x0 - x) ** 2 <= tolerance ** 2).any()
    return near


def _peak_hits(cams: np.ndarray, masks: np.ndarray, hi: np.ndarray,
               tolerance: int) -> np.ndarray:
    """Share of each map's maximal pixels lying within ``tolerance`` px of the ROI."""
    peaks = cams == hi[:, None, None]
    hits = np.count_nonzero(peaks & masks, axis=(1, 2)) / np.count_nonzero(peaks, axis=(1, 2))
    if tolerance > 0:
        for i in np.flatnonzero(hits < 1):
            hits[i] = _near_roi(masks[i], peaks[i], tolerance).mean()
    return hits


def _batch_stats(cams: np.ndarray, masks: np.ndarray, tolerance: int = 0,
                 n_levels: int = DEFAULT_LEVELS, chunk: int = 32) -> dict:
    """One pass over the batch, in chunks of maps so temporaries stay cache-sized (several
    times faster than whole-batch arrays on a 2-core box).

    Returns:
        dict: ``hist`` and ``roi_hist`` (``(N, n_levels)`` counts of quantised levels over all
        and over ROI pixels), ``energy`` (ROI mass share), ``pointing`` (peak hit share) and
        ``has_roi``.

    Raises:
        ValueError: For mismatched shapes, negative or non-finite maps (naming the indices)
            or a negative tolerance.
    """
    cams, masks = _as_batch(cams, masks)
    if tolerance < 0:
        raise ValueError(f'tolerance must be >= 0, got {tolerance}')
    n = len(cams)
    both = np.empty((n, n_levels, 2), dtype=np.int64)
    energy, pointing = np.empty(n), np.empty(n)
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        cam, mask = cams[part], masks[part]
        lo, hi = cam.min(axis=(1, 2)), cam.max(axis=(1, 2))
        bad = ~np.isfinite(lo) | ~np.isfinite(hi) | (lo < 0)
        if bad.any():
            raise ValueError(f'cams at batch indices {(np.flatnonzero(bad) + start).tolist()} '
                             'contain negative or non-finite values')
        total = cam.sum(axis=(1, 2), dtype=np.float64)
        inside = np.einsum('nij,nij->n', cam, mask.astype(np.float32), dtype=np.float64)
        # An all-zero map has no mass inside the ROI: energy 0 (module docstring).
        energy[part] = np.divide(inside, total, out=np.zeros(len(cam)), where=total > 0)
        pointing[part] = _peak_hits(cam, mask, hi, tolerance)
        keys = _quantize(cam, lo, hi, n_levels)
        keys *= 2
        keys += mask
        keys += (np.arange(len(cam), dtype=np.int32) * (2 * n_levels))[:, None, None]
        counts = np.bincount(keys.ravel(), minlength=2 * len(cam) * n_levels)
        both[part] = counts.reshape(len(cam), n_levels, 2)
    roi_hist = both[:, :, 1]
    has_roi = roi_hist.sum(axis=1) > 0
    return dict(hist=both.sum(axis=2), roi_hist=roi_hist, has_roi=has_roi,
                energy=_nan_where(energy, ~has_roi), pointing=_nan_where(pointing, ~has_roi))


def zero_maps(cams: np.ndarray) -> np.ndarray:
    """Which maps are all zero (no pixel above 0): the maps the all-zero rule scores.

    Args:
        cams (np.ndarray): ``(N, H, W)`` non-negative maps.

    Returns:
        np.ndarray: ``(N,)`` bool.
    """
    cams = np.asarray(cams)
    if cams.ndim != 3:
        raise ValueError(f'cams must have shape (N, H, W), got {cams.shape}')
    return ~(cams.reshape(len(cams), -1) > 0).any(axis=1)


def roi_area_share(masks: np.ndarray) -> np.ndarray:
    """Fraction of the image covered by the ROI: the chance level of the pointing games.

    Args:
        masks (np.ndarray): ``(N, H, W)`` expert masks.

    Returns:
        np.ndarray: ``(N,)`` area shares in ``[0, 1]``.
    """
    masks = np.asarray(masks)
    return np.count_nonzero(masks, axis=(1, 2)) / (masks.shape[1] * masks.shape[2])


def pointing_game(cams: np.ndarray, masks: np.ndarray, tolerance: int = 0) -> np.ndarray:
    """Pointing game hit (Zhang et al., "Top-down Neural Attention by Excitation Backprop",
    ECCV 2016): a hit when the map's maximum lies within ``tolerance`` pixels of the ROI
    (the paper uses 15 px at the original resolution).

    Where several pixels share the maximum, the score is the fraction of them that hit, i.e. the
    expected hit under random tie-breaking (a uniform map scores the dilated ROI's area share).

    Args:
        cams (np.ndarray): ``(N, H, W)`` non-negative maps.
        masks (np.ndarray): ``(N, H, W)`` expert masks.
        tolerance (int): Hit radius around the ROI in pixels. Defaults to 0.

    Returns:
        np.ndarray: ``(N,)`` hits in ``[0, 1]``; NaN for an empty mask.
    """
    return _batch_stats(cams, masks, tolerance)['pointing']


def energy_pointing_game(cams: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Energy-based pointing game (Wang et al., "Score-CAM", CVPR Workshops 2020):
    the share of the map's total mass that falls inside the ROI. Chance level (a uniform map) is
    the ROI's area share, see :func:`roi_area_share`.

    Args:
        cams (np.ndarray): ``(N, H, W)`` non-negative maps.
        masks (np.ndarray): ``(N, H, W)`` expert masks.

    Returns:
        np.ndarray: ``(N,)`` energy shares; 0 for an all-zero map; NaN for an empty mask.
    """
    return _batch_stats(cams, masks)['energy']


def _otsu_levels(hist: np.ndarray, bins: int = 256) -> np.ndarray:
    """Otsu's threshold per histogram row (Otsu, IEEE Trans. SMC 1979) on ``bins`` grey levels.

    Hand-written because scikit-image is not a dependency and OpenCV's Otsu works on one uint8
    image at a time; this form runs on the whole batch at once. Like OpenCV it uses 256 grey
    levels (finer histograms are merged). Returns the first level of the upper class; a
    constant map gets an empty foreground.
    """
    n_levels = hist.shape[1]
    group = n_levels // bins if n_levels % bins == 0 else 1
    coarse = hist.reshape(len(hist), -1, group).sum(axis=2)
    prob = coarse / coarse.sum(axis=1, keepdims=True)
    index = np.arange(prob.shape[1])
    omega = np.cumsum(prob, axis=1)[:, :-1]
    mu = np.cumsum(prob * index, axis=1)[:, :-1]
    mu_total = (prob * index).sum(axis=1, keepdims=True)
    denom = omega * (1 - omega)
    between = np.divide((mu_total * omega - mu) ** 2, denom, out=np.zeros_like(denom),
                        where=denom > 0)
    return (between.argmax(axis=1) + 1) * group


def _top_levels(hist: np.ndarray, fraction: float) -> np.ndarray:
    """Lowest level whose upper tail holds at least ``fraction`` of the pixels (ties included)."""
    if not 0 < fraction <= 1:
        raise ValueError(f'top fraction must be in (0, 1], got {fraction}')
    upper = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]
    need = np.ceil(fraction * hist.sum(axis=1, keepdims=True))
    return (upper >= need).sum(axis=1) - 1


def _threshold_levels(hist: np.ndarray, method: str, top_fraction: float) -> np.ndarray:
    if method == 'otsu':
        return _otsu_levels(hist)
    if method == 'topk':
        return _top_levels(hist, top_fraction)
    raise ValueError(f"binarisation method must be 'otsu' or 'topk', got {method!r}")


def binarize(cams: np.ndarray, method: str = 'otsu', top_fraction: float = 0.2,
             n_levels: int = DEFAULT_LEVELS) -> np.ndarray:
    """Binarise saliency maps: Otsu's threshold, or the top ``top_fraction`` of pixels.

    Args:
        cams (np.ndarray): ``(N, H, W)`` maps.
        method (str): ``'otsu'`` or ``'topk'``. Defaults to ``'otsu'``.
        top_fraction (float): Pixel share kept by ``'topk'`` (pixels tied at the cut are all
            kept). Defaults to 0.2.
        n_levels (int): Quantisation levels. Defaults to 4096.

    Returns:
        np.ndarray: ``(N, H, W)`` bool masks.
    """
    levels = quantize(cams, n_levels)
    hist = np.stack([np.bincount(row.ravel(), minlength=n_levels) for row in levels])
    cut = _threshold_levels(hist, method, top_fraction)
    return levels >= cut[:, None, None]


def _overlap_scores(hist: np.ndarray, roi_hist: np.ndarray, cut: np.ndarray) -> tuple:
    """IoU and Dice of ``levels >= cut`` with the ROI, from the histograms."""
    above = np.arange(hist.shape[1])[None] >= cut[:, None]
    pred = (hist * above).sum(axis=1)
    inter = (roi_hist * above).sum(axis=1)
    roi = roi_hist.sum(axis=1)
    union = pred + roi - inter
    iou = np.divide(inter, union, out=np.zeros(len(cut)), where=union > 0)
    dice = np.divide(2 * inter, pred + roi, out=np.zeros(len(cut)), where=pred + roi > 0)
    return _nan_where(iou, roi == 0), _nan_where(dice, roi == 0)


def iou_dice(cams: np.ndarray, masks: np.ndarray, method: str = 'otsu',
             top_fraction: float = 0.2, n_levels: int = DEFAULT_LEVELS) -> tuple:
    """Intersection over union and Dice coefficient of the binarised map (see :func:`binarize`)
    with the ROI, as used for weakly supervised localisation (e.g. Zhou et al., "Learning Deep
    Features for Discriminative Localization", CVPR 2016).

    Args:
        cams (np.ndarray): ``(N, H, W)`` non-negative maps.
        masks (np.ndarray): ``(N, H, W)`` expert masks.
        method (str): ``'otsu'`` or ``'topk'``. Defaults to ``'otsu'``.
        top_fraction (float): Pixel share kept by ``'topk'``. Defaults to 0.2.
        n_levels (int): Quantisation levels. Defaults to 4096.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(N,)`` IoU and ``(N,)`` Dice; NaN for an empty mask.
    """
    stats = _batch_stats(cams, masks, n_levels=n_levels)
    hist, roi_hist = stats['hist'], stats['roi_hist']
    return _overlap_scores(hist, roi_hist, _threshold_levels(hist, method, top_fraction))


def _auroc_from_hist(hist: np.ndarray, roi_hist: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUROC per row with ties counted one half."""
    bg_hist = hist - roi_hist
    bg_below = np.cumsum(bg_hist, axis=1) - bg_hist
    n_roi = roi_hist.sum(axis=1)
    n_bg = bg_hist.sum(axis=1)
    wins = (roi_hist * (bg_below + 0.5 * bg_hist)).sum(axis=1)
    pairs = n_roi * n_bg
    auc = np.divide(wins, pairs, out=np.zeros(len(hist)), where=pairs > 0)
    return _nan_where(auc, pairs == 0)


def saliency_auroc(cams: np.ndarray, masks: np.ndarray,
                   n_levels: int = DEFAULT_LEVELS) -> np.ndarray:
    """Saliency AUROC: the probability that a random ROI pixel has a higher map value than a
    random background pixel (ties count one half), i.e. the ROC AUC of the map as a pixel
    classifier of the expert mask (Mann-Whitney form, Hanley & McNeil, Radiology 1982; used for
    saliency vs. segmentation in Saporta et al., Nature Machine Intelligence 2022).

    Args:
        cams (np.ndarray): ``(N, H, W)`` non-negative maps.
        masks (np.ndarray): ``(N, H, W)`` expert masks.
        n_levels (int): Quantisation levels. Defaults to 4096.

    Returns:
        np.ndarray: ``(N,)`` AUROC in ``[0, 1]`` (0.5 = chance); NaN for an empty or full mask.
    """
    stats = _batch_stats(cams, masks, n_levels=n_levels)
    hist, roi_hist = stats['hist'], stats['roi_hist']
    return _auroc_from_hist(hist, roi_hist)


def _rank_accuracy_from_hist(hist: np.ndarray, roi_hist: np.ndarray) -> np.ndarray:
    """Share of ROI pixels among the K most relevant pixels, K = ROI size; ties shared."""
    k = roi_hist.sum(axis=1)
    upper = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]
    roi_upper = np.cumsum(roi_hist[:, ::-1], axis=1)[:, ::-1]
    cut = np.maximum((upper >= k[:, None]).sum(axis=1) - 1, 0)
    rows = np.arange(len(k))
    above = upper[rows, cut] - hist[rows, cut]
    roi_above = roi_upper[rows, cut] - roi_hist[rows, cut]
    tied_share = np.divide(roi_hist[rows, cut], hist[rows, cut], out=np.zeros(len(k)),
                           where=hist[rows, cut] > 0)
    hits = roi_above + (k - above) * tied_share
    acc = np.divide(hits, k, out=np.zeros(len(k)), where=k > 0)
    return _nan_where(acc, k == 0)


def relevance_rank_accuracy(cams: np.ndarray, masks: np.ndarray,
                            n_levels: int = DEFAULT_LEVELS) -> np.ndarray:
    """Relevance rank accuracy (Arras et al., "CLEVR-XAI", Information Fusion 2022): with K the
    number of ROI pixels, the share of the K highest-valued pixels that lie inside the ROI.
    Pixels tied at the cut share credit equally; chance level is the ROI's area share.

    Args:
        cams (np.ndarray): ``(N, H, W)`` non-negative maps.
        masks (np.ndarray): ``(N, H, W)`` expert masks.
        n_levels (int): Quantisation levels. Defaults to 4096.

    Returns:
        np.ndarray: ``(N,)`` accuracies in ``[0, 1]``; NaN for an empty mask.
    """
    stats = _batch_stats(cams, masks, n_levels=n_levels)
    hist, roi_hist = stats['hist'], stats['roi_hist']
    return _rank_accuracy_from_hist(hist, roi_hist)


def spearman_correlation(cams: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Spearman rank correlation between each map and an expert heatmap (graded, not binary,
    annotations; e.g. radiologist eye-tracking maps in Karargyris et al., Sci. Data 2021).

    Args:
        cams (np.ndarray): ``(N, H, W)`` maps.
        heatmaps (np.ndarray): ``(N, H, W)`` expert heatmaps.

    Returns:
        np.ndarray: ``(N,)`` correlations in ``[-1, 1]``; NaN where either map is constant.
    """
    cams = np.asarray(cams, dtype=np.float64)
    heatmaps = np.asarray(heatmaps, dtype=np.float64)
    if cams.ndim != 3 or cams.shape != heatmaps.shape:
        raise ValueError(f'cams {cams.shape} and heatmaps {heatmaps.shape} must both be '
                         '(N, H, W)')
    out = np.full(len(cams), np.nan)
    for i, (cam, heat) in enumerate(zip(cams, heatmaps)):
        if np.ptp(cam) > 0 and np.ptp(heat) > 0:
            out[i] = spearmanr(cam.ravel(), heat.ravel()).statistic
    return out


def causality_scores(cams: np.ndarray, masks: np.ndarray, tolerance: int = 0,
                     top_fraction: float = 0.2,
                     n_levels: int = DEFAULT_LEVELS) -> Dict[str, np.ndarray]:
    """All binary-ROI causality scores at once (histograms shared between them).

    Args:
        cams (np.ndarray): ``(N, H, W)`` non-negative maps.
        masks (np.ndarray): ``(N, H, W)`` expert masks.
        tolerance (int): Pointing-game tolerance in pixels. Defaults to 0.
        top_fraction (float): Pixel share for the top-k binarisation. Defaults to 0.2.
        n_levels (int): Quantisation levels. Defaults to 4096.

    Returns:
        dict[str, np.ndarray]: ``(N,)`` arrays named ``roi_area_share`` (chance level),
        ``pointing_game``, ``energy_pointing_game``, ``iou_otsu``, ``dice_otsu``,
        ``iou_top<p>``, ``dice_top<p>`` (``p`` = percent), ``saliency_auroc`` and
        ``relevance_rank_accuracy``.
    """
    stats = _batch_stats(cams, masks, tolerance, n_levels)
    hist, roi_hist = stats['hist'], stats['roi_hist']
    scores = {
        'roi_area_share': _nan_where(roi_hist.sum(axis=1) / hist.sum(axis=1), ~stats['has_roi']),
        'pointing_game': stats['pointing'],
        'energy_pointing_game': stats['energy'],
    }
    percent = f'{100 * top_fraction:g}'
    for name, cut in (('otsu', _otsu_levels(hist)),
                      (f'top{percent}', _top_levels(hist, top_fraction))):
        scores[f'iou_{name}'], scores[f'dice_{name}'] = _overlap_scores(hist, roi_hist, cut)
    scores['saliency_auroc'] = _auroc_from_hist(hist, roi_hist)
    scores['relevance_rank_accuracy'] = _rank_accuracy_from_hist(hist, roi_hist)
    return scores


@METRICS.register_module()
class CausalityMetric(BaseMetric):
    """Mean causality scores of stored saliency maps against expert ROI masks.

    MMEngine's test loop runs under ``torch.no_grad()`` and metrics never see the model, so the
    maps must already be in the data samples: use ``model=dict(type='CAMClassifier', ...)``,
    which stores ``cam`` next to ``roi_mask`` (both network-input coordinates). Samples without
    an ROI (``has_roi=False``) are counted but not scored. All-zero maps are scored by the rule
    of this module's docstring and counted as ``n_zero_maps`` (over all samples); every mean is
    over the same images (those with an ROI where every score is defined, ``num_scored``;
    ``num_undefined`` counts ROI images left out, e.g. a mask covering the whole image).

    Config keys:
        - ``type='CausalityMetric'``
        - ``tolerance`` (int): pointing-game tolerance in pixels. Defaults to 0.
        - ``top_fraction`` (float): pixel share for top-k IoU/Dice. Defaults to 0.2.
        - ``n_levels`` (int): quantisation levels. Defaults to 4096.
        - ``collect_device``, ``prefix``: as in :class:`mmengine.evaluator.BaseMetric`;
          ``prefix`` defaults to ``'causality'``.

    Example:
        >>> val_evaluator = [dict(type='AUC'), dict(type='CausalityMetric', tolerance=4)]
    """

    default_prefix = 'causality'

    def __init__(self, tolerance: int = 0, top_fraction: float = 0.2,
                 n_levels: int = DEFAULT_LEVELS, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.tolerance = tolerance
        self.top_fraction = top_fraction
        self.n_levels = n_levels

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Score each sample's stored ``cam`` against its ``roi_mask``.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): Predicted samples as dicts.
        """
        for sample in data_samples:
            if 'cam' not in sample:
                raise KeyError(f"sample {sample.get('img_id', '?')} has no 'cam': test with "
                               "model type 'CAMClassifier' to compute saliency maps")
            cam = torch.as_tensor(sample['cam']).float().cpu().numpy()[None]
            zero = bool(zero_maps(cam)[0])
            if not sample.get('has_roi', 'roi_mask' in sample):
                self.results.append(dict(zero_map=zero, scores=None))
                continue
            mask = torch.as_tensor(sample['roi_mask']).cpu().numpy()[None]
            scores = causality_scores(cam, mask, self.tolerance, self.top_fraction,
                                      self.n_levels)
            self.results.append(dict(zero_map=zero,
                                     scores={k: float(v[0]) for k, v in scores.items()}))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Average every score over the same images: those with an ROI and every score defined.

        Args:
            results (list): Per-sample ``zero_map`` flags and score dicts (None without ROI).

        Returns:
            dict[str, float]: Mean scores plus ``num_scored``, ``num_undefined`` and
            ``n_zero_maps``.
        """
        with_roi = [r['scores'] for r in results if r['scores'] is not None]
        keys = list(with_roi[0]) if with_roi else []
        values = np.array([[r[k] for k in keys] for r in with_roi], dtype=np.float64)
        defined = np.isfinite(values).all(axis=1) if with_roi else np.zeros(0, bool)
        metrics = {'num_scored': float(defined.sum()),
                   'num_undefined': float(len(with_roi) - defined.sum()),
                   'n_zero_maps': float(sum(r['zero_map'] for r in results))}
        for j, key in enumerate(keys):
            metrics[key] = float(values[defined, j].mean()) if defined.any() else np.nan
        return metrics
