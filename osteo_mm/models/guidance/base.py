"""Base class of the expert-guidance penalties."""
from abc import ABCMeta, abstractmethod
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample
from torch.nn.attention import SDPBackend, sdpa_kernel


class BaseGuidance(BaseModule, metaclass=ABCMeta):
    """A penalty on the evidence a classifier finds outside the expert ROI.

    Subclasses implement :meth:`penalty`, which runs the classifier's feature extraction itself
    (each penalty needs something different from that forward pass: input gradients or a
    captured activation map) and returns the features for the classification head together with
    the mean penalty over the images that have an ROI. Images without ROI contribute exactly zero.

    Args:
        weight: The weight λ of the penalty in the total loss. Defaults to 1.0.
        init_cfg: Initialisation config of :class:`mmengine.model.BaseModule`. Defaults to None.
    """

    def __init__(self, weight: float = 1.0, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if weight < 0:
            raise ValueError(f'guidance weight must be >= 0, got {weight}.')
        self.weight = float(weight)

    def forward(self, classifier: nn.Module, inputs: torch.Tensor,
                data_samples: List[DataSample], roi_masks: torch.Tensor,
                has_roi: torch.Tensor) -> Tuple[tuple, torch.Tensor]:
        """Extract features and compute the weighted penalty.

        Args:
            classifier: The :class:`~mmpretrain.models.ImageClassifier` being trained.
            inputs: Preprocessed images (N, C, H, W).
            data_samples: The packed samples of the batch.
            roi_masks: Float masks (N, 1, H, W), 1 inside the ROI, all 0 without ROI.
            has_roi: Bool (N,), True for samples with a usable ROI; at least one is True.

        Returns:
            ``(feats, loss)``: the classifier's ``extract_feat`` output and λ times the penalty.
        """
        # The penalties differentiate a gradient (double backward); PyTorch's fused
        # scaled-dot-product-attention kernels (used by ViTs) cannot, the math kernel can.
        with sdpa_kernel(SDPBackend.MATH):
            feats, penalty = self.penalty(classifier, inputs, data_samples, roi_masks, has_roi)
        return feats, self.weight * penalty

    @abstractmethod
    def penalty(self, classifier: nn.Module, inputs: torch.Tensor,
                data_samples: List[DataSample], roi_masks: torch.Tensor,
                has_roi: torch.Tensor) -> Tuple[tuple, torch.Tensor]:
        """Return ``(feats, penalty)``, the unweighted penalty averaged over ROI images.

        Args:
            classifier: See :meth:`forward`.
            inputs: See :meth:`forward`.
            data_samples: See :meth:`forward`.
            roi_masks: See :meth:`forward`.
            has_roi: See :meth:`forward`.

        Returns:
            ``(feats, penalty)``: the ``extract_feat`` output and a scalar tensor.
        """
