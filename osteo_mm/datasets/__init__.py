"""Datasets, transforms, samplers and the built-in phantom generators."""
from . import phantom, samplers, transforms, wrappers  # noqa: F401
from .chexpert import CheXpertDataset
from .errors import XrayDataError
from .nih_chestxray14 import NIHChestXray14Dataset
from .patients import check_patient_overlap
from .shoulder import ShoulderXrayDataset
from .unlabeled import UnlabeledXrayDataset

__all__ = [
    'ShoulderXrayDataset', 'NIHChestXray14Dataset', 'CheXpertDataset', 'UnlabeledXrayDataset',
    'XrayDataError', 'check_patient_overlap'
]
