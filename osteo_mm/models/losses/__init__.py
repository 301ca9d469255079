"""Losses. Class-weighted CE and focal loss are MMPretrain's ``CrossEntropyLoss(class_weight=...)``
and ``FocalLoss``, configured in ``configs/_base_/models/``; only what MMPretrain lacks is here."""
from .masked_bce import MaskedBCELoss

__all__ = ['MaskedBCELoss']
