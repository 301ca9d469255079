"""Heads of osteo_mm models that MMPretrain does not provide."""
from .pretext_cls_head import PretextClsHead

__all__ = ['PretextClsHead']
