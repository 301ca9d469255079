"""Model-comparison report: read per-image records, compare, write tables/plots/HTML."""
from .compare import compare_models, load_inputs
from .records import RecordError, load_causality, load_predictions

__all__ = ['RecordError', 'compare_models', 'load_causality', 'load_inputs', 'load_predictions']
