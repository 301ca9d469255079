"""osteo_mm: data-efficient, explainable osteoporosis screening on MMPretrain.

Importing the package registers every dataset, transform, model, metric and hook into
MMPretrain's registries (configs do it with ``custom_imports=['osteo_mm']``).
"""
from .version import __version__

from . import datasets, engine, evaluation, explain, models, stats  # noqa: E402,F401

__all__ = ['__version__']
