"""Phantom datasets on disk: determinism, real formats, splits, shortcut, resume, and loading
through the osteo_mm dataset readers."""
import csv
import os
import os.path as osp

import cv2
import numpy as np
import pydicom
import pytest

from osteo_mm.datasets import NIHChestXray14Dataset, ShoulderXrayDataset, UnlabeledXrayDataset
from osteo_mm.datasets.labels import NIH_LABELS
from osteo_mm.datasets.phantom import (
    CHEST_FINDINGS,
    SHOULDER_COLUMNS,
    generate,
    generate_chest,
    generate_shoulder,
)
from osteo_mm.datasets.transforms import LoadRoiMask, LoadXrayFromFile


def _files(root):
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = osp.join(folder, name)
            with open(path, 'rb') as file:
                out[osp.relpath(path, root)] = file.read()
    return out


def _rows(path):
    with open(path, newline='') as file:
        return list(csv.DictReader(file))


def test_same_seed_gives_byte_identical_files(tmp_path):
    """Also with a different number of worker processes."""
    for run, workers in (('a', 1), ('b', 2)):
        generate_shoulder(str(tmp_path / run / 'dcm'), 6, size=32, seed=3, workers=workers,
                          progress=False)
        generate_shoulder(str(tmp_path / run / 'png'), 4, size=32, seed=3, fmt='png',
                          shortcut_rate=0.8, progress=False)
        generate_chest(str(tmp_path / run / 'chest'), 3, size=32, seed=3, workers=workers,
                       progress=False)
    first, second = _files(tmp_path / 'a'), _files(tmp_path / 'b')
    assert sorted(first) == sorted(second)
    assert len(first) > 30
    assert all(first[name] == second[name] for name in first)
    assert not any('.tmp' in name or 'progress' in name for name in first)


def test_different_seeds_give_different_images(tmp_path):
    for seed in (1, 2):
        generate_shoulder(str(tmp_path / str(seed)), 3, size=32, seed=seed, fmt='png',
                          progress=False)
    for name in ('PH0001_0', 'PH0002_0', 'PH0003_0'):
        images = [cv2.imread(str(tmp_path / s / 'images' / f'{name}.png'), 0) for s in '12']
        assert np.abs(images[0].astype(int) - images[1]).mean() > 5


def test_shoulder_csv_dicom_tags_and_reader(tmp_path):
    root = str(tmp_path / 'shoulder')
    csv_path = generate_shoulder(root, 20, size=48, seed=0, progress=False)
    rows = _rows(csv_path)
    assert list(rows[0]) == list(SHOULDER_COLUMNS)
    assert len(rows) == 20
    photometric = set()
    for row in rows:
        ds = pydicom.dcmread(osp.join(root, row['image']))
        photometric.add(ds.PhotometricInterpretation)
        assert ds.BitsStored == 12 and ds.pixel_array.max() <= 4095
        assert ds.Rows == ds.Columns == 48
        assert ds.PatientName == f'PHANTOM^{row["patient_id"][2:]}'
        assert ds.ImageLaterality == row['side']
        assert not [e.keyword for e in ds.iterall() if e.VR in ('DA', 'DT', 'TM')]
        mask = cv2.imread(osp.join(root, row['roi_mask']), cv2.IMREAD_UNCHANGED)
        assert mask.shape == (48, 48) and set(np.unique(mask)) == {0, 1, 2}
    assert photometric == {'MONOCHROME1', 'MONOCHROME2'}

    dataset = ShoulderXrayDataset('labels.csv', data_root=root, task='who3',
                                  pipeline=[LoadXrayFromFile(), LoadRoiMask()])
    sample = dataset[0]
    assert sample['img'].shape == (48, 48, 3)
    assert sample['roi_mask'].shape == (48, 48) and sample['roi_mask'].any()
    assert sample['gt_bboxes'].shape == (2, 4)
    splits = {r['patient_id']: r['split'] for r in rows}
    assert set(splits.values()) == {'train', 'val', 'test'}
    assert sum(s == 'train' for s in splits.values()) == 14


def test_dicom_and_png_show_the_same_film(tmp_path):
    """Loaded with the DICOM's own window, MONOCHROME1 and MONOCHROME2 films look like the PNG
    of the same seed (bone bright, nothing clipped)."""
    generate_shoulder(str(tmp_path / 'dcm'), 6, size=48, seed=4, progress=False)
    generate_shoulder(str(tmp_path / 'png'), 6, size=48, seed=4, fmt='png', progress=False)
    load = LoadXrayFromFile(window='file', channels=1)
    seen = set()
    for row in _rows(tmp_path / 'dcm' / 'labels.csv'):
        dcm_path = str(tmp_path / 'dcm' / row['image'])
        seen.add(pydicom.dcmread(dcm_path, stop_before_pixels=True).PhotometricInterpretation)
        dcm = load(dict(img_path=dcm_path))['img'].astype(float)
        png = load(dict(img_path=str(tmp_path / 'png' / row['image'][:-4]) + '.png'))['img']
        assert np.corrcoef(dcm.ravel(), png.ravel())[0, 1] > 0.99
        assert (dcm == 255).mean() < 0.002, 'the window must not clip the bright bone'
    assert seen == {'MONOCHROME1', 'MONOCHROME2'}


