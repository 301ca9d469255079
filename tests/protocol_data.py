"""Tiny shoulder data and an in-process tool runner for the protocol tests.

(A uniquely named module, like tool_runner.py: importable from any test folder.)
"""
import importlib.util
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: A config that inherits the shoulder base unchanged: only size, schedule and speed change.
SHOULDER_CONFIG = f"""_base_ = [
    '{ROOT}/configs/_base_/models/resnet18_xray.py',
    '{ROOT}/configs/_base_/datasets/shoulder_xray.py',
    '{ROOT}/configs/_base_/schedules/xray_sgd_cos_50e.py',
    '{ROOT}/configs/_base_/default_runtime.py',
]
pipeline = [
    dict(type='LoadXrayFromFile', window='file'),
    dict(type='XrayResize', scale=32),
    dict(type='PackXrayInputs'),
]
loader = dict(batch_size=4, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(pipeline=pipeline))
val_dataloader = dict(**loader, dataset=dict(pipeline=pipeline))
test_dataloader = dict(**loader, dataset=dict(pipeline=pipeline))
val_evaluator = dict(n_boot=0)
test_evaluator = dict(n_boot=0)
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1))
randomness = dict(seed=0, deterministic=True)
"""


def write_shoulder_data(root: str, splits: Optional[List[str]] = None,
                        patients: Optional[List[str]] = None, csv: str = 'labels.csv') -> str:
    """32 px noise films in the osteo_mm CSV schema; default 6 train, 4 val, 4 test patients.

    Returns:
        str: ``root`` with a trailing slash (as a ``data_root``).
    """
    splits = splits or ['train'] * 6 + ['val'] * 4 + ['test'] * 4
    patients = patients or [f'P{i}' for i in range(len(splits))]
    rng = np.random.default_rng(0)
    rows = ['image,patient_id,label,split']
    for i, (split, patient) in enumerate(zip(splits, patients)):
        name = f'{osp.splitext(csv)[0]}_{i}.png'
        cv2.imwrite(osp.join(root, name), rng.integers(0, 255, (32, 32), dtype=np.uint8))
        rows.append(f'{name},{patient},{"osteoporosis" if i % 2 else "normal"},{split}')
    with open(osp.join(root, csv), 'w') as f:
        f.write('\n'.join(rows) + '\n')
    return root.rstrip('/') + '/'


def data_options(data_root: str) -> List[str]:
    return [f'{s}_dataloader.dataset.data_root={data_root}' for s in ('train', 'val', 'test')]


def call_tool(name: str, argv: List[str]) -> int:
    """Run ``tools/<name>.py`` in this process (no interpreter start-up); return its exit code."""
    spec = importlib.util.spec_from_file_location(f'_tool_{name.replace("/", "_")}',
                                                  osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        module.main(argv)
    except SystemExit as exit_:
        return exit_.code
    return 0
