"""Cross-validation end to end: real tools/train.py and tools/test.py runs of 2 folds at 32 px.

(The fold-integrity, resumption and nested-selection properties are checked with a mock
trainer in tests/experiments/test_cross_validation.py; this test pays for 4 real trainings and
tests once.)
"""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pandas as pd
from mmengine.config import Config
from tool_runner import ROOT

from osteo_mm.experiments.cross_validation import CrossValidation

CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_resnet_shoulder.py')


def write_shoulder(root, n_patients=50):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n_patients):
        label = 'osteoporosis' if i % 3 == 0 else 'normal'
        for j in range(1 + i % 2):
            name = f'images/P{i:02d}_{j}.png'
            img = rng.integers(0, 255, (40, 40), dtype=np.uint8)
            if label == 'osteoporosis':
                img[10:30, 10:30] //= 3
            cv2.imwrite(osp.join(root, name), img)
            rows.append(dict(image=name, patient_id=f'P{i:02d}', label=label))
    pd.DataFrame(rows).to_csv(osp.join(root, 'labels.csv'), index=False)
    return rows


def test_cross_validate_trains_tests_and_pools(tmp_path, capsys):
    (tmp_path / 'images').mkdir()
    rows = write_shoulder(str(tmp_path))
    work = tmp_path / 'cv'

    def make():
        return CrossValidation(CONFIG, str(work), 2, 1, seed=1, val_fraction=0.3, n_boot=20,
                               cfg_options={'train_dataloader.dataset.data_root':
                                            f'{tmp_path}/'})

    make().run(launcher='slurm')
    printed = capsys.readouterr().out
    assert printed.count('slurm_train.sh') == 2 and not (work / 'oof_preds.csv').exists()
    summary = make().run()
    oof = pd.read_csv(work / 'oof_preds.csv', dtype={'img_id': str})
    assert sorted(oof['img_id']) == sorted(r['image'] for r in rows)
    assert set(oof['fold']) == {0, 1} and set(oof['repeat']) == {0}
    for k in (0, 1):
        record = json.load(open(work / 'repeat_0' / f'fold_{k}' / 'result.json'))
        model_dir = osp.dirname(record['checkpoint'])
        # The config the training Runner itself logged (its run is the first timestamped
        # folder; the test run's is the second) names the CSV it read; its rows hold none of
        # this fold's test images.
        logged = sorted(glob.glob(osp.join(model_dir, '*', 'vis_data', 'config.py')))[0]
        ann = Config.fromfile(logged).train_dataloader.dataset.ann_file
        trained_on = set(pd.read_csv(ann)['image'])
        test_ids = set(oof.loc[oof['fold'] == k, 'img_id'])
        assert trained_on and not trained_on & test_ids
        threshold = json.load(open(osp.join(model_dir, 'youden_threshold.json')))['threshold']
        assert np.allclose(oof.loc[oof['fold'] == k, 'threshold'], threshold), \
            'the fold is tested at its validation threshold'
    assert summary['n_images'] == len(rows) and summary['pooled'][0]['n_images'] == len(rows)
    assert 'brier' in summary['repeat_averaged'] and summary['decision_curve']
