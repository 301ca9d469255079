"""A training run killed with SIGKILL resumes and ends exactly like an uninterrupted run."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import torch
from tool_runner import ROOT, TINY_CONFIG, run_tool, tiny_options

from osteo_mm.utils import safe_load


def _final_state(work_dir: str) -> dict:
    return safe_load(osp.join(work_dir, 'epoch_3.pth'))['state_dict']


def test_sigkill_mid_training_then_resume_matches_uninterrupted(tmp_path, tiny_folder):
    opts = tiny_options(tiny_folder) + ['train_cfg.max_epochs=3', 'randomness.seed=7',
                                        'randomness.deterministic=True']
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')

    straight = str(tmp_path / 'straight')
    run_tool(['tools/train.py', TINY_CONFIG, '--work-dir', straight] + opts, cwd=ROOT)

    killed = str(tmp_path / 'killed')
    proc = subprocess.Popen([sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir', killed]
                            + opts, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not osp.isfile(osp.join(killed, 'epoch_1.pth')) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not osp.isfile(osp.join(killed, 'epoch_3.pth')), 'killed too late to test resume'

    run_tool(['tools/train.py', TINY_CONFIG, '--work-dir', killed, '--resume'] + opts, cwd=ROOT)
    expected, resumed = _final_state(straight), _final_state(killed)
    assert expected.keys() == resumed.keys()
    for key in expected:
        assert torch.equal(expected[key], resumed[key]), key
