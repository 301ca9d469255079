"""Fixtures that write small DICOM files in the formats real archives contain."""
import pytest
from dicom_factory import make_dicom


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
