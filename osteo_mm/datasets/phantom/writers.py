"""Deterministic, atomic writers for phantom images, masks and tables.

Every file is first written to a temporary name in the same folder and then moved into place
with :func:`os.replace`, so an interrupted run never leaves a truncated file behind and a resumed
run can trust every file it finds. Outputs carry no timestamps and DICOM UIDs are derived from
the seed, so the same seed gives byte-identical files.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from osteo_mm.utils.io import write_atomic as write_bytes_atomic

#: DICOM SOP class "Digital X-Ray Image Storage - For Presentation".
DX_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.1.1'




def encode_png(image: np.ndarray) -> bytes:
    """Encode a uint8 or uint16 single-channel image as PNG bytes."""
    ok, buffer = cv2.imencode('.png', image)
    if not ok:
        raise RuntimeError('OpenCV failed to encode a PNG')
    return buffer.tobytes()


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Quantise a ``[0, 1]`` float image to 8 bits."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def encode_dicom(image: np.ndarray, tags: dict, uid_seed: Sequence[object],
                 monochrome1: bool, bits_stored: int = 12) -> bytes:
    """Encode a ``[0, 1]`` float image as a DX DICOM file.

    The pixel data are quantised to ``bits_stored`` bits in 16-bit words. For MONOCHROME1 the
    stored values are inverted (high = dark), as some CR/DX vendors do; the window tags cover
    the full range of the stored values in both cases.

    Args:
        image (np.ndarray): float image in ``[0, 1]``, bone bright.
        tags (dict): Extra top-level DICOM keywords and values (e.g. ``PatientName``).
        uid_seed (Sequence): Values from which the study/series/instance UIDs are derived.
        monochrome1 (bool): Write MONOCHROME1 instead of MONOCHROME2.
        bits_stored (int): Bits per pixel actually used (8-16).

    Returns:
        bytes: The DICOM Part 10 file.
    """
    top = (1 << bits_stored) - 1
    stored = np.round(np.clip(image, 0.0, 1.0) * top).astype(np.uint16)
    if monochrome1:
        stored = (top - stored).astype(np.uint16)
    key = [str(item) for item in uid_seed]

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DX_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=key + ['instance'])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = DX_IMAGE_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=key[:-1] + ['study'])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=key + ['series'])
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME1' if monochrome1 else 'MONOCHROME2'
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    # The window spans every stored value, so no reader clips the cortex (the brightest bone).
    low, high = int(stored.min()), int(stored.max())
    ds.WindowCenter = (low + high + 1) // 2
    ds.WindowWidth = max(high - low + 1, 2)
    ds.PixelData = stored.tobytes()
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def write_csv_atomic(path: str, header: Sequence[str], rows: Iterable[Sequence[object]],
                     raw_header: str | None = None, trailing_comma: bool = False) -> None:
    """Write a CSV table atomically with ``\\n`` line endings.

    Args:
        path (str): Destination file.
        header (Sequence[str]): Column names (written with normal CSV quoting).
        rows (Iterable[Sequence]): Data rows.
        raw_header (str, optional): Write this header line verbatim instead of ``header``
            (used to reproduce the NIH header quirks).
        trailing_comma (bool): End every line with an extra comma (an empty last field), as the
            2017 NIH release does.

    Returns:
        None
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    if raw_header is not None:
        buffer.write(raw_header + '\n')
    else:
        writer.writerow(header)
    for row in rows:
        writer.writerow(list(row) + ([''] if trailing_comma else []))
    write_bytes_atomic(path, buffer.getvalue().encode('utf-8'))
