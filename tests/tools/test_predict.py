"""tools/predict.py on a PNG and a DICOM carrying patient identifiers."""
import json
import os
import os.path as osp

import cv2
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid
from test_gradcam import ORI_H, ORI_W, run_main, tiny_cam_setup  # noqa: F401

IDENTIFIERS = dict(PatientName='DOE^JANE', PatientID='PID-90210', PatientBirthDate='19400101',
                   InstitutionName='ST ELSEWHERE')


def _write_dicom(path: str, arr: np.ndarray) -> str:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'DX'
    for key, value in IDENTIFIERS.items():
        setattr(ds, key, value)
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = arr.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_predict_png_and_dicom_without_identifiers(tiny_cam_setup, tmp_path, monkeypatch,  # noqa: F811
                                                   capsys):
    config, ckpt = tiny_cam_setup
    rng = np.random.default_rng(1)
    png = str(tmp_path / 'film_a.png')
    cv2.imwrite(png, rng.integers(0, 255, (ORI_H, ORI_W), dtype=np.uint8))
    dcm = _write_dicom(str(tmp_path / 'film_b.dcm'),
                       rng.integers(0, 4095, (ORI_H + 8, ORI_W), dtype=np.uint16))
    out = tmp_path / 'pred'
    assert run_main('predict.py', [config, ckpt, png, dcm, '--out-dir', out, '--score',
                                   'log-odds'], monkeypatch) == 0
    assert 'film_a.png: ' in capsys.readouterr().out
    assert sorted(os.listdir(out)) == ['film_a.json', 'film_a.png', 'film_b.json', 'film_b.png']
    record = json.load(open(out / 'film_b.json'))
    assert set(record['probabilities']) == {'not_osteoporosis', 'osteoporosis'}
    assert abs(sum(record['probabilities'].values()) - 1) < 1e-5
    assert record['cam_score'] == 'log-odds'
    assert record['pred_class'] == max(record['probabilities'], key=record['probabilities'].get)
    overlay = cv2.imread(str(out / 'film_b.png'))
    assert overlay.shape[0] == ORI_H + 8 and overlay.shape[1] > 3 * ORI_W  # + colour bar
    film, heat, raw = (overlay[:, k * ORI_W:(k + 1) * ORI_W].astype(int) for k in range(3))
    # Each panel adds something: a grey film, a coloured overlay, and the map alone (not the
    # overlay again, as 'image | CAM | CAM' did).
    assert (film[..., 0] == film[..., 1]).all() and (film[..., 1] == film[..., 2]).all()
    assert np.abs(heat - raw).mean() > 5 and np.abs(heat - film).mean() > 5
    bar = overlay[:, 3 * ORI_W:]
    assert (bar == 255).mean() > 0.2  # white label area beside the JET bar
    for name in os.listdir(out):
        blob = open(out / name, 'rb').read()
        for value in IDENTIFIERS.values():
            assert value.encode() not in blob, (name, value)


def test_predict_reports_missing_file_in_one_line(tiny_cam_setup, tmp_path, monkeypatch,  # noqa: F811
                                                  capsys):
    config, ckpt = tiny_cam_setup
    missing = osp.join(str(tmp_path), 'nope.dcm')
    assert run_main('predict.py', [config, ckpt, missing], monkeypatch) == 2
    assert capsys.readouterr().err.strip() == f'error: input file not found: {missing}'
