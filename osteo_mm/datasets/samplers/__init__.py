"""Data samplers (registered into MMPretrain's DATA_SAMPLERS)."""
from .class_balanced import ClassBalancedSampler

__all__ = ['ClassBalancedSampler']
