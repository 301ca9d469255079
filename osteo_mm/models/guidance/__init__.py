"""Expert-guidance penalties that steer a classifier's evidence into expert ROIs."""
from .base import BaseGuidance
from .cam_alignment import CAMAlignmentGuidance
from .input_gradient import InputGradientGuidance
from .roi import stack_roi_masks

__all__ = ['BaseGuidance', 'CAMAlignmentGuidance', 'InputGradientGuidance', 'stack_roi_masks']
