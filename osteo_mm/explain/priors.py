"""Image-independent prior maps and a randomised-weights model: the baselines of every score.

A saliency score means something only beside what a map that knows nothing about the image
(or nothing learned) reaches on the same expert masks:

* ``uniform``: a constant map, the chance level (its energy equals the ROI's area share, its
  saliency AUROC 0.5);
* ``centre``: an isotropic Gaussian at the image centre (sigma = 1/4 of the side), the centre
  bias that beats some saliency methods on pointing benchmarks (TorchRay);
* ``dataset_roi``: the mean expert ROI mask of the **training** split in network-input
  coordinates (the test pipeline's deterministic geometry applied to the training masks),
  the strongest map that knows nothing about the image at hand. It is never built from the
  split it is scored on.

The fourth baseline, a randomised-weights copy of the model (Adebayo et al., "Sanity checks for
saliency maps", NeurIPS 2018), depends on the model: :func:`randomized_copy` re-initialises
every layer, and its maps are computed like the model's (``tools/analysis/cam_priors.py``).

Prior causality tables have the layout of ``causality.csv`` (``img_id, method, target_class``
and one column per score; ``method`` is the prior's name, ``target_class`` -1 as a prior has
none), so the report reads them like a model's.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS
from torch import nn
from tqdm import tqdm

from osteo_mm.evaluation.metrics.causality import causality_scores

from .analysis import image_ids
from .io import save_csv, save_npz
from .sanity import randomize_

#: Trivial (image-independent) priors in report order; ``random_weights`` is the model baseline.
TRIVIAL_PRIORS = ('uniform', 'centre', 'dataset_roi')
RANDOM_PRIOR = 'random_weights'
#: Human-readable names for tables and figures.
PRIOR_LABELS = {'uniform': 'uniform map (chance)', 'centre': 'centre prior',
                'dataset_roi': 'dataset ROI prior', 'random_weights': 'random-weights model'}
#: Width of the centre prior, as a fraction of the image side.
CENTRE_SIGMA = 0.25


def uniform_prior(shape: Tuple[int, int]) -> np.ndarray:
    """A constant map of ``shape`` (all ones, float32)."""
    return np.ones(shape, np.float32)


def centre_prior(shape: Tuple[int, int], sigma: float = CENTRE_SIGMA) -> np.ndarray:
    """An isotropic Gaussian at the image centre, peak 1.

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        sigma (float): Standard deviation as a fraction of the height. Defaults to 0.25.

    Returns:
        np.ndarray: ``(H, W)`` float32 map in ``(0, 1]``.
    """
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    dist2 = (yy - (h - 1) / 2) ** 2 + (xx - (w - 1) / 2) ** 2
    return np.exp(-dist2 / (2 * (sigma * h) ** 2)).astype(np.float32)


def _with_roi_loading(pipeline: Sequence[dict]) -> List[dict]:
    """The pipeline with ``LoadRoiMask`` right after the image loader (if it lacks one)."""
    pipeline = [dict(t) for t in pipeline]
    if not any(t.get('type') == 'LoadRoiMask' for t in pipeline):
        pipeline.insert(1, dict(type='LoadRoiMask'))
    return pipeline


def dataset_roi_prior(cfg: Config, split: str = 'train', progress: bool = True
                      ) -> Tuple[np.ndarray, int]:
    """The mean expert ROI mask of ``split`` in network-input coordinates.

    The split's dataset is built with the **test** pipeline (so every mask goes through the
    deterministic geometry the scored maps see, not the training augmentation).

    Args:
        cfg (Config): The full config (``<split>_dataloader`` and ``test_dataloader``).
        split (str): ``'train'`` (default) or ``'val'``; never the scored split.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[np.ndarray, int]: The ``(H, W)`` float32 map in ``[0, 1]`` (fraction of the
        split's images whose ROI covers each pixel) and the number of masks averaged.

    Raises:
        ValueError: ``split='test'``, a missing split, no image with an ROI, or masks of
            different sizes.
    """
    if split == 'test':
        raise ValueError('the dataset ROI prior must not be built from the test split it is '
                         "scored on; use 'train' or 'val'")
    key = f'{split}_dataloader'
    if not cfg.get(key):
        raise ValueError(f'config has no {key}')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset_cfg = copy.deepcopy(dict(cfg[key]['dataset']))
    dataset_cfg['pipeline'] = _with_roi_loading(cfg.test_dataloader.dataset.pipeline)
    dataset = DATASETS.build(dataset_cfg)
    total: Optional[np.ndarray] = None
    count = 0
    for i in tqdm(range(len(dataset)), desc=f'{split} ROI prior', disable=not progress):
        sample = dataset[i]['data_samples']
        if not sample.get('has_roi', False):
            continue
        mask = (sample.roi_mask.numpy() > 0).astype(np.float64)
        if total is None:
            total = np.zeros_like(mask)
        if mask.shape != total.shape:
            raise ValueError(f'{split} image {i}: ROI mask {mask.shape} differs from the first '
                             f'{total.shape}; the test pipeline must give one input size')
        total += mask
        count += 1
    if not count:
        raise ValueError(f'no {split} image has an expert ROI: cannot build the dataset ROI '
                         'prior')
    return (total / count).astype(np.float32), count


def prior_table(name: str, prior: np.ndarray, masks: np.ndarray, ids: Sequence[str],
                tolerance: int = 0, top_fraction: float = 0.2) -> pd.DataFrame:
    """Score one fixed map against every image's expert mask, as a ``causality.csv`` table.

    Args:
        name (str): The prior's name (the ``method`` column).
        prior (np.ndarray): ``(H, W)`` non-negative map in network-input coordinates.
        masks (np.ndarray): ``(N, H, W)`` expert masks of the scored images.
        ids (Sequence[str]): Their image ids.
        tolerance (int): Pointing-game tolerance in pixels. Defaults to 0.
        top_fraction (float): Pixel share of the top-k IoU/Dice. Defaults to 0.2.

    Returns:
        pd.DataFrame: ``img_id, method, target_class`` (-1) and one column per score.
    """
    if prior.shape != masks.shape[1:]:
        raise ValueError(f'prior {name!r} is {prior.shape}, the masks {masks.shape[1:]}')
    scores = causality_scores(np.broadcast_to(prior, masks.shape).copy(), masks,
                              tolerance=tolerance, top_fraction=top_fraction)
    table = pd.DataFrame(dict(img_id=list(ids), method=name, target_class=-1))
    for score, values in scores.items():
        table[score] = values
    return table


def scored_masks(dataset) -> Tuple[List[str], np.ndarray, List[str]]:
    """Image ids, stacked network-input ROI masks of the images that have one, and all ids."""
    all_ids = image_ids(dataset)
    ids, masks = [], []
    for i, img_id in enumerate(all_ids):
        sample = dataset[i]['data_samples']
        if sample.get('has_roi', False):
            ids.append(img_id)
            masks.append(sample.roi_mask.numpy())
    if not masks:
        raise ValueError('no scored image has an expert ROI')
    return ids, np.stack(masks), all_ids


def write_priors(cfg: Config, dataset, out_dir: str, prior_split: str = 'train',
                 tolerance: int = 0, top_fraction: float = 0.2) -> Dict[str, str]:
    """Score the trivial priors on ``dataset`` and write one table per prior.

    Writes ``<out_dir>/<prior>.csv`` for :data:`TRIVIAL_PRIORS` and ``priors.npz`` (the maps
    and ``n_prior_masks``). Images without an ROI get a row with empty scores, as in
    ``causality.csv``.

    Args:
        cfg (Config): The full config (for the dataset ROI prior's split).
        dataset: The scored split with the test pipeline (masks in network-input coordinates).
        out_dir (str): Output folder.
        prior_split (str): Split the dataset ROI prior is built from. Defaults to ``'train'``.
        tolerance (int): Pointing-game tolerance in pixels. Defaults to 0.
        top_fraction (float): Pixel share of the top-k IoU/Dice. Defaults to 0.2.

    Returns:
        dict[str, str]: prior name -> CSV path.
    """
    ids, masks, all_ids = scored_masks(dataset)
    shape = masks.shape[1:]
    roi_prior, n_masks = dataset_roi_prior(cfg, prior_split)
    if roi_prior.shape != shape:
        raise ValueError(f'the {prior_split} ROI prior is {roi_prior.shape}, the scored masks '
                         f'{shape}')
    maps = dict(uniform=uniform_prior(shape), centre=centre_prior(shape), dataset_roi=roi_prior)
    written = {}
    for name, prior in maps.items():
        table = prior_table(name, prior, masks, ids, tolerance, top_fraction)
        table = table.set_index('img_id').reindex(all_ids).reset_index()
        table['method'], table['target_class'] = name, -1
        written[name] = osp.join(out_dir, f'{name}.csv')
        save_csv(written[name], table)
    save_npz(osp.join(out_dir, 'priors.npz'), n_prior_masks=np.int64(n_masks),
             prior_split=prior_split, **maps)
    return written


def randomized_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``model`` with every layer re-initialised (full model randomisation).

    Args:
        model (nn.Module): The trained classifier (left unchanged).
        seed (int): Seed of the new weights. Defaults to 0.

    Returns:
        nn.Module: The randomised copy, in eval mode on the model's device.
    """
    clone = copy.deepcopy(model)
    randomize_(clone, seed)
    return clone.eval()
