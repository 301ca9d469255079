"""Checkpoint loading keeps weights-only safety while reading MMEngine checkpoints."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
from mmpretrain.models import ResNet
from tool_runner import ROOT, TINY_CONFIG, run_tool, tiny_options

import osteo_mm  # noqa: F401  (installs the safe loader)
from osteo_mm.utils import UnsafeCheckpointError, safe_load


class _Exploit:
    """Unpickling this object runs a shell command (a classic pickle payload)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def _malicious_checkpoint(tmp_path) -> tuple:
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    state = ResNet(depth=18).state_dict()
    torch.save({'state_dict': state, 'meta': {'payload': _Exploit(marker)}}, path)
    return path, marker


def test_mmengine_runtime_state_round_trips(tmp_path):
    hub = MessageHub.get_instance('ckpt-test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('eta', np.float64(3.0))
    path = str(tmp_path / 'ok.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'message_hub': hub.state_dict(),
                'meta': {'arr': np.arange(3), 'seed': 1}}, path)
    ckpt = safe_load(path)
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    assert ckpt['message_hub']['log_scalars']['train/loss'].current() == 0.5
    np.testing.assert_array_equal(ckpt['meta']['arr'], np.arange(3))
    # MMEngine's own loader (used by load_from / resume / init_cfg) goes through it too.
    assert torch.equal(_load_checkpoint(path)['state_dict']['w'], torch.ones(2))


@pytest.mark.parametrize('loader', ['safe_load', 'mmengine_load_checkpoint'])
def test_malicious_checkpoint_is_refused(tmp_path, loader):
    path, marker = _malicious_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match=r'posix\.system|os\.system'):
        if loader == 'safe_load':
            safe_load(path)
        else:
            load_checkpoint(ResNet(depth=18), path)
    assert not osp.exists(marker)


def test_init_cfg_pretrained_refuses_malicious_file(tmp_path):
    path, marker = _malicious_checkpoint(tmp_path)
    model = ResNet(depth=18, init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(UnsafeCheckpointError):
        model.init_weights()
    assert not osp.exists(marker)


def test_tools_refuse_malicious_checkpoint_in_one_line(tmp_path, tiny_folder):
    path, marker = _malicious_checkpoint(tmp_path)
    data_opts = tiny_options(tiny_folder)
    for args in (['tools/test.py', TINY_CONFIG, path] + data_opts,
                 ['tools/train.py', TINY_CONFIG, '--work-dir', str(tmp_path / 'w')] + data_opts
                 + [f'load_from={path}']):
        proc = run_tool(args, cwd=ROOT, check=False)
        assert proc.returncode == 2, proc.stderr[-2000:]
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith('error: refusing to load checkpoint') and 'system' in last
    assert not osp.exists(marker)
