"""Model-parameter randomisation test for saliency maps (Adebayo et al., "Sanity Checks for
Saliency Maps", NeurIPS 2018).

Layers are re-initialised cascading from the head down to the stem; after each step the maps
for the same images and classes are compared with the trained model's. A map that stays similar
while the weights it should explain are destroyed is not explaining the model.
"""
import copy
import io
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import matplotlib
import numpy as np
import pandas as pd
import torch
from mmengine.dataset import BaseDataset
from mmengine.runner import Runner
from scipy.stats import spearmanr
from torch import nn
from torch.utils.data import Subset
from tqdm import tqdm

from .analysis import image_ids
from .cam import BatchCAM
from .io import save_csv, write_atomic
from .targets import TargetSpec, target_classes

matplotlib.use('Agg')
from matplotlib import pyplot as plt  # noqa: E402


def cascade_blocks(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """Blocks of a classifier in cascading-randomisation order, from the output down.

    The head (and neck) first, then the backbone's top-level children in reverse registration
    order; a ``ModuleList`` of transformer layers is split into its blocks. Parameters owned
    directly by the backbone (a ViT's class token and position embedding) are not randomised.

    Args:
        model (nn.Module): An MMPretrain classifier.

    Returns:
        list[tuple[str, nn.Module]]: ``(dotted name, module)`` pairs with parameters.
    """
    blocks = [(name, getattr(model, name)) for name in ('head', 'neck')
              if isinstance(getattr(model, name, None), nn.Module)]
    backbone_blocks = []
    for name, child in model.backbone.named_children():
        if isinstance(child, nn.ModuleList):
            backbone_blocks += [(f'backbone.{name}.{i}', m) for i, m in enumerate(child)]
        else:
            backbone_blocks.append((f'backbone.{name}', child))
    blocks += backbone_blocks[::-1]
    return [(name, m) for name, m in blocks if any(True for _ in m.parameters())]


def randomize_(module: nn.Module, seed: int) -> None:
    """Re-initialise every sub-module that defines ``reset_parameters`` (PyTorch's default
    initialisation: the "random weights" of the paper), reproducibly.

    Args:
        module (nn.Module): Module to randomise in place.
        seed (int): Random seed.
    """
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for sub in module.modules():
            if hasattr(sub, 'reset_parameters'):
                sub.reset_parameters()
            if hasattr(sub, 'reset_running_stats'):
                sub.reset_running_stats()
    finally:
        torch.random.set_rng_state(generator_state)


def ssim(a: np.ndarray, b: np.ndarray, sigma: float = 1.5) -> float:
    """Mean structural similarity of two maps in ``[0, 1]`` (Wang et al., IEEE TIP 2004;
    Gaussian window sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1).

    Hand-written with OpenCV because scikit-image (which has ``structural_similarity``) is not
    a dependency of this project and is not installed; this is the same Gaussian-window form.

    Args:
        a (np.ndarray): First map.
        b (np.ndarray): Second map of the same shape.
        sigma (float): Gaussian window sigma. Defaults to 1.5.

    Returns:
        float: Mean SSIM in ``[-1, 1]``.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    c1, c2 = 0.01 ** 2, 0.03 ** 2

    def blur(x):
        return cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / \
        ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(index.mean())


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float('nan')
    return float(spearmanr(a.ravel(), b.ravel()).statistic)


def run_cam_sanity(model: nn.Module, dataset: BaseDataset, loader_cfg: dict, out_dir: str,
                   method: str = 'gradcam', target: TargetSpec = 'pred', num_images: int = 32,
                   target_layers: Optional[Sequence[str]] = None,
                   seed: int = 0, score: str = 'logit') -> pd.DataFrame:
    """Cascading randomisation test on the first ``num_images`` images of ``dataset``.

    Writes ``cam_sanity.csv`` (``img_id, step, randomized_block, spearman, ssim``; step 0 is
    the trained model compared with itself) and ``cam_sanity.png`` (mean ± s.d. per step).

    Args:
        model (nn.Module): Trained classifier in eval mode (left unchanged; a copy is
            randomised).
        dataset (BaseDataset): Dataset with the test pipeline.
        loader_cfg (dict): Dataloader settings.
        out_dir (str): Output folder.
        method (str): CAM method. Defaults to ``'gradcam'``.
        target (str | int): Class explained (``'pred'`` = trained model's prediction, kept for
            every randomisation step). Defaults to ``'pred'``.
        num_images (int): Images to use. Defaults to 32.
        target_layers (Sequence[str], optional): Dotted layer names.
        seed (int): Seed of the re-initialisation. Defaults to 0.
        score (str): ``'logit'`` or ``'log-odds'`` (see :class:`BatchCAM`). Defaults to
            ``'logit'``.

    Returns:
        pd.DataFrame: The per-image table.
    """
    ids = image_ids(dataset)[:num_images]
    loader = Runner.build_dataloader(dict(loader_cfg, dataset=Subset(dataset, range(len(ids))),
                                          sampler=dict(type='DefaultSampler', shuffle=False)))
    explainer = BatchCAM(model, method=method, target_layers=target_layers, score=score)
    batches, reference = [], []
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        result = explainer(data['inputs'],
                           target_classes(target, data['data_samples'], explainer.num_classes))
        batches.append((data['inputs'], result.target_classes.tolist()))
        reference.append(result.cams)
    reference = np.concatenate(reference)

    randomized = copy.deepcopy(model)
    rows = [dict(img_id=i, step=0, randomized_block='none', spearman=1.0, ssim=1.0)
            for i in ids]
    blocks = cascade_blocks(randomized)
    for step, (name, block) in enumerate(tqdm(blocks, desc='randomising', unit='block'), 1):
        randomize_(block, seed + step)
        cam = BatchCAM(randomized, method=method, target_layers=explainer.layer_names,
                       score=score)
        maps = np.concatenate([cam(inputs, classes).cams for inputs, classes in batches])
        rows += [dict(img_id=i, step=step, randomized_block=name,
                      spearman=_spearman(ref, new), ssim=ssim(ref, new))
                 for i, ref, new in zip(ids, reference, maps)]
    table = pd.DataFrame(rows)
    save_csv(osp.join(out_dir, 'cam_sanity.csv'), table)
    write_atomic(osp.join(out_dir, 'cam_sanity.png'), _plot(table, method))
    return table


def _plot(table: pd.DataFrame, method: str) -> bytes:
    stats = table.groupby(['step', 'randomized_block'], sort=True)[['spearman', 'ssim']]
    mean, std = stats.mean().reset_index(), stats.std().reset_index()
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(mean)), 3.5))
    for key, label in (('spearman', 'Spearman rank correlation'), ('ssim', 'SSIM')):
        ax.errorbar(mean['step'], mean[key], yerr=std[key].fillna(0), marker='o', capsize=3,
                    label=label)
    ax.set_xticks(mean['step'], mean['randomized_block'], rotation=45, ha='right', fontsize=7)
    ax.set_ylabel(f'{method} map vs trained model')
    ax.set_xlabel('randomised up to (cascading from the head)')
    ax.set_ylim(-0.2, 1.05)
    ax.axhline(0, color='grey', lw=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=120)
    plt.close(fig)
    return buffer.getvalue()
