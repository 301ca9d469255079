"""osteo_mm: data-efficient, explainable osteoporosis screening on MMPretrain.

Importing the package registers every dataset, transform, model and metric into
MMPretrain's registries (configs do it with ``custom_imports=['osteo_mm']``).
"""
from .version import __version__

__all__ = ['__version__']
