"""Library side of the data tools (split_patients, prepare_xray, dataset_stats)."""
from .array_cache import build_array_cache, read_array_index
from .io import atomic_write_bytes, atomic_write_csv
from .prepare import prepare_xray
from .split import assign_folds, assign_splits, write_splits
from .stats import dataset_stats

__all__ = ['atomic_write_bytes', 'atomic_write_csv', 'assign_splits', 'assign_folds',
           'write_splits', 'prepare_xray', 'dataset_stats', 'build_array_cache',
           'read_array_index']
