"""Analytic classifiers for the attribution and intervention tests (a helper module).

:class:`BoxGateNet` is a registered backbone of 1x1 convolutions followed by a fixed box gate,
so an ``ImageClassifier`` built on it (global average pooling, linear head) has outputs that
depend on the pixels inside the box and on nothing else: the ground truth every attribution
method and the ROI intervention are checked against.
"""
from typing import Tuple

import numpy as np
import torch
from mmengine.model import BaseModule
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from torch import nn

import osteo_mm  # noqa: F401  (registers the osteo_mm modules)


class BoxGate(nn.Module):
    """Multiply a feature map by a fixed 0/1 box (``y0, x0, y1, x1``, end-exclusive)."""

    def __init__(self, box: Tuple[int, int, int, int]) -> None:
        super().__init__()
        self.box = tuple(int(v) for v in box)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y0, x0, y1, x1 = self.box
        gate = torch.zeros(x.shape[-2:], dtype=x.dtype, device=x.device)
        gate[y0:y1, x0:x1] = 1
        return x * gate


@MODELS.register_module(force=True)
class BoxGateNet(BaseModule):
    """1x1 conv, ReLU, 1x1 conv (pixel-wise), then the box gate; full resolution throughout.

    ``stages[-1]`` (the gated map) is the default CAM target layer of MMPretrain-style
    backbones with ``stages``.
    """

    def __init__(self, box: Tuple[int, int, int, int], in_channels: int = 3,
                 channels: int = 8) -> None:
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(nn.Conv2d(in_channels, channels, 1), nn.ReLU(),
                          nn.Conv2d(channels, channels, 1)),
            BoxGate(box),
        ])

    def forward(self, x: torch.Tensor) -> tuple:
        for stage in self.stages:
            x = stage(x)
        return (x, )


def box_classifier(box=(8, 10, 18, 22), num_classes: int = 2, seed: int = 0) -> nn.Module:
    """An ``ImageClassifier`` on :class:`BoxGateNet` with seeded random weights, eval mode."""
    init_default_scope('mmpretrain')
    torch.manual_seed(seed)
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='BoxGateNet', box=box),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=8),
    )).eval()


def box_mask(box, shape) -> np.ndarray:
    """The box as an ``(H, W)`` bool mask."""
    y0, x0, y1, x1 = box
    mask = np.zeros(shape, bool)
    mask[y0:y1, x0:x1] = True
    return mask


def mass_inside(maps: np.ndarray, box, margin: int = 0) -> np.ndarray:
    """Share of each map's mass inside the box grown by ``margin`` pixels (NaN for 0 mass)."""
    y0, x0, y1, x1 = box
    grown = box_mask((max(y0 - margin, 0), max(x0 - margin, 0), y1 + margin, x1 + margin),
                     maps.shape[-2:])
    maps = np.abs(np.asarray(maps, np.float64))
    total = maps.sum(axis=(1, 2))
    with np.errstate(invalid='ignore', divide='ignore'):
        return (maps * grown).sum(axis=(1, 2)) / total


def box_vit(box_patches=(2, 2, 5, 5), patch: int = 8, size: int = 64, seed: int = 0,
            gate: float = 100.0, sharpness: float = 6.0) -> nn.Module:
    """A 2-block ViT whose class token sees only the patches inside a box of the patch grid.

    Channel 0 of the residual stream is a fixed gate, ``+gate`` on the class token and the box's
    patch tokens and ``-gate`` elsewhere (position embedding; the patch projection, attention
    output and MLP output never write it). Queries and keys read only that channel, scaled by
    ``sharpness``, so each token attends to the tokens of its own sign with logits ~500 above
    the rest: attention from the class token or a box token to any other token underflows to
    exactly 0. The class token (read by the head) therefore depends on the box's pixels only.

    Args:
        box_patches (tuple): ``(r0, c0, r1, c1)`` end-exclusive box on the patch grid.
        patch (int): Patch size in pixels. Defaults to 8.
        size (int): Input side in pixels. Defaults to 64.
        seed (int): Seed of the random weights. Defaults to 0.
        gate (float): Magnitude of the gate channel. Defaults to 100.
        sharpness (float): Query/key weight on the gate channel. Defaults to 6.

    Returns:
        nn.Module: ``ImageClassifier`` in eval mode; its pixel box is ``patch * box_patches``.
    """
    init_default_scope('mmpretrain')
    torch.manual_seed(seed)
    dims, heads = 16, 2
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', img_size=size, patch_size=patch,
                      arch=dict(embed_dims=dims, num_layers=2, num_heads=heads,
                                feedforward_channels=32)),
        head=dict(type='VisionTransformerClsHead', num_classes=2, in_channels=dims),
    )).eval()
    backbone = model.backbone
    grid = size // patch
    r0, c0, r1, c1 = box_patches
    inside = torch.zeros(grid, grid, dtype=torch.bool)
    inside[r0:r1, c0:c1] = True
    with torch.no_grad():
        proj = backbone.patch_embed.projection
        proj.weight.normal_(0, 0.3)
        proj.weight[0] = 0
        proj.bias[0] = 0
        backbone.pos_embed.zero_()
        backbone.pos_embed[0, 0, 0] = gate
        backbone.pos_embed[0, 1:, 0] = torch.where(inside.flatten(), gate, -gate)
        backbone.cls_token[0, 0, 0] = 0
        head_dims = dims // heads
        for layer in backbone.layers:
            qkv = layer.attn.qkv
            qkv.weight[:2 * dims] = 0
            qkv.bias[:2 * dims] = 0
            for h in range(heads):
                qkv.weight[h * head_dims, 0] = sharpness  # query, gate channel only
                qkv.weight[dims + h * head_dims, 0] = sharpness  # key, gate channel only
            layer.attn.proj.weight[0] = 0
            layer.attn.proj.bias[0] = 0
            layer.ffn.layers[1].weight[0] = 0
            layer.ffn.layers[1].bias[0] = 0
    return model
