"""Shared fixtures: a tiny PNG folder dataset and a runner for the command-line tools."""
import os
import os.path as osp
import subprocess
import sys
from typing import List

import cv2
import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_resnet_folder.py')


def run_tool(args: List[str], cwd: str, timeout: int = 300, env: dict = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python tools/<args>`` (or a shell script) as a user would, capturing output."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1', **(env or {}))
    cmd = args if args[0] == 'bash' else [sys.executable] + args
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-3000:]}')
    return proc


@pytest.fixture
def tiny_folder(tmp_path) -> str:
    """Two classes of 12 noise PNGs (``<root>/<class>/*.png``): learnable only by chance."""
    rng = np.random.default_rng(0)
    root = tmp_path / 'tiny_folder'
    for cls in ('a', 'b'):
        (root / cls).mkdir(parents=True)
        for i in range(12):
            cv2.imwrite(str(root / cls / f'{i}.png'),
                        rng.integers(0, 256, (36, 36), dtype=np.uint8))
    return str(root)


def tiny_options(data_root: str) -> List[str]:
    """``--cfg-options`` that point the tiny config at ``data_root``."""
    return ['--cfg-options'] + [f'{split}_dataloader.dataset.data_root={data_root}'
                                for split in ('train', 'val', 'test')]
