"""Classification head for self-supervised pretext tasks with self-made labels."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn


@MODELS.register_module()
class PretextClsHead(BaseModule):
    """Classify a pretext label from the features of one or several patches.

    MMPretrain's classification heads read ``gt_label`` from data samples; pretext
    algorithms make their labels on the batch, so this head takes them as a tensor.
    Features of ``num_patches`` consecutive inputs (all patches of one sample, in
    order) are concatenated before the classifier, as in the context-prediction
    network of Doersch et al. (2015) and the context-free network of Noroozi and
    Favaro (2016). With ``hidden_channels`` each patch first passes a shared
    ``Linear + ReLU`` (their "fc6") and the concatenation another one ("fc7").

    Config keys:
        in_channels (int): Channels of one patch's feature vector.
        num_classes (int): Number of pretext classes (4 rotations, 8 relative
            positions, K jigsaw permutations).
        num_patches (int): Inputs per sample whose features are concatenated.
            Defaults to 1 (rotation prediction).
        hidden_channels (int, optional): Width of the per-patch and joint hidden
            layers; ``None`` means one linear layer on the concatenation.
        loss (dict, optional): Loss config; ``None`` means
            ``dict(type='CrossEntropyLoss')``.
        init_cfg (dict, optional): Initialisation config.

    Example:
        >>> head = PretextClsHead(in_channels=8, num_classes=4)
        >>> feats = (torch.rand(6, 8), )
        >>> sorted(head.loss(feats, torch.tensor([0, 1, 2, 3, 0, 1])))
        ['acc_pretext', 'loss']
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 num_patches: int = 1,
                 hidden_channels: Optional[int] = None,
                 loss: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2 or num_patches < 1:
            raise ValueError(f'PretextClsHead needs num_classes >= 2 and num_patches >= 1, '
                             f'got num_classes={num_classes}, num_patches={num_patches}')
        self.num_patches = num_patches
        if hidden_channels is None:
            self.patch_fc = nn.Identity()
            self.classifier = nn.Linear(num_patches * in_channels, num_classes)
        else:
            self.patch_fc = nn.Sequential(
                nn.Linear(in_channels, hidden_channels), nn.ReLU(inplace=True))
            self.classifier = nn.Sequential(
                nn.Linear(num_patches * hidden_channels, hidden_channels),
                nn.ReLU(inplace=True), nn.Linear(hidden_channels, num_classes))
        self.loss_module = MODELS.build(loss or dict(type='CrossEntropyLoss'))

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Compute logits.

        Args:
            feats (Sequence[Tensor]): Backbone/neck outputs; the last one, of shape
                ``(N * num_patches, in_channels)``, is used.

        Returns:
            Tensor: Logits of shape ``(N, num_classes)``.
        """
        x = self.patch_fc(feats[-1])
        if x.shape[0] % self.num_patches:
            raise ValueError(f'PretextClsHead got {x.shape[0]} feature vectors, not a multiple '
                             f'of num_patches={self.num_patches}')
        return self.classifier(x.reshape(x.shape[0] // self.num_patches, -1))

    def loss(self, feats: Sequence[torch.Tensor], target: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Compute the pretext loss and top-1 accuracy.

        Args:
            feats (Sequence[Tensor]): See :meth:`forward`.
            target (Tensor): Pretext labels of shape ``(N, )``.

        Returns:
            dict[str, Tensor]: ``loss`` and ``acc_pretext`` (in [0, 1], logged only).
        """
        logits = self(feats)
        acc = (logits.argmax(dim=1) == target).float().mean().detach()
        return dict(loss=self.loss_module(logits, target), acc_pretext=acc)
