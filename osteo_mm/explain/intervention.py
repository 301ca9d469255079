"""Causal effect of an image region on a classifier's decision (an intervention on the input).

Saliency maps say where a map *points*; whether the model's decision *depends* on the expert
region is a separate, interventional question, independent of any saliency method. For each image
the region (by default the expert ROI) is replaced by a neutral fill and the change of the
target class's log-odds is recorded::

    roi_effect     = s(x) - s(x with the ROI filled)
    control_effect = mean_k [ s(x) - s(x with control region k filled) ]

where ``s`` is the target class's log-odds (the logit of a sigmoid head) and the K control
regions are seeded translations of the ROI's exact shape that lie on the anatomy and do not
touch the ROI. A model that relies on the ROI has ``roi_effect`` well above ``control_effect``.

Fills (all computed in network-input space, pasted only inside the region):

* ``'blur'``: a Gaussian blur of the image (sigma ``blur_sigma``, default 1/32 of the side),
  which removes fine structure (cortex, trabeculae) and keeps the local brightness.
* ``'inpaint'``: OpenCV's Telea inpainting from the region's border (on the host).
* ``'mean'``: the image's per-channel mean outside the region.
* ``'reference'``: the same pixels of a counterfactual film given by the caller; on the shoulder
  phantom :func:`osteo_mm.explain.phantom_reference.write_reference_phantom` renders every film
  again with the bone quality of the reference patient of the ``signal_region='roi'`` variant
  (same pose, exposure and noise), so the fill is "this patient's ROI at reference bone quality".
  On the ROI-only phantom the counterfactual film equals the original outside the ROI, so
  control effects are exactly 0 there by construction.

Cost: for a batch of B images, 2 + K batched forward passes of B images each (original, ROI
filled, K controls); nothing else runs on the model. A caller that already has the logits of
the unmodified images passes them as ``original_logits`` and saves the first pass (1 + K).
Controls are placed per image from a seed derived from ``(seed, image key)``, so results do not
depend on batch size or resumption.

Python API (stable; used by the phantom validations in ``osteo_mm/experiments``)::

    from osteo_mm.explain.intervention import RegionIntervention, run_roi_intervention, \
        summarize_effects
    intervention = RegionIntervention(model, fill='blur', controls=4, seed=0)
    result = intervention(inputs, regions, classes, keys=[...])     # one batch, any region
    table, summary = run_roi_intervention(model, dataset, loader_cfg, out_dir)  # a whole split
"""
import json
import os
import os.path as osp
import zlib
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from mmengine.dataset import BaseDataset
from mmengine.runner import Runner
from mmpretrain.models.heads import MultiLabelClsHead
from torch import nn
from torch.utils.data import Subset
from tqdm import tqdm

from osteo_mm.utils.io import write_atomic

from .device_cam import class_scores
from .io import save_csv
from .targets import TargetSpec, target_classes

#: Region fills, see the module docstring.
FILLS = ('blur', 'inpaint', 'mean', 'reference')
#: Columns of ``roi_intervention.csv`` (in order; joinable with ``causality.csv`` on img_id).
CSV_COLUMNS = ('img_id', 'patient_id', 'target_class', 'roi_effect', 'control_effect',
               'n_controls', 'original_log_odds', 'roi_area')
CSV_NAME = 'roi_intervention.csv'
SUMMARY_NAME = 'roi_intervention_summary.json'
_JOURNAL = '.roi_intervention.jsonl'
_PARAMS = '.roi_intervention_params.json'


def image_key(img_id: str) -> int:
    """A stable 32-bit key of an image id, to seed its control regions (CRC-32)."""
    return zlib.crc32(str(img_id).encode())


