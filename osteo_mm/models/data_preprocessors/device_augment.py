"""Batched random-resized-crop and flip on the device, for self-supervised recipes.

The loader workers then only slice films out of the array cache
(``LoadXrayFromArrayCache(letterbox=True, channels=1)`` -> ``PackXrayInputs``), and the
augmentation that made CPU workers the bottleneck runs as one ``grid_sample`` per batch.
Written here because MMPretrain's batch augments (Mixup, CutMix) have no geometric crop, and
the crops must stay inside each film's valid (non-letterbox) region and keep
``transform_matrix`` exact, which general GPU augmentation libraries do not know about.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS


def sample_crops(valid_hw: torch.Tensor, scale: Sequence[float], ratio: Sequence[float],
                 attempts: int = 10) -> torch.Tensor:
    """Random-resized-crop boxes (x0, y0, w, h) in pixel-edge units, one per sample.

    Like torchvision's ``RandomResizedCrop.get_params`` (area fraction in ``scale``, aspect
    ratio log-uniform in ``ratio``, up to ``attempts`` tries, then the largest centred crop of
    an in-range aspect ratio), but vectorised and with sub-pixel boxes.

    Args:
        valid_hw (torch.Tensor): (N, 2) float heights and widths of the films.
        scale (Sequence[float]): Range of the crop area relative to the film.
        ratio (Sequence[float]): Range of crop width / height.
        attempts (int): Tries per sample. Defaults to 10.

    Returns:
        torch.Tensor: (N, 4) float boxes.
    """
    n = len(valid_hw)
    h, w = valid_hw[:, 0:1], valid_hw[:, 1:2]
    dev = valid_hw.device
    area = h * w * torch.empty(n, attempts, device=dev).uniform_(*scale)
    log_r = torch.empty(n, attempts, device=dev).uniform_(math.log(ratio[0]), math.log(ratio[1]))
    aspect = torch.exp(log_r)
    cw, ch = torch.sqrt(area * aspect), torch.sqrt(area / aspect)
    ok = (cw <= w) & (ch <= h)
    first = torch.where(ok.any(1), ok.float().argmax(1), torch.full((n, ), -1, device=dev))
    fb_aspect = torch.clamp(w / h, ratio[0], ratio[1])[:, 0]
    fb_w = torch.where(w[:, 0] / h[:, 0] < fb_aspect, w[:, 0], h[:, 0] * fb_aspect)
    fb_h = torch.where(w[:, 0] / h[:, 0] < fb_aspect, w[:, 0] / fb_aspect, h[:, 0])
    pick = first.clamp(min=0)[:, None]
    bw = torch.where(first >= 0, cw.gather(1, pick)[:, 0], fb_w)
    bh = torch.where(first >= 0, ch.gather(1, pick)[:, 0], fb_h)
    u = torch.rand(n, 2, device=dev)
    x0 = torch.where(first >= 0, u[:, 0] * (w[:, 0] - bw), (w[:, 0] - bw) / 2)
    y0 = torch.where(first >= 0, u[:, 1] * (h[:, 0] - bh), (h[:, 0] - bh) / 2)
    return torch.stack([x0, y0, bw, bh], 1)


def crop_resize_flip(images: torch.Tensor, boxes: torch.Tensor, flips: torch.Tensor,
                     size: int, mode: str = 'bilinear') -> torch.Tensor:
    """Crop ``boxes`` out of ``images``, resize them to ``size`` and flip, in one grid_sample.

    Args:
        images (torch.Tensor): (N, C, H, W) float.
        boxes (torch.Tensor): (N, 4) x0, y0, w, h in pixel-edge units.
        flips (torch.Tensor): (N, ) bool, horizontal flip.
        size (int): Output side.
        mode (str): ``grid_sample`` interpolation. Defaults to 'bilinear'.

    Returns:
        torch.Tensor: (N, C, size, size).
    """
    n, _, height, width = images.shape
    x0, y0, bw, bh = boxes.unbind(1)
    sign = 1.0 - 2.0 * flips.to(images.dtype)
    theta = torch.zeros(n, 2, 3, device=images.device, dtype=images.dtype)
    theta[:, 0, 0] = bw / width * sign
    theta[:, 0, 2] = (2 * x0 + bw) / width - 1
    theta[:, 1, 1] = bh / height
    theta[:, 1, 2] = (2 * y0 + bh) / height - 1
    grid = F.affine_grid(theta, (n, images.shape[1], size, size), align_corners=False)
    return F.grid_sample(images, grid, mode=mode, padding_mode='border', align_corners=False)


def crop_matrix(box: Sequence[float], flip: bool, size: int) -> np.ndarray:
    """The pixel-centre matrix of one crop + resize + flip (``XrayRandomResizedCrop``'s math).

    Args:
        box (Sequence[float]): x0, y0, w, h in pixel-edge units.
        flip (bool): Horizontal flip.
        size (int): Output side.

    Returns:
        np.ndarray: 3x3 float64 matrix from slot pixels to output pixels.
    """
    x0, y0, bw, bh = (float(v) for v in box)
    sx, sy = size / bw, size / bh
    matrix = np.array([[sx, 0, sx * (0.5 - x0) - 0.5], [0, sy, sy * (0.5 - y0) - 0.5],
                       [0, 0, 1]])
    if flip:
        matrix = np.array([[-1.0, 0, size - 1], [0, 1, 0], [0, 0, 1]]) @ matrix
    return matrix


@MODELS.register_module()
class XrayDeviceAugPreprocessor(SelfSupDataPreprocessor):
    """``SelfSupDataPreprocessor`` that random-resized-crops and flips the batch on the device.

    Expects stacked letterboxed slots (``default_collate`` of ``LoadXrayFromArrayCache(
    letterbox=True)`` samples, 1 or 3 channels, uint8) whose data samples carry
    ``valid_shape``; crops never leave a film's valid region. Gray inputs are repeated to
    ``channels`` on the device. Each data sample's ``transform_matrix`` and ``img_shape`` are
    updated, so maps still return to original pixels. In eval mode (``training=False``) the
    whole valid region is resized to ``crop_size`` without flipping.

    Args:
        crop_size (int): Output side. Defaults to 224.
        scale (Sequence[float]): Crop area range (fraction of the film). Defaults to
            (0.5, 1.0).
        ratio (Sequence[float]): Crop aspect-ratio range. Defaults to (3/4, 4/3).
        flip_prob (float): Horizontal-flip probability. Defaults to 0.5.
        channels (int): Output channels (gray repeated). Defaults to 3.
        interpolation (str): 'bilinear' or 'bicubic'. Defaults to 'bilinear'.
        channels_last (bool): Return a channels-last tensor (faster convolutions with
            AMP). Defaults to False.
        **kwargs: ``mean``, ``std``, ... of ``SelfSupDataPreprocessor``.
    """

    def __init__(self,
                 crop_size: int = 224,
                 scale: Sequence[float] = (0.5, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 flip_prob: float = 0.5,
                 channels: int = 3,
                 interpolation: str = 'bilinear',
                 channels_last: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0 < scale[0] <= scale[1] <= 1 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'invalid scale {scale} or ratio {ratio}')
        self.crop_size = crop_size
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.flip_prob = flip_prob
        self.channels = channels
        self.interpolation = interpolation
        self.channels_last = channels_last

    def forward(self, data: dict, training: bool = False) -> dict:
        """Move to the device, augment, repeat gray channels and normalise.

        Args:
            data (dict): ``inputs`` (N, C, S, S) and ``data_samples`` from default_collate.
            training (bool): Random crops and flips when True.

        Returns:
            dict: ``inputs`` (N, channels, crop, crop) float and ``data_samples``.
        """
        data = self.cast_data(data)
        inputs, samples = data['inputs'], data.get('data_samples')
        if isinstance(inputs, list):
            inputs = torch.stack(inputs)
        n, _, height, width = inputs.shape
        valid = [s.metainfo.get('valid_shape', (height, width)) for s in samples] \
            if samples else [(height, width)] * n
        valid_hw = torch.tensor(valid, dtype=torch.float32, device=inputs.device)
        if training:
            boxes = sample_crops(valid_hw, self.scale, self.ratio)
            flips = torch.rand(n, device=inputs.device) < self.flip_prob
        else:
            boxes = torch.cat([torch.zeros_like(valid_hw), valid_hw.flip(1)], 1)
            flips = torch.zeros(n, dtype=torch.bool, device=inputs.device)
        out = crop_resize_flip(inputs.float(), boxes, flips, self.crop_size, self.interpolation)
        if out.shape[1] == 1 and self.channels == 3:
            out = out.expand(-1, 3, -1, -1)
        if self._enable_normalize:
            out = (out - self.mean) / self.std
        if self.channels_last:
            out = out.contiguous(memory_format=torch.channels_last)
        if samples:
            boxes_np, flips_np = boxes.cpu().numpy(), flips.cpu().numpy()
            for sample, box, flip in zip(samples, boxes_np, flips_np):
                matrix = crop_matrix(box, bool(flip), self.crop_size)
                sample.set_metainfo(dict(
                    transform_matrix=matrix @ sample.metainfo.get('transform_matrix', np.eye(3)),
                    img_shape=(self.crop_size, self.crop_size), flip=bool(flip)))
        return {'inputs': out, 'data_samples': samples}
