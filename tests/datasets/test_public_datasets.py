"""NIH ChestX-ray14, CheXpert and unlabeled datasets from CSV fixtures in the real formats."""
from functools import partial

import numpy as np
import pytest

from osteo_mm.datasets import CheXpertDataset as _CheXpert
from osteo_mm.datasets import NIHChestXray14Dataset as _NIH
from osteo_mm.datasets import UnlabeledXrayDataset as _Unlabeled
from osteo_mm.datasets import XrayDataError
from osteo_mm.datasets.labels import CHEXPERT_IGNORE, NIH_LABELS

# serialize_data=False skips MMEngine's gc.collect(), which dominates tiny test datasets.
NIH = partial(_NIH, serialize_data=False, check_images=False)  # metadata-only fixtures
CheXpert = partial(_CheXpert, serialize_data=False)
Unlabeled = partial(_Unlabeled, serialize_data=False)

NIH_HEADER = ('Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,'
              'View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]')
NIH_ROWS = ['00000001_000.png,Cardiomegaly,0,1,058Y,M,PA,2682,2749,0.143,0.143',
            '00000001_001.png,Cardiomegaly|Emphysema,1,1,058Y,M,PA,2894,2729,0.143,0.143',
            '00000002_000.png,No Finding,0,2,081Y,M,AP,2500,2048,0.168,0.168',
            '00000003_000.png,Hernia|Atelectasis,0,3,074Y,F,PA,2500,2048,0.168,0.168']


def nih_root(tmp_path, release='2017', rows=NIH_ROWS):
    comma = ',' if release == '2017' else ''
    body = [NIH_HEADER + comma] + [r + comma for r in rows]
    (tmp_path / 'Data_Entry_2017.csv').write_text('\n'.join(body) + '\n')
    (tmp_path / 'train_val_list.txt').write_text('00000001_000.png\n00000001_001.png\n')
    (tmp_path / 'test_list.txt').write_text('00000002_000.png\n00000003_000.png\n')
    (tmp_path / 'BBox_List_2017.csv').write_text(
        'Image Index,Finding Label,Bbox [x,y,w,h],,,\n'
        '00000003_000.png,Atelectasis,10.5,20,30,40,,,\n'
        '00000003_000.png,Infiltrate,1,2,3,4,,,\n')
    return str(tmp_path)


@pytest.mark.parametrize('release', ['2017', 'v2020'])
def test_nih_both_releases_give_standard_order_targets(tmp_path, release):
    ds = NIH(nih_root(tmp_path, release), split=None)
    scores = np.stack([ds.get_data_info(i)['gt_score'] for i in range(4)])
    expected = np.zeros((4, 14), np.float32)
    expected[0, 1] = expected[1, 1] = expected[1, 10] = expected[3, 0] = expected[3, 13] = 1
    np.testing.assert_array_equal(scores, expected)
    info = ds.get_data_info(3)
    assert info['gt_label'] == [0, 13] and info['patient_id'] == '3' and info['view'] == 'PA'
    assert info['img_id'] == 'images/00000003_000.png'
    assert ds.CLASSES == NIH_LABELS


def test_nih_official_splits_and_boxes(tmp_path):
    root = nih_root(tmp_path)
    assert len(NIH(root, split='trainval')) == 2
    test = NIH(root, split='test', bbox_file='BBox_List_2017.csv')
    assert [test.get_data_info(i)['img_id'] for i in range(2)] == [
        'images/00000002_000.png', 'images/00000003_000.png']
    info = test.get_data_info(1)
    np.testing.assert_allclose(info['gt_bboxes'], [[10.5, 20, 40.5, 60], [1, 2, 4, 6]])
    assert info['gt_bbox_labels'] == [0, 3]
    assert 'gt_bboxes' not in test.get_data_info(0)


@pytest.mark.parametrize('rows, message', [
    (NIH_ROWS[:1] + ['00000009_000.png,Pneumonitis,0,9,050Y,F,PA,1,1,0.1,0.1'],
     r"unknown finding .*line 3: 'Pneumonitis'"),
    (NIH_ROWS + NIH_ROWS[:1], r"duplicate image in 1 row\(s\): line 6"),
    (['00000001_000.png,No Finding|Mass,0,1,058Y,M,PA,1,1,0.1,0.1'], "'No Finding' mixed"),
])
def test_nih_bad_rows(tmp_path, rows, message):
    with pytest.raises(XrayDataError, match=message):
        NIH(nih_root(tmp_path, rows=rows), split=None)


