"""Utilities: safe checkpoint loading, CPU-capable distributed setup, CLI helpers."""
from .checkpoint import UnsafeCheckpointError, safe_load
from .checkpoint import install as _install_safe_checkpoints

_install_safe_checkpoints()

__all__ = ['UnsafeCheckpointError', 'safe_load']
