"""Helpers for tests that run the command-line tools as a user would.

(A uniquely named module: ``from conftest import ...`` is ambiguous once several test folders
with their own conftest.py are collected together.)
"""
import os
import os.path as osp
import subprocess
import sys
from typing import List

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


def tiny_options(data_root: str) -> List[str]:
    """``--cfg-options`` that point the tiny config at ``data_root``."""
    return ['--cfg-options'] + [f'{split}_dataloader.dataset.data_root={data_root}'
                                for split in ('train', 'val', 'test')]
