"""Bounded fuzzing: truncated or byte-flipped DICOM/PNG files raise only XrayDataError.

Each test runs a fixed number of derandomised hypothesis examples (3 x 70 = 210 files); the
deadline catches a decoder that hangs or crawls on a corrupt stream.
"""
import os
import tempfile

import cv2
import numpy as np
import pytest
from dicom_factory import make_dicom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.filebase import DicomBytesIO
from pydicom.uid import RLELossless

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.transforms import LoadXrayFromFile

EXAMPLES_PER_FORMAT = 70


def _dicom_bytes(compress=None):
    arr = np.random.default_rng(0).integers(0, 4096, (16, 16))
    ds = make_dicom(arr, WindowCenter=2048, WindowWidth=4096)
    if compress is not None:
        ds.compress(compress)
    buffer = DicomBytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


SOURCES = {
    '.dcm': _dicom_bytes(),
    '.rle.dcm': _dicom_bytes(RLELossless),
    '.png': cv2.imencode('.png', np.arange(256, dtype=np.uint16).reshape(16, 16) * 200)[1]
    .tobytes(),
}


@st.composite
def corruptions(draw, data: bytes):
    """Truncate the file, or overwrite 1-8 bytes, or both."""
    out = bytearray(data)
    if draw(st.booleans()):
        for _ in range(draw(st.integers(1, 8))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        out = out[:draw(st.integers(0, len(out) - 1))]
    return bytes(out)


def _load_bytes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'fuzz' + suffix)
        with open(path, 'wb') as f:
            f.write(data)
        try:
            result = LoadXrayFromFile()(dict(img_path=path))
        except XrayDataError as err:
            assert path in str(err)
            return
        assert result['img'].dtype == np.uint8 and result['img'].ndim == 3


@pytest.mark.filterwarnings('ignore::UserWarning')
@pytest.mark.parametrize('suffix', list(SOURCES))
def test_corrupt_files_raise_only_the_documented_error(suffix):

    @settings(max_examples=EXAMPLES_PER_FORMAT, deadline=5000, derandomize=True,
              database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(corruptions(SOURCES[suffix]))
    def run(data):
        _load_bytes(data, suffix)

    run()
