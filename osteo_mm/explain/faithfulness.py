"""Faithfulness of saliency maps: deletion and insertion curves (Petsiuk et al., RISE, BMVC 2018).

Deletion removes pixels from the input in decreasing order of the map's value (most salient
first) and follows the target class's probability; a faithful map makes it fall fast (low area
under the curve). Insertion starts from a blurred copy of the image and puts the original pixels
back in the same order; a faithful map makes the probability rise fast (high area). Both are
questions about the *model*, answered by intervening on its input, not about the expert ROI.

As in RISE, deleted pixels take the baseline value 0 (the dataset mean, after the data
preprocessor's normalisation) and insertion starts from a Gaussian blur (sigma: 1/16 of the
side here). Pixels tied in a map are ordered at random (seeded), so an all-zero map scores
what a random order scores. The curves have ``steps + 1`` points at evenly spaced pixel
fractions 0 .. 1; the AUC is the trapezoidal area over the fraction axis, in ``[0, 1]`` for
probabilities.

No library implements these batched for arbitrary PyTorch classifiers (captum has no
deletion/insertion metric; pytorch-grad-cam's metrics are ROAD and confidence changes), hence
this module: each image's ``2 * (steps + 1)`` perturbed copies are evaluated in batches on the
model's device.
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmpretrain.models.heads import MultiLabelClsHead
from torch import nn

from .intervention import gaussian_blur

#: Scores the curves can follow.
CURVE_SCORES = ('probability', 'log-odds')


def saliency_ranks(maps: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Rank of every pixel in decreasing map value, ties broken by a seeded random order.

    Args:
        maps (torch.Tensor): ``(B, H, W)`` maps.
        seed (int): Seed of the tie-breaking order. Defaults to 0.

    Returns:
        torch.Tensor: ``(B, H * W)`` long ranks (0 = most salient).
    """
    flat = maps.reshape(len(maps), -1).float()
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(flat.shape[1], generator=generator).to(flat.device)
    order = perm[torch.argsort(-flat[:, perm], dim=1, stable=True)]
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(flat.shape[1], device=flat.device).expand_as(order))
    return ranks


def _target_scores(model: nn.Module, logits: torch.Tensor, classes: torch.Tensor,
                   score: str) -> torch.Tensor:
    multilabel = isinstance(getattr(model, 'head', None), MultiLabelClsHead)
    chosen = logits.gather(1, classes.view(-1, 1)).squeeze(1)
    if multilabel:
        return torch.sigmoid(chosen) if score == 'probability' else chosen
    if score == 'probability':
        return torch.softmax(logits, dim=1).gather(1, classes.view(-1, 1)).squeeze(1)
    others = logits.scatter(1, classes.view(-1, 1), float('-inf'))
    return chosen - torch.logsumexp(others, dim=1)


def curve_auc(curves: np.ndarray) -> np.ndarray:
    """Trapezoidal area under ``(B, steps + 1)`` curves on an evenly spaced ``[0, 1]`` axis."""
    curves = np.asarray(curves, dtype=np.float64)
    steps = curves.shape[1] - 1
    return (curves.sum(axis=1) - 0.5 * (curves[:, 0] + curves[:, -1])) / steps


@torch.no_grad()
def deletion_insertion(model: nn.Module, inputs: torch.Tensor, maps, classes: Sequence[int],
                       steps: int = 16, score: str = 'probability', seed: int = 0,
                       blur_sigma: Optional[float] = None,
                       batch_size: int = 64) -> Dict[str, np.ndarray]:
    """Deletion and insertion curves and their AUCs for one batch.

    Args:
        model (nn.Module): Classifier in eval mode; ``model(x)`` returns ``(B, K)`` logits.
        inputs (torch.Tensor): ``(B, C, H, W)`` network inputs on the model's device.
        maps (array-like): ``(B, H, W)`` saliency maps (network-input coordinates).
        classes (Sequence[int]): The explained class per image.
        steps (int): Curve steps (``steps + 1`` points). Defaults to 16.
        score (str): ``'probability'`` (as RISE) or ``'log-odds'``. Defaults to
            ``'probability'``.
        seed (int): Seed of the tie-breaking order. Defaults to 0.
        blur_sigma (float, optional): Sigma of the insertion start; default side / 16.
        batch_size (int): Perturbed images per forward pass. Defaults to 64.

    Returns:
        dict[str, np.ndarray]: ``deletion_auc`` and ``insertion_auc`` ``(B,)``,
        ``deletion_curve`` and ``insertion_curve`` ``(B, steps + 1)``.
    """
    if score not in CURVE_SCORES:
        raise ValueError(f'curve score must be one of {CURVE_SCORES}, got {score!r}')
    if steps < 1:
        raise ValueError(f'steps must be >= 1, got {steps}')
    if not isinstance(maps, torch.Tensor):
        maps = np.asarray(maps)
        maps = torch.from_numpy(maps if maps.flags.writeable else maps.copy())
    n, _, height, width = inputs.shape
    if tuple(maps.shape) != (n, height, width):
        raise ValueError(f'maps {tuple(maps.shape)} do not match inputs {tuple(inputs.shape)}')
    classes = torch.as_tensor(list(classes), dtype=torch.long, device=inputs.device)
    ranks = saliency_ranks(maps.to(inputs.device), seed).view(n, 1, height, width)
    counts = torch.round(torch.linspace(0, height * width, steps + 1,
                                        device=inputs.device)).long()
    blurred = gaussian_blur(inputs, blur_sigma or max(height, width) / 16)
    curves = {}
    for name in ('deletion', 'insertion'):
        values = []
        # Copies ordered image-major: image i, steps 0..S, so chunks need no bookkeeping.
        for start in range(0, n * (steps + 1), batch_size):
            index = torch.arange(start, min(start + batch_size, n * (steps + 1)),
                                 device=inputs.device)
            image, step = index // (steps + 1), index % (steps + 1)
            chosen = ranks[image] < counts[step].view(-1, 1, 1, 1)  # the top pixels
            original = inputs[image]
            if name == 'deletion':
                batch = torch.where(chosen, torch.zeros_like(original), original)
            else:
                batch = torch.where(chosen, original, blurred[image])
            values.append(_target_scores(model, model(batch), classes[image], score))
        curves[name] = torch.cat(values).view(n, steps + 1).double().cpu().numpy()
    return dict(deletion_auc=curve_auc(curves['deletion']),
                insertion_auc=curve_auc(curves['insertion']),
                deletion_curve=curves['deletion'], insertion_curve=curves['insertion'])
