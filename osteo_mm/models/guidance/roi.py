"""Collect the expert ROI masks of a packed batch into one tensor."""
import logging
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmpretrain.structures import DataSample


def _sample_name(sample: DataSample, index: int) -> str:
    """Name a sample in error messages by its ``img_id``, else by its batch index."""
    img_id = sample.get('img_id')
    return f'img_id={img_id!r}' if img_id is not None else f'batch index {index}'


def stack_roi_masks(data_samples: Sequence[DataSample],
                    input_size: Tuple[int, int],
                    device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Stack the ``roi_mask`` fields of a batch into network-input-sized masks.

    Follows the packed-sample convention (``docs/conventions.md``): a sample with an expert ROI
    carries ``has_roi=True`` and a ``roi_mask`` (H x W, non-zero = ROI) in network-input
    coordinates; a sample without one has ``has_roi=False`` (or no such field) and no mask.
    Masks smaller than the batch are zero-padded at the bottom/right, as MMPretrain's
    ``stack_batch`` pads the images. A mask that is empty after augmentation (the ROI was cropped
    away) cannot guide anything: the sample is treated as unannotated and a warning names it.

    Args:
        data_samples: The packed samples of one batch.
        input_size: ``(H, W)`` of the batched network input.
        device: Device of the returned tensors.

    Returns:
        ``(masks, has_roi)``: float masks of shape (N, 1, H, W) with values in {0, 1} (all zero
        for samples without ROI) and a bool tensor (N,) marking the samples with a usable ROI.

    Raises:
        ValueError: If ``has_roi`` and ``roi_mask`` disagree, or a mask is not 2-D, differs from
            the sample's ``img_shape`` or is larger than the network input.
    """
    height, width = input_size
    masks: List[torch.Tensor] = []
    has_roi: List[bool] = []
    for index, sample in enumerate(data_samples):
        mask = sample.get('roi_mask')
        flag = bool(sample.get('has_roi', mask is not None))
        name = _sample_name(sample, index)
        if flag != (mask is not None):
            raise ValueError(f'{name}: has_roi={flag} but roi_mask is '
                             f'{"missing" if mask is None else "present"}; '
                             'PackXrayInputs sets both together.')
        if mask is None:
            masks.append(torch.zeros(height, width, device=device))
            has_roi.append(False)
            continue
        mask = torch.as_tensor(mask, device=device)
        if mask.dim() != 2:
            raise ValueError(f'{name}: roi_mask must be H x W, got shape {tuple(mask.shape)}.')
        img_shape = sample.get('img_shape')
        if img_shape is not None and tuple(mask.shape) != tuple(img_shape[:2]):
            raise ValueError(f'{name}: roi_mask shape {tuple(mask.shape)} differs from img_shape '
                             f'{tuple(img_shape[:2])}; geometric transforms must move the mask.')
        if mask.shape[0] > height or mask.shape[1] > width:
            raise ValueError(f'{name}: roi_mask shape {tuple(mask.shape)} is larger than the '
                             f'network input {(height, width)}.')
        mask = (mask > 0).float()
        if not mask.any():
            print_log(f'{name}: roi_mask is empty (ROI cropped away?); trained without guidance.',
                      logger='current', level=logging.WARNING)
            flag = False
        masks.append(F.pad(mask, (0, width - mask.shape[1], 0, height - mask.shape[0])))
        has_roi.append(flag)
    roi = torch.stack(masks).unsqueeze(1) * torch.tensor(has_roi, device=device).view(-1, 1, 1, 1)
    return roi, torch.tensor(has_roi, dtype=torch.bool, device=device)
