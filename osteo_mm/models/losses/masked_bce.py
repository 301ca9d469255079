"""Multi-label binary cross-entropy that skips CheXpert U-Ignore targets."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS
from torch import nn

from osteo_mm.datasets.labels import CHEXPERT_IGNORE


@MODELS.register_module()
class MaskedBCELoss(nn.Module):
    """Sigmoid binary cross-entropy over the targets that are not ``ignore_value``.

    MMPretrain's ``CrossEntropyLoss(use_sigmoid=True)`` would treat a U-Ignore target of -1 as a
    (negative-weighted) label; this loss zeroes those cells instead, as the CheXpert U-Ignore
    policy prescribes. Reduction follows MMPretrain's losses: with ``MultiLabelClsHead``'s
    ``avg_factor`` (the batch size) it sums over labels and averages over images, so without
    ignored cells it equals ``CrossEntropyLoss(use_sigmoid=True)``; without ``avg_factor``,
    ``'mean'`` averages over the kept cells.

    Config keys:
        ignore_value (float): Target value to skip. Defaults to -1 (U-Ignore).
        pos_weight (list[float], optional): Per-label weight of positive targets.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``. Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, ignore_value: float = CHEXPERT_IGNORE, pos_weight: Optional[list] = None,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        self.ignore_value = ignore_value
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.register_buffer('pos_weight', None if pos_weight is None else
                             torch.tensor(pos_weight, dtype=torch.float), persistent=False)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor,
                weight: Optional[torch.Tensor] = None, avg_factor: Optional[int] = None,
                reduction_override: Optional[str] = None, **kwargs) -> torch.Tensor:
        """Compute the masked loss.

        Args:
            cls_score (torch.Tensor): Logits, shape (N, L).
            label (torch.Tensor): Targets in {0, 1, ``ignore_value``}, shape (N, L).
            weight (torch.Tensor, optional): Per-image weight, shape (N,).
            avg_factor (int, optional): Normaliser of the summed loss.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            torch.Tensor: The loss.
        """
        keep = (label != self.ignore_value).float()
        loss = F.binary_cross_entropy_with_logits(
            cls_score, label.float().clamp(min=0), pos_weight=self.pos_weight,
            reduction='none') * keep
        if weight is not None:
            weight = weight.float().reshape(-1, 1)
        reduction = reduction_override or self.reduction
        if reduction == 'mean' and avg_factor is None:
            avg_factor = keep.sum().clamp(min=1)  # mean over the kept cells
        return self.loss_weight * weight_reduce_loss(
            loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
