"""Datasets, transforms, samplers and the built-in phantom generators."""
from . import phantom, samplers, transforms, wrappers  # noqa: F401
