"""Grad-CAM maps and expert ROIs as DICOM objects a radiologist opens beside the film.

Two kinds of object, both referencing the source film (same study, new series), written with
highdicom:

- **DICOM-SEG** (``'seg'``): a FRACTIONAL (probability) segmentation with one segment for the
  model's evidence map (``cam_ori`` of ``gradcam.py``, min-max scaled to [0, 1] as stored) and,
  when the CSV row has one, one segment for the expert ROI (0/1). Viewers (OHIF, 3D Slicer,
  most PACS) show it as a coloured overlay on the film.
- **Secondary Capture** (``'sc'``): an RGB picture of the film with the heat map blended in and
  the expert ROI outlined, for viewers without SEG support.

Identifiers: a SEG or SC instance must carry the Patient and General Study modules of its
source (PS3.3 A.51, A.8) so the PACS files it under the same patient and study; highdicom copies
them (PatientName, PatientID, PatientBirthDate, PatientSex, StudyInstanceUID, StudyDate,
StudyTime, StudyID, AccessionNumber, ReferringPhysicianName) and the source's SOP Instance UID
is referenced. These objects are meant for the PACS only; nothing else this module writes or
logs (file names, the manifest, messages) carries a DICOM identifier.
"""
from __future__ import annotations

import os.path as osp
from dataclasses import dataclass

import cv2
import numpy as np
import pydicom

from osteo_mm.version import __version__

from .io import id_to_relpath
from .visualize import ROI_COLOUR

EXPORT_FORMATS = ('seg', 'sc')
MANUFACTURER = 'osteo_mm'


class ExportError(ValueError):
    """An image that cannot be exported; the message names its image id."""


@dataclass
class ExportItem:
    """What is exported for one image.

    Attributes:
        img_id (str): The image id (the CSV ``image`` path).
        film (pydicom.Dataset): The source DICOM film.
        cam (np.ndarray): Evidence map in original-image coordinates, (H, W) float.
        roi (np.ndarray | None): Expert ROI (H, W) bool, or None.
    """

    img_id: str
    film: pydicom.Dataset
    cam: np.ndarray
    roi: np.ndarray | None = None

    def check(self) -> None:
        """Raise :class:`ExportError` when map, ROI and film sizes differ."""
        size = (int(self.film.Rows), int(self.film.Columns))
        for name, arr in (('map', self.cam), ('ROI mask', self.roi)):
            if arr is not None and arr.shape != size:
                raise ExportError(f'{self.img_id}: {name} is {arr.shape[1]}x{arr.shape[0]} px, '
                                  f'the source film {size[1]}x{size[0]} px')
        if int(self.film.get('SamplesPerPixel', 1)) != 1:
            raise ExportError(f'{self.img_id}: the source film is not grayscale')


def _unit(cam: np.ndarray) -> np.ndarray:
    cam = np.nan_to_num(cam.astype(np.float64))
    lo, hi = cam.min(), cam.max()
    return np.zeros_like(cam) if hi <= lo else (cam - lo) / (hi - lo)


def _algorithm(method: str):
    import highdicom as hd
    from pydicom.sr.codedict import codes
    return hd.AlgorithmIdentificationSequence(
        name=f'osteo_mm {method}', version=__version__,
        family=codes.cid7162.ArtificialIntelligence)


