"""LoadXrayFromFile / LoadRoiMask: pixels vs hand-computed values and every bad input."""
import logging

import cv2
import numpy as np
import pydicom
import pytest
from dicom_factory import SENTINELS
from mmengine.logging import MMLogger
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import MPEG2MPML, JPEG2000Lossless, JPEGLSLossless, RLELossless

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.transforms import LoadRoiMask, LoadXrayFromFile, PackXrayInputs, loading


def load(path, **kwargs):
    return LoadXrayFromFile(channels=1, **kwargs)(dict(img_path=path))['img']


def test_12bit_full_range_without_window(write_dicom):
    arr = np.array([[0, 4095], [2048, 1000]])
    img = load(write_dicom('a.dcm', arr, bits_stored=12))
    np.testing.assert_array_equal(img, np.rint(arr / 4095 * 255))


@pytest.mark.parametrize('bits', [10, 15, 16, 8])
def test_bits_stored_sets_the_full_range(write_dicom, bits):
    top = 2 ** bits - 1
    arr = np.array([[0, top], [top // 2, top // 4]])
    img = load(write_dicom(f'b{bits}.dcm', arr, bits_stored=bits))
    np.testing.assert_array_equal(img, np.rint(arr / top * 255))


def test_rescale_then_file_window(write_dicom):
    # Modality values 2 * stored - 1000; window centre 1000.5 / width 2001 is the linear map
    # of [0, 2000] (DICOM PS3.3 C.11.2.1.2 subtracts 0.5 and 1) onto [0, 1].
    stored = np.array([[0, 500, 750, 1000, 1250, 1500, 2000]])
    path = write_dicom('w.dcm', stored, RescaleSlope=2, RescaleIntercept=-1000,
                       WindowCenter=1000.5, WindowWidth=2001)
    np.testing.assert_array_equal(load(path), [[0, 0, 64, 128, 191, 255, 255]])


def test_voi_lut_sequence_is_applied(write_dicom):
    item = Dataset()
    item.add_new('LUTDescriptor', 'US', [4, 0, 8])
    item.add_new('LUTData', 'US', [0, 50, 200, 255])
    path = write_dicom('lut.dcm', np.array([[0, 1, 2, 3, 9]]), bits_stored=10,
                       VOILUTSequence=[item])
    np.testing.assert_array_equal(load(path), [[0, 50, 200, 255, 255]])


def test_fixed_and_percentile_windows(write_dicom):
    path = write_dicom('f.dcm', np.array([[100, 200, 300, 400]]), RescaleSlope=1,
                       RescaleIntercept=-100)
    np.testing.assert_array_equal(
        load(path, window='fixed', window_center=100, window_width=200), [[0, 128, 255, 255]])
    np.testing.assert_array_equal(
        load(path, window='percentile', percentiles=(0, 100)), [[0, 85, 170, 255]])


def test_bone_is_bright_whatever_the_photometric_interpretation(write_dicom):
    bone = np.zeros((8, 8), dtype=bool)
    bone[2:6, 2:6] = True
    attenuation = np.where(bone, 3000, 500)
    mono2 = load(write_dicom('m2.dcm', attenuation))
    mono1 = load(write_dicom('m1.dcm', 4095 - attenuation, photometric='MONOCHROME1'))
    np.testing.assert_array_equal(mono1, mono2)
    assert mono1[bone].min() > mono1[~bone].max()


@pytest.mark.parametrize('syntax', [RLELossless, JPEG2000Lossless])
def test_compressed_dicom_matches_uncompressed(write_dicom, syntax):
    arr = np.random.default_rng(0).integers(0, 4096, (32, 32))
    plain = load(write_dicom('plain.dcm', arr))
    np.testing.assert_array_equal(load(write_dicom('c.dcm', arr, compress=syntax)), plain)


def _with_syntax(path, syntax):
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([b'\xff\xd8\xff\xd9'])
    ds['PixelData'].VR = 'OB'
    ds.save_as(path, enforce_file_format=True)
    return path


def test_missing_decoder_names_syntax_and_package(write_dicom, monkeypatch):
    path = _with_syntax(write_dicom('ls.dcm', np.zeros((4, 4))), JPEGLSLossless)

    class Unavailable:  # stands in for an environment without the JPEG-LS plugins
        is_available = False
        missing_dependencies = ['pyjpegls - requires numpy and pyjpegls>=1.2']

    monkeypatch.setattr(loading, 'get_decoder', lambda uid: Unavailable())
    with pytest.raises(XrayDataError, match='JPEG-LS Lossless.*install one of: pyjpegls'):
        load(path)


def test_unsupported_syntax_is_named(write_dicom):
    path = _with_syntax(write_dicom('mpeg.dcm', np.zeros((4, 4))), MPEG2MPML)
    with pytest.raises(XrayDataError, match='MPEG2.*not supported by pydicom'):
        load(path)


def test_png_8_16_bit_and_rgba(tmp_path):
    gray16 = np.array([[0, 65535], [257 * 100, 257 * 200]], dtype=np.uint16)
    cv2.imwrite(str(tmp_path / 'g16.png'), gray16)
    np.testing.assert_array_equal(load(str(tmp_path / 'g16.png')), [[0, 255], [100, 200]])
    rgba = np.dstack([np.full((2, 2), 90, np.uint8)] * 3 + [np.full((2, 2), 255, np.uint8)])
    cv2.imwrite(str(tmp_path / 'rgba.png'), rgba)
    np.testing.assert_array_equal(load(str(tmp_path / 'rgba.png')), np.full((2, 2), 90))


def test_output_keys_channels_and_float(write_dicom):
    path = write_dicom('k.dcm', np.array([[0, 4095, 2048]]))
    res = LoadXrayFromFile(to_float32=True)(dict(img_path=path))
    assert res['img'].shape == (1, 3, 3) and res['img'].dtype == np.float32
    assert res['img'][0, 1].tolist() == [255.0] * 3
    assert res['img_shape'] == res['ori_shape'] == (1, 3)
    np.testing.assert_array_equal(res['transform_matrix'], np.eye(3))


@pytest.mark.parametrize('case, message', [
    ('missing', 'image file not found'),
    ('truncated', 'corrupt or unreadable DICOM'),
    ('no_pixels', 'no pixel data'),
    ('rgb', "colour DICOM .*refused with on_colour='refuse'"),
    ('palette', "colour DICOM .*'PALETTE COLOR'.* is not supported"),
    ('multiframe', 'multi-frame'),
    ('huge', 'exceeds the limit of 20000 px'),
    ('not_dicom', 'not a DICOM file'),
])
def test_bad_dicom_gives_a_clear_error(write_dicom, tmp_path, case, message):
    path = write_dicom('ok.dcm', np.zeros((4, 4)))
    kwargs = {}
    if case == 'missing':
        path = str(tmp_path / 'nope.dcm')
    elif case == 'truncated':
        data = open(path, 'rb').read()
        open(path, 'wb').write(data[:-20])
    elif case == 'no_pixels':
        path = write_dicom('sr.dcm', np.zeros((2, 2)), Modality='SR')
        ds = pydicom.dcmread(path)
        del ds.PixelData
        ds.save_as(path, enforce_file_format=True)
    elif case == 'rgb':
        path = write_dicom('rgb.dcm', np.zeros((4, 12)), photometric='RGB', SamplesPerPixel=3,
                           PlanarConfiguration=0)
        kwargs = dict(on_colour='refuse')
    elif case == 'palette':
        path = write_dicom('pal.dcm', np.zeros((4, 4)), photometric='PALETTE COLOR')
    elif case == 'multiframe':
        path = write_dicom('mf.dcm', np.zeros((8, 4)), NumberOfFrames=2, Rows=4)
    elif case == 'huge':
        path = write_dicom('huge.dcm', np.zeros((4, 4)), Rows=30000)
    else:
        path = str(tmp_path / 'text.dcm')
        open(path, 'w').write('hello')
    with pytest.raises(XrayDataError, match=message) as err:
        load(path, **kwargs)
    assert path in str(err.value)


def test_huge_png_is_refused_before_decoding(tmp_path):
    path = tmp_path / 'wide.png'
    cv2.imwrite(str(path), np.zeros((1, 300), np.uint8))
    with pytest.raises(XrayDataError, match='300x1 exceeds the limit of 100 px'):
        load(str(path), max_side=100)


def test_skip_mode_returns_none_counts_and_logs_each_file_once(tmp_path):
    logger = MMLogger.get_instance('test_skip_mode')  # becomes the 'current' MMEngine logger
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    loader = LoadXrayFromFile(on_bad_sample='skip')
    missing = dict(img_path=str(tmp_path / 'gone.png'))
    assert loader(dict(missing)) is None
    assert loader(dict(missing)) is None
    assert loader.num_skipped == 2
    messages = [r.getMessage() for r in records]
    assert len(messages) == 1 and 'gone.png: image file not found' in messages[0]


def test_roi_mask_from_png_and_from_boxes(tmp_path, write_dicom):
    path = write_dicom('r.dcm', np.zeros((6, 8)))
    mask = np.zeros((6, 8), np.uint8)
    mask[1:3, 2:5] = 200
    cv2.imwrite(str(tmp_path / 'm.png'), mask)
    res = LoadXrayFromFile()(dict(img_path=path, roi_mask_path=str(tmp_path / 'm.png')))
    np.testing.assert_array_equal(LoadRoiMask()(res)['roi_mask'], mask > 0)
    # x, y, w, h = 2, 1, 3, 2 covers columns 2..4 and rows 1..2: the same pixels.
    res = LoadXrayFromFile()(dict(img_path=path, gt_bboxes=np.array([[2, 1, 5, 3.]])))
    np.testing.assert_array_equal(LoadRoiMask()(res)['roi_mask'], mask > 0)


def test_roi_mask_size_mismatch_is_an_error(tmp_path, write_dicom):
    path = write_dicom('r.dcm', np.zeros((6, 8)))
    cv2.imwrite(str(tmp_path / 'm.png'), np.zeros((5, 8), np.uint8))
    res = LoadXrayFromFile()(dict(img_path=path, roi_mask_path=str(tmp_path / 'm.png')))
    with pytest.raises(XrayDataError, match=r'ROI mask size \(8, 5\) differs'):
        LoadRoiMask()(res)


def test_packed_sample_carries_no_dicom_identifier(write_dicom):

    path = write_dicom('id.dcm', np.zeros((8, 8)))
    res = LoadXrayFromFile()(dict(img_path=path, img_id='id.dcm', patient_id='anon-1'))
    text = repr(PackXrayInputs()(res)['data_samples'].metainfo)
    assert 'anon-1' in text
    assert not [v for v in SENTINELS.values() if v in text]
