"""X-ray transforms: loading, intensity, mask-aware geometry and packing."""
from .array_cache import LoadXrayFromArrayCache
from .formatting import PackXrayInputs
from .geometry import (
    XrayCenterCrop,
    XrayPad,
    XrayRandomAffine,
    XrayRandomFlip,
    XrayRandomResizedCrop,
    XrayResize,
)
from .intensity import XrayCLAHE
from .loading import LoadRoiMask, LoadXrayFromFile

__all__ = [
    'LoadXrayFromFile', 'LoadXrayFromArrayCache', 'LoadRoiMask', 'XrayCLAHE', 'XrayResize',
    'XrayCenterCrop', 'XrayRandomResizedCrop', 'XrayRandomFlip', 'XrayRandomAffine', 'XrayPad',
    'PackXrayInputs'
]
