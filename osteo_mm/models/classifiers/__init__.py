"""Classifiers: MMPretrain image classifiers extended for expert-guided training."""
from .guided import GuidedImageClassifier

__all__ = ['GuidedImageClassifier']
