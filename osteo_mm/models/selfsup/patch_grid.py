"""Patch grids for context pretext tasks (relative location, jigsaw puzzles).

The tile layout and the shortcut precautions follow Doersch et al., "Unsupervised Visual
Representation Learning by Context Prediction" (ICCV 2015) and Noroozi & Favaro, "Unsupervised
Learning of Visual Representations by Solving Jigsaw Puzzles" (ECCV 2016): a gap between tiles
and a random jitter of every tile hide the continuation of edges and textures across tile
borders, and normalising every tile on its own hides brightness/contrast differences between
image regions. Chromatic aberration, their third shortcut, cannot arise on grey-scale X-rays.
"""
import itertools
from typing import Tuple

import numpy as np
import torch


def extract_grid_patches(inputs: torch.Tensor, grid: int, patch_size: int, gap: int,
                         jitter: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Cut a ``grid x grid`` set of square tiles from every image of a batch.

    Tile ``(r, c)`` (row-major index ``r * grid + c``) nominally starts ``r * (patch_size +
    gap)`` rows and ``c * (patch_size + gap)`` columns after the grid origin; each tile is then
    shifted by an independent random offset in ``[-jitter, jitter]`` along each axis. The grid
    origin is drawn uniformly where the whole jittered grid fits, so it also acts as a random
    crop.

    Args:
        inputs (Tensor): Images ``(N, C, H, W)``.
        grid (int): Tiles per side (>= 2).
        patch_size (int): Side of a tile in pixels.
        gap (int): Nominal pixels between neighbouring tiles.
        jitter (int): Maximum random shift of a tile along each axis.

    Returns:
        tuple[Tensor, Tensor]: Tiles ``(N, grid * grid, C, patch_size, patch_size)`` and their
        top-left corners ``(N, grid * grid, 2)`` as ``(y, x)`` pixel indices.

    Raises:
        ValueError: If the parameters are invalid or the grid does not fit into the images.
    """
    if grid < 2 or patch_size < 1 or gap < 0 or jitter < 0:
        raise ValueError(f'need grid >= 2, patch_size >= 1, gap >= 0, jitter >= 0; got '
                         f'grid={grid}, patch_size={patch_size}, gap={gap}, jitter={jitter}')
    n, _, h, w = inputs.shape
    span = grid * patch_size + (grid - 1) * gap + 2 * jitter
    if span > min(h, w):
        raise ValueError(f'a {grid}x{grid} grid of {patch_size}px tiles with gap {gap} and '
                         f'jitter {jitter} needs {span}px, but the images are {h}x{w}')
    device = inputs.device
    origin = torch.stack([torch.randint(0, h - span + 1, (n, ), device=device),
                          torch.randint(0, w - span + 1, (n, ), device=device)], dim=1)
    steps = torch.arange(grid, device=device) * (patch_size + gap)
    nominal = torch.stack(torch.meshgrid(steps, steps, indexing='ij'), dim=-1).reshape(-1, 2)
    shift = torch.randint(-jitter, jitter + 1, (n, grid * grid, 2), device=device)
    corners = origin[:, None] + jitter + nominal[None] + shift

    offsets = torch.arange(patch_size, device=device)
    rows = corners[..., 0, None] + offsets  # (N, P, p)
    cols = corners[..., 1, None] + offsets
    batch = torch.arange(n, device=device)[:, None, None, None]
    # Advanced indices around the channel slice put the channel axis last: (N, P, p, p, C).
    patches = inputs[batch, :, rows[..., :, None], cols[..., None, :]]
    return patches.permute(0, 1, 4, 2, 3), corners


def normalize_patches(patches: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Give every tile zero mean and unit standard deviation over its pixels and channels.

    Args:
        patches (Tensor): Tiles ``(..., C, p, p)``.
        eps (float): Added to the standard deviation (flat tiles stay finite).

    Returns:
        Tensor: Normalised tiles of the same shape.
    """
    flat = patches.flatten(-3)
    mean = flat.mean(dim=-1, keepdim=True)
    std = flat.std(dim=-1, keepdim=True)
    return ((flat - mean) / (std + eps)).reshape(patches.shape)


def maximal_hamming_permutations(num_tiles: int, num_permutations: int,
                                 seed: int = 0) -> np.ndarray:
    """Choose a permutation set whose members are far apart in Hamming distance.

    Greedy farthest-point selection as proposed by Noroozi & Favaro (2016): start from a random
    permutation, then repeatedly add the permutation whose minimum Hamming distance to the set
    chosen so far is largest (ties broken at random). The result depends only on the arguments.

    Args:
        num_tiles (int): Tiles per puzzle (9 for a 3x3 grid); all ``num_tiles!`` permutations
            are candidates.
        num_permutations (int): Size of the set (the number of jigsaw classes).
        seed (int): Seed of the tie-breaking random generator.

    Returns:
        np.ndarray: ``(num_permutations, num_tiles)`` int64 array, row ``k`` lists for every
        puzzle position the index of the tile shown there.

    Raises:
        ValueError: If more permutations are asked for than exist, or fewer than 2.
    """
    candidates = np.array(list(itertools.permutations(range(num_tiles))), dtype=np.int8)
    if not 2 <= num_permutations <= len(candidates):
        raise ValueError(f'num_permutations must be in [2, {len(candidates)}] for '
                         f'{num_tiles} tiles, got {num_permutations}')
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(candidates)))]
    min_dist = (candidates != candidates[chosen[0]]).sum(axis=1)
    for _ in range(num_permutations - 1):
        best = np.flatnonzero(min_dist == min_dist.max())
        chosen.append(int(rng.choice(best)))
        min_dist = np.minimum(min_dist, (candidates != candidates[chosen[-1]]).sum(axis=1))
    return candidates[chosen].astype(np.int64)
