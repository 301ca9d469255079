"""Image corruptions of Models Genesis, batched on tensors in ``[0, 1]``.

Zhou et al., "Models Genesis: Generic Autodidactic Models for 3D Medical Image Analysis"
(MICCAI 2019; MedIA 2021) learn by restoring images corrupted with a non-linear intensity
transform, local pixel shuffling and in-/out-painting. These are 2-D, batched versions: every
image draws its own random parameters, and all channels of an image get the same change so a
grey-scale X-ray stays grey-scale. Each function returns the corrupted batch and where it
changed it.
"""
from typing import Tuple

import torch


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Batched piecewise-linear interpolation (torch has no ``interp``; ``xp`` rows sorted).

    Args:
        x (Tensor): Query points ``(N, M)``.
        xp (Tensor): Increasing sample positions ``(N, T)``.
        fp (Tensor): Sample values ``(N, T)``.

    Returns:
        Tensor: Interpolated values ``(N, M)``, clamped to the end values outside ``xp``.
    """
    idx = torch.searchsorted(xp.contiguous(), x.contiguous()).clamp(1, xp.shape[1] - 1)
    x0, x1 = xp.gather(1, idx - 1), xp.gather(1, idx)
    y0, y1 = fp.gather(1, idx - 1), fp.gather(1, idx)
    weight = ((x - x0) / (x1 - x0).clamp_min(1e-12)).clamp(0, 1)
    return y0 + weight * (y1 - y0)


def bezier_intensity(images: torch.Tensor, prob: float,
                     num_samples: int = 1000) -> Tuple[torch.Tensor, torch.Tensor]:
    """Map intensities through a random monotonic cubic Bezier curve.

    The curve runs from (0, 0) to (1, 1) with two uniformly random control points; with
    probability 0.5 it is flipped to a decreasing curve (from (0, 1) to (1, 0)), which turns
    bright bone dark.

    Args:
        images (Tensor): Images ``(N, C, H, W)`` with values in ``[0, 1]``.
        prob (float): Probability that an image is transformed.
        num_samples (int): Points sampled along the curve.

    Returns:
        tuple[Tensor, Tensor]: Transformed images and a bool ``(N, )`` marking the
        transformed ones.
    """
    n = images.shape[0]
    device = images.device
    t = torch.linspace(0, 1, num_samples, device=device)
    ctrl = torch.rand(n, 2, 2, device=device)  # (image, control point, x/y)
    basis = torch.stack([3 * (1 - t)**2 * t, 3 * (1 - t) * t**2], dim=0)  # (2, T)
    curve = torch.einsum('pt,npd->ntd', basis, ctrl) + (t**3)[None, :, None]
    xs, _ = curve[..., 0].sort(dim=1)
    ys, _ = curve[..., 1].sort(dim=1)
    flip = torch.rand(n, device=device) < 0.5
    ys = torch.where(flip[:, None], ys.flip(1), ys)
    mapped = _interp(images.flatten(1), xs, ys).reshape(images.shape)
    applied = torch.rand(n, device=device) < prob
    return torch.where(applied[:, None, None, None], mapped, images), applied


def local_pixel_shuffle(images: torch.Tensor, prob: float, block_size: int,
                        fraction: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Shuffle the pixels inside randomly chosen small blocks.

    Models Genesis shuffles pixels inside many random windows; here the windows are the cells
    of a ``block_size`` grid (so the whole batch is shuffled in one vectorised step) and each
    cell is shuffled with probability ``fraction``. Pixels beyond the last full cell stay.

    Args:
        images (Tensor): Images ``(N, C, H, W)``.
        prob (float): Probability that an image is shuffled at all.
        block_size (int): Side of a shuffling window in pixels.
        fraction (float): Probability that a window of a shuffled image is shuffled.

    Returns:
        tuple[Tensor, Tensor]: Shuffled images and a bool mask ``(N, 1, H, W)`` of the
        windows that were shuffled.
    """
    n, c, h, w = images.shape
    gh, gw = h // block_size, w // block_size
    device = images.device
    inner = images[:, :, :gh * block_size, :gw * block_size]
    blocks = inner.reshape(n, c, gh, block_size, gw, block_size).permute(0, 2, 4, 1, 3, 5)
    blocks = blocks.reshape(n, gh, gw, c, block_size * block_size)
    chosen = (torch.rand(n, gh, gw, device=device) < fraction) & (
        torch.rand(n, 1, 1, device=device) < prob)
    order = torch.rand(n, gh, gw, block_size * block_size, device=device).argsort(dim=-1)
    order = torch.where(chosen[..., None], order, torch.arange(block_size**2, device=device))
    blocks = blocks.gather(-1, order[:, :, :, None].expand_as(blocks))
    blocks = blocks.reshape(n, gh, gw, c, block_size, block_size).permute(0, 3, 1, 4, 2, 5)
    out = images.clone()
    out[:, :, :gh * block_size, :gw * block_size] = blocks.reshape(inner.shape)
    mask = torch.zeros(n, 1, h, w, dtype=torch.bool, device=device)
    mask[:, :, :gh * block_size, :gw * block_size] = chosen.repeat_interleave(
        block_size, 1).repeat_interleave(block_size, 2)[:, None]
    return out, mask


