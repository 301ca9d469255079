"""Shared helpers of the pretext tasks."""
from typing import Any, Tuple

import torch
from mmpretrain.models import BaseSelfSupervisor


def check_batch(inputs: Any) -> torch.Tensor:
    """Return ``inputs`` if it is one stacked image batch, else raise a clear error.

    Args:
        inputs: What the data preprocessor produced.

    Returns:
        Tensor: The batch ``(N, C, H, W)``.

    Raises:
        TypeError: If ``inputs`` is not a 4-D tensor (MMEngine's default ``pseudo_collate``
            yields a list of images).
    """
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4:
        raise TypeError('pretext tasks need one (N, C, H, W) image batch, got '
                        f'{type(inputs).__name__}; set '
                        "train_dataloader.collate_fn=dict(type='default_collate')")
    return inputs


class PretextSelfSupervisor(BaseSelfSupervisor):
    """Base of pretext tasks that classify a self-made label from backbone features.

    Subclasses build the pretext inputs and labels on the batch in ``loss``; features are the
    backbone output, pooled by the optional neck, for a :class:`PretextClsHead`.
    """

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Backbone (and neck) features of a batch.

        Args:
            inputs (Tensor): Images or tiles ``(N, C, H, W)``.

        Returns:
            tuple[Tensor]: Feature vectors for the head.
        """
        feats = self.backbone(inputs)
        return self.neck(feats) if self.with_neck else feats
