"""Saliency maps (Grad-CAM family) for MMPretrain classifiers and their causality scores.

Importing this package also registers :class:`CausalityMetric` and :class:`CAMClassifier`.
"""
from osteo_mm.evaluation.metrics import causality  # noqa: F401
from osteo_mm.models.classifiers import cam_classifier  # noqa: F401

from .cam import CAM_METHODS, BatchCAM, CAMResult, cam_to_original
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
    'CAM_METHODS', 'CAM_SCORES', 'LogOddsTarget', 'BatchCAM', 'CAMResult', 'cam_to_original',
    'TokensToFeatureMap',
    'default_target_layer_names', 'get_target_layers', 'parse_target', 'target_classes',
]
