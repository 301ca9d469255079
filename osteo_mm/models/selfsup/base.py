"""Shared base of the classification-style pretext tasks."""
from typing import Tuple

import torch
from mmpretrain.models import BaseSelfSupervisor


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
