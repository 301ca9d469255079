"""Figures that are not per-image explanations: masked-image-modelling reconstructions."""
from .mim import mim_reconstruct, reconstruction_grid

__all__ = ['mim_reconstruct', 'reconstruction_grid']
