"""Built-in synthetic radiograph phantoms (shoulder AP and chest PA) with known ground truth.

The shoulder phantom's bone quality follows a latent T-score, read by experts in its ROI
(diaphyseal cortex at the deltoid tuberosity, humeral head). By default the signal also lives in
the rest of the diaphyseal cortex and the metaphysis, as in bone; ``signal_region='roi'`` confines
it to the ROI, the reference for validating explanation metrics.
"""
from .chest import CHEST_FINDINGS, ChestPatient, ChestView, render_chest, sample_chest_patient
from .generate import SHOULDER_COLUMNS, generate_chest, generate_shoulder, patient_splits
from .shoulder import (
    POSE_SHIFT,
    ROI_DIAPHYSIS,
    ROI_HEAD,
    SIGNAL_REGIONS,
    ShoulderPatient,
    ShoulderView,
    cortical_index,
    render_shoulder,
    sample_patient,
    shoulder_image,
)

__all__ = [
    'CHEST_FINDINGS', 'ChestPatient', 'ChestView', 'render_chest', 'sample_chest_patient',
    'SHOULDER_COLUMNS', 'generate_chest', 'generate_shoulder', 'patient_splits',
    'POSE_SHIFT', 'ROI_DIAPHYSIS', 'ROI_HEAD', 'SIGNAL_REGIONS', 'ShoulderPatient', 'ShoulderView',
    'cortical_index',
    'render_shoulder', 'sample_patient', 'shoulder_image'
]
