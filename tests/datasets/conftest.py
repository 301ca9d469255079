"""Fixtures that write small DICOM files in the formats real archives contain."""
import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

#: Identifiers written into every test DICOM; no output may ever contain them.
SENTINELS = dict(PatientName='SENTINEL^PATIENT', PatientID='SENTINEL-ID-4711',
                 PatientBirthDate='19010203', StudyDate='20991231',
                 InstitutionName='SENTINEL HOSPITAL')


def make_dicom(arr: np.ndarray, bits_stored: int = 12, photometric: str = 'MONOCHROME2',
               **attrs) -> Dataset:
    """Build an in-memory single-frame grayscale DICOM dataset holding ``arr``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'DX'
    for key, value in SENTINELS.items():
        setattr(ds, key, value)
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 if bits_stored <= 8 else 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = arr.astype(np.uint8 if bits_stored <= 8 else np.uint16).tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


@pytest.fixture
def write_dicom(tmp_path):
    """Return ``f(name, arr, **make_dicom kwargs) -> path`` writing a DICOM under tmp_path."""

    def _write(name, arr, compress=None, **kwargs):
        ds = make_dicom(arr, **kwargs)
        if compress is not None:
            ds.compress(compress, encoding_plugin='pylibjpeg' if 'JPEG' in compress.name else '')
        path = tmp_path / name
        ds.save_as(path, enforce_file_format=True)
        return str(path)

    return _write