def _random_boxes(n: int, h: int, w: int, min_frac: float, max_frac: float, max_boxes: int,
                  device: torch.device) -> torch.Tensor:
    """Union of 1 to ``max_boxes`` random boxes per image, sides in ``[min_frac, max_frac]``.

    Returns:
        Tensor: Bool mask ``(N, 1, H, W)``.
    """
    ys = torch.arange(h, device=device)[None, :, None]
    xs = torch.arange(w, device=device)[None, None, :]
    count = torch.randint(1, max_boxes + 1, (n, ), device=device)
    mask = torch.zeros(n, h, w, dtype=torch.bool, device=device)
    for k in range(max_boxes):
        bh = (h * (min_frac + (max_frac - min_frac) * torch.rand(n, device=device))).long()
        bw = (w * (min_frac + (max_frac - min_frac) * torch.rand(n, device=device))).long()
        y0 = (torch.rand(n, device=device) * (h - bh + 1)).long()[:, None, None]
        x0 = (torch.rand(n, device=device) * (w - bw + 1)).long()[:, None, None]
        box = ((ys >= y0) & (ys < y0 + bh[:, None, None]) & (xs >= x0) &
               (xs < x0 + bw[:, None, None]))
        mask |= box & (k < count)[:, None, None]
    return mask[:, None]


def paint(images: torch.Tensor, prob: float, inpaint_prob: float,
          max_boxes: int = 5) -> Tuple[torch.Tensor, torch.Tensor]:
    """In-paint or out-paint with uniform noise.

    In-painting fills 1 to ``max_boxes`` boxes with sides of 1/6 to 1/3 of the image with
    noise; out-painting fills everything except 1 to ``max_boxes`` boxes with sides of 3/7 to
    4/7 of the image (the proportions of Models Genesis).

    Args:
        images (Tensor): Images ``(N, C, H, W)`` with values in ``[0, 1]``.
        prob (float): Probability that an image is painted at all.
        inpaint_prob (float): Probability that a painted image is in-painted rather than
            out-painted.
        max_boxes (int): Maximum number of boxes per image.

    Returns:
        tuple[Tensor, Tensor]: Painted images and a bool mask ``(N, 1, H, W)`` of the pixels
        replaced by noise.
    """
    n, _, h, w = images.shape
    device = images.device
    inner = _random_boxes(n, h, w, 1 / 6, 1 / 3, max_boxes, device)
    outer = ~_random_boxes(n, h, w, 3 / 7, 4 / 7, max_boxes, device)
    inpaint = (torch.rand(n, device=device) < inpaint_prob)[:, None, None, None]
    applied = (torch.rand(n, device=device) < prob)[:, None, None, None]
    mask = torch.where(inpaint, inner, outer) & applied
    noise = torch.rand(n, 1, h, w, device=device).expand_as(images)
    return torch.where(mask, noise, images), mask
