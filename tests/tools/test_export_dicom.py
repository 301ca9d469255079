"""export_dicom: Grad-CAM maps and expert ROIs as DICOM-SEG / Secondary Capture on the film.

The maps are written in gradcam.py's format (``maps/<img_id>.npz`` via ``explain.io.save_npz``);
the exported objects are read back with highdicom/pydicom and compared with what went in.
"""
import os.path as osp
import runpy
import sys
from unittest import mock

import cv2
import numpy as np
import pandas as pd
import pydicom
import pytest

from osteo_mm.explain.io import save_npz

hd = pytest.importorskip('highdicom')
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tests', 'datasets'))
from dicom_factory import SENTINELS, make_film  # noqa: E402

H, W = 48, 40


def run_tool(*args):
    script = osp.join(ROOT, 'tools/analysis/export_dicom.py')
    with mock.patch.object(sys, 'argv', [script, *map(str, args)]):
        try:
            runpy.run_path(script, run_name='__main__')
        except SystemExit as exit_:
            return exit_.code
    return 0


@pytest.fixture
def run(tmp_path):
    """Two films (one with an expert ROI) and the maps a Grad-CAM run left for them."""
    root = tmp_path / 'data'
    (root / 'films').mkdir(parents=True)
    yy, xx = np.mgrid[:H, :W]
    films, cams = {}, {}
    for k, name in enumerate(['films/a.dcm', 'films/b.dcm']):
        film = make_film((xx * 50 + yy * 20 + k).astype(np.uint16), bits_stored=12)
        film.save_as(root / name, enforce_file_format=True)
        films[name] = film
        cams[name] = np.exp(-((xx - 10 - 15 * k) ** 2 + (yy - 30) ** 2) / 60.0)
        save_npz(str(tmp_path / 'cam' / 'maps' / (name + '.npz')),
                 cam=cams[name][:32, :32].astype(np.float16),
                 cam_ori=cams[name].astype(np.float16), target_class=np.int64(1),
                 method='gradcam', target='pred', cam_score='logit')
    roi = np.zeros((H, W), np.uint8)
    roi[20:40, 5:18] = 255
    cv2.imwrite(str(root / 'roi_a.png'), roi)
    pd.DataFrame(dict(image=list(films), patient_id=['p1', 'p2'], label=[2, 0],
                      roi_mask=['roi_a.png', ''])).to_csv(root / 'labels.csv', index=False)
    return dict(root=root, cam=tmp_path / 'cam', out=tmp_path / 'out', films=films, cams=cams,
                roi=roi > 0)


def test_seg_holds_the_map_and_the_roi_on_the_film(run, capsys):
    assert run_tool(run['cam'], '--ann-file', run['root'] / 'labels.csv',
                    '--out-dir', run['out'], '--no-progress') == 0
    stdout = capsys.readouterr().out
    film = run['films']['films/a.dcm']
    seg = hd.seg.segread(run['out'] / 'films' / 'a.dcm.seg.dcm')
    assert seg.StudyInstanceUID == film.StudyInstanceUID
    assert seg.SeriesInstanceUID != film.SeriesInstanceUID
    assert [uid for *_, uid in seg.get_source_image_uids()] == [film.SOPInstanceUID]
    px = seg.get_pixels_by_source_instance(source_sop_instance_uids=[film.SOPInstanceUID],
                                           combine_segments=False)[0]
    cam = run['cams']['films/a.dcm'].astype(np.float16).astype(np.float64)
    expected = (cam - cam.min()) / (cam.max() - cam.min())
    np.testing.assert_allclose(px[..., 0], expected, atol=1 / 255 + 1e-3)
    np.testing.assert_array_equal(px[..., 1] > 0.5, run['roi'])
    assert len(hd.seg.segread(run['out'] / 'films' / 'b.dcm.seg.dcm').SegmentSequence) == 1
    # The SEG carries its film's patient module (it goes to the PACS); nothing else does.
    # Exactly the Patient and General Study identifiers documented in getting_started.md.
    copied = {k for k, v in SENTINELS.items()
              if any(str(e.value) == v for e in seg.iterall() if e.VR != 'SQ')}
    assert copied == {'PatientName', 'PatientID', 'PatientBirthDate', 'StudyDate'}
    assert 'InstitutionName' not in seg
    manifest = (run['out'] / 'export.csv').read_text()
    for value in SENTINELS.values():
        assert value not in manifest and value not in stdout
    # A rerun resumes: existing objects are kept.
    assert run_tool(run['cam'], '--ann-file', run['root'] / 'labels.csv',
                    '--out-dir', run['out'], '--no-progress') == 0
    assert '0 written, 2 already there' in capsys.readouterr().out


def test_secondary_capture_overlay_references_the_film(run):
    assert run_tool(run['cam'], '--ann-file', run['root'] / 'labels.csv', '--out-dir',
                    run['out'], '--format', 'sc', '--no-progress') == 0
    film = run['films']['films/a.dcm']
    sc = pydicom.dcmread(run['out'] / 'films' / 'a.dcm.sc.dcm')
    assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == film.SOPInstanceUID
    assert sc.StudyInstanceUID == film.StudyInstanceUID
    rgb = sc.pixel_array
    assert rgb.shape == (H, W, 3) and sc.PhotometricInterpretation == 'RGB'
    # The map's peak (x=10, y=30) is red-hot; far from it the film shows through bluish.
    assert rgb[30, 10, 0] > rgb[30, 10, 2] and rgb[2, 38, 2] > rgb[2, 38, 0]
    edge = run['roi'] & ~(cv2.erode(run['roi'].astype(np.uint8), np.ones((3, 3))) > 0)
    assert (rgb[edge][:, 1] == 255).mean() > 0.9  # the expert outline is drawn in green


def test_missing_row_and_non_dicom_source_name_the_image(run, capsys):
    save_npz(str(run['cam'] / 'maps' / 'films' / 'c.dcm.npz'), cam=np.zeros((2, 2)),
             cam_ori=np.zeros((2, 2)), target_class=np.int64(0), method='gradcam',
             target='pred', cam_score='logit')
    assert run_tool(run['cam'], '--ann-file', run['root'] / 'labels.csv',
                    '--out-dir', run['out']) == 2
    assert "1 map(s) have no row in" in capsys.readouterr().err
    (run['cam'] / 'maps' / 'films' / 'c.dcm.npz').unlink()
    cv2.imwrite(str(run['root'] / 'films' / 'b.png'), np.zeros((H, W), np.uint8))
    table = pd.read_csv(run['root'] / 'labels.csv', dtype=str, keep_default_na=False)
    table.loc[1, 'image'] = 'films/b.png'
    table.to_csv(run['root'] / 'labels.csv', index=False)
    (run['cam'] / 'maps' / 'films' / 'b.dcm.npz').rename(run['cam'] / 'maps' / 'films' /
                                                         'b.png.npz')
    assert run_tool(run['cam'], '--ann-file', run['root'] / 'labels.csv',
                    '--out-dir', run['out']) == 2
    assert 'films/b.png: the source image is not a DICOM file' in capsys.readouterr().err
    assert not (run['out'] / 'films').exists()
