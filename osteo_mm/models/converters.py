"""Backbone weights out of pretraining checkpoints, and a report of what loads into a classifier.

MMPretrain's ``MAEViT`` and ``SparseResNet`` subclass ``VisionTransformer`` and ``ResNet`` and
keep their parameter names, so MAE and SparK checkpoints need no key renaming: their
``backbone.*`` entries are a classifier backbone's state dict. What a user needs is (a) a small
file without decoder, mask tokens and optimizer state and (b) proof that every classifier
backbone parameter is filled from it. :func:`backbone_state_dict` and :func:`check_load` do
that; ``tools/model_converters/mim2backbone.py`` is the command-line front end.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import torch
from torch import nn

BACKBONE_PREFIX = 'backbone.'


def backbone_state_dict(checkpoint: dict, prefix: str = BACKBONE_PREFIX) -> OrderedDict:
    """Select the ``prefix`` entries of a checkpoint and strip the prefix.

    Args:
        checkpoint (dict): An MMEngine checkpoint (with ``state_dict``) or a bare state dict.
        prefix (str): Key prefix of the backbone. Defaults to ``'backbone.'``.

    Returns:
        OrderedDict: The backbone's state dict.

    Raises:
        KeyError: If no key starts with ``prefix`` (the message shows a few keys there are).
    """
    state = checkpoint.get('state_dict', checkpoint)
    out = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
    if not out:
        raise KeyError(f'no key starts with {prefix!r}; first keys: {list(state)[:5]}')
    return out


@dataclass
class LoadReport:
    """Which backbone tensors a state dict filled.

    Attributes:
        loaded (list[str]): Module keys filled from the state dict.
        missing (list[str]): Module keys the state dict lacks (left at their initialisation).
        unexpected (list[str]): State-dict keys the module has no place for.
        mismatched (list[str]): Keys present in both whose shapes differ (not loaded).
    """

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """bool: True when every module key was loaded."""
        return not self.missing and not self.mismatched

    def summary(self) -> str:
        """Return a human-readable multi-line report."""
        total = len(self.loaded) + len(self.missing) + len(self.mismatched)
        lines = [f'loaded {len(self.loaded)}/{total} backbone tensors'
                 + (' (all)' if self.complete else '')]
        for name in ('missing', 'mismatched', 'unexpected'):
            keys = getattr(self, name)
            if keys:
                lines.append(f'{name} ({len(keys)}): {", ".join(keys)}')
        return '\n'.join(lines)


def check_load(module: nn.Module, state_dict: dict) -> LoadReport:
    """Load ``state_dict`` into ``module`` non-strictly and report what was filled.

    The load goes through ``nn.Module.load_state_dict`` so that modules' load hooks run (e.g.
    MMPretrain's ViT resizes ``pos_embed`` to its image size). Torch copies every compatible
    tensor and then raises once for all shape mismatches; those are read from its message.

    Args:
        module (nn.Module): The target, e.g. a classifier's backbone.
        state_dict (dict): Tensors keyed like ``module.state_dict()``.

    Returns:
        LoadReport: The outcome.
    """
    own = module.state_dict()
    try:
        module.load_state_dict(state_dict, strict=False)
        message = ''
    except RuntimeError as err:
        message = str(err)
    mismatched = [k for k in own if k in state_dict and f'size mismatch for {k}:' in message]
    if message and not mismatched:
        raise RuntimeError(message)
    return LoadReport(
        loaded=[k for k in own if k in state_dict and k not in mismatched],
        missing=[k for k in own if k not in state_dict],
        unexpected=[k for k in state_dict if k not in own],
        mismatched=mismatched)


def with_prefix(state_dict: dict, prefix: str = BACKBONE_PREFIX) -> dict:
    """Return a checkpoint dict whose ``state_dict`` keys carry ``prefix`` again.

    Args:
        state_dict (dict): A backbone state dict.
        prefix (str): The prefix to add. Defaults to ``'backbone.'``.

    Returns:
        dict: ``{'state_dict': ...}`` loadable with ``init_cfg=dict(type='Pretrained',
        prefix='backbone.')`` or as ``load_from``.
    """
    return dict(state_dict=OrderedDict((prefix + k, v.clone() if torch.is_tensor(v) else v)
                                       for k, v in state_dict.items()))
