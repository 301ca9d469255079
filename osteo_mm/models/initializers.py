"""``Pretrained`` weight initializer that reports what loaded and rejects a poor match.

MMEngine's ``PretrainedInit`` loads with ``strict=False`` and only logs mismatches, so a
checkpoint with the wrong prefix or architecture silently leaves a randomly initialised
backbone. This subclass adds the check. It is registered under the name ``'Pretrained'`` in
MMPretrain's ``WEIGHT_INITIALIZERS`` (the scope every osteo_mm config runs in) rather than under
a new name, because MMEngine's ``BaseModule.init_weights`` and MMPretrain's backbones recognise
pretrained initialisation by ``init_cfg['type'] == 'Pretrained'``: only that name is applied
after the children's own initialisation and keeps ResNet's zero-init of residual norms and
ViT's position-embedding init from overwriting the loaded weights.

Usage (backbone from a local ImageNet-style or self-supervised checkpoint)::

    --cfg-options model.backbone.init_cfg.type=Pretrained \
        model.backbone.init_cfg.checkpoint=work_dirs/mae/epoch_400.pth \
        model.backbone.init_cfg.prefix=backbone.
"""
from typing import Dict, Optional

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.runner.checkpoint import (
    _load_checkpoint,
    _load_checkpoint_with_prefix,
    load_state_dict,
)
from mmpretrain.registry import WEIGHT_INITIALIZERS
from torch import nn


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class CheckedPretrainedInit(PretrainedInit):
    """Load a (sub-)module from a checkpoint and require most of its parameters to load.

    A parameter counts as loaded when the checkpoint holds its key and, after loading, the
    module's tensor equals the checkpoint's (same shape) or was changed by a load hook (e.g.
    MMPretrain's ViT resizing ``pos_embed`` to a new image size). The loaded fraction is
    counted in parameter elements and logged together with the keys that did not load.

    Config keys:
        checkpoint (str): Local checkpoint path (MMEngine checkpoint or plain state dict).
        prefix (str, optional): Key prefix to select and strip, e.g. ``'backbone.'`` to
            initialise a backbone from a classifier or self-supervised checkpoint.
        map_location (str): Device to map tensors to. Defaults to ``'cpu'``.
        min_loaded (float): Minimum loaded fraction of the module's parameter elements;
            below it a ``RuntimeError`` is raised. Defaults to 0.95.

    Raises:
        RuntimeError: When fewer than ``min_loaded`` of the parameters load.
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None,
                 map_location: str = 'cpu', min_loaded: float = 0.95) -> None:
        super().__init__(checkpoint, prefix=prefix, map_location=map_location)
        if not 0 <= min_loaded <= 1:
            raise ValueError(f'min_loaded must be in [0, 1], got {min_loaded}')
        self.min_loaded = min_loaded

    def __call__(self, module: nn.Module) -> None:
        """Load the checkpoint into ``module`` and check the loaded fraction.

        Args:
            module (nn.Module): The module whose ``init_cfg`` names this initializer.
        """
        state_dict = self._state_dict()
        before = {k: v.detach().clone() for k, v in module.named_parameters()}
        print_log(f'load {self.prefix or "model"} from: {self.checkpoint}', logger='current')
        load_state_dict(module, state_dict, strict=False, logger='current')
        loaded, total, missing = 0, 0, []
        for name, param in module.named_parameters():
            total += param.numel()
            source = state_dict.get(name)
            if source is not None and (
                    torch.equal(param.detach(), source.to(param)) if source.shape ==
                    param.shape else not torch.equal(param.detach(), before[name])):
                loaded += param.numel()
            else:
                missing.append(name)
        fraction = loaded / max(total, 1)
        summary = (f'{self.checkpoint}: loaded {loaded}/{total} parameters '
                   f'({100 * fraction:.1f} %) into {type(module).__name__}')
        if missing:
            summary += f'; not loaded ({len(missing)}): {", ".join(missing[:20])}'
        print_log(summary, logger='current')
        if fraction < self.min_loaded:
            raise RuntimeError(f'{summary}. At least {100 * self.min_loaded:.0f} % must load: '
                               "check the checkpoint's architecture and the prefix "
                               f'{self.prefix!r}')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _state_dict(self) -> Dict[str, torch.Tensor]:
        """The checkpoint's state dict, prefix selected and stripped, ``module.`` removed."""
        if self.prefix:
            state_dict = _load_checkpoint_with_prefix(self.prefix, self.checkpoint,
                                                      map_location=self.map_location)
        else:
            ckpt = _load_checkpoint(self.checkpoint, map_location=self.map_location)
            state_dict = ckpt.get('state_dict', ckpt)
        return {k[len('module.'):] if k.startswith('module.') else k: v
                for k, v in state_dict.items()}