@pytest.mark.parametrize('elsewhere', ['absent', 'flipped'])
def test_shortcut_rate_only_in_requested_splits(tmp_path, elsewhere):
    csv_path = generate_shoulder(str(tmp_path), 400, size=32, seed=5, fmt='png',
                                 shortcut_rate=0.9, shortcut_splits=('train',),
                                 shortcut_elsewhere=elsewhere, progress=False)
    rows = _rows(csv_path)
    for split, expected in (('train', 0.9), ('val', None), ('test', None)):
        part = [r for r in rows if r['split'] == split]
        marker = np.array([int(r['marker']) for r in part])
        positive = np.array([r['label'] == 'osteoporosis' for r in part])
        agreement = (marker == positive).mean()
        if expected is not None:
            assert abs(agreement - expected) < 0.05, (split, agreement)
        elif elsewhere == 'absent':
            assert marker.sum() == 0, split
        else:
            assert abs(agreement - 0.1) < 0.08, (split, agreement)
    for row in rows:
        assert (row['marker_bbox'] != '') == (row['marker'] == '1')


def test_interrupted_run_resumes_to_identical_output(tmp_path, monkeypatch):
    generate_shoulder(str(tmp_path / 'clean'), 5, size=32, seed=6, progress=False)
    real = generate.shoulder_image
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(generate, 'shoulder_image', flaky)
    with pytest.raises(KeyboardInterrupt):
        generate_shoulder(str(tmp_path / 'resumed'), 5, size=32, seed=6, progress=False)
    assert not osp.exists(tmp_path / 'resumed' / 'labels.csv')
    monkeypatch.setattr(generate, 'shoulder_image', real)
    generate_shoulder(str(tmp_path / 'resumed'), 5, size=32, seed=6, progress=False)
    assert _files(tmp_path / 'clean') == _files(tmp_path / 'resumed')


def test_refuses_foreign_or_mismatched_folders(tmp_path):
    (tmp_path / 'foreign').mkdir()
    (tmp_path / 'foreign' / 'notes.txt').write_text('mine')
    with pytest.raises(ValueError, match='not empty'):
        generate_shoulder(str(tmp_path / 'foreign'), 2, size=32, progress=False)
    generate_shoulder(str(tmp_path / 'run'), 2, size=32, seed=0, progress=False)
    with pytest.raises(ValueError, match='other parameters'):
        generate_shoulder(str(tmp_path / 'run'), 2, size=32, seed=1, progress=False)
    with pytest.raises(ValueError, match='shortcut-rate'):
        generate_shoulder(str(tmp_path / 'bad'), 2, size=32, shortcut_rate=1.5)
    with pytest.raises(ValueError, match='unknown split'):
        generate_shoulder(str(tmp_path / 'bad'), 2, size=32, shortcut_rate=0.9,
                          shortcut_splits=('training',))


def test_chest_nih_format_and_reader(tmp_path):
    root = str(tmp_path / 'chest')
    generate_chest(root, 60, size=48, seed=0, images_per_patient=2, progress=False)
    with open(osp.join(root, 'Data_Entry_2017.csv')) as file:
        header, first = file.readline().rstrip('\n'), file.readline().rstrip('\n')
    assert header.endswith('OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],')
    assert len(first.split(',')) == 12 and first.endswith(',')
    with open(osp.join(root, 'BBox_List_2017.csv')) as file:
        assert file.readline() == 'Image Index,Finding Label,Bbox [x,y,w,h],,,\n'

    train = NIHChestXray14Dataset(root, split='trainval', bbox_file='BBox_List_2017.csv')
    test = NIHChestXray14Dataset(root, split='test')
    assert len(train) + len(test) == 120 and len(test) == 24
    assert not {train.get_data_info(i)['patient_id'] for i in range(len(train))} & {
        test.get_data_info(i)['patient_id'] for i in range(len(test))}
    scores = np.stack([ds.get_data_info(i)['gt_score'] for ds in (train, test)
                       for i in range(len(ds))])
    found = {NIH_LABELS[j] for j in np.flatnonzero(scores.sum(0))}
    assert found == set(CHEST_FINDINGS), found
    boxed = [train.get_data_info(i) for i in range(len(train))
             if 'gt_bboxes' in train.get_data_info(i)]
    assert boxed
    for info in boxed:
        boxes = info['gt_bboxes']
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 48).all()
        stem = osp.basename(info['img_path'])[:-4]
        for label in info['gt_bbox_labels']:
            mask = cv2.imread(osp.join(root, 'masks', f'{stem}_{NIH_LABELS[label]}.png'), 0)
            assert mask is not None and mask.max() == 255
    follow_ups = [r['Follow-up #'] for r in _rows(osp.join(root, 'Data_Entry_2017.csv'))]
    assert follow_ups[:4] == ['0', '1', '0', '1']


def test_unlabeled_mode_writes_images_only(tmp_path):
    root = str(tmp_path / 'unlabeled')
    generate_chest(root, 3, size=32, images_per_patient=2, unlabeled=True, progress=False)
    assert sorted(os.listdir(root)) == ['images', 'phantom.json']
    dataset = UnlabeledXrayDataset(osp.join(root, 'images'))
    assert len(dataset) == 6 and dataset.get_data_info(0)['gt_label'] == -1
