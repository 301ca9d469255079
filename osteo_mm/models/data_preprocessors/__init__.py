"""Data preprocessors (run on the device, after collation)."""
from .device_augment import XrayDeviceAugPreprocessor

__all__ = ['XrayDeviceAugPreprocessor']
