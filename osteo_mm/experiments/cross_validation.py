"""Repeated, patient-grouped k-fold cross-validation with optional nested grid selection.

For each repeat ``r`` (fold seed ``seed + r``) the pooled CSV's patients are split into ``K``
label-stratified, patient-disjoint folds by :func:`osteo_mm.datasets.tools.assign_folds` (the
code behind ``split_patients.py --folds``). Fold ``k`` of repeat ``r`` lives in
``<work_dir>/repeat_<r>/fold_<k>/``:

- ``train.csv``: the other folds only, with a ``split`` column ``train``/``val``; the validation
  carve-out is patient-grouped and label-stratified (:func:`assign_splits`, same seed).
- ``test.csv``: the held-out fold only (``split`` = ``test``).
- ``models/<name>/``: one training run per candidate (``model`` without ``--grid``, one per grid
  point with it) through ``tools/train.py`` (the grid-search runner: resumes from its last
  checkpoint). The training configs name ``train.csv`` and have no test loop, so no training
  process is ever given a file that holds a test image.
- the candidate with the best validation metric (grid order breaks ties) is tested on
  ``test.csv`` by ``tools/test.py`` at the Youden threshold chosen on its validation set
  (``threshold='from_val'``): ``preds.csv`` and ``test_metrics.json``;
- ``result.json``: the fold's run record (images and patients of each split, candidates and
  their validation metrics, chosen point, checkpoint, threshold, test metrics). A fold with a
  ``result.json`` is never retrained; a killed run resumes in the candidate it was training.

When every fold is done the driver writes ``oof_preds.csv`` (the per-image prediction schema of
``tools/test.py --out`` plus ``repeat`` and ``fold``; every pooled image once per repeat),
``fold_metrics.csv`` and ``cv_summary.json``/``cv_summary.md`` (pooled out-of-fold metrics with
patient-level CIs, mean and SD over folds, calibration and decision curve).
"""
from __future__ import annotations

import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import pandas as pd

from osteo_mm.datasets.csv_io import read_csv
from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.tools import assign_folds, assign_splits
from osteo_mm.datasets.tools.io import atomic_write_csv
from osteo_mm.utils.cli import UserInputError
from osteo_mm.utils.io import dump_json_atomic, write_atomic

from .grid_search import (
    TOOLS_DIR,
    grid_points,
    point_name,
    run_point,
    write_child_config,
)

#: Validation metric that picks a grid point (logged by ``BinaryDiagnosticMetric``).
DEFAULT_SELECT_METRIC = 'binary/roc_auc'
#: Name of the single candidate when there is no grid.
NO_GRID = 'model'
#: File of the validation Youden threshold, in each candidate's work dir.
THRESHOLD_FILE = 'youden_threshold.json'
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')

TrainFn = Callable[[str, str, Sequence[str]], Dict[str, float]]
TestFn = Callable[[str, str, str, str], Dict[str, Any]]


# --------------------------------------------------------------------------------------------
# Data and folds
# --------------------------------------------------------------------------------------------
def pooled_data(config: str, cfg_options: Optional[dict] = None) -> tuple:
    """The CSV and data root of the config's training dataset: the pool that is cross-validated.

    Every row of the CSV takes part (an existing ``split`` column is replaced in the fold
    files and recorded in ``cv_info.json``).

    Returns:
        tuple: ``(table, ann_file, data_root)`` with absolute paths.
    """
    from osteo_mm.utils.cli import load_config

    cfg = load_config(config, cfg_options)
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset and 'ann_file' not in dataset:  # dataset wrappers
        dataset = dataset.dataset
    if dataset.get('type') != 'ShoulderXrayDataset' or dataset.get('task', 'binary') != 'binary':
        raise UserInputError(f'{config}: cross-validation needs a binary ShoulderXrayDataset '
                             'training set (the CSV schema of docs/data-formats.md, section 3)')
    data_root = osp.abspath(dataset.get('data_root', '') or '.')
    ann_file = dataset['ann_file']
    ann_file = ann_file if osp.isabs(ann_file) else osp.join(data_root, ann_file)
    if not osp.isfile(ann_file):
        raise UserInputError(f'annotation file not found: {ann_file}')
    return read_csv(ann_file), ann_file, data_root


