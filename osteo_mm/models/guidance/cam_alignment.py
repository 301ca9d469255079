"""Attention guidance: differentiable Grad-CAM mass outside the ROI or its mismatch with the ROI's
shape (in the spirit of GAIN)."""
import contextlib
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from osteo_mm.explain.reshape import TokensToFeatureMap
from osteo_mm.explain.targets import default_target_layer_names, is_vit

from .base import BaseGuidance


@MODELS.register_module()
class CAMAlignmentGuidance(BaseGuidance):
    """Penalise the share of the ground-truth class's Grad-CAM magnitude outside the ROI.

    The attention-guidance idea of GAIN (Li et al., CVPR 2018) -- supervise the model's
    attention map with expert masks where they exist -- applied to a differentiable Grad-CAM
    (Selvaraju et al., 2017) of the ground-truth class ``c`` at a target layer with activations
    ``A`` (channels ``k``)::

        alpha_k = mean_ij d log p_c / d A_kij    (create_graph=True)
        cam     = |sum_k alpha_k A_k|
        R(x)    = sum(cam * (1 - m)) / (sum(cam) + eps)

    where ``m`` is the ROI mask area-averaged to the CAM's grid. ``R`` is the fraction of the
    map's mass outside the ROI, in [0, 1], averaged over the images that have an ROI. Two
    departures from the visualisation recipe close escapes that training otherwise finds: the
    target is the log-probability (so evidence cannot be moved to the other classes' scores),
    and the map is not rectified (with the ReLU a model can zero the map instead of moving its
    evidence, which a first shortcut-phantom run did; see docs/benchmarks.md). ViT tokens are
    reshaped to the patch grid (extra tokens dropped).

    ``R`` is already 0 when the map covers a small part of the ROI (on the shoulder phantom:
    the humeral head, not the diaphyseal cortex). Two penalties ask for the ROI's shape instead,
    over the grid cells of the *signed* map ``s = sum_k alpha_k A_k`` (both in [0, 2]; a flat
    or all-zero map scores 1)::

        loss='correlation':  R(x) = 1 - corr(s, m)      (Pearson)
        loss='cosine':       R(x) = 1 - <s, m> / (|s| |m|)

    Correlation is 0 for any increasing affine function of ``m``, including ``m - 10``, which
    is negative everywhere: a map that a visualisation's ReLU then erases (on the shoulder
    phantom the osteoporosis class's maps went that way). Cosine is 0 only for positive
    multiples of ``m``: positive evidence inside the ROI and none outside.

    Config keys:
        - ``type='CAMAlignmentGuidance'``
        - ``weight`` (float): λ. Defaults to 1.0.
        - ``target_layer`` (str, optional): Module name in the classifier whose output is the
          activation map, e.g. ``'backbone.layer4'``; defaults to the CAM default
          (:func:`osteo_mm.explain.targets.default_target_layer_names`: the last ResNet stage,
          ``ln1`` of the last ViT block, whose tokens still reach the class token).
        - ``loss`` (str): ``'outside_mass'``, ``'correlation'`` or ``'cosine'`` (above).
          Defaults to ``'outside_mass'``.
        - ``eps`` (float): Stabiliser of the normalisation. Defaults to 1e-6.

    Args:
        weight: The weight λ. Defaults to 1.0.
        target_layer: Name of the hooked module. Defaults to None (see above).
        loss: Which penalty ``R``. Defaults to ``'outside_mass'``.
        eps: Stabiliser of the normalisation. Defaults to 1e-6.
        init_cfg: Initialisation config. Defaults to None.
    """

    LOSSES = ('outside_mass', 'correlation', 'cosine')

    def __init__(self, weight: float = 1.0, target_layer: Optional[str] = None,
                 loss: str = 'outside_mass', eps: float = 1e-6,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(weight=weight, init_cfg=init_cfg)
        if loss not in self.LOSSES:
            raise ValueError(f'unknown CAM guidance loss {loss!r}; choose from {self.LOSSES}')
        self.target_layer = target_layer
        self.loss = loss
        self.eps = eps

    def penalty(self, classifier: nn.Module, inputs: torch.Tensor,
                data_samples: List[DataSample], roi_masks: torch.Tensor,
                has_roi: torch.Tensor) -> Tuple[tuple, torch.Tensor]:
        """See :meth:`BaseGuidance.penalty`."""
        name = self.target_layer or default_target_layer_names(classifier)[0]
        captured = []
        handle = classifier.get_submodule(name).register_forward_hook(
            lambda module, args, output: captured.append(output))
        reshape = TokensToFeatureMap(classifier.backbone) if is_vit(classifier.backbone) \
            else None
        try:
            with reshape or contextlib.nullcontext():
                feats = classifier.extract_feat(inputs)
        finally:
            handle.remove()
        if len(captured) != 1 or not isinstance(captured[0], torch.Tensor):
            raise ValueError(f'target_layer {name!r} must run once per forward and return one '
                             'tensor.')
        activation = captured[0]
        missing = [i for i, sample in enumerate(data_samples) if 'gt_label' not in sample]
        if missing:
            raise ValueError(f'Grad-CAM guidance needs gt_label; batch indices {missing} lack it.')
        labels = torch.cat([sample.gt_label[:1] for sample in data_samples]).to(inputs.device)
        log_probs = classifier.head(feats).log_softmax(dim=1)
        scores = log_probs.gather(1, labels.view(-1, 1)).squeeze(1)
        grads, = torch.autograd.grad(scores[has_roi].sum(), activation, create_graph=True,
                                     allow_unused=True)
        if grads is None:
            raise ValueError(f'The class scores do not depend on target_layer {name!r}.')
        if activation.dim() == 3:
            if reshape is None:
                raise ValueError(f'target_layer {name!r} returns tokens but the backbone is not '
                                 'a ViT with a patch grid')
            activation, grads = reshape(activation), reshape(grads)
        weights = grads.mean(dim=(2, 3), keepdim=True)
        cam = (weights * activation).sum(dim=1)
        inside = F.adaptive_avg_pool2d(roi_masks, cam.shape[-2:]).squeeze(1)
        if self.loss in ('correlation', 'cosine'):
            cam, inside = cam.flatten(1), inside.flatten(1)
            if self.loss == 'correlation':
                cam = cam - cam.mean(1, keepdim=True)
                inside = inside - inside.mean(1, keepdim=True)
            similarity = (cam * inside).sum(1) / (cam.norm(dim=1) * inside.norm(dim=1)
                                                  + self.eps)
            return feats, (1.0 - similarity)[has_roi].mean()
        cam = cam.abs()
        outside = (cam * (1.0 - inside)).flatten(1).sum(1) / (cam.flatten(1).sum(1) + self.eps)
        return feats, outside[has_roi].mean()