def anatomy_mask(image: torch.Tensor) -> np.ndarray:
    """Foreground (anatomy) of one network input: Otsu's threshold on the channel mean.

    Radiographs show anatomy brighter than the collimated / air background, so Otsu's
    threshold (OpenCV, on 256 grey levels of the min-max scaled image) separates them. A flat
    image has no threshold; then every pixel counts as anatomy.

    Args:
        image (torch.Tensor): ``(C, H, W)`` network input.

    Returns:
        np.ndarray: ``(H, W)`` bool mask.
    """
    gray = image.detach().float().mean(dim=0).cpu().numpy()
    lo, hi = float(gray.min()), float(gray.max())
    if hi - lo <= 1e-12:
        return np.ones(gray.shape, bool)
    levels = np.round((gray - lo) / (hi - lo) * 255).astype(np.uint8)
    thresh, _ = cv2.threshold(levels, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return levels > thresh


def control_regions(region: np.ndarray, anatomy: np.ndarray, k: int,
                    rng: np.random.Generator, min_anatomy: float = 0.9,
                    gap: int = 1) -> List[np.ndarray]:
    """Up to ``k`` translated copies of ``region`` on the anatomy that do not touch it.

    Every placement of the region's exact shape inside the image is scored at once with
    OpenCV's template matching (overlap with the ROI dilated by ``gap`` pixels, overlap with
    the anatomy); ``k`` distinct valid placements are then drawn without replacement.

    Args:
        region (np.ndarray): ``(H, W)`` bool mask of the region.
        anatomy (np.ndarray): ``(H, W)`` bool mask of where controls may lie.
        k (int): Number of controls wanted.
        rng (np.random.Generator): Seeded random source.
        min_anatomy (float): Smallest share of a control's pixels on the anatomy.
            Defaults to 0.9.
        gap (int): Controls keep at least this many pixels from the region. Defaults to 1
            (no shared edge or corner).

    Returns:
        list[np.ndarray]: The control masks (fewer than ``k`` when fewer placements exist;
        none for an empty region).
    """
    region = np.asarray(region, bool)
    ys, xs = np.nonzero(region)
    if k <= 0 or len(ys) == 0:
        return []
    y0, x0 = ys.min(), xs.min()
    template = region[y0:ys.max() + 1, x0:xs.max() + 1].astype(np.float32)
    th, tw = template.shape
    kernel = np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)
    near = cv2.dilate(region.astype(np.uint8), kernel).astype(np.float32)
    # TM_CCORR sums template * window for every top-left position; values are pixel counts.
    touching = cv2.matchTemplate(near, template, cv2.TM_CCORR)
    on_anatomy = cv2.matchTemplate(np.asarray(anatomy, np.float32), template, cv2.TM_CCORR)
    valid = (touching < 0.5) & (on_anatomy >= min_anatomy * template.sum() - 0.5)
    positions = np.flatnonzero(valid.ravel())
    if len(positions) == 0:
        return []
    chosen = rng.choice(positions, size=min(k, len(positions)), replace=False)
    controls = []
    for pos in chosen:
        py, px = divmod(int(pos), valid.shape[1])
        mask = np.zeros_like(region)
        mask[py:py + th, px:px + tw] = template > 0
        controls.append(mask)
    return controls


def default_blur_sigma(inputs: torch.Tensor, sigma: Optional[float] = None) -> float:
    """The blur fill's sigma in pixels: ``sigma`` if given, else 1/32 of the longer side."""
    return sigma or max(inputs.shape[-2:]) / 32


