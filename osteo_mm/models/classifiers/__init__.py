"""Classifiers: MMPretrain image classifiers extended for expert-guided training and CAMs."""
from .cam_classifier import CAMClassifier
from .guided import GuidedImageClassifier

__all__ = ['CAMClassifier', 'GuidedImageClassifier']
