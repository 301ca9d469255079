"""Jigsaw-puzzle pretext task."""
from typing import Dict, List, Optional, Tuple

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .base import PretextSelfSupervisor, check_batch
from .patch_grid import extract_grid_patches, maximal_hamming_permutations, normalize_patches


@MODELS.register_module()
class JigsawPuzzle(PretextSelfSupervisor):
    """Recognise which permutation shuffled a grid of tiles.

    Implementation of `Unsupervised Learning of Visual Representations by Solving Jigsaw
    Puzzles <https://arxiv.org/abs/1603.09246>`_ (Noroozi & Favaro, ECCV 2016). Every image is
    cut into ``grid x grid`` tiles (with gap, jitter and per-tile normalisation against
    trivial shortcuts, see :mod:`.patch_grid`), the tiles are reordered by one of
    ``num_permutations`` fixed permutations of maximal Hamming distance, each tile passes the
    shared backbone, and the head classifies the permutation index from the concatenated tile
    features. The permutation set is stored in the checkpoint as buffer ``permutations``.

    Config keys:
        backbone (dict): Backbone applied to every tile (``ResNet``, or ``VisionTransformer``
            with ``out_type='cls_token'`` and ``img_size`` = ``patch_size``).
        neck (dict, optional): Pools backbone output to vectors (``GlobalAveragePooling``).
        head (dict): :class:`PretextClsHead` with ``num_classes=num_permutations`` and
            ``num_patches=grid ** 2``.
        grid (int): Tiles per side. Defaults to 3.
        patch_size (int): Tile side in pixels. Defaults to 64.
        gap (int): Nominal gap between tiles in pixels. Defaults to 16.
        jitter (int): Maximum random tile shift in pixels. Defaults to 5.
        num_permutations (int): Size of the permutation set. Defaults to 100.
        permutation_seed (int): Seed of the permutation set. Defaults to 0.
        normalize_tiles (bool): Normalise every tile on its own. Defaults to True.
        data_preprocessor (dict, optional): Defaults to ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = None,
                 grid: int = 3,
                 patch_size: int = 64,
                 gap: int = 16,
                 jitter: int = 5,
                 num_permutations: int = 100,
                 permutation_seed: int = 0,
                 normalize_tiles: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.grid = grid
        self.patch_size = patch_size
        self.gap = gap
        self.jitter = jitter
        self.normalize_tiles = normalize_tiles
        perms = maximal_hamming_permutations(grid * grid, num_permutations, permutation_seed)
        self.register_buffer('permutations', torch.from_numpy(perms))

    def make_puzzles(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Cut, shuffle and normalise the tiles of every image.

        Args:
            inputs (Tensor): Images ``(N, C, H, W)``.

        Returns:
            tuple[Tensor, Tensor]: Tiles ``(N, grid ** 2, C, p, p)`` where position ``i`` holds
            original tile ``permutations[label][i]``, and labels ``(N, )``.
        """
        tiles, _ = extract_grid_patches(inputs, self.grid, self.patch_size, self.gap,
                                        self.jitter)
        labels = torch.randint(len(self.permutations), (inputs.shape[0], ),
                               device=inputs.device)
        order = self.permutations[labels][..., None, None, None].expand_as(tiles)
        tiles = tiles.gather(1, order)
        return (normalize_patches(tiles) if self.normalize_tiles else tiles), labels

    def loss(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Solve one puzzle per image.

        Args:
            inputs (Tensor): Images ``(N, C, H, W)``.
            data_samples (list[DataSample], optional): Unused (labels are self-made).

        Returns:
            dict[str, Tensor]: ``loss`` and ``acc_pretext``.
        """
        inputs = check_batch(inputs)
        tiles, labels = self.make_puzzles(inputs)
        return self.head.loss(self.extract_feat(tiles.flatten(0, 1)), labels)
