import numpy as np
import pandas as pd
import pytest

from osteo_mm.report.compare import load_inputs
from osteo_mm.report.records import RecordError, load_causality, load_predictions


def write_preds(path, ids=('a', 'b', 'c', 'd'), labels=(0, 1, 0, 1),
                probs=(0.2, 0.7, 0.6, 0.9), **extra):
    probs = np.asarray(probs, dtype=float)
    frame = pd.DataFrame(dict(img_id=list(ids), patient_id=['p1', 'p1', 'p2', 'p3'][:len(ids)],
                              gt_label=list(labels), pred_label=(probs >= 0.5).astype(int),
                              pred_score=np.maximum(probs, 1 - probs),
                              prob_not_osteoporosis=1 - probs, prob_osteoporosis=probs, **extra))
    frame.to_csv(path, index=False)
    return str(path)


def write_cam(path, ids=('a', 'b', 'c', 'd'), **scores):
    scores = scores or dict(energy=np.linspace(0.1, 0.9, len(ids)))
    pd.DataFrame(dict(img_id=list(ids), method='gradcam', target_class=1, **scores)).to_csv(
        path, index=False)
    return str(path)


def test_predictions_become_a_sorted_binary_task(tmp_path):
    path = write_preds(tmp_path / 'm.csv', ids=('d', 'b', 'a', 'c'), threshold=[0.65] * 4)
    preds = load_predictions(path)
    assert preds.img_id.tolist() == ['a', 'b', 'c', 'd']
    # Rows were written d, b, a, c with labels 0, 1, 0, 1 and probs .2, .7, .6, .9.
    np.testing.assert_array_equal(preds.y_true, [False, True, True, False])
    np.testing.assert_allclose(preds.score, [0.6, 0.7, 0.9, 0.2])
    assert preds.threshold == 0.65
    np.testing.assert_array_equal(preds.y_pred, [False, True, True, False])
    assert preds.patient_id.tolist() == ['p2', 'p1', 'p3', 'p1']


def test_positive_class_is_configurable_for_three_classes(tmp_path):
    frame = pd.DataFrame(dict(img_id=['a', 'b', 'c'], gt_label=[0, 1, 2],
                              prob_normal=[0.7, 0.2, 0.1], prob_osteopenia=[0.2, 0.5, 0.2],
                              prob_osteoporosis=[0.1, 0.3, 0.7]))
    frame.to_json(tmp_path / 'who.json', orient='records')
    preds = load_predictions(str(tmp_path / 'who.json'), positive_class='osteopenia')
    np.testing.assert_array_equal(preds.y_true, [False, True, False])
    np.testing.assert_allclose(preds.score, [0.2, 0.5, 0.2])
    assert preds.patient_id.tolist() == ['', '', '']


@pytest.mark.parametrize('change, message', [
    (dict(probs=(0.2, np.nan, 0.6, 0.9)), r"NaN prob_osteoporosis at rows 2 \('b'\)"),
    (dict(probs=(0.2, 1.5, 0.6, 0.9)), r'outside \[0, 1\] at rows 2'),
    (dict(labels=(0, 1, 2, 1)), r'class index 0..1 .* rows 3 \(\'c\'\)'),
    (dict(ids=('a', 'b', 'a', 'd')), r"duplicated img_id 'a'"),
    (dict(threshold=[0.5, 0.5, 0.4, 0.5]), 'threshold column must hold one finite value'),
])
def test_bad_prediction_files_name_file_and_rows(tmp_path, change, message):
    path = write_preds(tmp_path / 'bad.csv', **change)
    with pytest.raises(RecordError, match=message) as err:
        load_predictions(path)
    assert 'bad.csv' in str(err.value)


def test_missing_column_is_named(tmp_path):
    path = write_preds(tmp_path / 'm.csv')
    pd.read_csv(path).drop(columns='prob_osteoporosis').to_csv(path, index=False)
    with pytest.raises(RecordError, match=r"m.csv: missing column 'prob_osteoporosis'"):
        load_predictions(path)
    with pytest.raises(RecordError, match='file not found'):
        load_predictions(str(tmp_path / 'nope.csv'))


def test_different_image_sets_list_the_difference(tmp_path):
    a = write_preds(tmp_path / 'a.csv')
    b = write_preds(tmp_path / 'b.csv', ids=('a', 'b', 'c', 'x'))
    with pytest.raises(RecordError) as err:
        load_inputs([a, b])
    text = str(err.value)
    assert "b.csv has 1 ids not in" in text and "'x'" in text
    assert "b.csv lacks 1 ids of" in text and "'d'" in text


def test_labels_must_agree_between_models(tmp_path):
    a = write_preds(tmp_path / 'a.csv')
    b = write_preds(tmp_path / 'b.csv', labels=(1, 1, 0, 1))
    with pytest.raises(RecordError, match="disagree on the ground truth of 'a'"):
        load_inputs([a, b])


def test_causality_checks(tmp_path):
    preds = [write_preds(tmp_path / 'a.csv'), write_preds(tmp_path / 'b.csv')]
    good = write_cam(tmp_path / 'ca.csv', energy=[0.1, np.nan, 0.3, 0.4], iou=[0.1] * 4)
    table = load_causality(good)
    assert list(table.columns) == ['energy', 'iou'] and np.isnan(table.loc['b', 'energy'])

    lacking = write_cam(tmp_path / 'cb.csv', energy=[0.1] * 4)
    with pytest.raises(RecordError, match=r"cb.csv: missing causality column\(s\) 'iou'"):
        load_inputs(preds, cam_paths=[good, lacking])
    stranger = write_cam(tmp_path / 'cc.csv', ids=('a', 'b', 'c', 'z'), energy=[0.1] * 4,
                         iou=[0.1] * 4)
    with pytest.raises(RecordError, match='cover different images'):
        load_inputs(preds, cam_paths=[good, stranger])
    both_z = write_cam(tmp_path / 'cd.csv', ids=('a', 'b', 'c', 'z'), energy=[0.1] * 4)
    with pytest.raises(RecordError, match="without predictions: \\['z'\\]"):
        load_inputs(preds, cam_paths=[both_z, both_z])
    with pytest.raises(RecordError, match='--cam needs one entry per predictions file'):
        load_inputs(preds, cam_paths=[good])
    text = write_cam(tmp_path / 'ce.csv', energy=['0.1', 'high', '0.2', '0.3'])
    with pytest.raises(RecordError, match=r"'energy' is not numeric at rows 2 \('b'\)"):
        load_causality(text)
