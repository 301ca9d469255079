"""Runner hooks."""
from .run_info_hook import RunInfoHook

__all__ = ['RunInfoHook']