def gaussian_blur(inputs: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of a ``(N, C, H, W)`` batch on its device (reflect padding)."""
    radius = max(1, int(round(3 * sigma)))
    coords = torch.arange(-radius, radius + 1, device=inputs.device, dtype=inputs.dtype)
    kernel = torch.exp(-0.5 * (coords / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = inputs.shape[1]
    pad_y = min(radius, inputs.shape[2] - 1)
    pad_x = min(radius, inputs.shape[3] - 1)
    out = F.pad(inputs, (pad_x, pad_x, pad_y, pad_y), mode='reflect')
    # Reflection is limited to side - 1; any remainder of the kernel is replicated.
    out = F.pad(out, (radius - pad_x, radius - pad_x, radius - pad_y, radius - pad_y),
                mode='replicate')
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1).contiguous(),
                   groups=channels)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1).contiguous(),
                    groups=channels)


def _inpaint(images: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
    """OpenCV Telea inpainting per image and channel (float32, on the host)."""
    out = images.detach().float().cpu().numpy().copy()
    masks = regions.cpu().numpy().astype(np.uint8)
    for i in range(len(out)):
        if not masks[i].any():
            continue
        for c in range(out.shape[1]):
            out[i, c] = cv2.inpaint(out[i, c], masks[i], 3, cv2.INPAINT_TELEA)
    return torch.from_numpy(out).to(images.device, images.dtype)


def fill_regions(inputs: torch.Tensor, regions: torch.Tensor, fill: str,
                 reference: Optional[torch.Tensor] = None,
                 blur_sigma: Optional[float] = None) -> torch.Tensor:
    """Replace the pixels of ``regions`` in ``inputs`` by a neutral fill.

    Args:
        inputs (torch.Tensor): ``(N, C, H, W)`` network inputs.
        regions (torch.Tensor): ``(N, H, W)`` bool masks (True = replace).
        fill (str): One of :data:`FILLS`.
        reference (torch.Tensor, optional): ``(N, C, H, W)`` counterfactual inputs, required by
            ``'reference'``.
        blur_sigma (float, optional): Blur sigma in pixels; default ``max(H, W) / 32``.

    Returns:
        torch.Tensor: The intervened copy (pixels outside the regions are untouched).
    """
    if fill not in FILLS:
        raise ValueError(f'unknown fill {fill!r}; choose from {FILLS}')
    regions = regions.to(inputs.device, torch.bool)
    if regions.shape != inputs.shape[:1] + inputs.shape[2:]:
        raise ValueError(f'regions {tuple(regions.shape)} do not match inputs '
                         f'{tuple(inputs.shape)}')
    if fill == 'blur':
        source = gaussian_blur(inputs, default_blur_sigma(inputs, blur_sigma))
    elif fill == 'inpaint':
        source = _inpaint(inputs, regions)
    elif fill == 'mean':
        keep = (~regions).unsqueeze(1).to(inputs.dtype)
        count = keep.sum(dim=(2, 3), keepdim=True).clamp(min=1)
        source = ((inputs * keep).sum(dim=(2, 3), keepdim=True) / count).expand_as(inputs)
    else:
        if reference is None:
            raise ValueError("fill 'reference' needs the counterfactual inputs")
        if reference.shape != inputs.shape:
            raise ValueError(f'reference inputs {tuple(reference.shape)} differ from inputs '
                             f'{tuple(inputs.shape)}')
        source = reference.to(inputs.device, inputs.dtype)
    return torch.where(regions.unsqueeze(1), source, inputs)


@dataclass
class InterventionResult:
    """Effects of one batch (``B`` images, up to ``K`` controls each).

    Attributes:
        target_classes (np.ndarray): ``(B,)`` explained class per image.
        original (np.ndarray): ``(B,)`` log-odds of the target class on the original input.
        roi_effect (np.ndarray): ``(B,)`` original minus region-filled log-odds (NaN for an
            empty region).
        control_effects (np.ndarray): ``(B, K)`` per control; NaN where no control was placed.
        control_effect (np.ndarray): ``(B,)`` mean over the placed controls (NaN if none).
        n_controls (np.ndarray): ``(B,)`` number of controls placed.
        controls (list[list[np.ndarray]]): The control masks per image.
    """

    target_classes: np.ndarray
    original: np.ndarray
    roi_effect: np.ndarray
    control_effects: np.ndarray
    control_effect: np.ndarray
    n_controls: np.ndarray
    controls: List[List[np.ndarray]]


class RegionIntervention:
    """Replace a region (and K seeded controls) by a fill; measure the log-odds change.

    Args:
        model (nn.Module): Classifier; ``model(inputs)`` returns ``(B, K)`` logits.
        fill (str): One of :data:`FILLS`. Defaults to ``'blur'``.
        controls (int): Control regions per image (K). Defaults to 4.
        seed (int): Seed of the control placement. Defaults to 0.
        min_anatomy (float): Smallest share of a control on the anatomy. Defaults to 0.9.
        anatomy (str | callable): ``'foreground'`` (:func:`anatomy_mask`), ``'all'`` (the whole
            image) or a function ``(C, H, W) tensor -> (H, W) bool``. Defaults to
            ``'foreground'``.
        blur_sigma (float, optional): Sigma of the ``'blur'`` fill in pixels.
        score (str): ``'log-odds'`` (softmax heads: ``z_c - logsumexp_{j != c} z_j``; sigmoid
            heads: the logit) or ``'logit'``. Defaults to ``'log-odds'``.
    """

    def __init__(self, model: nn.Module, fill: str = 'blur', controls: int = 4, seed: int = 0,
                 min_anatomy: float = 0.9, anatomy='foreground',
                 blur_sigma: Optional[float] = None, score: str = 'log-odds') -> None:
        if fill not in FILLS:
            raise ValueError(f'unknown fill {fill!r}; choose from {FILLS}')
        if controls < 0:
            raise ValueError(f'controls must be >= 0, got {controls}')
        if score not in ('log-odds', 'logit'):
            raise ValueError(f"score must be 'log-odds' or 'logit', got {score!r}")
        if not (callable(anatomy) or anatomy in ('foreground', 'all')):
            raise ValueError(f"anatomy must be 'foreground', 'all' or a function, got "
                             f'{anatomy!r}')
        self.model = model
        self.fill = fill
        self.controls = controls
        self.seed = seed
        self.min_anatomy = min_anatomy
        self.anatomy = anatomy
        self.blur_sigma = blur_sigma
        self._log_odds = score == 'log-odds' and not isinstance(
            getattr(model, 'head', None), MultiLabelClsHead)

    def _anatomy(self, image: torch.Tensor) -> np.ndarray:
        if callable(self.anatomy):
            return np.asarray(self.anatomy(image), bool)
        if self.anatomy == 'all':
            return np.ones(image.shape[-2:], bool)
        return anatomy_mask(image)

    def place_controls(self, inputs: torch.Tensor, regions: np.ndarray,
                       keys: Sequence[int]) -> List[List[np.ndarray]]:
        """Control masks per image (seeded by ``(seed, key)``)."""
        return [control_regions(region, self._anatomy(image), self.controls,
                                np.random.default_rng([self.seed, int(key)]), self.min_anatomy)
                for image, region, key in zip(inputs, regions, keys)]

    @torch.no_grad()
    def __call__(self, inputs: torch.Tensor, regions, classes: Optional[Sequence[int]] = None,
                 keys: Optional[Sequence[int]] = None,
                 reference: Optional[torch.Tensor] = None,
                 original_logits: Optional[torch.Tensor] = None) -> InterventionResult:
        """Measure the effects for one batch.

        Args:
            inputs (torch.Tensor): ``(B, C, H, W)`` network inputs on the model's device.
            regions (array-like): ``(B, H, W)`` bool region masks (network-input coordinates).
            classes (Sequence[int], optional): Target class per image; None takes the
                prediction on the original input.
            keys (Sequence[int], optional): Per-image seed keys (e.g. :func:`image_key` of the
                id); default: the batch positions.
            reference (torch.Tensor, optional): Counterfactual inputs for ``fill='reference'``.
            original_logits (torch.Tensor, optional): ``(B, num_classes)`` logits of the model
                on the unmodified ``inputs``, when the caller has them already (e.g. from a
                CAM pass); the intervention then runs 1 + K forward passes instead of 2 + K.
                They must come from this model in eval mode: they are not checked.

        Returns:
            InterventionResult: The effects.
        """
        regions = np.asarray(torch.as_tensor(regions).cpu().numpy() if isinstance(
            regions, torch.Tensor) else regions, bool)
        n, k = len(inputs), self.controls
        if regions.shape != (n, *inputs.shape[-2:]):
            raise ValueError(f'regions {regions.shape} do not match inputs '
                             f'{tuple(inputs.shape)}')
        if classes is not None and len(classes) != n:
            raise ValueError(f'{len(classes)} target classes for {n} images')
        if original_logits is not None and tuple(original_logits.shape[:1]) != (n, ):
            raise ValueError(f'original_logits {tuple(original_logits.shape)} do not match '
                             f'{n} inputs')
        keys = list(range(n)) if keys is None else list(keys)
        controls = self.place_controls(inputs, regions, keys)
        # Stack: region-filled, then control slot j of every image (empty slots copy the image
        # and are not read). One mask stack, one fill call, 1 + K forward passes of B images.
        masks = np.zeros((1 + k, n, *regions.shape[1:]), bool)
        masks[0] = regions
        for i, image_controls in enumerate(controls):
            for j, control in enumerate(image_controls):
                masks[1 + j, i] = control
        masks_t = torch.from_numpy(masks.reshape(-1, *regions.shape[1:])).to(inputs.device)
        tiled = inputs.repeat(1 + k, 1, 1, 1)
        if self.fill == 'blur':
            # The blurred film does not depend on the region: blur the B films once, not the
            # (1 + K) B copies, and paste it in like a counterfactual film.
            blurred = gaussian_blur(inputs, default_blur_sigma(inputs, self.blur_sigma))
            blurred = blurred.repeat(1 + k, 1, 1, 1)
            filled = fill_regions(tiled, masks_t, 'reference', blurred)
        else:
            ref = (None if reference is None
                   else reference.to(inputs.device).repeat(1 + k, 1, 1, 1))
            filled = fill_regions(tiled, masks_t, self.fill, ref, self.blur_sigma)
        logits = [self.model(inputs) if original_logits is None
                  else original_logits.to(inputs.device)]
        logits += [self.model(part) for part in filled.split(n)]
        if classes is None:
            chosen = logits[0].argmax(dim=1)
        else:
            chosen = torch.as_tensor(list(classes), dtype=torch.long, device=logits[0].device)
        scores = torch.stack([class_scores(z, chosen, self._log_odds) for z in logits])
        scores = scores.double().cpu().numpy()  # (2 + K, B)
        effects = scores[0][None] - scores[1:]
        placed = np.array([len(c) for c in controls])
        control_effects = np.full((n, k), np.nan)
        for i in range(n):
            control_effects[i, :placed[i]] = effects[1:1 + placed[i], i]
        with np.errstate(invalid='ignore'):
            mean_control = np.where(placed > 0, np.nansum(control_effects, axis=1)
                                    / np.maximum(placed, 1), np.nan)
        roi_effect = np.where(regions.reshape(n, -1).any(axis=1), effects[0], np.nan)
        return InterventionResult(chosen.cpu().numpy(), scores[0], roi_effect, control_effects,
                                  mean_control, placed, controls)


def _sample_region(sample, img_id: str) -> Optional[np.ndarray]:
    """The ROI of a packed sample in network-input coordinates (None without ROI)."""
    if not sample.get('has_roi', False):
        return None
    return sample.roi_mask.cpu().numpy() != 0


def _check_resume(out_dir: str, params: dict) -> Dict[str, dict]:
    """Validate ``out_dir`` against an earlier run's parameters; return its finished rows."""
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, _PARAMS)
    if osp.isfile(path):
        with open(path) as file:
            old = json.load(file)
        if old != params:
            changed = ', '.join(f'{key}={old.get(key)!r} (now {params.get(key)!r})'
                                for key in sorted(set(old) | set(params))
                                if old.get(key) != params.get(key))
            raise ValueError(f'{out_dir} holds an intervention run with other settings: '
                             f'{changed}; use another --out-dir')
    write_atomic(path, json.dumps(params, indent=2, sort_keys=True))
    done = {}
    journal = osp.join(out_dir, _JOURNAL)
    if osp.isfile(journal):
        with open(journal) as file:
            for line in file:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    break  # the line being written when the earlier run stopped
                done[row['img_id']] = row
    return done