def make_plan(table: pd.DataFrame, ann_file: str, n_folds: int, n_repeats: int = 1,
              seed: int = 0, val_fraction: float = 0.15) -> pd.DataFrame:
    """Fold and role of every image in every repeat.

    Args:
        table (pd.DataFrame): The pooled shoulder CSV.
        ann_file (str): Its path (for messages).
        n_folds (int): K.
        n_repeats (int): R; repeat ``r`` uses seed ``seed + r`` for its folds and carve-outs.
        seed (int): Base seed. Two runs with the same seed, data and K share their folds.
        val_fraction (float): Fraction of each training fold's patients carved out for
            validation. Defaults to 0.15.

    Returns:
        pd.DataFrame: One row per image and repeat: ``row`` (position in the CSV),
        ``image``, ``patient_id``, ``repeat``, ``fold``, and ``val_in_fold_<k>`` flags are not
        stored; the carve-out is returned by :func:`fold_tables`.
    """
    if not 0 < val_fraction < 1:
        raise UserInputError(f'--val-fraction must lie in (0, 1), got {val_fraction}')
    if n_repeats < 1:
        raise UserInputError(f'--repeats must be >= 1, got {n_repeats}')
    frames = []
    for r in range(n_repeats):
        try:
            folds = assign_folds(table, ann_file, n_folds, seed=seed + r)
        except XrayDataError as err:
            raise UserInputError(str(err)) from None
        frames.append(pd.DataFrame({'row': np.arange(len(table)),
                                    'image': table['image'].to_numpy(),
                                    'patient_id': table['patient_id'].str.strip().to_numpy(),
                                    'repeat': r, 'fold': folds.to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def fold_tables(table: pd.DataFrame, ann_file: str, folds: np.ndarray, k: int, seed: int,
                val_fraction: float) -> tuple:
    """``(train_table, test_table)`` of fold ``k``: training rows with a patient-grouped
    validation carve-out (``split`` train/val) and the held-out rows (``split`` = test)."""
    train = table[folds != k].copy()
    test = table[folds == k].copy()
    try:
        split = assign_splits(train, ann_file, (1 - val_fraction, val_fraction, 0.0), seed=seed)
    except (XrayDataError, ValueError) as err:
        raise UserInputError(f'fold {k}: {err}') from None
    train['split'] = split
    test['split'] = 'test'
    return train, test


# --------------------------------------------------------------------------------------------
# Running one fold
# --------------------------------------------------------------------------------------------
def data_point(ann_file: str, data_root: str,
               loaders: Sequence[str] = DATALOADERS) -> Dict[str, Any]:
    """Config settings that point the given dataloaders at ``ann_file``."""
    point: Dict[str, Any] = {}
    for loader in loaders:
        point[f'{loader}.dataset.ann_file'] = ann_file
        point[f'{loader}.dataset.data_root'] = data_root
    return point


def evaluator_point() -> Dict[str, Any]:
    """Threshold chosen on validation (Youden) and fixed for the test fold."""
    # No bootstrap CIs on validation: only the metric and the threshold are used.
    return {'val_evaluator': dict(type='BinaryDiagnosticMetric', threshold='youden',
                                  threshold_file=THRESHOLD_FILE, n_boot=0),
            'test_evaluator': dict(type='BinaryDiagnosticMetric', threshold='from_val',
                                   threshold_file=THRESHOLD_FILE)}


def subprocess_test(config: str, checkpoint: str, work_dir: str, fold_dir: str,
                    stem: str = 'preds') -> Dict[str, Any]:
    """Test ``checkpoint`` with ``tools/test.py`` into ``fold_dir/<stem>.csv``; return the
    metrics (also in ``test_metrics.json``, or ``<stem>_metrics.json`` for another stem)."""
    preds = osp.join(fold_dir, f'{stem}.csv')
    metrics = osp.join(fold_dir, 'test_metrics.json' if stem == 'preds' else f'{stem}_metrics.json')
    cmd = [sys.executable, osp.join(TOOLS_DIR, 'test.py'), config, checkpoint,
           '--work-dir', work_dir, '--out', preds, '--out-metrics', metrics]
    log_file = osp.join(fold_dir, 'test_stdout.log')
    with open(log_file, 'a') as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise RuntimeError(f'testing failed for {config} (exit {proc.returncode}); '
                           f'see {log_file}')
    with open(metrics) as f:
        return json.load(f)


def recalibrate_predictions(val_file: str, preds_file: str, method: str,
                            positive_class: str = 'osteoporosis') -> Dict[str, Any]:
    """Fit ``method`` on the validation predictions and apply it to the test predictions.

    The raw test predictions are kept as ``preds_raw.csv`` beside ``preds_file``; the threshold
    is mapped through the same function. With a positive Platt slope the map is increasing and
    every decision is unchanged; isotonic is non-decreasing, so images tied with the threshold
    after the map are called positive. A non-positive Platt slope (a score no better than
    chance on validation) is recorded in the returned parameters.

    Returns:
        dict: The fitted recalibration (method and parameters) and the validation size.
    """
    from osteo_mm.stats.calibration import Recalibrator

    column = f'prob_{positive_class}'
    val = pd.read_csv(val_file, dtype={'img_id': str, 'patient_id': str}, keep_default_na=False)
    prob_cols = [c for c in val.columns if c.startswith('prob_')]
    y_val = (val['gt_label'].astype(int) == prob_cols.index(column)).astype(int)
    recal = Recalibrator(method).fit(y_val, val[column].astype(float))
    raw_file = osp.join(osp.dirname(preds_file), 'preds_raw.csv')
    if not osp.isfile(raw_file):
        os.replace(preds_file, raw_file)
    preds = pd.read_csv(raw_file, dtype={'img_id': str, 'patient_id': str},
                        keep_default_na=False)
    if len(prob_cols) != 2:
        raise UserInputError('recalibration needs binary predictions (two prob_ columns)')
    other = [c for c in prob_cols if c != column][0]
    p = recal.transform(preds[column].astype(float))
    preds[column], preds[other] = p, 1 - p
    if 'threshold' in preds:
        preds['threshold'] = float(recal.transform([float(preds['threshold'].iloc[0])])[0])
        called = p >= preds['threshold'].to_numpy()
    else:
        called = p >= 0.5
    positive = prob_cols.index(column)
    preds['pred_label'] = np.where(called, positive, 1 - positive)
    preds['pred_score'] = np.where(called, p, 1 - p)
    atomic_write_csv(preds, preds_file)
    return dict(recal.params(), n_val_images=int(len(val)), fitted_on=osp.basename(val_file))


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine recorded last in ``work_dir``."""
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        raise RuntimeError(f'no checkpoint was written in {work_dir}')
    with open(path) as f:
        return f.read().strip()


def select_candidate(val_metrics: Dict[str, Dict[str, float]], metric: str) -> str:
    """Name of the candidate with the highest validation ``metric`` (first on ties; NaN last)."""
    best, best_value = None, -np.inf
    for name, metrics in val_metrics.items():
        if metric not in metrics:
            raise UserInputError(f'--select-metric {metric!r} was not logged by candidate '
                                 f'{name!r}; logged: {sorted(metrics)}')
        value = metrics[metric]
        value = -np.inf if value is None or not np.isfinite(value) else value
        if best is None or value > best_value:
            best, best_value = name, value
    return best


def _ids(frame: pd.DataFrame, split: Optional[str] = None) -> Dict[str, Any]:
    if split is not None:
        frame = frame[frame['split'] == split]
    return dict(n_images=int(len(frame)), n_patients=int(frame['patient_id'].nunique()),
                images=sorted(frame['image'].tolist()))


class CrossValidation:
    """Run (or print) a repeated, patient-grouped k-fold cross-validation.

    Args:
        config (str): Binary shoulder classification config; its training dataset's CSV is the
            pool.
        work_dir (str): Output folder.
        n_folds (int): Number of folds K (>= 2).
        n_repeats (int): Number of repeats R. Defaults to 1.
        seed (int): Base seed of folds and carve-outs (repeat r uses ``seed + r``); also the
            training seed. Defaults to 0.
        val_fraction (float): Validation carve-out of each training fold. Defaults to 0.15.
        grid (dict, optional): Nested selection grid (``grid_search.py`` format).
        select_metric (str): Validation metric that picks the grid point.
        cfg_options (dict, optional): ``--cfg-options`` overrides; they define the pool and are
            written into every candidate config.
        train_args (Sequence[str]): Extra arguments for ``tools/train.py``.
        train_fn (callable, optional): ``(config, work_dir, train_args) -> val metrics``;
            default :func:`grid_search.run_point` (a ``tools/train.py`` subprocess).
        test_fn (callable, optional): ``(config, checkpoint, work_dir, fold_dir[, stem]) ->
            metrics`` writing ``fold_dir/<stem>.csv`` (default stem ``preds``); default a
            ``tools/test.py`` subprocess.
        recalibrate (str, optional): ``'platt'`` or ``'isotonic'``: fit on the chosen model's
            validation predictions (``val_preds.csv``) and apply to the test fold.
        n_boot (int): Patient bootstrap resamples of the summary CIs. Defaults to 2000.
    """

    def __init__(self, config: str, work_dir: str, n_folds: int, n_repeats: int = 1,
                 seed: int = 0, val_fraction: float = 0.15,
                 grid: Optional[Dict[str, List[Any]]] = None,
                 select_metric: str = DEFAULT_SELECT_METRIC,
                 cfg_options: Optional[dict] = None, train_args: Sequence[str] = (),
                 train_fn: Optional[TrainFn] = None,
                 test_fn: Optional[TestFn] = None, n_boot: int = 2000,
                 recalibrate: Optional[str] = None) -> None:
        if not osp.isfile(config):
            raise UserInputError(f'config not found: {config}')
        self.config = osp.abspath(config)
        self.work_dir = osp.abspath(work_dir)
        self.n_folds, self.n_repeats, self.seed = n_folds, n_repeats, seed
        self.val_fraction = val_fraction
        self.grid = grid
        self.select_metric = select_metric
        self.train_args = list(train_args)
        self.cfg_options = dict(cfg_options or {})
        self.n_boot = n_boot
        if recalibrate not in (None, 'platt', 'isotonic'):
            raise UserInputError(f'--recalibrate must be platt or isotonic, got {recalibrate!r}')
        self.recalibrate = recalibrate
        self.train_fn = train_fn or run_point
        self.test_fn = test_fn or subprocess_test
        self.table, self.ann_file, self.data_root = pooled_data(config, cfg_options)
        self.plan = make_plan(self.table, self.ann_file, n_folds, n_repeats, seed, val_fraction)
        self.candidates = ({point_name(p): p for p in grid_points(grid)} if grid
                           else {NO_GRID: {}})
        if len(self.candidates) != len(grid_points(grid) if grid else [0]):
            raise UserInputError('two grid points map to the same name; make values distinct')

    # -- bookkeeping --------------------------------------------------------------------------
    def fold_dir(self, r: int, k: int) -> str:
        return osp.join(self.work_dir, f'repeat_{r}', f'fold_{k}')

    def _check_info(self) -> None:
        """Write ``cv_info.json``, or refuse to continue a run made with other settings."""
        info = dict(config=self.config, ann_file=self.ann_file, data_root=self.data_root,
                    n_folds=self.n_folds, n_repeats=self.n_repeats, seed=self.seed,
                    val_fraction=self.val_fraction, grid=self.grid,
                    cfg_options=self.cfg_options, recalibrate=self.recalibrate,
                    select_metric=self.select_metric if self.grid else None,
                    n_images=int(len(self.table)),
                    n_patients=int(self.table['patient_id'].str.strip().nunique()),
                    replaced_split_column='split' in self.table.columns)
        path = osp.join(self.work_dir, 'cv_info.json')
        if osp.isfile(path):
            with open(path) as f:
                old = json.load(f)
            # Repeats may be added later: repeat r's folds depend only on seed + r.
            differ = sorted(k for k in info if k != 'n_repeats' and old.get(k) != info[k])
            if differ:
                raise UserInputError(f'{path} was written with other settings ({", ".join(differ)}'
                                     '); use a new --work-dir')
        os.makedirs(self.work_dir, exist_ok=True)
        dump_json_atomic(info, path)
        plan_file = osp.join(self.work_dir, 'cv_folds.csv')
        atomic_write_csv(self.plan, plan_file)

    def prepare_fold(self, r: int, k: int) -> Dict[str, Any]:
        """Write the fold's CSVs and candidate configs; return their paths."""
        fold_dir = self.fold_dir(r, k)
        folds = self.plan.loc[self.plan['repeat'] == r, 'fold'].to_numpy()
        train, test = fold_tables(self.table, self.ann_file, folds, k, self.seed + r,
                                  self.val_fraction)
        os.makedirs(fold_dir, exist_ok=True)
        train_csv, test_csv = osp.join(fold_dir, 'train.csv'), osp.join(fold_dir, 'test.csv')
        atomic_write_csv(train, train_csv)
        atomic_write_csv(test, test_csv)
        configs = {}
        for name in self.candidates:
            # Training has no test loop at all: the test fold is in no file it is given.
            no_test = {'test_dataloader': None, 'test_cfg': None, 'test_evaluator': None}
            configs[name] = write_child_config(
                self.config, {**self._settings(r, name, train_csv), **no_test},
                osp.join(fold_dir, 'models', name, f'{name}.py'))
        return dict(fold_dir=fold_dir, repeat=r, train=train, test=test, train_csv=train_csv,
                    test_csv=test_csv, configs=configs)

    def _settings(self, r: int, name: str, train_csv: str) -> Dict[str, Any]:
        """Options, grid point, training data, evaluators and seed of one candidate."""
        return {**self.cfg_options, **self.candidates[name],
                **data_point(train_csv, self.data_root, DATALOADERS[:2]),
                **evaluator_point(), 'randomness.seed': self.seed + r}

    def test_config(self, fold: Dict[str, Any], name: str, ann_file: Optional[str] = None,
                    split: str = 'test', stem: str = 'test') -> str:
        """Config that tests candidate ``name`` on the held-out fold (or another split).

        Its train/val loaders still name the training CSV, so the test tool's protocol guard
        checks the fold's train, val and test sets for shared images and patients.
        """
        test = data_point(ann_file or fold['test_csv'], self.data_root, DATALOADERS[2:])
        test['test_dataloader.dataset.split'] = split
        return write_child_config(
            self.config, {**self._settings(fold['repeat'], name, fold['train_csv']), **test},
            osp.join(fold['fold_dir'], f'{stem}_{name}.py'))

    # -- running ------------------------------------------------------------------------------
    def run_fold(self, r: int, k: int) -> Dict[str, Any]:
        """Train the candidates, select on validation, test the chosen one; return the record."""
        fold = self.prepare_fold(r, k)
        start = time.time()
        val_metrics = {}
        for name, config in fold['configs'].items():
            model_dir = osp.dirname(config)
            done = osp.join(model_dir, 'val_metrics.json')
            if osp.isfile(done):
                with open(done) as f:
                    val_metrics[name] = json.load(f)
                continue
            val_metrics[name] = self.train_fn(config, model_dir, self.train_args)
            dump_json_atomic(val_metrics[name], done)
        chosen = select_candidate(val_metrics, self.select_metric) if self.grid else NO_GRID
        model_dir = osp.dirname(fold['configs'][chosen])
        checkpoint = last_checkpoint(model_dir)
        test_metrics = self.test_fn(self.test_config(fold, chosen), checkpoint, model_dir,
                                    fold['fold_dir'])
        recalibration = None
        if self.recalibrate:
            val_config = self.test_config(fold, chosen, fold['train_csv'], 'val', 'val')
            self.test_fn(val_config, checkpoint, model_dir, fold['fold_dir'], stem='val_preds')
            recalibration = recalibrate_predictions(osp.join(fold['fold_dir'], 'val_preds.csv'),
                                                    osp.join(fold['fold_dir'], 'preds.csv'),
                                                    self.recalibrate)
        threshold_file = osp.join(model_dir, THRESHOLD_FILE)
        threshold = None
        if osp.isfile(threshold_file):
            with open(threshold_file) as f:
                threshold = json.load(f).get('threshold')
        record = dict(repeat=r, fold=k, seed=self.seed + r, train=_ids(fold['train'], 'train'),
                      val=_ids(fold['train'], 'val'), test=_ids(fold['test']),
                      train_csv=fold['train_csv'], test_csv=fold['test_csv'],
                      candidates={n: dict(point=self.candidates[n], val_metrics=val_metrics[n])
                                  for n in self.candidates},
                      select_metric=self.select_metric if self.grid else None,
                      chosen=chosen, chosen_point=self.candidates[chosen],
                      checkpoint=checkpoint, threshold=threshold, recalibration=recalibration,
                      val_metrics=val_metrics[chosen], test_metrics=test_metrics,
                      seconds=round(time.time() - start, 1))
        dump_json_atomic(record, osp.join(fold['fold_dir'], 'result.json'))
        return record

    def commands(self, launcher: str, gpus: int = 1, partition: str = 'PARTITION') -> List[str]:
        """Shell commands that train and test every unfinished fold (``pytorch`` or ``slurm``).

        Training commands of one fold's candidates are independent; its test command needs
        them all, then ``tools/cross_validate.py`` with the same arguments (and no launcher)
        selects, tests and pools whatever is left.
        """
        lines = []
        for r in range(self.n_repeats):
            for k in range(self.n_folds):
                fold = self.prepare_fold(r, k)
                if osp.isfile(osp.join(fold['fold_dir'], 'result.json')):
                    continue
                lines.append(f'# repeat {r} fold {k}')
                for name, config in fold['configs'].items():
                    work = osp.dirname(config)
                    job = f'cv_r{r}_f{k}_{name}'
                    if launcher == 'slurm':
                        lines.append(f'GPUS={gpus} bash {osp.join(TOOLS_DIR, "slurm_train.sh")} '
                                     f'{partition} {job} {config} {work} --resume')
                    else:
                        lines.append(f'bash {osp.join(TOOLS_DIR, "dist_train.sh")} {config} '
                                     f'{gpus} --work-dir {work} --resume')
        return lines

    def run(self, launcher: str = 'none', gpus: int = 1,
            partition: str = 'PARTITION') -> Optional[Dict[str, Any]]:
        """Run every fold (or print the commands); pool and summarise when all are done."""
        from tqdm import tqdm

        self._check_info()
        if launcher != 'none':
            print('\n'.join(self.commands(launcher, gpus, partition)))
            return None
        records = []
        jobs = [(r, k) for r in range(self.n_repeats) for k in range(self.n_folds)]
        for r, k in tqdm(jobs, desc='cross-validation folds', unit='fold'):
            result = osp.join(self.fold_dir(r, k), 'result.json')
            if osp.isfile(result):
                with open(result) as f:
                    records.append(json.load(f))
                continue
            records.append(self.run_fold(r, k))
        return self.pool(records)

    # -- pooling ------------------------------------------------------------------------------
    def pool(self, records: List[Dict[str, Any]]) -> Dict[str, Any]:
        """Write ``oof_preds.csv``, ``fold_metrics.csv`` and the summary; return the summary."""
        from osteo_mm.evaluation.metrics.cross_validation import (
            fold_metrics_table,
            summarize_oof,
        )

        frames = []
        for rec in records:
            preds = pd.read_csv(osp.join(self.fold_dir(rec['repeat'], rec['fold']), 'preds.csv'),
                                dtype={'img_id': str, 'patient_id': str}, keep_default_na=False)
            frames.append(preds.assign(repeat=rec['repeat'], fold=rec['fold']))
        oof = pd.concat(frames, ignore_index=True)
        check_oof(oof, self.table['image'], self.n_repeats)
        oof_file = osp.join(self.work_dir, 'oof_preds.csv')
        atomic_write_csv(oof, oof_file)
        folds = fold_metrics_table(oof)
        atomic_write_csv(folds, osp.join(self.work_dir, 'fold_metrics.csv'))
        summary = summarize_oof(oof, n_boot=self.n_boot, seed=self.seed)
        summary['chosen_points'] = [dict(repeat=r['repeat'], fold=r['fold'], chosen=r['chosen'],
                                         point=r['chosen_point']) for r in records]
        summary['n_trainings'] = len(records) * len(self.candidates)
        summary['fold_seconds'] = [r.get('seconds') for r in records]
        dump_json_atomic(summary, osp.join(self.work_dir, 'cv_summary.json'),
                         default=_json_default)
        from osteo_mm.report.cross_validation import summary_markdown

        write_atomic(osp.join(self.work_dir, 'cv_summary.md'), summary_markdown(summary, folds))
        return summary


def check_oof(oof: pd.DataFrame, images: pd.Series, n_repeats: int) -> None:
    """Raise unless every pooled image appears exactly once in every repeat."""
    expected = set(images.astype(str))
    for r in range(n_repeats):
        counts = oof.loc[oof['repeat'] == r, 'img_id'].value_counts()
        missing = expected - set(counts.index)
        extra = set(counts.index) - expected
        twice = counts[counts > 1]
        if missing or extra or len(twice):
            raise RuntimeError(f'repeat {r}: out-of-fold predictions are incomplete: '
                               f'{len(missing)} images missing {sorted(missing)[:5]}, '
                               f'{len(extra)} unknown {sorted(extra)[:5]}, '
                               f'{len(twice)} repeated {list(twice.index[:5])}')


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f'not JSON serialisable: {type(value)}')
