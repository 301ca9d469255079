"""What real archives hold beyond textbook DICOM: the quirks :class:`LoadXrayFromFile` accepts.

- Files without the 128-byte preamble and ``DICM`` prefix (old ACR-NEMA style exports, files
  cut out of DICOMDIR media): read when they parse as an image dataset.
- Colour digitised films (RGB, YBR_FULL, YBR_FULL_422): reduced to luminance.
- ``PixelPaddingValue`` (and ``PixelPaddingRangeLimit``): a mask of the padding pixels.
- ``PresentationLUTShape``: whether the displayed image is inverted.
- 12-bit lossy JPEG (JPEG Extended, process 4): none of pydicom 3's plugins decodes it (its GDCM
  plugin refuses 12-bit frames; pylibjpeg's libjpeg and Pillow reject them), while GDCM's own
  file reader carries a 12-bit libjpeg. :func:`decode_jpeg12_with_gdcm` uses that reader, as
  pydicom 2's GDCM handler did; ``python-gdcm`` stays an optional plugin.
"""
from __future__ import annotations

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGExtended12Bit,
)

from ..errors import XrayDataError

#: Photometric interpretations reduced to luminance (pydicom decodes YBR to RGB first).
COLOUR_PHOTOMETRICS = ('RGB', 'YBR_FULL', 'YBR_FULL_422')
#: ITU-R BT.601 luma weights; the Y of DICOM's YBR_FULL is defined with them (PS3.3 C.7.6.3.1.2).
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
#: The optional package that decodes 12-bit lossy JPEG.
JPEG12_PLUGIN = 'python-gdcm'


def read_dataset(path: str) -> pydicom.Dataset:
    """Read a DICOM file, also when it lacks the preamble and File Meta header.

    A file without the ``DICM`` prefix is parsed with ``force=True`` and accepted only when the
    result is an image dataset (``PixelData``, ``Rows``, ``Columns``, ``BitsAllocated``); its
    transfer syntax is then the encoding pydicom detected while parsing (such files cannot hold
    compressed pixel data).

    Args:
        path (str): The file.

    Returns:
        pydicom.Dataset: The dataset, with ``file_meta.TransferSyntaxUID`` set.

    Raises:
        XrayDataError: If the file is not DICOM, or has no preamble and is not an image dataset.
    """
    try:
        return pydicom.dcmread(path)
    except InvalidDicomError as err:
        first_error = err
    try:
        ds = pydicom.dcmread(path, force=True)
        is_image = all(k in ds for k in ('PixelData', 'Rows', 'Columns', 'BitsAllocated'))
    except Exception:  # a forced parse of a non-DICOM file fails in many ways
        is_image = False
    if not is_image:
        raise XrayDataError(f'{path}: not a DICOM file ({first_error}; nor does it parse as a '
                            'DICOM image dataset without the preamble)')
    if 'TransferSyntaxUID' not in ds.file_meta:
        implicit, little = ds.original_encoding
        ds.file_meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                          ExplicitVRLittleEndian if little else
                                          ExplicitVRBigEndian)
    return ds


def is_jpeg12(ds: pydicom.Dataset) -> bool:
    """True for 12-bit lossy JPEG (JPEG Extended with more than 8 bits stored)."""
    meta = getattr(ds, 'file_meta', None)
    tsyntax = meta.get('TransferSyntaxUID') if meta is not None else None
    return tsyntax == JPEGExtended12Bit and int(ds.get('BitsStored', 8)) > 8


def decode_jpeg12_with_gdcm(path: str, ds: pydicom.Dataset) -> np.ndarray:
    """Decode a 12-bit lossy JPEG DICOM with GDCM's file reader.

    Args:
        path (str): The file (GDCM reads it itself).
        ds (pydicom.Dataset): The same file read by pydicom (for Rows/Columns).

    Returns:
        np.ndarray: Stored values, (Rows, Columns) uint16 or int16.

    Raises:
        XrayDataError: If python-gdcm is not installed (the message names it) or cannot decode.
    """
    try:
        import gdcm
    except ImportError:
        raise XrayDataError(
            f'{path}: 12-bit lossy JPEG (JPEG Extended, BitsStored {ds.BitsStored}) needs the '
            f'optional decoder plugin {JPEG12_PLUGIN}: pip install {JPEG12_PLUGIN} '
            '(pydicom, pylibjpeg and Pillow cannot decode it)') from None
    reader = gdcm.ImageReader()
    reader.SetFileName(path)
    if not reader.Read():
        raise XrayDataError(f'{path}: {JPEG12_PLUGIN} cannot read this 12-bit JPEG DICOM')
    image = reader.GetImage()
    signed = image.GetPixelFormat().GetPixelRepresentation() == 1
    buffer = image.GetBuffer().encode('utf-8', 'surrogateescape')  # GDCM returns char* as str
    rows, cols = int(ds.Rows), int(ds.Columns)
    if len(buffer) != rows * cols * 2:
        raise XrayDataError(f'{path}: {JPEG12_PLUGIN} decoded {len(buffer)} bytes, expected '
                            f'{rows * cols * 2} for {cols}x{rows} 16-bit pixels')
    return np.frombuffer(buffer, dtype=np.int16 if signed else np.uint16).reshape(rows, cols)


def to_luminance(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luminance of an (H, W, 3) RGB array, as float64."""
    return rgb.astype(np.float64) @ LUMA_WEIGHTS


def padding_mask(ds: pydicom.Dataset, stored: np.ndarray) -> np.ndarray | None:
    """Pixels whose stored value is padding (PS3.3 C.7.5.1.1.2), or None without padding.

    ``PixelPaddingValue`` alone marks one value; with ``PixelPaddingRangeLimit`` every value
    between the two (inclusive, in either order) is padding.

    Args:
        ds (pydicom.Dataset): The dataset.
        stored (np.ndarray): Stored pixel values, before the Modality LUT.

    Returns:
        np.ndarray | None: Boolean (H, W) mask.
    """
    if 'PixelPaddingValue' not in ds:
        return None
    first = int(ds.PixelPaddingValue)
    last = int(ds.get('PixelPaddingRangeLimit', first))
    low, high = min(first, last), max(first, last)
    mask = (stored >= low) & (stored <= high)
    return mask if mask.any() else None


def presentation_inverted(ds: pydicom.Dataset) -> bool:
    """Whether the displayed image is the inverse of the windowed values.

    ``PresentationLUTShape`` decides when present (``INVERSE`` inverts; for DX, MONOCHROME1
    comes with ``INVERSE`` and means one inversion, not two); otherwise MONOCHROME1 inverts.
    This is the rule highdicom applies (``apply_presentation_lut``).
    """
    shape = str(ds.get('PresentationLUTShape', '')).strip().upper()
    if shape:
        return shape == 'INVERSE'
    return ds.get('PhotometricInterpretation') == 'MONOCHROME1'