def run_roi_intervention(model: nn.Module, dataset: BaseDataset, loader_cfg: dict,
                         out_dir: str, fill: str = 'blur', controls: int = 4, seed: int = 0,
                         target: TargetSpec = 'gt',
                         reference_dataset: Optional[BaseDataset] = None,
                         region_fn: Optional[Callable] = None, region_name: str = 'roi',
                         anatomy='foreground', min_anatomy: float = 0.9,
                         blur_sigma: Optional[float] = None, n_boot: int = 2000,
                         progress: bool = True) -> Tuple[pd.DataFrame, dict]:
    """Intervene on every image of ``dataset``; write the table and its summary to ``out_dir``.

    Writes ``roi_intervention.csv`` (:data:`CSV_COLUMNS`, dataset order) and
    ``roi_intervention_summary.json`` (:func:`summarize_effects`). Finished images are
    journalled, so a killed run resumes; a rerun with other settings is refused.

    Args:
        model (nn.Module): Classifier in eval mode (on its device).
        dataset (BaseDataset): Dataset with the test pipeline.
        loader_cfg (dict): Dataloader settings (``batch_size``, ``num_workers``, ...).
        out_dir (str): Output folder.
        fill (str): One of :data:`FILLS`. Defaults to ``'blur'``.
        controls (int): K control regions per image. Defaults to 4.
        seed (int): Seed of the control placement. Defaults to 0.
        target (str | int): ``'gt'``, ``'pred'`` or a class index. Defaults to ``'gt'``.
        reference_dataset (BaseDataset, optional): The counterfactual films (same ids, same
            pipeline) for ``fill='reference'``.
        region_fn (callable, optional): ``(DataSample, img_id) -> (H, W) bool or None``: the
            region to intervene on in network-input coordinates (default: the ROI mask).
        region_name (str): Name of the region, recorded in the summary. Defaults to ``'roi'``.
        anatomy, min_anatomy, blur_sigma: See :class:`RegionIntervention`.
        n_boot (int): Bootstrap resamples of the summary CI. Defaults to 2000.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[pd.DataFrame, dict]: The table and the summary.
    """
    from .analysis import image_ids  # analysis imports the causality scores; keep this light

    if fill == 'reference' and reference_dataset is None:
        raise ValueError("fill 'reference' needs the counterfactual films (reference_dataset)")
    if reference_dataset is not None and len(reference_dataset) != len(dataset):
        raise ValueError(f'reference dataset has {len(reference_dataset)} images, the dataset '
                         f'{len(dataset)}')
    intervention = RegionIntervention(model, fill, controls, seed, min_anatomy, anatomy,
                                      blur_sigma)
    ids = image_ids(dataset)
    if reference_dataset is not None:
        ref_ids = image_ids(reference_dataset)
        if ref_ids != ids:
            raise ValueError('the reference films do not list the same image ids in the same '
                             'order as the dataset')
    params = dict(fill=fill, controls=controls, seed=seed, target=str(target),
                  region=region_name, anatomy=anatomy if isinstance(anatomy, str) else 'custom',
                  min_anatomy=min_anatomy, blur_sigma=blur_sigma)
    done = _check_resume(out_dir, params)
    todo = [i for i, img_id in enumerate(ids) if img_id not in done]
    region_fn = region_fn or _sample_region
    device = next(model.parameters()).device
    if todo:
        loader = Runner.build_dataloader(dict(loader_cfg, dataset=Subset(dataset, todo),
                                              sampler=dict(type='DefaultSampler',
                                                           shuffle=False)))
        ref_iter = None
        if reference_dataset is not None:
            ref_iter = iter(Runner.build_dataloader(dict(
                loader_cfg, dataset=Subset(reference_dataset, todo),
                sampler=dict(type='DefaultSampler', shuffle=False))))
        with open(osp.join(out_dir, _JOURNAL), 'a') as journal, \
                tqdm(total=len(ids), initial=len(ids) - len(todo), unit='img',
                     desc=f'{region_name} intervention ({fill})', disable=not progress) as bar:
            for batch in loader:
                data = model.data_preprocessor(batch, False)
                inputs, samples = data['inputs'].to(device), data['data_samples']
                reference = None
                if ref_iter is not None:
                    ref_data = model.data_preprocessor(next(ref_iter), False)
                    reference = ref_data['inputs'].to(device)
                batch_ids = [ids[int(s.sample_idx)] for s in samples]
                classes = target_classes(target, samples,
                                         getattr(getattr(model, 'head', None), 'num_classes',
                                                 None))
                regions = []
                for sample, img_id in zip(samples, batch_ids):
                    region = region_fn(sample, img_id)
                    if region is not None and region.shape != tuple(inputs.shape[-2:]):
                        raise ValueError(f'image {img_id}: region {region.shape} and network '
                                         f'input {tuple(inputs.shape[-2:])} differ')
                    regions.append(np.zeros(inputs.shape[-2:], bool) if region is None
                                   else np.asarray(region, bool))
                result = intervention(inputs, np.stack(regions), classes,
                                      [image_key(i) for i in batch_ids], reference)
                for b, (sample, img_id) in enumerate(zip(samples, batch_ids)):
                    row = dict(img_id=img_id, patient_id=str(sample.get('patient_id', '')),
                               target_class=int(result.target_classes[b]),
                               roi_effect=_num(result.roi_effect[b]),
                               control_effect=_num(result.control_effect[b]),
                               n_controls=int(result.n_controls[b]),
                               original_log_odds=_num(result.original[b]),
                               roi_area=float(regions[b].mean()))
                    done[img_id] = row
                    journal.write(json.dumps(row) + '\n')
                journal.flush()
                bar.update(len(samples))
    table = pd.DataFrame([done[i] for i in ids], columns=list(CSV_COLUMNS))
    table = table.astype({'roi_effect': float, 'control_effect': float,
                          'original_log_odds': float})
    save_csv(osp.join(out_dir, CSV_NAME), table)
    summary = summarize_effects(table, n_boot=n_boot, seed=seed)
    summary.update(params)
    write_atomic(osp.join(out_dir, SUMMARY_NAME), json.dumps(summary, indent=2))
    return table, summary


