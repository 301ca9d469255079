"""Diagnostic metrics and per-image prediction dumps (registered into MMPretrain's METRICS)."""
from .diagnostic import BinaryDiagnosticMetric, MultiClassDiagnosticMetric
from .multilabel import MultiLabelAUCMetric
from .predictions import DumpXrayPredictions

__all__ = [
    'BinaryDiagnosticMetric', 'MultiClassDiagnosticMetric', 'MultiLabelAUCMetric',
    'DumpXrayPredictions'
]
