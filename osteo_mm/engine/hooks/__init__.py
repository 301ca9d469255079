"""Runner hooks."""
from .run_info_hook import RunInfoHook
from .weights_fingerprint_hook import WeightsFingerprintHook

__all__ = ['RunInfoHook', 'WeightsFingerprintHook']
