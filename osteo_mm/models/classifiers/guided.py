"""Image classifier trained to look where the expert looks."""
from typing import List, Union

import torch
from mmpretrain.models import ImageClassifier, MultiLabelClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..guidance import BaseGuidance, stack_roi_masks


@MODELS.register_module()
class GuidedImageClassifier(ImageClassifier):
    """An :class:`~mmpretrain.models.ImageClassifier` whose loss adds an expert-guidance penalty.

    For the images of a training batch that carry an expert ROI (``has_roi=True`` and a
    ``roi_mask`` in network-input coordinates, as packed by ``PackXrayInputs``), the
    ``guidance`` penalty (e.g. :class:`~osteo_mm.models.guidance.InputGradientGuidance` or
    :class:`~osteo_mm.models.guidance.CAMAlignmentGuidance`) is added as ``loss_guidance``;
    images without ROI train exactly as in the plain classifier. A batch without any ROI skips
    the penalty's extra cost. ``roi_frac`` (share of the batch with an ROI) is logged, not
    optimised. Prediction is unchanged.

    Batch augments (Mixup, CutMix) are refused: they blend images but not their ROI masks.

    Config keys:
        - ``type='GuidedImageClassifier'``
        - ``guidance`` (dict): The penalty, e.g. ``dict(type='InputGradientGuidance',
          weight=1.0)``.
        - ``backbone``, ``neck``, ``head``, ``pretrained``, ``train_cfg``,
          ``data_preprocessor``, ``init_cfg``: as for ``ImageClassifier``.

    Args:
        guidance: Config or instance of a :class:`~osteo_mm.models.guidance.BaseGuidance`.
        **kwargs: The arguments of :class:`~mmpretrain.models.ImageClassifier`.

    Raises:
        ValueError: If batch augments are configured.
        TypeError: If ``guidance`` is not a guidance module, or the head is multi-label.
    """

    def __init__(self, guidance: Union[dict, BaseGuidance], **kwargs) -> None:
        super().__init__(**kwargs)
        if getattr(self.data_preprocessor, 'batch_augments', None) is not None:
            raise ValueError('GuidedImageClassifier cannot use batch augments (Mixup/CutMix): '
                             'they mix images but not their ROI masks. Remove train_cfg.augments.')
        if isinstance(self.head, MultiLabelClsHead):
            raise TypeError('GuidedImageClassifier supports single-label heads only, got '
                            f'{type(self.head).__name__}.')
        if isinstance(guidance, dict):
            guidance = MODELS.build(guidance)
        if not isinstance(guidance, BaseGuidance):
            raise TypeError(f'guidance must be a BaseGuidance, got {type(guidance).__name__}.')
        self.guidance = guidance

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        """Compute the head's losses plus the guidance penalty.

        Args:
            inputs: Preprocessed images (N, C, H, W).
            data_samples: The packed samples, with ``roi_mask``/``has_roi`` where available.

        Returns:
            The head's loss dict plus ``loss_guidance`` (λ x penalty) and ``roi_frac``.
        """
        roi_masks, has_roi = stack_roi_masks(data_samples, inputs.shape[-2:], inputs.device)
        if has_roi.any():
            feats, penalty = self.guidance(self, inputs, data_samples, roi_masks, has_roi)
        else:
            feats, penalty = self.extract_feat(inputs), inputs.new_zeros(())
        losses = self.head.loss(feats, data_samples)
        losses['loss_guidance'] = penalty
        losses['roi_frac'] = has_roi.float().mean()
        return losses
