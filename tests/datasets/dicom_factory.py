"""Small DICOM files in the formats real archives contain (imported by the dataset tests)."""
import numpy as np
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


def make_film(arr: np.ndarray, **attrs) -> Dataset:
    """A DX-like film with the study/series attributes DICOM-SEG and SR writers require."""
    ds = make_dicom(arr, **attrs)
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = '1', 1, 1
    ds.AccessionNumber, ds.ReferringPhysicianName, ds.PatientSex = '', '', 'O'
    ds.StudyTime = '120000'
    return ds
