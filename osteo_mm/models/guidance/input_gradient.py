"""Input-gradient guidance: "Right for the Right Reasons" (Ross et al., IJCAI 2017)."""
from typing import List, Tuple

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .base import BaseGuidance


@MODELS.register_module()
class InputGradientGuidance(BaseGuidance):
    """Penalise input gradients of the log-probabilities outside the expert ROI.

    The "right reasons" term of Ross, Hughes & Doshi-Velez (2017): for an image ``x`` with
    annotation ``A`` (1 where the model should *not* look, here the complement of the ROI),

    .. math:: R(x) = \\sum_d \\Big(A_d \\, \\frac{\\partial}{\\partial x_d}
              \\sum_k \\log \\hat p_k(x)\\Big)^2,

    summed over all input elements ``d`` (channels and pixels of the preprocessed input) and
    averaged over the images of the batch that have an ROI. The gradient is built with
    ``create_graph=True`` so that the penalty trains the whole network. Probabilities are the
    softmax of the head's scores (single-label heads). With batch normalisation in training mode
    the gradient of one image's log-probabilities also reaches the other images of the batch
    through the batch statistics; only the gradient on ROI images is penalised.

    Config keys:
        - ``type='InputGradientGuidance'``
        - ``weight`` (float): λ. Ross et al. choose it so that both loss terms have the same
          order of magnitude. Defaults to 1.0.

    Args:
        weight: The weight λ of the penalty. Defaults to 1.0.
        init_cfg: Initialisation config. Defaults to None.
    """

    def penalty(self, classifier: nn.Module, inputs: torch.Tensor,
                data_samples: List[DataSample], roi_masks: torch.Tensor,
                has_roi: torch.Tensor) -> Tuple[tuple, torch.Tensor]:
        """See :meth:`BaseGuidance.penalty`."""
        inputs = inputs.detach().requires_grad_(True)
        feats = classifier.extract_feat(inputs)
        log_probs = classifier.head(feats).log_softmax(dim=1)
        grads, = torch.autograd.grad(log_probs[has_roi].sum(), inputs, create_graph=True)
        outside = (1.0 - roi_masks) * has_roi.view(-1, 1, 1, 1)
        per_image = (outside * grads).pow(2).flatten(1).sum(dim=1)
        return feats, per_image.sum() / has_roi.sum()
