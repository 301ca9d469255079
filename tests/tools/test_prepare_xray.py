"""prepare_xray: resized PNG cache, manifest, resume, bad files, de-identification."""
import importlib.util
import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from osteo_mm.datasets import ShoulderXrayDataset, XrayDataError
from osteo_mm.datasets.tools import prepare, prepare_xray

SENTINELS = dict(PatientName='SENTINEL^PATIENT', PatientID='SENTINEL-ID-4711',
                 PatientBirthDate='19010203', InstitutionName='SENTINEL HOSPITAL')


def write_dicom(path, arr, photometric='MONOCHROME2', **ids):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    for key, value in dict(SENTINELS, **ids).items():
        setattr(ds, key, value)
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = arr.astype(np.uint16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def archive(tmp_path):
    src = tmp_path / 'src'
    ramp = np.tile(np.arange(64) * 64, (32, 1))
    write_dicom(src / 'SMITH_JOHN' / 'a.dcm', ramp)
    write_dicom(src / 'SMITH_JOHN' / 'IM0002', 4095 - ramp, photometric='MONOCHROME1')
    write_dicom(src / 'DOE_JANE' / 'c.dcm', ramp, PatientID='OTHER-ID-0815')
    cv2.imwrite(str(src / 'd.png'), np.full((20, 40), 77, np.uint8))
    (src / 'broken.dcm').write_bytes(b'\0' * 128 + b'DICM' + b'\x08\x00')
    return src


def test_cache_manifest_and_resume(archive, tmp_path):
    out = tmp_path / 'cache'
    counts = prepare_xray(str(archive), str(out), max_side=16, progress=False)
    assert counts == dict(converted=4, skipped=0, failed=1, duplicates=0)
    manifest = pd.read_csv(out / 'manifest.csv', keep_default_na=False)
    assert manifest['source'].tolist() == ['d.png', 'DOE_JANE/c.dcm', 'SMITH_JOHN/IM0002',
                                           'SMITH_JOHN/a.dcm']
    row = manifest.iloc[3]
    assert (row.width, row.height, row.ori_width, row.ori_height) == (16, 8, 64, 32)
    a = cv2.imread(str(out / row.image), cv2.IMREAD_UNCHANGED)
    b = cv2.imread(str(out / manifest.image[2]), cv2.IMREAD_UNCHANGED)
    assert a.shape == (8, 16) and a[0, 0] < a[0, -1]
    np.testing.assert_array_equal(a, b)  # MONOCHROME1 twin: same bright-bone image
    errors = pd.read_csv(out / 'errors.csv')
    assert errors['source'].tolist() == ['broken.dcm']
    # Resume: nothing to redo; then a lost output and a changed source are redone.
    assert prepare_xray(str(archive), str(out), max_side=16, progress=False)['skipped'] == 4
    os.remove(out / row.image)
    cv2.imwrite(str(archive / 'd.png'), np.full((20, 40), 99, np.uint8))
    counts = prepare_xray(str(archive), str(out), max_side=16, workers=2, progress=False)
    assert (counts['converted'], counts['skipped']) == (2, 2)
    assert cv2.imread(str(out / 'd.png'), cv2.IMREAD_UNCHANGED)[0, 0] == 99


def test_annotation_csv_is_carried_and_boxes_rescaled(archive, tmp_path):
    (archive / 'labels.csv').write_text(
        'image,patient_id,label,roi_bbox\nSMITH_JOHN/a.dcm,P1,osteoporosis,"8,4,16,8"\n'
        'd.png,P2,normal,\n')
    out = tmp_path / 'cache'
    prepare_xray(str(archive), str(out), ann_file=str(archive / 'labels.csv'), max_side=32,
                 progress=False)
    ds = ShoulderXrayDataset('manifest.csv', data_root=str(out), task='who3',
                             serialize_data=False)
    info = ds.get_data_info(0)
    assert info['gt_label'] == 2 and info['patient_id'] == 'P1'
    np.testing.assert_allclose(info['gt_bboxes'], [[4, 2, 12, 6]])


def test_deidentify_leaves_no_identifier_in_the_cache(archive, tmp_path):
    out, mapping = tmp_path / 'cache', tmp_path / 'private' / 'mapping.csv'
    prepare_xray(str(archive), str(out), max_side=16, deidentify=True,
                 mapping_file=str(mapping), progress=False)
    manifest = pd.read_csv(out / 'manifest.csv', keep_default_na=False)
    assert 'source' not in manifest
    # Two films of one patient share a pseudonym; the PNG has no patient id at all.
    assert sorted(manifest['patient_id'].value_counts().tolist()) == [1, 1, 2]
    assert set(manifest['patient_id']) == {'', 'anon-000001', 'anon-000002'}
    for path in Path(out).rglob('*'):
        if path.is_file():
            data = path.read_bytes()
            for needle in [*SENTINELS.values(), 'OTHER-ID-0815', 'SMITH', 'DOE_JANE']:
                assert needle.encode() not in data, (path, needle)
    table = pd.read_csv(mapping, keep_default_na=False)
    pseudo = dict(zip(table['source_patient_id'], table['patient_id']))
    assert pseudo['SENTINEL-ID-4711'] != pseudo['OTHER-ID-0815']
    assert (tmp_path / 'private' / 'mapping_errors.csv').is_file()
    with pytest.raises(ValueError, match='must lie outside the cache folder'):
        prepare_xray(str(archive), str(out), deidentify=True,
                     mapping_file=str(out / 'map.csv'), progress=False)


def test_sources_that_would_share_an_output_name_are_refused(archive, tmp_path):
    cv2.imwrite(str(archive / 'SMITH_JOHN' / 'a.png'), np.zeros((4, 4), np.uint8))
    with pytest.raises(XrayDataError, match="share an output name.*'SMITH_JOHN/a.dcm'"):
        prepare_xray(str(archive), str(tmp_path / 'cache'), progress=False)


def test_cli_bad_source_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    tool = Path(__file__).parents[2] / 'tools' / 'dataset_converters' / 'prepare_xray.py'
    spec = importlib.util.spec_from_file_location('prepare_xray_tool', tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr('sys.argv', ['prepare_xray.py', str(tmp_path / 'nope'),
                                     str(tmp_path / 'out'), '--no-progress'])
    with pytest.raises(SystemExit) as exit_info:
        module.main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f'error: {tmp_path / "nope"}: source folder not found\n'


def test_interrupted_run_resumes_to_the_same_manifest(tmp_path, monkeypatch):
    src = tmp_path / 'src'
    src.mkdir()
    for i in range(7):
        cv2.imwrite(str(src / f'{i}.png'), np.full((6, 9), 30 * i, np.uint8))
    prepare_xray(str(src), str(tmp_path / 'reference'), max_side=4, progress=False)
    monkeypatch.setattr(prepare, 'FLUSH_EVERY', 2)
    convert, calls = prepare._convert, []

    def crash_on_fifth(job):
        calls.append(job)
        if len(calls) == 5:
            raise KeyboardInterrupt  # stands in for a kill after 4 finished images
        return convert(job)

    monkeypatch.setattr(prepare, '_convert', crash_on_fifth)
    with pytest.raises(KeyboardInterrupt):
        prepare_xray(str(src), str(tmp_path / 'cache'), max_side=4, progress=False)
    assert len(pd.read_csv(tmp_path / 'cache' / 'manifest.csv')) == 4
    monkeypatch.setattr(prepare, '_convert', convert)
    counts = prepare_xray(str(src), str(tmp_path / 'cache'), max_side=4, progress=False)
    assert (counts['skipped'], counts['converted']) == (4, 3)
    assert (tmp_path / 'cache' / 'manifest.csv').read_text() == \
        (tmp_path / 'reference' / 'manifest.csv').read_text()
    assert not list((tmp_path / 'cache').rglob('.tmp-*'))