def _num(value: float) -> Optional[float]:
    """JSON-safe float (NaN becomes None, read back as NaN by pandas)."""
    value = float(value)
    return value if np.isfinite(value) else None


def summarize_effects(table: pd.DataFrame, n_boot: int = 2000, seed: int = 0,
                      alpha: float = 0.05) -> dict:
    """Dataset-level ROI-minus-control effect with a patient-level CI and a paired test.

    The unit of analysis is the patient: each patient's images are averaged first (their
    ROI and control effects), the estimate is the mean over patients of the per-patient
    difference, its CI a percentile bootstrap over patients (:func:`osteo_mm.stats.bootstrap_ci`
    with ``groups``), and the test a two-sided Wilcoxon signed-rank test of the per-patient
    means (:func:`osteo_mm.stats.wilcoxon_test`). Images without a region (no ROI) or without
    a placed control are excluded from all three and counted.

    Args:
        table (pd.DataFrame): Rows with ``img_id``, ``patient_id`` (empty = own patient),
            ``roi_effect`` and ``control_effect``.
        n_boot (int): Bootstrap resamples. Defaults to 2000.
        seed (int): Bootstrap seed. Defaults to 0.
        alpha (float): 1 - confidence level. Defaults to 0.05.

    Returns:
        dict: ``n_images``, ``n_no_region``, ``n_no_controls``, ``n_used``, ``n_patients``,
        ``unit``, ``mean_roi_effect``, ``mean_control_effect``, ``difference``, ``ci_low``,
        ``ci_high``, ``ci_level``, ``n_boot``, ``n_skipped``, ``test``, ``statistic``,
        ``p_value``.
    """
    from osteo_mm.stats import bootstrap_ci, wilcoxon_test

    roi = table['roi_effect'].astype(float).to_numpy()
    ctrl = table['control_effect'].astype(float).to_numpy()
    no_region = ~np.isfinite(roi)
    no_controls = np.isfinite(roi) & ~np.isfinite(ctrl)
    used = ~no_region & ~no_controls
    patients = table['patient_id'].fillna('').astype(str).to_numpy() if 'patient_id' in table \
        else np.full(len(table), '')
    patients = np.where(patients == '', 'img:' + table['img_id'].astype(str).to_numpy(),
                        patients)
    summary = dict(n_images=int(len(table)), n_no_region=int(no_region.sum()),
                   n_no_controls=int(no_controls.sum()), n_used=int(used.sum()),
                   unit='patient', ci_level=1 - alpha, n_boot=n_boot)
    per_patient = pd.DataFrame(dict(patient=patients[used], roi=roi[used], ctrl=ctrl[used])) \
        .groupby('patient', sort=True).mean()
    summary['n_patients'] = int(len(per_patient))
    nan = float('nan')
    summary.update(mean_roi_effect=nan, mean_control_effect=nan, difference=nan, ci_low=nan,
                   ci_high=nan, n_skipped=0, test='wilcoxon (per-patient means)',
                   statistic=nan, p_value=nan)
    if len(per_patient) == 0:
        return summary
    p_roi, p_ctrl = per_patient['roi'].to_numpy(), per_patient['ctrl'].to_numpy()
    boot = bootstrap_ci(lambda a, b: float(np.mean(a - b)), p_roi, p_ctrl, n_boot=n_boot,
                        alpha=alpha, seed=seed)
    summary.update(mean_roi_effect=float(p_roi.mean()), mean_control_effect=float(p_ctrl.mean()),
                   difference=boot.estimate, ci_low=boot.low, ci_high=boot.high,
                   n_skipped=boot.n_skipped)
    if np.any(p_roi != p_ctrl):
        test = wilcoxon_test(p_roi, p_ctrl)
        summary.update(statistic=test.statistic, p_value=test.p_value)
    else:  # every per-patient difference is 0: no evidence of a difference
        summary.update(p_value=1.0)
    return summary


