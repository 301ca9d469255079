"""ShoulderXrayDataset: our CSV schema, both tasks, ROI columns and every bad-input case."""
import os
from functools import partial

import numpy as np
import pytest

from osteo_mm.datasets import ShoulderXrayDataset as _Shoulder
from osteo_mm.datasets import XrayDataError, check_patient_overlap
from osteo_mm.datasets.transforms import LoadXrayFromFile

# serialize_data=False skips MMEngine's gc.collect(), which dominates tiny test datasets.
ShoulderXrayDataset = partial(_Shoulder, serialize_data=False)

HEADER = 'image,patient_id,label,t_score,roi_bbox,split,view\n'
ROWS = ['a.dcm,p1,osteoporosis,-3.0,"2,1,3,2;0,0,1,1",train,AP',
        'b.png,p2,,-1.8,,train,AP',
        'c.png,p3,0,,,val,Y',
        'd.png,p4,normal,-0.5,,test,AP']


def write(tmp_path, rows=ROWS, header=HEADER, name='labels.csv'):
    (tmp_path / name).write_text(header + '\n'.join(rows) + '\n')
    return name


def test_who3_labels_from_names_indices_and_t_scores(tmp_path):
    ds = ShoulderXrayDataset(write(tmp_path), data_root=str(tmp_path), task='who3')
    assert ds.CLASSES == ('normal', 'osteopenia', 'osteoporosis')
    assert [ds.get_data_info(i)['gt_label'] for i in range(4)] == [2, 1, 0, 0]
    info = ds.get_data_info(0)
    assert info['img_path'] == str(tmp_path / 'a.dcm') and info['img_id'] == 'a.dcm'
    assert info['patient_id'] == 'p1' and info['view'] == 'AP' and info['t_score'] == -3.0
    np.testing.assert_array_equal(info['gt_bboxes'], [[2, 1, 5, 3], [0, 0, 1, 1]])


def test_binary_task_and_split_selection(tmp_path):
    ds = ShoulderXrayDataset(write(tmp_path), data_root=str(tmp_path), split='train')
    assert ds.CLASSES == ('not_osteoporosis', 'osteoporosis')
    assert [ds.get_data_info(i)['gt_label'] for i in range(len(ds))] == [1, 0]
    assert 'gt_bboxes' not in ShoulderXrayDataset(
        write(tmp_path), data_root=str(tmp_path), with_roi=False).get_data_info(0)


@pytest.mark.parametrize('rows, header, message', [
    (['a.png,p1,osteopenic,,,,'], HEADER, r"line 2: 'osteopenic' \(expected one of"),
    (['a.png,p1,normal,-3.0,,,'], HEADER,
     "line 2: label 'normal' but t_score -3.0 is 'osteoporosis'"),
    (ROWS + ['a.dcm,p9,normal,,,test,AP'], HEADER, r"line 6: 'a.dcm' \(first on line 2\)"),
    (['a.png,p1,normal'], 'image,label\n', r"missing required column\(s\) \['patient_id'\]"),
    (['a.png,p1,,abc,,,'], HEADER, "T-score is not a finite number in 1 row"),
    (['a.png,p1,,,,,'], HEADER, 'neither label nor t_score'),
    (['a.png,p1,normal,,"1,2,3",,'], HEADER, 'invalid roi_bbox in 1 row'),
    (['a.png,p1,normal,,,train,', 'b.png,p1,normal,,,test,'], HEADER,
     r"patient\(s\) occur in more than one split.*'p1' in \['test', 'train'\]"),
    ([], HEADER, 'empty dataset'),
])
def test_bad_csv_names_file_line_and_problem(tmp_path, rows, header, message):
    name = write(tmp_path, rows, header)
    with pytest.raises(XrayDataError, match=message) as err:
        ShoulderXrayDataset(name, data_root=str(tmp_path))
    assert str(tmp_path / name) in str(err.value)


def test_unknown_split_lists_the_splits_present(tmp_path):
    with pytest.raises(XrayDataError, match=r"split == 'valid'; splits present: \['test'"):
        ShoulderXrayDataset(write(tmp_path), data_root=str(tmp_path), split='valid')


def test_missing_files_are_checked_only_on_request(tmp_path):
    ds = ShoulderXrayDataset(write(tmp_path), data_root=str(tmp_path))
    assert len(ds) == 4
    with pytest.raises(XrayDataError, match=r'missing file in 4 row\(s\): line 2: .*a.dcm'):
        ShoulderXrayDataset(write(tmp_path), data_root=str(tmp_path), check_files=True)


def test_patient_overlap_between_datasets(tmp_path):
    a = ShoulderXrayDataset(write(tmp_path, ROWS[:2], name='a.csv'), data_root=str(tmp_path))
    b = ShoulderXrayDataset(write(tmp_path, ROWS[2:], name='b.csv'), data_root=str(tmp_path))
    check_patient_overlap(a, b)
    c = ShoulderXrayDataset(write(tmp_path, ['x.png,p2,normal,,,,'], name='c.csv'),
                            data_root=str(tmp_path))
    with pytest.raises(XrayDataError, match="'p2' in"):
        check_patient_overlap(a, b, c)


def test_roi_mask_column_gives_mask_paths_for_filled_cells(tmp_path):
    name = write(tmp_path, ['a.png,p1,normal,masks/a.png', 'b.png,p2,normal,'],
                 header='image,patient_id,label,roi_mask\n')
    ds = ShoulderXrayDataset(name, data_root=str(tmp_path))
    assert ds.get_data_info(0)['roi_mask_path'] == str(tmp_path / 'masks' / 'a.png')
    assert 'roi_mask_path' not in ds.get_data_info(1)


def test_large_csv_with_missing_files_builds_without_touching_images(tmp_path, monkeypatch):
    rows = [f'img/{i:06d}.dcm,p{i},normal,,,,' for i in range(20000)]
    name = write(tmp_path, rows)

    checked = []
    isfile = os.path.isfile
    monkeypatch.setattr(os.path, 'isfile', lambda p: checked.append(p) or isfile(p))
    ds = ShoulderXrayDataset(name, data_root=str(tmp_path))
    monkeypatch.undo()
    assert len(ds) == 20000 and checked == [str(tmp_path / name)]  # only the CSV itself
    loader = LoadXrayFromFile(on_bad_sample='skip')
    assert loader(ds.get_data_info(7)) is None and loader.num_skipped == 1
    with pytest.raises(XrayDataError, match='000007.dcm: image file not found'):
        LoadXrayFromFile()(ds.get_data_info(7))
