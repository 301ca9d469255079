"""The threshold record binds a validation threshold to the weights it was chosen for."""
import json

import pytest
import torch
from mmengine.logging import MessageHub

from osteo_mm.evaluation.metrics.diagnostic import BinaryDiagnosticMetric
from osteo_mm.utils.threshold_record import (
    FORMAT,
    WEIGHTS_INFO_KEY,
    ThresholdMismatchError,
    append_record,
    checkpoint_fingerprint,
    read_records,
    read_threshold_record,
    weights_sha256,
)


def test_weights_hash_ignores_key_order_and_sees_every_byte_dtype_and_shape():
    state = {'a.weight': torch.arange(6.).reshape(2, 3), 'b.bias': torch.zeros(3, dtype=torch.half),
             'n': torch.tensor(7)}
    reference = weights_sha256(state)
    assert weights_sha256(dict(reversed(list(state.items())))) == reference
    changed = dict(state, **{'a.weight': state['a.weight'].clone()})
    changed['a.weight'][1, 2] += 1e-6
    assert weights_sha256(changed) != reference
    assert weights_sha256(dict(state, **{'a.weight': state['a.weight'].reshape(3, 2)})) != reference
    assert weights_sha256(dict(state, **{'a.weight': state['a.weight'].double()})) != reference
    assert weights_sha256(dict(state, extra='not a tensor')) == reference


def test_checkpoint_fingerprint_equals_the_model_hash(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    path = str(tmp_path / 'epoch_4.pth')
    torch.save(dict(meta=dict(epoch=4, iter=40), state_dict=model.state_dict()), path)
    fingerprint = checkpoint_fingerprint(path)
    assert fingerprint['epoch'] == 4 and fingerprint['iter'] == 40
    assert fingerprint['weights_sha256'] == weights_sha256(model.state_dict())


def test_records_accumulate_and_the_matching_one_is_read(tmp_path):
    path = str(tmp_path / 'thr.json')
    append_record(path, dict(threshold=0.3, epoch=1, iter=10, weights_sha256='a' * 64))
    append_record(path, dict(threshold=0.6, epoch=2, iter=20, weights_sha256='b' * 64))
    content = json.load(open(path))
    assert content['format'] == FORMAT and content['threshold'] == 0.6  # latest, flat
    assert [r['epoch'] for r in read_records(path)] == [1, 2]
    assert read_threshold_record(path)['threshold'] == 0.6
    assert read_threshold_record(path, 'a' * 64)['threshold'] == 0.3  # e.g. the best epoch
    with pytest.raises(ThresholdMismatchError) as err:
        read_threshold_record(path, 'c' * 64, tested='epoch_7.pth: epoch 7')
    message = str(err.value)
    assert '\n' not in message and 'epoch 2' in message and 'b' * 12 in message
    assert 'epoch_7.pth: epoch 7' in message and '--threshold' in message


def test_a_file_from_before_the_format_is_one_unbound_record(tmp_path):
    path = tmp_path / 'old.json'
    path.write_text(json.dumps({'threshold': 0.4, 'epoch': 3, 'num_samples': 9}))
    assert read_threshold_record(str(path))['threshold'] == 0.4
    with pytest.raises(ThresholdMismatchError, match='no weights hash'):
        read_threshold_record(str(path), 'd' * 64)
    path.write_text(json.dumps({'threshold': 'high'}))
    with pytest.raises(ValueError, match='must be a number'):
        read_records(str(path))


def test_metric_writes_the_weights_and_reads_back_only_their_threshold(tmp_path):
    import numpy as np
    rng = np.random.default_rng(0)
    scores, labels = rng.random(40), rng.integers(0, 2, 40)
    path = str(tmp_path / 'youden.json')
    hub = MessageHub.get_current_instance()
    hub.update_info(WEIGHTS_INFO_KEY, 'e' * 64)
    val = BinaryDiagnosticMetric(threshold='youden', threshold_file=path, n_boot=0)
    threshold, _ = val._operating_threshold(scores, labels)
    assert read_records(path)[-1] == dict(
        threshold=threshold, method='youden', pos_label=1, num_samples=40,
        epoch=read_records(path)[-1]['epoch'], iter=read_records(path)[-1]['iter'],
        weights_sha256='e' * 64)
    test = BinaryDiagnosticMetric(threshold='from_val', threshold_file=path, n_boot=0)
    assert test._operating_threshold(scores, labels) == (threshold, 'youden')
    hub.update_info(WEIGHTS_INFO_KEY, 'f' * 64)
    try:
        with pytest.raises(ThresholdMismatchError):
            test._operating_threshold(scores, labels)
    finally:
        hub.runtime_info.pop(WEIGHTS_INFO_KEY, None)
