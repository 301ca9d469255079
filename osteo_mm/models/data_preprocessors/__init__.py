"""Data preprocessors (run on the device, after collation)."""
from .device_augment import XrayDeviceAugPreprocessor
from .xray_cls_preprocessor import XrayClsDataPreprocessor

__all__ = ['XrayDeviceAugPreprocessor', 'XrayClsDataPreprocessor']
