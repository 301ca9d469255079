"""Result writers: DICOM SR (TID 1500) and Secondary Capture overlay, via highdicom.

File names come from hashed UIDs only (:func:`uid_hash`), never from DICOM fields, so a crafted
SOPInstanceUID cannot steer where a file goes. Result UIDs are derived from the source UID and
the model version, so re-scoring a film (e.g. after a crash between writing and journaling)
rewrites the same instances instead of making new ones.
"""
import hashlib
import io
import os.path as osp
from typing import Optional, Tuple

import cv2
import highdicom as hd
import numpy as np
import pydicom
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from osteo_mm.explain.visualize import cam_overlay
from osteo_mm.utils.io import write_atomic

from .engine import Prediction

#: Private coding scheme of this project (DICOM PS3.16: designators starting with 99).
SCHEME = '99OSTEOMM'
OSTEOPOROSIS = CodedConcept('64859006', 'SCT', 'Osteoporosis')
NOT_OSTEOPOROSIS = CodedConcept('not-osteoporosis', SCHEME, 'No osteoporosis at threshold')
PROCEDURE = CodedConcept('osteoporosis-screening', SCHEME,
                         'Opportunistic osteoporosis screening (research)')
RESULT = CodedConcept('screening-result', SCHEME, 'Class at the validated threshold')
THRESHOLD = CodedConcept('decision-threshold', SCHEME, 'Validated decision threshold')
MANUFACTURER = 'osteo_mm (research use only, not a medical device)'
#: Largest side of the overlay written as Secondary Capture (each of its 3 panels).
OVERLAY_MAX_SIDE = 1024


def uid_hash(uid: str, salt: bytes = b'') -> str:
    """A 32-hex-digit salted SHA-256 of a DICOM UID: the only form a UID takes in logs/paths."""
    return hashlib.sha256(salt + str(uid).encode()).hexdigest()[:32]


def _derived_uid(source_uid: str, model_version: str, what: str) -> str:
    return generate_uid(entropy_srcs=[str(source_uid), model_version, what])


def result_paths(out_dir: str, key: str) -> Tuple[str, str]:
    """``(sr, sc)`` output paths of the film with hashed UID ``key`` (hex digits only)."""
    if not key or any(c not in '0123456789abcdef' for c in key):
        raise ValueError('result files are named by hashed UIDs only')
    folder = osp.join(out_dir, 'results')
    return osp.join(folder, f'{key}.sr.dcm'), osp.join(folder, f'{key}.sc.dcm')