def build_seg(item: ExportItem, method: str = 'gradcam', series_uid: str | None = None,
              instance_number: int = 1):
    """A FRACTIONAL DICOM-SEG of the evidence map (and the expert ROI) on the source film.

    Args:
        item (ExportItem): The image.
        method (str): Attribution method, for the segment description.
        series_uid (str, optional): Series to put the SEG in (one per export run).
        instance_number (int): Instance number within that series.

    Returns:
        highdicom.seg.Segmentation: The SEG dataset.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    item.check()
    # No standard code names "model evidence map"; a local coding scheme (99-prefixed, PS3.16
    # section 8.2) says what the segment is.
    evidence = hd.sr.CodedConcept('EVIDENCE', '99OSTEOMM', 'Model evidence map')
    segments = [hd.seg.SegmentDescription(
        segment_number=1, segment_label=f'{method} evidence'[:64],
        segmented_property_category=codes.SCT.Tissue, segmented_property_type=evidence,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=_algorithm(method))]
    planes = [_unit(item.cam)]
    if item.roi is not None:
        segments.append(hd.seg.SegmentDescription(
            segment_number=2, segment_label='expert ROI',
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Bone,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL))
        planes.append(item.roi.astype(np.float64))
    return hd.seg.Segmentation(
        source_images=[item.film], pixel_array=np.stack(planes, axis=-1)[None],
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        fractional_type=hd.seg.SegmentationFractionalTypeValues.PROBABILITY,
        max_fractional_value=255, segment_descriptions=segments,
        series_instance_uid=series_uid or hd.UID(), series_number=9901,
        series_description=f'osteo_mm {method} evidence', sop_instance_uid=hd.UID(),
        instance_number=instance_number, manufacturer=MANUFACTURER,
        manufacturer_model_name='osteo_mm', software_versions=__version__,
        device_serial_number='none')


def overlay_rgb(film_gray: np.ndarray, cam: np.ndarray, roi: np.ndarray | None,
                alpha: float = 0.4) -> np.ndarray:
    """The film (uint8 gray) with the JET-coloured map blended in and the ROI outlined; RGB."""
    heat = cv2.applyColorMap(np.rint(_unit(cam) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    base = cv2.cvtColor(film_gray, cv2.COLOR_GRAY2BGR)
    out = cv2.addWeighted(base, 1 - alpha, heat, alpha, 0)
    if roi is not None:
        contours, _ = cv2.findContours(roi.astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, ROI_COLOUR, max(1, min(out.shape[:2]) // 256))
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def build_sc(item: ExportItem, film_gray: np.ndarray, method: str = 'gradcam',
             series_uid: str | None = None, instance_number: int = 1):
    """An RGB Secondary Capture of the film with the evidence overlay, in the film's study.

    Args:
        item (ExportItem): The image.
        film_gray (np.ndarray): The film as displayed (uint8 (H, W), bone bright).
        method (str): Attribution method, for the series description.
        series_uid (str, optional): Series to put the image in.
        instance_number (int): Instance number within that series.

    Returns:
        highdicom.sc.SCImage: The Secondary Capture dataset.
    """
    import highdicom as hd

    item.check()
    sc = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=item.film, pixel_array=overlay_rgb(film_gray, item.cam, item.roi),
        photometric_interpretation='RGB', bits_allocated=8, coordinate_system='PATIENT',
        series_instance_uid=series_uid or hd.UID(), series_number=9902,
        sop_instance_uid=hd.UID(), instance_number=instance_number, manufacturer=MANUFACTURER,
        patient_orientation=('L', 'F'))
    # highdicom requires an orientation for the PATIENT coordinate system; the film's own value
    # (or an empty Type 2 value when it has none) replaces the placeholder, so none is invented.
    sc.PatientOrientation = item.film.get('PatientOrientation', '')
    sc.SeriesDescription = f'osteo_mm {method} overlay'
    sc.BurnedInAnnotation = 'NO'
    ref = pydicom.Dataset()
    ref.ReferencedSOPClassUID = item.film.SOPClassUID
    ref.ReferencedSOPInstanceUID = item.film.SOPInstanceUID
    sc.SourceImageSequence = [ref]
    return sc


def output_path(out_dir: str, img_id: str, fmt: str) -> str:
    """Where the object of ``img_id`` goes (mirrors the id's folders, no identifiers)."""
    return osp.join(out_dir, id_to_relpath(img_id, f'.{fmt}.dcm'))


def _map_ids(cam_dir: str) -> list:
    import glob
    maps = osp.join(cam_dir, 'maps')
    files = sorted(glob.glob(osp.join(maps, '**', '*.npz'), recursive=True))
    if not files:
        raise ExportError(f'{cam_dir}: no maps/<img_id>.npz (run tools/analysis/gradcam.py '
                          'with --out-dir there first)')
    return [osp.relpath(f, maps)[:-len('.npz')].replace(osp.sep, '/') for f in files]


def export_dicom(cam_dir: str, ann_file: str, out_dir: str, fmt: str = 'seg',
                 data_root: str | None = None, with_roi: bool = True,
                 progress: bool = True) -> dict:
    """Export every map of a Grad-CAM run as DICOM referencing its source film (resumable).

    Args:
        cam_dir (str): ``--out-dir`` of ``tools/analysis/gradcam.py`` (holds ``maps/``).
        ann_file (str): The shoulder CSV the run used (``image`` = image id, ``roi_mask``).
        out_dir (str): Where ``<img_id>.<fmt>.dcm`` and ``export.csv`` go.
        fmt (str): ``'seg'`` or ``'sc'``. Defaults to 'seg'.
        data_root (str, optional): Root of the CSV's paths; defaults to the CSV's folder.
        with_roi (bool): Add the expert ROI where the row has a ``roi_mask``/``roi_bbox``.
        progress (bool): Show a progress bar.

    Returns:
        dict: Counts ``written`` and ``skipped`` (outputs that already existed).

    Raises:
        ExportError: Naming the image id, before anything is written, when a map has no CSV
            row or its source is not a DICOM file.
    """
    import io

    import pandas as pd
    from tqdm import tqdm

    from osteo_mm.datasets import ShoulderXrayDataset
    from osteo_mm.datasets.errors import XrayDataError
    from osteo_mm.datasets.transforms import LoadRoiMask, LoadXrayFromFile
    from osteo_mm.datasets.transforms.dicom_pixels import read_dataset
    from osteo_mm.utils.io import write_atomic

    from .analysis import load_maps

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f'fmt must be one of {EXPORT_FORMATS}, got {fmt!r}')
    root = osp.dirname(osp.abspath(ann_file)) if data_root is None else data_root
    infos = {d['img_id']: d for d in ShoulderXrayDataset(
        osp.abspath(ann_file), data_root=root, with_roi=with_roi,
        lazy_init=True).load_data_list()}
    ids = _map_ids(cam_dir)
    missing = [i for i in ids if i not in infos]
    if missing:
        raise ExportError(f'{len(missing)} map(s) have no row in {ann_file}: {missing[:3]}')
    films = {}
    for img_id in ids:
        try:
            films[img_id] = read_dataset(infos[img_id]['img_path'])
        except XrayDataError:
            raise ExportError(f'{img_id}: the source image is not a DICOM file; SEG and SC '
                              'objects must reference a DICOM film') from None
    series_uid = pydicom.uid.generate_uid()
    loader, roi_loader = LoadXrayFromFile(channels=1), LoadRoiMask()
    counts, rows = dict(written=0, skipped=0), []
    for number, img_id in enumerate(tqdm(ids, disable=not progress, desc='export'), start=1):
        path = output_path(out_dir, img_id, fmt)
        rows.append(dict(img_id=img_id, file=osp.relpath(path, out_dir)))
        if osp.isfile(path):
            counts['skipped'] += 1
            continue
        stored = load_maps(cam_dir, img_id)
        loaded = roi_loader(loader(dict(infos[img_id])))
        roi = loaded.get('roi_mask')
        item = ExportItem(img_id, films[img_id], stored['cam_ori'],
                          None if roi is None else roi.astype(bool))
        with np.load(osp.join(cam_dir, 'maps', id_to_relpath(img_id, '.npz'))) as npz:
            method = str(npz['method'])
        obj = (build_seg(item, method, series_uid, number) if fmt == 'seg' else
               build_sc(item, loaded['img'], method, series_uid, number))
        buffer = io.BytesIO()
        obj.save_as(buffer, enforce_file_format=True)
        write_atomic(path, buffer.getvalue())
        counts['written'] += 1
    write_atomic(osp.join(out_dir, 'export.csv'), pd.DataFrame(rows).to_csv(index=False))
    return counts
