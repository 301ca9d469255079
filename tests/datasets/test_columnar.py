"""The column-wise data list of the chest datasets against a row-by-row oracle (csv module)."""
import copy
import csv
import os.path as osp
import pickle

import numpy as np
import pytest

from osteo_mm.datasets import CheXpertDataset, NIHChestXray14Dataset, XrayDataError
from osteo_mm.datasets.columnar import ColumnarDataList, StringColumn
from osteo_mm.datasets.labels import CHEXPERT_LABELS, CHEXPERT_MIXED_ONES, NIH_LABELS

FIELDS = ('img_path', 'img_id', 'patient_id', 'view', 'gt_label')


def write_nih(root, rng, rows=240, release='2020'):
    lines = ['Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,'
             'View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]'
             + (',' if release == '2017' else '')]
    for i in range(rows):
        k = rng.integers(0, 4)
        findings = ('No Finding' if k == 0 else
                    '|'.join(rng.choice(NIH_LABELS, size=k, replace=False)))
        lines.append(f'{i:08d}_000.png, {findings} ,0,{i // 3}, 40,M,{" PA" if i % 2 else "AP "},'
                     f'2500,2048,0.14,0.14' + (',' if release == '2017' else ''))
    (root / 'Data_Entry_2017.csv').write_text('\n'.join(lines) + '\n')
    boxes = ['Image Index,Finding Label,Bbox [x,y,w,h],,,']
    for i in rng.choice(rows, size=20, replace=False):
        for j in range(1 + i % 2):
            boxes.append(f'{i:08d}_000.png,Infiltrate,{10 + j},{20 + i},30.5,40')
    (root / 'BBox_List_2017.csv').write_text('\n'.join(boxes) + '\n')


def nih_oracle(root):
    """Expected data-info fields, row by row, straight from the CSV text."""
    with open(root / 'Data_Entry_2017.csv', newline='') as f:
        rows = list(csv.reader(f))[1:]
    boxes = {}
    with open(root / 'BBox_List_2017.csv', newline='') as f:
        for name, label, x, y, w, h, *_ in list(csv.reader(f))[1:]:
            name_boxes = boxes.setdefault(name, ([], []))
            x, y, w, h = map(float, (x, y, w, h))
            name_boxes[0].append([x, y, x + w, y + h])
            name_boxes[1].append(NIH_LABELS.index(
                'Infiltration' if label == 'Infiltrate' else label))
    expected = []
    for row in rows:
        score = np.zeros(len(NIH_LABELS), np.float32)
        for token in row[1].strip().split('|'):
            if token.strip() != 'No Finding':
                score[NIH_LABELS.index(token.strip())] = 1
        name = row[0].strip()
        info = dict(img_path=osp.join(str(root), 'images', name), img_id=f'images/{name}',
                    patient_id=row[3].strip(), view=row[6].strip(), gt_score=score,
                    gt_label=np.flatnonzero(score).tolist())
        if name in boxes:
            info['gt_bboxes'] = np.array(boxes[name][0], np.float32)
            info['gt_bbox_labels'] = boxes[name][1]
        expected.append(info)
    return expected


def assert_same(info, want):
    for key in FIELDS:
        assert info[key] == want[key], key
    np.testing.assert_array_equal(info['gt_score'], want['gt_score'])
    assert ('gt_bboxes' in info) == ('gt_bboxes' in want)
    if 'gt_bboxes' in want:
        np.testing.assert_allclose(info['gt_bboxes'], want['gt_bboxes'])
        assert info['gt_bbox_labels'] == want['gt_bbox_labels']


@pytest.mark.parametrize('release', ['2017', '2020'])
def test_nih_matches_row_by_row_oracle(tmp_path, release):
    write_nih(tmp_path, np.random.default_rng(int(release)), release=release)
    want = nih_oracle(tmp_path)
    kwargs = dict(split=None, bbox_file='BBox_List_2017.csv', check_images=False)
    ds = NIHChestXray14Dataset(str(tmp_path), **kwargs)
    assert len(ds) == len(want)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['sample_idx'] == i
        assert_same(info, want[i])
    assert sum('gt_bboxes' in ds.get_data_info(i) for i in range(len(ds))) == 20
    # Subsets, as MMEngine's ``indices`` and get_subset(_) define them.
    picks = [5, 0, 199, 37]
    sub = NIHChestXray14Dataset(str(tmp_path), indices=picks, **kwargs)
    for j, i in enumerate(picks):
        assert_same(sub.get_data_info(j), want[i])
    first = NIHChestXray14Dataset(str(tmp_path), indices=10, **kwargs)
    assert [first.get_data_info(j)['img_id'] for j in range(len(first))] == [
        w['img_id'] for w in want[:10]]
    last = ds.get_subset(-3)
    assert [last.get_data_info(j)['img_id'] for j in range(3)] == [
        w['img_id'] for w in want[-3:]]
    assert len(ds) == len(want)  # get_subset leaves the original whole
    assert_same(ds.get_data_info(-1), want[-1])
    assert ds.get_data_info(-1)['sample_idx'] == len(ds) - 1
    # The whole-set fast path and the dicts agree.
    assert list(ds.column('patient_id')) == [w['patient_id'] for w in want]


