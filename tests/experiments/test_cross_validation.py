"""Cross-validation driver: fold integrity, resumption and nested selection (mock trainer).

The trainer and tester here are stand-ins that build the real datasets from the generated
configs (so they see exactly the rows a training run would read) and record every image they
touch; no network is trained. ``tests/tools/test_cross_validate.py`` runs the real tools.
"""
import json
import os.path as osp

import numpy as np
import pandas as pd
import pytest

from osteo_mm.experiments.cross_validation import CrossValidation

#: Datasets and evaluators only (no model, no MMPretrain base): the mock never trains.
MINI_CONFIG = '''
dataset = dict(type='ShoulderXrayDataset', data_root='', ann_file='labels.csv', task='binary',
               pipeline=[], serialize_data=False)
train_dataloader = dict(dataset=dict(split='train', **dataset))
val_dataloader = dict(dataset=dict(split='val', test_mode=True, **dataset))
test_dataloader = dict(dataset=dict(split='test', test_mode=True, **dataset))
val_evaluator = dict(type='BinaryDiagnosticMetric')
test_evaluator = val_evaluator
'''


def write_pool(root, n_patients=30, seed=0):
    """A shoulder CSV: 1-3 images per patient, ~30 % osteoporosis patients."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_patients):
        label = 'osteoporosis' if rng.random() < 0.3 else rng.choice(['normal', 'osteopenia'])
        for j in range(rng.integers(1, 4)):
            rows.append(dict(image=f'images/P{i:03d}_{j}.png', patient_id=f'P{i:03d}',
                             label=label, split='train'))
    path = osp.join(root, 'labels.csv')
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def build(config, loader):
    from mmengine.config import Config
    from mmpretrain.registry import DATASETS

    import osteo_mm  # noqa: F401

    cfg = Config.fromfile(config)
    return DATASETS.build(cfg[loader]['dataset'])


class MockRunner:
    """Stand-in for tools/train.py and tools/test.py that records what each run read."""

    def __init__(self, fail_after=None):
        self.touched = []  # (phase, config, img_id)
        self.trained = []
        self.fail_after = fail_after

    def train(self, config, work_dir, train_args):
        if self.fail_after is not None and len(self.trained) >= self.fail_after:
            raise KeyboardInterrupt('killed')
        self.trained.append(work_dir)
        for loader in ('train_dataloader', 'val_dataloader'):
            for info in build(config, loader).load_data_list():
                self.touched.append(('train', config, info['img_id']))
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(osp.join(work_dir, 'epoch_1.pth'))
        with open(osp.join(work_dir, 'youden_threshold.json'), 'w') as f:
            json.dump({'threshold': 0.4}, f)
        # a deterministic "validation metric" that differs between grid points
        return {'binary/roc_auc': 0.5 + 0.01 * (len(config) % 7)}

    def test(self, config, checkpoint, work_dir, fold_dir, stem='preds'):
        rng = np.random.default_rng(len(self.touched))
        rows = []
        for info in build(config, 'test_dataloader').load_data_list():
            self.touched.append((stem, config, info['img_id']))
            p = float(0.35 * int(info['gt_label']) + 0.6 * rng.random() + 0.02)
            rows.append(dict(img_id=info['img_id'], patient_id=info['patient_id'],
                             gt_label=int(info['gt_label']), pred_label=int(p >= 0.5),
                             pred_score=max(p, 1 - p), prob_not_osteoporosis=1 - p,
                             prob_osteoporosis=p, threshold=0.4))
        pd.DataFrame(rows).to_csv(osp.join(fold_dir, f'{stem}.csv'), index=False)
        return {'binary/roc_auc': 0.5}


def make_cv(tmp_path, runner, grid=None, work='cv', folds=3, repeats=2, seed=0,
            recalibrate=None, val_fraction=0.15):
    ann = write_pool(str(tmp_path))
    config = tmp_path / 'mini.py'
    config.write_text(MINI_CONFIG)
    return CrossValidation(str(config), str(tmp_path / work), folds, repeats, seed,
                           val_fraction=val_fraction, n_boot=20,
                           cfg_options={'train_dataloader.dataset.data_root': str(tmp_path),
                                        'train_dataloader.dataset.ann_file': ann},
                           grid=grid, train_fn=runner.train, test_fn=runner.test,
                           recalibrate=recalibrate)


def test_folds_patient_disjoint_and_oof_complete(tmp_path):
    runner = MockRunner()
    cv = make_cv(tmp_path, runner)
    summary = cv.run()
    plan = pd.read_csv(tmp_path / 'cv' / 'cv_folds.csv', dtype=str)
    for r, part in plan.groupby('repeat'):
        folds_per_patient = part.groupby('patient_id')['fold'].nunique()
        assert (folds_per_patient == 1).all(), f'repeat {r}: a patient is in two folds'
    # the two repeats use different seeds, hence different folds
    assert not (plan[plan['repeat'] == '0']['fold'].to_numpy()
                == plan[plan['repeat'] == '1']['fold'].to_numpy()).all()
    oof = pd.read_csv(tmp_path / 'cv' / 'oof_preds.csv', dtype={'img_id': str})
    pool = pd.read_csv(tmp_path / 'labels.csv')
    for r in (0, 1):
        ids = oof.loc[oof['repeat'] == r, 'img_id']
        assert sorted(ids) == sorted(pool['image']), 'every image exactly once per repeat'
    assert {'fold', 'repeat', 'prob_osteoporosis', 'threshold'} <= set(oof.columns)
    assert summary['n_images'] == len(pool) and len(summary['pooled']) == 2
    # per-fold records: training never read the fold's test images (from what the runs built)
    for r in (0, 1):
        for k in range(3):
            record = json.load(open(tmp_path / 'cv' / f'repeat_{r}' / f'fold_{k}' /
                                    'result.json'))
            test = set(record['test']['images'])
            assert test == set(oof.loc[(oof['repeat'] == r) & (oof['fold'] == k), 'img_id'])
            assert not test & (set(record['train']['images']) | set(record['val']['images']))
    train_touched = {i for phase, _, i in runner.touched if phase == 'train'}
    assert train_touched <= set(pool['image'])
    assert (tmp_path / 'cv' / 'cv_summary.md').read_text().count('out-of-fold') >= 1


def test_same_seed_same_folds_other_seed_differs(tmp_path):
    a = make_cv(tmp_path, MockRunner(), work='a', seed=3).plan
    b = make_cv(tmp_path, MockRunner(), work='b', seed=3).plan
    c = make_cv(tmp_path, MockRunner(), work='c', seed=4).plan
    assert a.equals(b)
    assert not a['fold'].equals(c['fold'])


def test_killed_run_resumes_without_retraining(tmp_path):
    killed = MockRunner(fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        make_cv(tmp_path, killed, repeats=1).run()
    assert len(killed.trained) == 2
    resumed = MockRunner()
    make_cv(tmp_path, resumed, repeats=1).run()
    assert len(resumed.trained) == 1, 'only the unfinished fold is trained again'
    assert set(resumed.trained).isdisjoint(killed.trained)
    again = MockRunner()
    make_cv(tmp_path, again, repeats=1).run()
    assert again.trained == []


def test_nested_selection_never_reads_outer_test_fold(tmp_path):
    runner = MockRunner()
    grid = {'optim_wrapper.optimizer.lr': [0.1, 0.01], 'train_cfg.max_epochs': [1, 2]}
    cv = make_cv(tmp_path, runner, grid=grid, repeats=1)
    cv.run()
    oof = pd.read_csv(tmp_path / 'cv' / 'oof_preds.csv', dtype={'img_id': str})
    for k in range(3):
        fold_dir = tmp_path / 'cv' / 'repeat_0' / f'fold_{k}'
        test_ids = set(oof.loc[oof['fold'] == k, 'img_id'])
        inner = {i for phase, cfg, i in runner.touched
                 if phase == 'train' and cfg.startswith(str(fold_dir))}
        assert inner and not inner & test_ids, 'a selection run read an outer test image'
        record = json.load(open(fold_dir / 'result.json'))
        assert len(record['candidates']) == 4
        assert record['chosen'] in record['candidates']
        best = max(record['candidates'].values(),
                   key=lambda c: c['val_metrics']['binary/roc_auc'])
        assert record['candidates'][record['chosen']]['val_metrics'] == best['val_metrics']
    assert len(runner.trained) == 3 * 4


def test_refuses_other_settings_in_same_work_dir(tmp_path):
    make_cv(tmp_path, MockRunner(), repeats=1).run()
    from osteo_mm.utils.cli import UserInputError
    with pytest.raises(UserInputError, match='other settings'):
        make_cv(tmp_path, MockRunner(), repeats=1, seed=5).run()


def test_recalibration_is_fitted_on_validation_only(tmp_path):
    runner = MockRunner()
    make_cv(tmp_path, runner, repeats=1, recalibrate='platt', val_fraction=0.4).run()
    for k in range(3):
        fold_dir = tmp_path / 'cv' / 'repeat_0' / f'fold_{k}'
        record = json.load(open(fold_dir / 'result.json'))
        val_ids = {i for stem, cfg, i in runner.touched
                   if stem == 'val_preds' and cfg.startswith(str(fold_dir))}
        assert val_ids == set(record['val']['images']), 'fitted on the validation carve-out'
        assert not val_ids & set(record['test']['images'])
        assert record['recalibration']['method'] == 'platt'
        raw = pd.read_csv(fold_dir / 'preds_raw.csv')
        new = pd.read_csv(fold_dir / 'preds.csv')
        a, b = record['recalibration']['a'], record['recalibration']['b']
        lp = np.log(raw['prob_osteoporosis'] / (1 - raw['prob_osteoporosis']))
        assert np.allclose(new['prob_osteoporosis'], 1 / (1 + np.exp(-(a * lp + b))))
        # an informative score gets an increasing map: decisions at the mapped threshold hold
        assert a > 0
        assert ((raw['prob_osteoporosis'] >= raw['threshold'])
                == (new['prob_osteoporosis'] >= new['threshold'])).all()
