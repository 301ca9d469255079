"""Diagnostic and causality metrics and per-image prediction dumps (MMPretrain's METRICS)."""
from .calibration import CalibrationMetric
from .causality import CausalityMetric
from .diagnostic import BinaryDiagnosticMetric, MultiClassDiagnosticMetric
from .multilabel import MultiLabelAUCMetric
from .predictions import DumpXrayPredictions

__all__ = [
    'BinaryDiagnosticMetric', 'CalibrationMetric', 'CausalityMetric', 'DumpXrayPredictions',
    'MultiClassDiagnosticMetric', 'MultiLabelAUCMetric'
]