def test_data_info_is_a_fresh_dict(tmp_path):
    write_nih(tmp_path, np.random.default_rng(1))
    ds = NIHChestXray14Dataset(str(tmp_path), split=None, bbox_file='BBox_List_2017.csv',
                               check_images=False)
    boxed = next(i for i in range(len(ds)) if 'gt_bboxes' in ds.get_data_info(i))
    info = ds.get_data_info(boxed)
    info['gt_score'][:] = 7
    info['gt_bboxes'][:] = -1
    info['gt_bbox_labels'].append(99)
    again = ds.get_data_info(boxed)
    assert again['gt_score'].max() <= 1 and again['gt_bboxes'].min() >= 0
    assert 99 not in again['gt_bbox_labels']


def test_no_python_object_per_sample(tmp_path):
    write_nih(tmp_path, np.random.default_rng(2))
    ds = NIHChestXray14Dataset(str(tmp_path), split=None, check_images=False)
    assert isinstance(ds.data_list, ColumnarDataList)
    for name, col in ds.data_list.columns.items():
        assert isinstance(col, StringColumn) or col.dtype != object, name
    # Pickles (spawned workers) and deep-copies to an equal dataset.
    for clone in (pickle.loads(pickle.dumps(ds)), copy.deepcopy(ds)):
        assert len(clone) == len(ds)
        assert_same(clone.get_data_info(17), ds.get_data_info(17))


CELLS = ['1.0', '0.0', '-1.0', '', ' ', '1', '-1', '0']


def chexpert_oracle(path, names, policy):
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    expected = []
    for row in rows:
        score = []
        for name in names:
            text = row[name].strip()
            value = float(text) if text else 0.0
            if value == -1:
                value = {'zeros': 0.0, 'ones': 1.0, 'ignore': -1.0,
                         'mixed': float(name in CHEXPERT_MIXED_ONES)}[policy]
            score.append(value)
        expected.append(dict(path=row['Path'], view=row['Frontal/Lateral'],
                             gt_score=np.array(score, np.float32)))
    return expected


@pytest.mark.parametrize('policy', ['zeros', 'ones', 'ignore', 'mixed'])
def test_chexpert_matches_row_by_row_oracle(tmp_path, policy):
    rng = np.random.default_rng(3)
    path = tmp_path / 'train.csv'
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['Path', 'Sex', 'Age', 'Frontal/Lateral', 'AP/PA', *CHEXPERT_LABELS])
        for i in range(150):
            frontal = i % 4 != 3
            writer.writerow([f'CheXpert-v1.0-small/train/patient{i // 3:05d}/study1/'
                             f'view{i % 3}_{"frontal" if frontal else "lateral"}.jpg',
                             'Male', 50, 'Frontal' if frontal else 'Lateral',
                             'AP' if frontal else '', *rng.choice(CELLS, len(CHEXPERT_LABELS))])
    want = [w for w in chexpert_oracle(path, CHEXPERT_LABELS, policy) if w['view'] == 'Frontal']
    ds = CheXpertDataset(str(tmp_path), 'train.csv', uncertainty=policy, labels='all',
                         frontal_only=True)
    assert len(ds) == len(want) == 113
    for i, w in enumerate(want):
        info = ds.get_data_info(i)
        img_id = w['path'].split('/', 1)[1]
        assert info['img_id'] == img_id
        assert info['img_path'] == osp.join(str(tmp_path), img_id)
        assert info['patient_id'] == w['path'].split('/')[2]
        assert (info['view'], info['ap_pa']) == ('Frontal', 'AP')
        np.testing.assert_array_equal(info['gt_score'], w['gt_score'])
        assert info['gt_label'] == np.flatnonzero(w['gt_score'] == 1).tolist()


def test_chexpert_invalid_cell_names_column_and_line(tmp_path):
    path = tmp_path / 'valid.csv'
    rows = [['Path', 'Frontal/Lateral', *CHEXPERT_LABELS]]
    for i in range(4):
        cells = ['0.0'] * len(CHEXPERT_LABELS)
        if i == 2:
            cells[CHEXPERT_LABELS.index('Edema')] = '2.0'
        if i == 3:
            cells[CHEXPERT_LABELS.index('Fracture')] = 'yes'
        rows.append([f'x/valid/patient{i:05d}/study1/view1_frontal.jpg', 'Frontal', *cells])
    with open(path, 'w', newline='') as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(XrayDataError, match=r"valid.csv: invalid 'Edema' value .* line 4: "
                                            r"'2.0'$"):
        CheXpertDataset(str(tmp_path), 'valid.csv', labels='all')


def test_string_column():
    col = StringColumn(['images/ä.png', '', 'x'])
    assert len(col) == 3 and col[0] == 'images/ä.png' and col[1] == '' and col[-1] == 'x'
    assert list(col[np.array([2, 0])]) == ['x', 'images/ä.png']
    assert len(StringColumn([])) == 0
    with pytest.raises(ValueError, match='NUL'):
        StringColumn(['a\0b'])
    data = ColumnarDataList({'s': col, 'n': np.arange(3)})
    assert data[1] == {'s': '', 'n': 1}
    assert [d['s'] for d in data[::2]] == ['images/ä.png', 'x']
    with pytest.raises(IndexError):
        data.take([3])
    with pytest.raises(ValueError, match='differ in length'):
        ColumnarDataList({'a': np.arange(2), 'b': np.arange(3)})