def test_nih_split_list_with_unknown_image(tmp_path):
    root = nih_root(tmp_path)
    (tmp_path / 'test_list.txt').write_text('99999999_000.png\n')
    with pytest.raises(XrayDataError, match=r"test_list.txt: 1 image\(s\) are not in"):
        NIH(root, split='test')


CHEX_HEADER = ('Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,'
               'Cardiomegaly,Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,'
               'Pneumothorax,Pleural Effusion,Pleural Other,Fracture,Support Devices')
# Competition cells in CSV order: Cardiomegaly, Edema, Consolidation, Atelectasis, Effusion.
CHEX_ROWS = [
    'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,Female,68,Frontal,AP,'
    '1.0,,,,,,,,,,0.0,,,1.0',
    'CheXpert-v1.0-small/train/patient00002/study2/view1_frontal.jpg,Female,87,Frontal,AP,'
    ',,-1.0,1.0,,-1.0,-1.0,,-1.0,,-1.0,,1.0,',
    'CheXpert-v1.0-small/train/patient00002/study1/view2_lateral.jpg,Female,83,Lateral,,'
    ',,1.0,1.0,,0.0,,,,,1.0,,,',
]


def chexpert_csv(tmp_path, rows=CHEX_ROWS):
    (tmp_path / 'train.csv').write_text('\n'.join([CHEX_HEADER] + rows) + '\n')
    return str(tmp_path)


@pytest.mark.parametrize('policy, row2', [
    ('zeros', [0, 0, 0, 0, 0]),
    ('ones', [1, 1, 1, 1, 1]),
    ('mixed', [1, 0, 0, 1, 0]),
    ('ignore', [CHEXPERT_IGNORE] * 5),
])
def test_chexpert_uncertainty_policies(tmp_path, policy, row2):
    ds = CheXpert(chexpert_csv(tmp_path), uncertainty=policy)
    assert ds.CLASSES == ('Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema',
                          'Pleural Effusion')
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_score'], [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(ds.get_data_info(1)['gt_score'], row2)
    np.testing.assert_array_equal(ds.get_data_info(2)['gt_score'], [0, 1, 0, 0, 1])


def test_chexpert_all_labels_frontal_only_and_paths(tmp_path):
    root = chexpert_csv(tmp_path)
    ds = CheXpert(root, labels='all', frontal_only=True, uncertainty='ones')
    assert len(ds) == 2 and len(ds.CLASSES) == 14
    info = ds.get_data_info(0)
    np.testing.assert_array_equal(np.flatnonzero(info['gt_score']), [0, 13])
    assert info['patient_id'] == 'patient00001'
    assert info['img_id'] == 'train/patient00001/study1/view1_frontal.jpg'
    # data_root is the CheXpert folder itself: the first folder of Path is dropped.
    assert info['img_path'] == f'{root}/train/patient00001/study1/view1_frontal.jpg'
    (tmp_path / 'CheXpert-v1.0-small').mkdir()
    info = CheXpert(root).get_data_info(0)
    assert info['img_path'] == f'{root}/{CHEX_ROWS[0].split(",")[0]}'


def test_chexpert_bad_cell_and_missing_column(tmp_path):
    bad = CHEX_ROWS[:1] + [CHEX_ROWS[1].replace('-1.0,1.0', '2.0,1.0', 1)]
    with pytest.raises(XrayDataError, match=r"invalid 'Cardiomegaly' value.*line 3: '2.0'"):
        CheXpert(chexpert_csv(tmp_path, bad))
    (tmp_path / 'train.csv').write_text('Path,Frontal/Lateral\nx,Frontal\n')
    with pytest.raises(XrayDataError, match=r"missing required column\(s\) \['Atelectasis'"):
        CheXpert(str(tmp_path))


def test_unlabeled_folder_scan_and_csv(tmp_path):
    for rel in ('b/2.png', 'a/1.dcm', 'a/notes.txt', 'c.JPG'):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_bytes(b'')
    ds = Unlabeled(str(tmp_path))
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [
        'c.JPG', 'a/1.dcm', 'b/2.png']
    assert {ds.get_data_info(i)['gt_label'] for i in range(3)} == {-1}
    (tmp_path / 'list.csv').write_text('image,patient_id\nb/2.png,p7\n')
    assert Unlabeled(str(tmp_path), ann_file='list.csv').get_data_info(0)['patient_id'] == 'p7'
    with pytest.raises(XrayDataError, match='empty dataset'):
        Unlabeled(str(tmp_path / 'b'), extensions=('.tif', ))
