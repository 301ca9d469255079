"""Saliency maps (Grad-CAM family) for MMPretrain classifiers and their causality scores.

Imports point one way: ``models`` (``CAMClassifier``, the CAM guidance) use this package, and
this package uses ``evaluation`` (the causality scores); it never imports ``models``.
Importing ``osteo_mm`` registers everything, :class:`CAMClassifier` included.
"""

from .attribution import ATTRIBUTION_METHODS
from .cam import CAM_METHODS, METHODS, BatchCAM, CAMResult, cam_to_original
from .reshape import TokensToFeatureMap
from .targets import (
    CAM_SCORES,
    LogOddsTarget,
    default_target_layer_names,
    get_target_layers,
    parse_target,
    target_classes,
)

__all__ = [
    'ATTRIBUTION_METHODS', 'CAM_METHODS', 'METHODS', 'CAM_SCORES', 'LogOddsTarget', 'BatchCAM',
    'CAMResult', 'cam_to_original', 'TokensToFeatureMap',
    'default_target_layer_names', 'get_target_layers', 'parse_target', 'target_classes',
]
