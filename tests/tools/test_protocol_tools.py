"""tools/train.py and tools/test.py keep the evaluation protocol (run in-process: one tiny
training shared by every test).

Traps reproduced: a config that inherits the shoulder base unchanged must test at the
validation threshold of the checkpoint under test; another checkpoint is refused (exit 2, one
line naming both) unless --threshold is given, which every output then records; splits that
share a patient are refused unless --allow-overlap is given, which every output records; bad
data ends in one line (--debug: the traceback).
"""
import json
import os.path as osp

import pandas as pd
import pytest
import torch
from protocol_data import SHOULDER_CONFIG, call_tool, data_options, write_shoulder_data

from osteo_mm.datasets import XrayDataError
from osteo_mm.utils.threshold_record import checkpoint_fingerprint, read_records


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One epoch on 14 tiny films; the work dir holds epoch_1.pth and the threshold record."""
    root = tmp_path_factory.mktemp('protocol')
    config = root / 'shoulder_unchanged.py'
    config.write_text(SHOULDER_CONFIG)
    data = write_shoulder_data(str(root))
    work = str(root / 'work')
    code = call_tool('train', [str(config), '--work-dir', work, '--cfg-options',
                               'experiment_name=train'] + data_options(data))
    assert code == 0
    return dict(root=root, config=str(config), data=data, work=work,
                ckpt=osp.join(work, 'epoch_1.pth'))


def _one_line_error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), lines
    return lines[0]


def test_validation_record_names_the_checkpoint(trained):
    records = read_records(osp.join(trained['work'], 'youden_threshold.json'))
    fingerprint = checkpoint_fingerprint(trained['ckpt'])
    # The hash taken from the model at validation equals the one of the saved weights.
    assert records[-1]['weights_sha256'] == fingerprint['weights_sha256']
    assert records[-1]['epoch'] == fingerprint['epoch'] == 1
    info = json.load(open(osp.join(trained['work'], 'run_info.json')))
    assert info['protocol']['split_overlap'] == 'none'
    assert set(info['protocol']['checked']) == {'train', 'val', 'test'}


def test_test_uses_the_validation_threshold_and_preds_agree(trained, tmp_path):
    preds, metrics = tmp_path / 'preds.csv', tmp_path / 'metrics.json'
    code = call_tool('test', [trained['config'], trained['ckpt'], '--work-dir', trained['work'],
                              '--out', str(preds), '--out-metrics', str(metrics),
                              '--cfg-options', 'experiment_name=test']
                     + data_options(trained['data']))
    assert code == 0
    threshold = read_records(osp.join(trained['work'], 'youden_threshold.json'))[-1]['threshold']
    df = pd.read_csv(preds)
    assert (df['threshold'] == threshold).all() and (df['threshold_source'] == 'validation').all()
    assert (df['split_overlap'] == 'none').all()
    # pred_label is the call at the row's threshold, pred_score the probability of that call.
    calls = (df['prob_osteoporosis'] >= df['threshold']).astype(int)
    assert (df['pred_label'] == calls).all()
    chosen = df['prob_osteoporosis'].where(calls == 1, df['prob_not_osteoporosis'])
    assert df['pred_score'].tolist() == pytest.approx(chosen.tolist())
    out = json.load(open(metrics))
    assert out['binary/threshold'] == threshold
    assert out['protocol']['threshold_source'] == 'validation'
    assert out['protocol']['threshold_record']['epoch'] == 1


def _other_checkpoint(trained, tmp_path) -> str:
    ckpt = torch.load(trained['ckpt'], map_location='cpu', weights_only=False)
    ckpt['meta']['epoch'] = 9
    name = next(k for k in ckpt['state_dict'] if k.endswith('weight'))
    ckpt['state_dict'][name] = ckpt['state_dict'][name] + 1e-3
    path = str(tmp_path / 'epoch_9.pth')
    torch.save(ckpt, path)
    return path


def test_threshold_of_another_checkpoint_is_refused(trained, tmp_path, capsys):
    other = _other_checkpoint(trained, tmp_path)
    code = call_tool('test', [trained['config'], other, '--work-dir', trained['work'],
                              '--cfg-options'] + data_options(trained['data']))
    assert code == 2
    line = _one_line_error(capsys)
    expected = checkpoint_fingerprint(trained['ckpt'])['weights_sha256'][:12]
    tested = checkpoint_fingerprint(other)['weights_sha256'][:12]
    assert 'youden_threshold.json' in line and 'epoch 1' in line and expected in line
    assert 'epoch_9.pth' in line and 'epoch 9' in line and tested in line
    assert '--threshold' in line


def test_override_and_allowed_overlap_are_recorded_everywhere(trained, tmp_path):
    """--threshold on another checkpoint, and an external test CSV sharing a val patient."""
    write_shoulder_data(trained['data'], splits=['test'] * 2, patients=['P6', 'Q1'],
                        csv='external.csv')
    other = _other_checkpoint(trained, tmp_path)
    preds, metrics, work = tmp_path / 'preds.csv', tmp_path / 'm.json', str(tmp_path / 'w')
    options = data_options(trained['data']) + [
        'experiment_name=override', 'test_dataloader.dataset.ann_file=external.csv',
        f'test_evaluator.threshold_file={trained["work"]}/youden_threshold.json']
    code = call_tool('test', [trained['config'], other, '--work-dir', work, '--threshold',
                              '0.25', '--allow-overlap', '--out', str(preds),
                              '--out-metrics', str(metrics), '--cfg-options'] + options)
    assert code == 0
    df = pd.read_csv(preds)
    assert (df['threshold'] == 0.25).all() and (df['threshold_source'] == 'override').all()
    assert (df['pred_label'] == (df['prob_osteoporosis'] >= 0.25)).all()
    assert (df['split_overlap'] == 'allowed').all()
    out = json.load(open(metrics))
    assert out['binary/threshold'] == 0.25 and 'binary/sensitivity@0.25' in out
    for protocol in (out['protocol'], json.load(open(osp.join(work, 'run_info.json')))['protocol']):
        assert protocol['threshold'] == 0.25 and protocol['threshold_source'] == 'override'
        assert protocol['overlap_allowed'] and protocol['split_overlap'] == 'allowed'
        assert protocol['overlap']['val/test']['patient_examples'] == ['P6']


def test_guard_refuses_val_and_test_sharing_a_patient(trained, tmp_path, capsys):
    # Val and test from two CSVs that share patient P6 (the guard compares datasets).
    root = write_shoulder_data(str(tmp_path), splits=['test'] * 2, patients=['P6', 'Q1'],
                               csv='external.csv')
    write_shoulder_data(str(tmp_path))
    args = [trained['config'], '--work-dir', str(tmp_path / 'w'), '--cfg-options',
            'test_dataloader.dataset.ann_file=external.csv'] + data_options(root)
    assert call_tool('train', args) == 2
    line = _one_line_error(capsys)
    assert "val/test share 1 patient(s) (e.g. ['P6'])" in line and '--allow-overlap' in line
    assert call_tool('test', [trained['config'], trained['ckpt']] + args[1:]) == 2
    assert 'val/test share 1 patient' in _one_line_error(capsys)
    # One CSV whose val and test rows share a patient: refused while the dataset is built.
    write_shoulder_data(str(tmp_path), patients=[f'P{i}' for i in range(13)] + ['P6'])
    assert call_tool('train', args[:4] + data_options(root)) == 2
    line = _one_line_error(capsys)
    assert 'labels.csv' in line and "'P6'" in line and 'leakage' in line


def test_test_evaluator_may_not_choose_on_the_test_split(trained, capsys):
    code = call_tool('test', [trained['config'], trained['ckpt'], '--cfg-options',
                              'test_evaluator.threshold=youden'] + data_options(trained['data']))
    assert code == 2 and "threshold='youden'" in _one_line_error(capsys)


def test_bad_csv_ends_in_one_line_and_debug_shows_the_traceback(tmp_path, trained, capsys):
    (tmp_path / 'labels.csv').write_text('image,label,split\na.png,normal,train\n')
    args = [trained['config'], '--work-dir', str(tmp_path / 'w'), '--cfg-options'
            ] + data_options(str(tmp_path) + '/')
    assert call_tool('train', args) == 2
    line = _one_line_error(capsys)
    assert 'labels.csv' in line and 'patient_id' in line
    with pytest.raises(XrayDataError, match='patient_id'):
        call_tool('train', args + ['--debug'])
