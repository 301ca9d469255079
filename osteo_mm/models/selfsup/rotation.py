"""Rotation prediction pretext task."""
from typing import Dict, List, Optional, Tuple

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .base import PretextSelfSupervisor, check_batch


def rotate_batch(inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Stack every image of a batch rotated by 0, 90, 180 and 270 degrees.

    Args:
        inputs (Tensor): Square images ``(N, C, S, S)``.

    Returns:
        tuple[Tensor, Tensor]: Rotated images ``(4N, C, S, S)``, ordered rotation-major
        (all images at 0 degrees, then all at 90, ...), and labels ``(4N, )``: label ``k``
        means ``torch.rot90(image, k, dims=(2, 3))`` (``k * 90`` degrees counter-clockwise).

    Raises:
        ValueError: If the images are not square.
    """
    if inputs.shape[-1] != inputs.shape[-2]:
        raise ValueError('rotation prediction needs square inputs so that all four rotations '
                         f'batch together, got {tuple(inputs.shape[-2:])} (crop or resize to '
                         'a square in the pipeline)')
    rotated = torch.cat([torch.rot90(inputs, k, dims=(2, 3)) for k in range(4)])
    labels = torch.arange(4, device=inputs.device).repeat_interleave(inputs.shape[0])
    return rotated, labels


@MODELS.register_module()
class RotationPrediction(PretextSelfSupervisor):
    """Predict which of four rotations was applied to an image.

    Implementation of `Unsupervised Representation Learning by Predicting Image Rotations
    <https://arxiv.org/abs/1803.07728>`_ (Gidaris et al., ICLR 2018): every image of the batch
    is shown at 0/90/180/270 degrees at once and the network classifies the rotation.

    Config keys:
        backbone (dict): Backbone, e.g. ``ResNet`` or ``VisionTransformer`` with
            ``out_type='cls_token'``; its weights are what transfers.
        neck (dict, optional): Pools the backbone output to vectors
            (``GlobalAveragePooling`` for a ResNet, ``None`` for a ViT).
        head (dict): :class:`PretextClsHead` with ``num_classes=4``.
        data_preprocessor (dict, optional): Defaults to ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def loss(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Rotate the batch four ways and classify the rotation.

        Args:
            inputs (Tensor): Square images ``(N, C, S, S)``.
            data_samples (list[DataSample], optional): Unused (labels are self-made).

        Returns:
            dict[str, Tensor]: ``loss`` and ``acc_pretext``.
        """
        inputs = check_batch(inputs)
        rotated, labels = rotate_batch(inputs)
        return self.head.loss(self.extract_feat(rotated), labels)
