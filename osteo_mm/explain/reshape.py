"""Turn transformer tokens into a feature map that CAM methods can weight.

The one implementation of the ViT token reshape: the CAMs here and the CAM guidance loss
(``osteo_mm.models.guidance.cam_alignment``) both use it.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import nn


def tokens_to_grid(tokens: torch.Tensor, grid: Sequence[int]) -> torch.Tensor:
    """Fold the patch tokens of ``(B, N, C)`` ViT tokens into a ``(B, C, h, w)`` map.

    The ``N - h * w`` leading tokens (class / distillation tokens in MMPretrain's ViTs) are
    dropped.

    Args:
        tokens (torch.Tensor): ``(B, N, C)`` tokens.
        grid (Sequence[int]): ``(h, w)`` patch grid (``patch_embed``'s second output).

    Returns:
        torch.Tensor: ``(B, C, h, w)`` feature map.
    """
    h, w = (int(v) for v in grid)
    if tokens.dim() != 3 or tokens.shape[1] < h * w:
        raise ValueError(f'expected (B, N >= {h * w}, C) tokens, got {tuple(tokens.shape)}')
    patches = tokens[:, tokens.shape[1] - h * w:]
    return patches.reshape(tokens.shape[0], h, w, -1).permute(0, 3, 1, 2)


class TokensToFeatureMap:
    """Reshape ``(B, N, C)`` ViT tokens into ``(B, C, h, w)`` over the patch grid.

    The grid is read from the backbone's ``patch_embed`` output on every forward pass, so any
    input size works; leading extra tokens (class / distillation tokens) are dropped because
    ``N - h * w`` of them precede the patch tokens in MMPretrain's ViTs.

    Use as a context manager (it hooks ``patch_embed`` while open) and pass the instance as
    pytorch-grad-cam's ``reshape_transform``.

    Args:
        backbone (nn.Module): A ViT-style backbone with a ``patch_embed`` module returning
            ``(tokens, (h, w))``.
    """

    def __init__(self, backbone: nn.Module) -> None:
        if not hasattr(backbone, 'patch_embed'):
            raise TypeError(f'{type(backbone).__name__} has no patch_embed: not a ViT backbone')
        self.patch_embed = backbone.patch_embed
        self.grid: Optional[Tuple[int, int]] = None
        self._handle = None

    def _record_grid(self, module: nn.Module, inputs: tuple, output: tuple) -> None:
        self.grid = tuple(output[1])

    def __enter__(self) -> 'TokensToFeatureMap':
        self._handle = self.patch_embed.register_forward_hook(self._record_grid)
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.remove()
        self._handle = None

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        """Drop the extra tokens and fold the patch tokens into a map.

        Args:
            tokens (torch.Tensor): ``(B, N, C)`` tokens.

        Returns:
            torch.Tensor: ``(B, C, h, w)`` feature map.
        """
        if self.grid is None:
            raise RuntimeError('no patch grid recorded: call the model inside the context')
        return tokens_to_grid(tokens, self.grid)
