"""Relative-location (context prediction) pretext task."""
from typing import Dict, List, Optional, Tuple

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .base import PretextSelfSupervisor, check_batch
from .patch_grid import extract_grid_patches, normalize_patches

#: Index of the centre tile in the row-major 3x3 grid.
CENTRE = 4


@MODELS.register_module()
class RelativeLocation(PretextSelfSupervisor):
    """Predict where a tile lies relative to the centre tile of a 3x3 grid.

    Implementation of `Unsupervised Visual Representation Learning by Context Prediction
    <https://arxiv.org/abs/1505.05192>`_ (Doersch et al., ICCV 2015). For every image a 3x3
    tile grid is cut with a gap and random jitter (and optional per-tile normalisation, see
    :mod:`.patch_grid`); the pair (centre tile, one random neighbour) passes the shared
    backbone and the head classifies the neighbour's position among 8. Label ``k`` is the
    row-major grid index of the neighbour, skipping the centre:
    ``0 1 2 / 3 . 4 / 5 6 7``.

    Config keys:
        backbone (dict): Backbone applied to every tile.
        neck (dict, optional): Pools backbone output to vectors (``GlobalAveragePooling``).
        head (dict): :class:`PretextClsHead` with ``num_classes=8`` and ``num_patches=2``.
        patch_size (int): Tile side in pixels. Defaults to 64.
        gap (int): Nominal gap between tiles in pixels (Doersch et al. use half a tile).
            Defaults to 32.
        jitter (int): Maximum random tile shift in pixels. Defaults to 7.
        normalize_tiles (bool): Normalise every tile on its own. Defaults to True.
        data_preprocessor (dict, optional): Defaults to ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = None,
                 patch_size: int = 64,
                 gap: int = 32,
                 jitter: int = 7,
                 normalize_tiles: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.patch_size = patch_size
        self.gap = gap
        self.jitter = jitter
        self.normalize_tiles = normalize_tiles

    def make_pairs(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Cut one (centre, neighbour) tile pair per image.

        Args:
            inputs (Tensor): Images ``(N, C, H, W)``.

        Returns:
            tuple[Tensor, Tensor]: Pairs ``(N, 2, C, p, p)`` (centre first) and labels
            ``(N, )`` in ``[0, 8)``.
        """
        tiles, _ = extract_grid_patches(inputs, 3, self.patch_size, self.gap, self.jitter)
        labels = torch.randint(8, (inputs.shape[0], ), device=inputs.device)
        neighbour = labels + (labels >= CENTRE).long()
        batch = torch.arange(inputs.shape[0], device=inputs.device)
        pairs = torch.stack([tiles[:, CENTRE], tiles[batch, neighbour]], dim=1)
        return (normalize_patches(pairs) if self.normalize_tiles else pairs), labels

    def loss(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Classify the relative position of one tile pair per image.

        Args:
            inputs (Tensor): Images ``(N, C, H, W)``.
            data_samples (list[DataSample], optional): Unused (labels are self-made).

        Returns:
            dict[str, Tensor]: ``loss`` and ``acc_pretext``.
        """
        inputs = check_batch(inputs)
        pairs, labels = self.make_pairs(inputs)
        return self.head.loss(self.extract_feat(pairs.flatten(0, 1)), labels)
