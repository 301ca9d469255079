"""osteo_mm: data-efficient, explainable osteoporosis screening on MMPretrain.

Importing the package registers every dataset, transform, model, metric and hook into
MMPretrain's registries (configs do it with ``custom_imports=['osteo_mm']``).
"""
import warnings

from .version import __version__

# mmcv-lite ships no compiled ops by design; classification and SSL need none.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
# mmengine resolves `mmpretrain::` bases through pkg_resources (hence setuptools<81).
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

from . import datasets, engine, evaluation, explain, models, stats, utils  # noqa: E402,F401

__all__ = ['__version__']