def build_reference_split(cfg, split: str, reference_root: str, workers: int = 1
                          ) -> BaseDataset:
    """The counterfactual films of a shoulder-phantom split, for ``fill='reference'``.

    Renders them under ``reference_root`` first when missing
    (:func:`osteo_mm.explain.phantom_reference.write_reference_phantom`; resumable), then
    builds the split's dataset with ``data_root`` swapped.

    Args:
        cfg (Config): The full config (its ``<split>_dataloader`` reads a shoulder phantom).
        split (str): ``'test'``, ``'val'`` or ``'train'``.
        reference_root (str): Folder of the counterfactual phantom.
        workers (int): Worker processes for rendering. Defaults to 1.

    Returns:
        BaseDataset: The counterfactual dataset (same ids and pipeline).
    """
    import copy

    from mmpretrain.registry import DATASETS

    from .phantom_reference import write_reference_phantom

    dataset_cfg = copy.deepcopy(dict(cfg[f'{split}_dataloader'])['dataset'])
    data_root = dataset_cfg.get('data_root')
    if not data_root:
        raise ValueError(f"{split} dataset has no data_root: fill 'reference' needs a shoulder "
                         'phantom folder')
    write_reference_phantom(data_root, reference_root, workers=workers)
    dataset_cfg['data_root'] = reference_root
    return DATASETS.build(dataset_cfg)