def overlay_image(pred: Prediction) -> Optional[np.ndarray]:
    """The RGB uint8 overlay (film | evidence map | evidence map), at most 1024 px high/wide."""
    if pred.cam is None:
        return None
    image, cam = pred.image, pred.cam
    scale = OVERLAY_MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        cam = cv2.resize(cam, size, interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(cam_overlay(image, cam), cv2.COLOR_BGR2RGB)


#: Type-2 patient/study attributes highdicom copies from the source; empty when absent.
_TYPE2 = ('PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate',
          'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber')


def complete_header(source: Dataset) -> Dataset:
    """A copy of the source header with absent type-2 patient/study attributes set empty.

    Raises:
        ValueError: When the source lacks a type-1 UID the results must reference.
    """
    missing = [k for k in ('SOPClassUID', 'SOPInstanceUID', 'StudyInstanceUID',
                           'SeriesInstanceUID') if not source.get(k)]
    if missing:
        raise ValueError(f'source film lacks {", ".join(missing)}')
    header = Dataset()
    header.update({tag: elem for tag, elem in source.items() if tag.group != 0x7FE0})
    header.file_meta = getattr(source, 'file_meta', Dataset())
    for keyword in _TYPE2:
        if keyword not in header:
            setattr(header, keyword, '')
    return header


def build_sr(source: Dataset, pred: Prediction, model_name: str, model_version: str,
             provenance: str) -> hd.sr.Comprehensive3DSR:
    """A TID 1500 measurement report of one film.

    Holds the positive-class probability and the threshold (measurements), the class at the
    threshold (qualitative evaluation), the model name and version (algorithm identification
    and observer device) and references the source instance (evidence and source image).

    Args:
        source (Dataset): The received film (header is enough).
        pred (Prediction): Its prediction.
        model_name (str): Model name.
        model_version (str): Model version.
        provenance (str): Where the threshold comes from (short text).
    """
    algorithm = hd.sr.AlgorithmIdentification(
        name=model_name[:64], version=model_version[:64],
        parameters=[f'threshold={pred.threshold:.6g}', provenance[:64]])
    device = hd.sr.DeviceObserverIdentifyingAttributes(
        uid=_derived_uid('device', model_version, 'device'), name='osteo_mm',
        model_name=model_name[:64], manufacturer_name=MANUFACTURER[:64])
    context = hd.sr.ObservationContext(observer_device_context=hd.sr.ObserverContext(
        observer_type=codes.DCM.Device, observer_identifying_attributes=device))
    unit = codes.UCUM.NoUnits
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=_derived_uid(source.SOPInstanceUID, model_version, 'tracking'),
            identifier='osteoporosis screening'),
        finding_type=OSTEOPOROSIS, algorithm_id=algorithm,
        measurements=[
            hd.sr.Measurement(name=codes.DCM.Probability, value=pred.probability, unit=unit,
                              algorithm_id=algorithm),
            hd.sr.Measurement(name=THRESHOLD, value=pred.threshold, unit=unit),
        ],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(
            name=RESULT, value=OSTEOPOROSIS if pred.label == 'osteoporosis'
            else NOT_OSTEOPOROSIS)],
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(source)])
    report = hd.sr.MeasurementReport(observation_context=context, procedure_reported=PROCEDURE,
                                     imaging_measurements=[group])
    sr = hd.sr.Comprehensive3DSR(
        evidence=[source], content=report[0],
        series_instance_uid=_derived_uid(source.SOPInstanceUID, model_version, 'sr-series'),
        series_number=9901,
        sop_instance_uid=_derived_uid(source.SOPInstanceUID, model_version, 'sr'),
        instance_number=1, manufacturer=MANUFACTURER[:64], is_complete=True)
    sr.SeriesDescription = 'osteo_mm screening result (research)'
    return sr


def build_sc(source: Dataset, overlay: np.ndarray, model_version: str) -> Dataset:
    """The evidence overlay as a Secondary Capture image that references the source film."""
    sc = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=source, pixel_array=overlay, photometric_interpretation='RGB',
        bits_allocated=8, coordinate_system='PATIENT',
        series_instance_uid=_derived_uid(source.SOPInstanceUID, model_version, 'sc-series'),
        series_number=9902,
        sop_instance_uid=_derived_uid(source.SOPInstanceUID, model_version, 'sc'),
        instance_number=1, manufacturer=MANUFACTURER[:64], patient_orientation=('L', 'F'))
    ref = Dataset()
    ref.ReferencedSOPClassUID = source.SOPClassUID
    ref.ReferencedSOPInstanceUID = source.SOPInstanceUID
    sc.SourceImageSequence = [ref]
    sc.DerivationDescription = 'osteo_mm evidence map (film | map | map), research use only'
    sc.SeriesDescription = 'osteo_mm evidence map (research)'
    sc.BurnedInAnnotation = 'NO'
    return sc


def encode(ds: Dataset) -> bytes:
    """DICOM Part 10 bytes of a dataset."""
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def write_results(out_dir: str, key: str, source: Dataset, pred: Prediction, model_name: str,
                  model_version: str, provenance: str) -> list:
    """Write the SR and (when there is a map) the SC of one film atomically.

    Returns:
        list[Dataset]: The written datasets (SR first), e.g. for forwarding.
    """
    sr_path, sc_path = result_paths(out_dir, key)
    source = complete_header(source)
    written = [build_sr(source, pred, model_name, model_version, provenance)]
    overlay = overlay_image(pred)
    if overlay is not None:
        written.append(build_sc(source, overlay, model_version))
    for ds, path in zip(written, (sr_path, sc_path)):
        write_atomic(path, encode(ds))
    return written
