"""LoadXrayFromFile on what real archives hold: colour films, bare datasets, Presentation LUT,
pixel padding and 12-bit lossy JPEG (files written here with pydicom, or pydicom's own corpus)."""
import logging
import sys

import cv2
import numpy as np
import pydicom
import pytest
from dicom_factory import make_dicom
from mmengine.logging import MMLogger
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.transforms import LoadXrayFromFile


def load(path, **kwargs):
    return LoadXrayFromFile(channels=1, **kwargs)(dict(img_path=str(path)))['img']


def colour_dicom(tmp_path, name, pixels, photometric):
    """An 8-bit, 3-sample secondary capture whose PixelData is ``pixels`` (bytes)."""
    rows, cols = 6, 8
    ds = make_dicom(np.zeros((rows, cols)), bits_stored=8, photometric=photometric,
                    SamplesPerPixel=3, PlanarConfiguration=0)
    ds.PixelData = pixels
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


def capture_log(name):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    MMLogger.get_instance(name).addHandler(handler)  # becomes the 'current' logger
    return records


def test_rgb_film_becomes_luminance_with_one_warning(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    path = colour_dicom(tmp_path, 'rgb.dcm', rgb.tobytes(), 'RGB')
    records = capture_log('test_rgb_luminance')
    loader = LoadXrayFromFile(channels=1)
    img = loader(dict(img_path=str(path)))['img']
    loader(dict(img_path=str(path)))
    # OpenCV's RGB->gray is the same BT.601 luma, computed independently.
    expected = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(int)
    assert np.abs(img.astype(int) - expected).max() <= 1
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and 'reduced to luminance' in warnings[0]
    with pytest.raises(XrayDataError, match="on_colour='refuse'"):
        load(path, on_colour='refuse')


@pytest.mark.parametrize('photometric', ['YBR_FULL', 'YBR_FULL_422'])
def test_ybr_film_luminance_is_its_y_channel(tmp_path, photometric):
    rng = np.random.default_rng(1)
    y = rng.integers(30, 220, (6, 8)).astype(np.uint8)
    cb = rng.integers(100, 156, (6, 4)).astype(np.uint8)  # one chroma pair per 2 pixels
    cr = rng.integers(100, 156, (6, 4)).astype(np.uint8)
    if photometric == 'YBR_FULL':
        pixels = np.stack([y, np.repeat(cb, 2, 1), np.repeat(cr, 2, 1)], axis=-1).tobytes()
    else:  # PS3.3 C.7.6.3.1.2: Y1 Y2 CB CR for each horizontal pixel pair
        pixels = np.stack([y[:, 0::2], y[:, 1::2], cb, cr], axis=-1).tobytes()
    img = load(colour_dicom(tmp_path, 'ybr.dcm', pixels, photometric))
    # Y of YBR_FULL is BT.601 luma; the RGB round trip inside pydicom may round by 1-2 levels.
    assert np.abs(img.astype(int) - y.astype(int)).max() <= 2


@pytest.mark.parametrize('syntax', [ImplicitVRLittleEndian, ExplicitVRLittleEndian])
@pytest.mark.parametrize('name', ['bare.dcm', 'bare_no_extension'])
def test_preamble_less_dataset_is_read(tmp_path, syntax, name):
    arr = np.arange(48).reshape(6, 8) * 80
    ds = make_dicom(arr)
    del ds.file_meta
    path = tmp_path / name
    pydicom.dcmwrite(path, ds, implicit_vr=syntax.is_implicit_VR, little_endian=True,
                     enforce_file_format=False)
    assert open(path, 'rb').read(132)[128:] != b'DICM'
    with pytest.raises(pydicom.errors.InvalidDicomError):
        pydicom.dcmread(path)  # what "not a DICOM file" used to mean
    np.testing.assert_array_equal(load(path), np.rint(arr / 4095 * 255))


def test_preamble_less_non_image_is_refused(tmp_path):
    ds = make_dicom(np.zeros((2, 2)), Modality='SR')
    del ds.file_meta, ds.PixelData, ds.Rows
    path = tmp_path / 'report'
    pydicom.dcmwrite(path, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    with pytest.raises(XrayDataError, match='report: not a DICOM file.*nor does it parse'):
        load(path)


@pytest.mark.parametrize('photometric, shape, inverted', [
    ('MONOCHROME2', 'INVERSE', True),
    ('MONOCHROME2', 'IDENTITY', False),
    ('MONOCHROME1', 'INVERSE', True),   # DX: MONOCHROME1 comes with INVERSE; one inversion
    ('MONOCHROME1', None, True),
])
def test_presentation_lut_shape(write_dicom, photometric, shape, inverted):
    arr = np.array([[0, 4095, 1000, 3000]])
    attrs = {} if shape is None else dict(PresentationLUTShape=shape)
    img = load(write_dicom('p.dcm', arr, photometric=photometric, **attrs))
    plain = np.rint(arr / 4095 * 255)
    np.testing.assert_array_equal(img, 255 - plain if inverted else plain)


def test_pixel_padding_is_black_and_out_of_the_statistics(write_dicom):
    rng = np.random.default_rng(2)
    arr = rng.integers(1000, 2000, (16, 16))
    arr[:, :4] = 0  # the padded border a CR reader leaves around the collimated film
    arr[:2] = 4095  # a second padding range: PixelPaddingRangeLimit covers 4090-4095 too
    arr[2, 5] = 4091
    path = write_dicom('pad.dcm', arr, PixelPaddingValue=4095, PixelPaddingRangeLimit=4090)
    img = load(path, window='percentile', percentiles=(0, 100), to_float32=True)
    padded = arr >= 4090
    low, high = arr[~padded].min(), arr[~padded].max()  # includes the 0 column, not padding
    np.testing.assert_allclose(img[~padded], (arr[~padded] - low) / (high - low) * 255,
                               atol=1e-3)
    assert (img[padded] == 0).all()
    # Without the attribute the padding would stretch the window.
    plain = load(write_dicom('plain.dcm', arr), window='percentile', percentiles=(0, 100),
                 to_float32=True)
    assert not np.allclose(plain[~padded], img[~padded], atol=1)


def test_pixel_padding_stays_black_on_monochrome1(write_dicom):
    arr = np.full((4, 4), 3000)
    arr[0] = 0  # stored 0 is white on MONOCHROME1; as padding it must still come out black
    img = load(write_dicom('m1.dcm', arr, photometric='MONOCHROME1', PixelPaddingValue=0))
    assert (img[0] == 0).all() and (img[1:] == np.rint(255 - 3000 / 4095 * 255)).all()


@pytest.mark.parametrize('name', ['SC_rgb_jpeg_dcmtk.dcm', 'SC_ybr_full_422_uncompressed.dcm'])
def test_pydicom_corpus_colour_films_that_used_to_be_refused(name):
    path = pydicom.data.get_testdata_file(name)  # JPEG baseline YBR_FULL_422; uncompressed 422
    ds = pydicom.dcmread(path)
    img = load(path)
    assert img.shape == (ds.Rows, ds.Columns) and img.std() > 5
    # pydicom decodes (YBR -> RGB); OpenCV computes the luma independently.
    expected = cv2.cvtColor(ds.pixel_array, cv2.COLOR_RGB2GRAY).astype(int)
    assert np.abs(img.astype(int) - expected).max() <= 1


def test_pydicom_corpus_bare_non_images_stay_refused():
    for name in ('no_meta.dcm', 'ExplVR_LitEndNoMeta.dcm'):  # preamble-less, but no image
        with pytest.raises(XrayDataError, match='not a DICOM file.*nor does it parse'):
            load(pydicom.data.get_testdata_file(name))


JPEG_LOSSY = pydicom.data.get_testdata_file('JPEG-lossy.dcm')


def test_12bit_lossy_jpeg_decodes_with_gdcm():
    pytest.importorskip('gdcm')
    img = load(JPEG_LOSSY, window='fixed', window_center=2048, window_width=4096,
               to_float32=True)
    # Stored values read in OsiriX (recorded in pydicom 2's GDCM handler tests): 244 and 95.
    np.testing.assert_allclose([img[420, 140], img[230, 120]],
                               np.array([244, 95]) / 4096 * 255, atol=1e-3)


def test_12bit_lossy_jpeg_without_the_plugin_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, 'gdcm', None)  # import gdcm now raises ImportError
    with pytest.raises(XrayDataError, match='JPEG-lossy.dcm: 12-bit lossy JPEG.*python-gdcm'):
        load(JPEG_LOSSY)
