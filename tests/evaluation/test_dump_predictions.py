import json

import pandas as pd
import pytest
import torch
from mmengine.logging import MessageHub
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

import osteo_mm  # noqa: F401
from osteo_mm.datasets.labels import BINARY_CLASSES
from osteo_mm.utils.threshold_record import append_record


def sample(img_id, patient_id, label, probs):
    ds = DataSample().set_gt_label(label).set_pred_score(torch.tensor(probs))
    ds.set_metainfo(dict(img_id=img_id, patient_id=patient_id, PatientName='Doe^John'))
    return ds.to_dict()


def test_binary_csv_has_the_documented_columns_and_no_identifiers(tmp_path):
    out = tmp_path / 'preds' / 'preds.csv'
    metric = METRICS.build(dict(type='DumpXrayPredictions', out_file=str(out)))
    metric.dataset_meta = dict(classes=BINARY_CLASSES)
    metric.process(None, [sample('a/1.dcm', 'P1', 1, [0.2, 0.8]),
                          sample('b/2.dcm', 'P2', 0, [0.6, 0.4])])
    assert metric.evaluate(2) == {}
    df = pd.read_csv(out)
    assert list(df.columns) == ['img_id', 'patient_id', 'gt_label', 'pred_label', 'pred_score',
                                'prob_not_osteoporosis', 'prob_osteoporosis']
    assert df['pred_label'].tolist() == [1, 0]
    assert df['pred_score'].tolist() == pytest.approx([0.8, 0.6])
    assert df['prob_osteoporosis'].tolist() == pytest.approx([0.8, 0.4])
    assert 'Doe' not in out.read_text()
    assert not list(out.parent.glob('*.tmp'))


def test_multilabel_json_records(tmp_path):
    out = tmp_path / 'preds.json'
    metric = METRICS.build(dict(type='DumpXrayPredictions', out_file=str(out)))
    metric.dataset_meta = dict(classes=['Edema', 'Atelectasis'])
    ds = DataSample().set_gt_score(torch.tensor([1.0, -1.0])).set_pred_score(
        torch.tensor([0.9, 0.3]))
    ds.set_metainfo(dict(img_id='x.jpg', patient_id='patient00001'))
    metric.process(None, [ds.to_dict()])
    metric.evaluate(1)
    row = json.loads(out.read_text())[0]
    assert row['gt_Edema'] == 1 and row['gt_Atelectasis'] == -1
    assert row['prob_Atelectasis'] == pytest.approx(0.3)
    assert set(row) == {'img_id', 'patient_id', 'gt_Edema', 'gt_Atelectasis', 'prob_Edema',
                        'prob_Atelectasis'}


def test_bad_extension_and_class_mismatch_are_errors(tmp_path):
    with pytest.raises(ValueError, match='.csv or .json'):
        METRICS.build(dict(type='DumpXrayPredictions', out_file='preds.pkl'))
    metric = METRICS.build(dict(type='DumpXrayPredictions', out_file=str(tmp_path / 'p.csv')))
    metric.dataset_meta = dict(classes=('normal', 'osteopenia', 'osteoporosis'))
    metric.process(None, [sample('a', 'P1', 1, [0.2, 0.8])])
    with pytest.raises(ValueError, match='3 names'):
        metric.evaluate(1)


def test_multilabel_sample_without_gt_score_is_an_error(tmp_path):
    metric = METRICS.build(dict(type='DumpXrayPredictions', out_file=str(tmp_path / 'p.csv')))
    with pytest.raises(ValueError, match="'a'.*need gt_score"):
        metric.process(None, [sample('a', 'P1', [0, 2], [0.9, 0.1, 0.8])])


def test_threshold_column_from_the_validation_file(tmp_path):
    MessageHub.get_instance(f'dump-{tmp_path.name}')  # current hub: no weights from other tests
    threshold_file = tmp_path / 'youden_threshold.json'
    threshold_file.write_text(json.dumps({'threshold': 0.37}))
    out = tmp_path / 'preds.csv'
    metric = METRICS.build(dict(type='DumpXrayPredictions', out_file=str(out),
                                threshold_file=str(threshold_file)))
    metric.dataset_meta = dict(classes=BINARY_CLASSES)
    metric.process(None, [sample('a.png', 'P1', 1, [0.6, 0.4])])
    metric.evaluate(1)
    assert pd.read_csv(out)['threshold'].tolist() == [0.37]
    missing = METRICS.build(dict(type='DumpXrayPredictions', out_file=str(out),
                                 threshold_file=str(tmp_path / 'none.json')))
    missing.dataset_meta = dict(classes=BINARY_CLASSES)
    missing.process(None, [sample('a.png', 'P1', 1, [0.6, 0.4])])
    with pytest.raises(FileNotFoundError, match='threshold file not found'):
        missing.evaluate(1)


def test_pred_label_is_the_call_at_the_row_threshold(tmp_path):
    """The arg-max (0.5) and the threshold disagree for the middle images: the rows follow the
    threshold, and say where it came from."""
    MessageHub.get_instance(f'dump-{tmp_path.name}')
    append_record(str(tmp_path / 'thr.json'), dict(threshold=0.3, weights_sha256=None))
    probs = [0.1, 0.3, 0.45, 0.5, 0.9]
    rows = {}
    for name, extra in (('val', dict(threshold_file=str(tmp_path / 'thr.json'))),
                        ('override', dict(threshold=0.5, extra_columns=dict(split_overlap='none'))),
                        ('none', {})):
        out = tmp_path / f'{name}.csv'
        metric = METRICS.build(dict(type='DumpXrayPredictions', out_file=str(out), **extra))
        metric.dataset_meta = dict(classes=BINARY_CLASSES)
        metric.process(None, [sample(f'{i}.png', f'P{i}', 1, [1 - p, p])
                              for i, p in enumerate(probs)])
        metric.evaluate(len(probs))
        rows[name] = pd.read_csv(out)
    val = rows['val']
    assert val['pred_label'].tolist() == [0, 1, 1, 1, 1]
    assert val['pred_score'].tolist() == pytest.approx([0.9, 0.3, 0.45, 0.5, 0.9])
    assert (val['threshold'] == 0.3).all() and (val['threshold_source'] == 'validation').all()
    override = rows['override']
    assert override['pred_label'].tolist() == [0, 0, 0, 1, 1]  # 0.5 >= 0.5 is positive
    assert (override['threshold_source'] == 'override').all()
    assert (override['split_overlap'] == 'none').all()
    assert rows['none']['pred_label'].tolist() == [0, 0, 0, 0, 1]  # arg-max, first on ties
    assert 'threshold' not in rows['none']
