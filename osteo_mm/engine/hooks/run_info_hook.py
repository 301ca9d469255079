"""Record what produced a run: seed, package versions and git commit."""
import json
import os
import os.path as osp
import platform
import subprocess
import sys
from typing import Dict

from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

_PACKAGES = ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmpretrain', 'numpy', 'pydicom',
             'pytorch_grad_cam', 'osteo_mm')


def package_versions() -> Dict[str, str]:
    """Versions of the packages that decide a run's numbers (``'missing'`` if absent)."""
    from importlib import import_module
    versions = {'python': platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = str(getattr(import_module(name), '__version__', 'unknown'))
        except ImportError:
            versions[name] = 'missing'
    return versions


def git_commit() -> str:
    """The osteo_mm source commit (``+dirty`` if modified), or ``'unknown'`` outside git."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    try:
        commit = subprocess.run(['git', '-C', root, 'rev-parse', 'HEAD'], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(['git', '-C', root, 'status', '--porcelain', '--untracked-files=no'],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return 'unknown'
    return commit + ('+dirty' if dirty else '')


@HOOKS.register_module()
class RunInfoHook(Hook):
    """Write ``run_info.json`` (seed, versions, git commit, command, protocol) into the work dir.

    MMEngine already saves the resolved config next to the logs; together they say how to
    repeat the run. ``protocol`` is the config's ``protocol`` entry, set by ``tools/train.py``
    and ``tools/test.py`` (:mod:`osteo_mm.utils.protocol`): the split check (``split_overlap``
    ``'none'``/``'allowed'``, ``overlap`` counts and examples) and, for a test, the threshold
    used and its source. No config keys.
    """

    priority = 'VERY_LOW'

    @master_only
    def before_run(self, runner) -> None:
        info = dict(
            experiment_name=runner.experiment_name,
            seed=runner.seed,
            deterministic=bool(runner.cfg.get('randomness', {}).get('deterministic', False)),
            world_size=runner.world_size,
            command=[osp.basename(sys.argv[0])] + sys.argv[1:],
            git_commit=git_commit(),
            versions=package_versions(),
            protocol=runner.cfg.get('protocol'),
        )
        os.makedirs(runner.work_dir, exist_ok=True)
        path = osp.join(runner.work_dir, 'run_info.json')
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(info, f, indent=2)
        os.replace(tmp, path)
