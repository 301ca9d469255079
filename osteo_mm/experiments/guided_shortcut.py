"""Guided vs plain training on the shortcut shoulder phantom, with ROIs on a fraction of images.

Every run trains on the same phantom (marker correlated with the label in train/val, absent in
test) with the same seed; only the model config and the share of training patients whose expert
ROI is kept differ. Each run is tested on the shortcut-free test split (``tools/test.py``),
Grad-CAM causality is computed there (``tools/analysis/gradcam.py``), and all runs are compared
with ``tools/analysis/compare_models.py`` (AUC/causality with CIs, DeLong and paired p-values).
Finished steps are skipped when the script is re-run.

Example::

    python tools/dataset_converters/make_phantom.py shoulder --out data/phantom_sc \\
        --num-patients 600 --size 128 --format png --shortcut-rate 0.95
    nice -n 10 python tools/analysis/guided_shortcut.py data/phantom_sc work_dirs/guided_sc \\
        --run plain=configs/resnet/resnet18_shoulder-binary.py:1.0 \\
        --run cam=configs/guided/resnet18_phantom-shoulder+guided-cam.py:1.0 \\
        --run cam-roi25=configs/guided/resnet18_phantom-shoulder+guided-cam.py:0.25 \\
        --cfg-options train_cfg.max_epochs=10
"""
import os
import os.path as osp
import subprocess
import sys
from typing import List, Sequence

import numpy as np
import pandas as pd

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ROI_COLUMNS = ('roi_mask', 'roi_bbox')


def write_roi_fraction_csv(src: str, dst: str, fraction: float, seed: int = 0) -> int:
    """Copy the phantom CSV keeping the expert ROI of a seeded fraction of training patients.

    Other training patients lose ``roi_mask``/``roi_bbox`` (they train unguided); validation
    and test rows are unchanged (causality is scored against their ROIs).

    Args:
        src: The phantom's ``labels.csv`` (with a ``split`` column).
        dst: Where to write the copy (atomically).
        fraction: Share of training patients that keep their ROI, in [0, 1].
        seed: Seed of the patient draw.

    Returns:
        The number of training images that keep an ROI.
    """
    table = pd.read_csv(src, dtype=str, keep_default_na=False)
    train = table['split'] == 'train'
    patients = np.sort(table.loc[train, 'patient_id'].unique())
    keep = np.random.default_rng(seed).permutation(patients)[:round(fraction * len(patients))]
    drop = train & ~table['patient_id'].isin(keep)
    for column in ROI_COLUMNS:
        if column in table:
            table.loc[drop, column] = ''
    tmp = f'{dst}.tmp'
    table.to_csv(tmp, index=False)
    os.replace(tmp, dst)
    return int((train & ~drop).sum())


def tool(script: str, *args: str) -> None:
    """Run one of the project's CLI tools, failing loudly."""
    command = [sys.executable, osp.join(ROOT, 'tools', script), *args]
    print('$', ' '.join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def run_one(name: str, config: str, fraction: float, data_root: str, work_dir: str,
            cfg_options: Sequence[str]) -> List[str]:
    """Train, test and Grad-CAM one run; return its predictions and causality files."""
    run_dir = osp.join(work_dir, name)
    os.makedirs(run_dir, exist_ok=True)
    ann_file = osp.join(run_dir, 'train.csv')
    kept = write_roi_fraction_csv(osp.join(data_root, 'labels.csv'), ann_file, fraction)
    print(f'{name}: {kept} training images keep their ROI', flush=True)
    data = [f'train_dataloader.dataset.data_root={data_root}',
            f'train_dataloader.dataset.ann_file={ann_file}',
            f'val_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}',
            'randomness.seed=0', *cfg_options]
    done = osp.join(run_dir, 'train.done')
    if not osp.exists(done):
        tool('train.py', config, '--work-dir', run_dir, '--resume', '--cfg-options', *data)
        open(done, 'w').close()
    with open(osp.join(run_dir, 'last_checkpoint')) as file:
        checkpoint = file.read().strip()
    preds = osp.join(run_dir, 'preds.csv')
    if not osp.exists(preds):
        tool('test.py', config, checkpoint, '--out', preds, '--work-dir', run_dir,
             '--cfg-options', *data)
    cam_dir = osp.join(run_dir, 'gradcam')
    if not osp.exists(osp.join(cam_dir, 'causality.csv')):
        tool('analysis/gradcam.py', config, checkpoint, '--split', 'test', '--target', 'gt',
             '--out-dir', cam_dir, '--num-vis', '8', '--cfg-options', *data)
    return [preds, osp.join(cam_dir, 'causality.csv')]


def run(data_root: str, work_dir: str, runs: Sequence[str],
        cfg_options: Sequence[str] = ()) -> str:
    """Run every ``NAME=CONFIG:FRACTION`` and compare them; return the report folder."""
    data_root = osp.abspath(data_root)
    names, preds, cams = [], [], []
    for spec in runs:
        name, rest = spec.split('=', 1)
        config, fraction = rest.rsplit(':', 1)
        pred, cam = run_one(name, osp.abspath(config), float(fraction), data_root,
                            osp.abspath(work_dir), cfg_options)
        names.append(name)
        preds.append(pred)
        cams.append(cam)
    out = osp.join(osp.abspath(work_dir), 'compare')
    tool('analysis/compare_models.py', '--preds', *preds, '--names', *names, '--cam', *cams,
         '--out', out)
    return out
