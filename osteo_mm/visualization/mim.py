"""Reconstructions of MMPretrain's MAE and SparK models, and the original | masked | output grid.

The algorithms' ``loss()`` builds the mask and the reconstruction internally and returns only
the loss. Rather than re-implementing their forward passes, :func:`mim_reconstruct` runs
``loss()`` once with forward hooks that capture the mask and the decoder output, so the figure
always shows exactly what training optimises.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmpretrain.apis import get_model
from mmpretrain.models import MAE, SparK
from mmpretrain.models.utils.sparse_modules import SparseHelper
from mmpretrain.registry import TRANSFORMS
from torch import nn


def _patchify(img: torch.Tensor, p: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, L, p*p*C) in MMPretrain's MAE/SparK patch order."""
    b, c, h, w = img.shape
    x = img.reshape(b, c, h // p, p, w // p, p)
    return torch.einsum('bchpwq->bhwpqc', x).reshape(b, (h // p) * (w // p), p * p * c)


def _unpatchify(x: torch.Tensor, p: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`_patchify` for an image of ``h`` x ``w`` pixels."""
    b, _, d = x.shape
    c = d // (p * p)
    x = x.reshape(b, h // p, w // p, p, p, c)
    return torch.einsum('bhwpqc->bchpwq', x).reshape(b, c, h, w)


def _denormalize_pixels(pred: torch.Tensor, inputs: torch.Tensor, p: int) -> torch.Tensor:
    """Undo ``norm_pix`` (per-patch standardisation) with the statistics of the input patches."""
    target = _patchify(inputs, p)
    mean = target.mean(dim=-1, keepdim=True)
    std = (target.var(dim=-1, keepdim=True) + 1.e-6)**.5
    return pred * std + mean


@torch.no_grad()
def mim_reconstruct(model: nn.Module, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """Mask a batch like training does and return the model's reconstruction.

    Args:
        model (nn.Module): A built ``MAE`` or ``SparK`` model (MMPretrain).
        inputs (torch.Tensor): Pre-processed images (B, 3, H, W), as the data preprocessor
            returns them.

    Returns:
        dict[str, torch.Tensor]: ``mask`` (B, 1, H, W) float, 1 where the input was hidden;
        ``reconstruction`` (B, 3, H, W) in the input's normalised space, where the head's
        per-patch normalisation (``norm_pix``) has been undone; ``loss``, the training loss.
        With ``norm_pix`` the model predicts each patch's pattern but not its brightness or
        contrast, so masked patches are rescaled with the *true* patch mean and standard
        deviation (as MAE's own visualisations of norm-pix models do): the coarse brightness
        layout of the result comes from the input, the texture inside a patch from the model.

    Raises:
        TypeError: If ``model`` is neither MAE nor SparK.
    """
    if not isinstance(model, (MAE, SparK)):
        raise TypeError(f'expected an MAE or SparK model, got {type(model).__name__}')
    captured: dict[str, torch.Tensor] = {}
    hooks = [model.neck.register_forward_hook(
        lambda _m, _i, out: captured.__setitem__('pred', out))]
    if isinstance(model, MAE):
        hooks.append(model.backbone.register_forward_hook(
            lambda _m, _i, out: captured.__setitem__('mask', out[1])))
    try:
        loss = model.loss(inputs, [])['loss']
    finally:
        for hook in hooks:
            hook.remove()
    _, _, h, w = inputs.shape
    if isinstance(model, MAE):
        p = model.head.patch_size
        pred = captured['pred']
        mask = captured['mask'].unsqueeze(-1).expand(-1, -1, p * p)  # 1 = removed patch
        mask = _unpatchify(mask.float(), p, h, w)
    else:
        p = model.downsample_raito
        pred = _patchify(captured['pred'], p)
        visible = SparseHelper._cur_active.float()  # (B, 1, f, f), 1 = kept
        mask = 1 - visible.repeat_interleave(p, 2).repeat_interleave(p, 3)
    if model.head.norm_pix:
        pred = _denormalize_pixels(pred, inputs, p)
    return dict(mask=mask, reconstruction=_unpatchify(pred, p, h, w), loss=loss)


def reconstruction_grid(inputs: torch.Tensor, mask: torch.Tensor, reconstruction: torch.Tensor,
                        mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Tile original | masked | reconstruction (visible patches kept) for every image.

    Args:
        inputs (torch.Tensor): Normalised input images (B, 3, H, W).
        mask (torch.Tensor): (B, 1, H, W), 1 where the model saw nothing.
        reconstruction (torch.Tensor): Reconstruction in the normalised space (B, 3, H, W).
        mean (Sequence[float]): The data preprocessor's per-channel mean (0-255 scale).
        std (Sequence[float]): The data preprocessor's per-channel std.

    Returns:
        np.ndarray: uint8 RGB image of B rows and 3 columns, 2-pixel white gutters.
    """
    m = torch.as_tensor(mean, dtype=inputs.dtype).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=inputs.dtype).view(1, -1, 1, 1)
    original = inputs * s + m
    masked = original * (1 - mask) + 127.0 * mask
    pasted = original * (1 - mask) + (reconstruction * s + m) * mask
    rows = []
    for i in range(inputs.shape[0]):
        tiles = [t[i].permute(1, 2, 0).clamp(0, 255).byte().numpy()
                 for t in (original, masked, pasted)]
        gutter = np.full((tiles[0].shape[0], 2, 3), 255, np.uint8)
        rows.append(np.concatenate([tiles[0], gutter, tiles[1], gutter, tiles[2]], axis=1))
        rows.append(np.full((2, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0)


def model_input_size(model: nn.Module) -> int:
    """Side length (pixels) of the square images an MAE or SparK model was built for.

    Args:
        model (nn.Module): A built ``MAE`` or ``SparK`` model.

    Returns:
        int: The input size.
    """
    if isinstance(model, SparK):
        return model.input_size
    return int(round(model.neck.num_patches**0.5)) * model.head.patch_size


def render_reconstructions(cfg: Config, checkpoint: str | None, image_paths: Sequence[str],
                           seed: int = 0, device: str = 'cpu') -> np.ndarray:
    """Load a pretraining config and checkpoint and draw the reconstruction grid of images.

    Images are read with the first transform of the config's training pipeline (the X-ray
    loader, so DICOM works), resized to the model's input size and normalised by the model's
    data preprocessor.

    Args:
        cfg (Config): An MAE or SparK pretraining config.
        checkpoint (str, optional): Checkpoint to load; None keeps random weights.
        image_paths (Sequence[str]): Image files, one grid row each.
        seed (int): Seed of the random masks.
        device (str): Torch device.

    Returns:
        np.ndarray: The uint8 RGB grid (see :func:`reconstruction_grid`).
    """
    model = get_model(cfg, checkpoint, device=device)
    model.eval()
    size = model_input_size(model)
    loader = TRANSFORMS.build(cfg.train_dataloader.dataset.pipeline[0])
    resize = TRANSFORMS.build(dict(type='Resize', scale=(size, size)))
    pack = TRANSFORMS.build(dict(type='PackInputs'))
    packed = [pack(resize(loader(dict(img_path=path)))) for path in image_paths]
    data = model.data_preprocessor(dict(inputs=torch.stack([p['inputs'] for p in packed]),
                                        data_samples=[p['data_samples'] for p in packed]))
    torch.manual_seed(seed)
    out = mim_reconstruct(model, data['inputs'])
    pre = model.data_preprocessor
    return reconstruction_grid(data['inputs'].cpu(), out['mask'].cpu(),
                               out['reconstruction'].cpu(), pre.mean.flatten().tolist(),
                               pre.std.flatten().tolist())
