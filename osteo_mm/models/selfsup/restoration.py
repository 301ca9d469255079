"""Models-Genesis-style image restoration pretext task."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from .base import check_batch
from .genesis_ops import bezier_intensity, local_pixel_shuffle, paint


@MODELS.register_module()
class ModelsGenesis(BaseSelfSupervisor):
    """Restore images corrupted by intensity, shuffling and painting transforms.

    Implementation of `Models Genesis: Generic Autodidactic Models for 3D Medical Image
    Analysis <https://arxiv.org/abs/1908.06912>`_ (Zhou et al., MICCAI 2019) for 2-D X-rays:
    each image is locally pixel-shuffled, passed through a random Bezier intensity curve and
    in- or out-painted with noise (each with its own probability, see :mod:`.genesis_ops`);
    the encoder-decoder reconstructs the original image under an L2 loss. Corruptions act on
    every channel of an image rescaled to ``[0, 1]`` by its own minimum and maximum and are
    mapped back, so the network sees inputs in the data preprocessor's normalisation, as in
    fine-tuning (and a grey image normalised per channel stays grey).

    A backbone with one output (a ViT with ``out_type='featmap'``: the patch-token map) feeds
    the neck that map, e.g. ``SimMIMLinearDecoder``; a backbone with several outputs (a
    ResNet with ``out_indices=(0, 1, 2, 3)``) feeds them deepest first, the skip-connection
    order of the light U-Net decoder ``SparKLightDecoder``. As in MMPretrain's ``SparK``,
    ``encoder_channels`` adds 1x1 projections from the stages to the decoder widths
    (``feature_dim // 2**i``) so a wide encoder such as ResNet-50 keeps a light decoder.

    Config keys:
        backbone (dict): Encoder whose weights transfer.
        neck (dict): Decoder producing an image of the input's shape.
        head (dict): ``MIMHead`` with ``PixelReconstructionLoss(criterion='L2')``.
        encoder_channels (Sequence[int], optional): Channels of the backbone outputs,
            deepest first, to project to the decoder widths. Defaults to None (no projection).
        nonlinear_prob (float): Probability of the Bezier intensity transform. Defaults to 0.9.
        shuffle_prob (float): Probability of local pixel shuffling. Defaults to 0.5.
        shuffle_block_size (int): Shuffling window side in pixels. Defaults to 8.
        shuffle_fraction (float): Share of windows shuffled. Defaults to 0.5.
        paint_prob (float): Probability of in-/out-painting. Defaults to 0.9.
        inpaint_prob (float): Share of in-painting among painted images. Defaults to 0.2.
        data_preprocessor (dict, optional): Defaults to ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 encoder_channels: Optional[Sequence[int]] = None,
                 nonlinear_prob: float = 0.9,
                 shuffle_prob: float = 0.5,
                 shuffle_block_size: int = 8,
                 shuffle_fraction: float = 0.5,
                 paint_prob: float = 0.9,
                 inpaint_prob: float = 0.2,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.projectors = nn.ModuleList()
        if encoder_channels is not None:
            self.projectors.extend(
                nn.Conv2d(channels, self.neck.feature_dim // 2**i, kernel_size=1)
                for i, channels in enumerate(encoder_channels))
        self.nonlinear_prob = nonlinear_prob
        self.shuffle_prob = shuffle_prob
        self.shuffle_block_size = shuffle_block_size
        self.shuffle_fraction = shuffle_fraction
        self.paint_prob = paint_prob
        self.inpaint_prob = inpaint_prob

    def corrupt(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Corrupt a batch in the Models Genesis order: shuffle, intensity curve, painting.

        Args:
            inputs (Tensor): Images ``(N, C, H, W)`` in any value range.

        Returns:
            tuple[Tensor, Tensor]: Corrupted images (equal to ``inputs`` bit for bit wherever
            no transform applied) and the bool mask ``(N, 1, H, W)`` of changed pixels.
        """
        low = inputs.amin(dim=(2, 3), keepdim=True)
        scale = (inputs.amax(dim=(2, 3), keepdim=True) - low).clamp_min(1e-6)
        images = (inputs - low) / scale
        images, shuffled = local_pixel_shuffle(images, self.shuffle_prob,
                                               self.shuffle_block_size, self.shuffle_fraction)
        images, curved = bezier_intensity(images, self.nonlinear_prob)
        images, painted = paint(images, self.paint_prob, self.inpaint_prob)
        changed = shuffled | painted | curved[:, None, None, None]
        return torch.where(changed, images * scale + low, inputs), changed

    def reconstruct(self, inputs: torch.Tensor) -> torch.Tensor:
        """Encode and decode a batch.

        Args:
            inputs (Tensor): Images ``(N, C, H, W)``.

        Returns:
            Tensor: Reconstructions ``(N, C, H, W)``.
        """
        feats = self.backbone(inputs)
        if len(feats) == 1:
            return self.neck(feats[0])
        feats = list(reversed(feats))
        if len(self.projectors):
            feats = [proj(feat) for proj, feat in zip(self.projectors, feats)]
        return self.neck(feats)

    def loss(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Reconstruct the original batch from its corrupted version.

        Args:
            inputs (Tensor): Images ``(N, C, H, W)``.
            data_samples (list[DataSample], optional): Unused (targets are the inputs).

        Returns:
            dict[str, Tensor]: ``loss`` (L2 reconstruction) and two baselines, logged only:
            ``identity_mse``, the error of returning the corrupted input unchanged, and
            ``mean_mse``, the error of predicting every channel's mean value.
        """
        inputs = check_batch(inputs)
        corrupted, _ = self.corrupt(inputs)
        loss = self.head.loss(self.reconstruct(corrupted), inputs)
        with torch.no_grad():
            identity = torch.mean((corrupted - inputs)**2)
            mean = torch.mean((inputs - inputs.mean(dim=(2, 3), keepdim=True))**2)
        return dict(loss=loss, identity_mse=identity, mean_mse=mean)
