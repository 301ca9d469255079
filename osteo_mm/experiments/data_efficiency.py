"""Data-efficiency study: test AUC vs fraction of labelled training patients.

Every run trains one classifier config (a *backbone*) from one initialisation (scratch, or the
backbone weights of a checkpoint: ImageNet, chest MAE/SparK, a proxy task, supervised chest)
on a :class:`~osteo_mm.datasets.wrappers.LabelFractionDataset` subset, then tests it. Each run
writes ``<work_dir>/<backbone>/<init>/frac<f>/seed<s>/result.json`` atomically when it has
finished, and runs whose result exists are skipped, so an interrupted study resumes.
"""
from __future__ import annotations

import copy
import json
import os
import os.path as osp
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from mmengine.config import Config
from mmengine.runner import Runner
from scipy import stats
from tqdm import tqdm

from osteo_mm.utils.cli import UserInputError, require_file
from osteo_mm.utils.io import dump_json_atomic
from osteo_mm.utils.workers import stop_dataloader_workers

RESULT_FILE = 'result.json'


@dataclass(frozen=True)
class RunSpec:
    """One point of the study grid.

    Args:
        backbone (str): Name of the classifier config.
        init (str): Name of the initialisation.
        checkpoint (str, optional): Checkpoint whose ``backbone.*`` weights initialise the
            model; None trains from scratch (the config's own init).
        fraction (float): Fraction of labelled training patients, in (0, 1].
        seed (int): Seed of the label subset and of training.
    """

    backbone: str
    init: str
    checkpoint: str | None
    fraction: float
    seed: int

    @property
    def name(self) -> str:
        """str: Relative work directory of the run."""
        return osp.join(self.backbone, self.init, f'frac{self.fraction:g}', f'seed{self.seed}')


def parse_inits(items: Iterable[str]) -> list[tuple[str, str | None, str | None]]:
    """Parse ``NAME[@BACKBONE][=CKPT]`` command-line items into :func:`plan_runs` inits.

    Args:
        items (Iterable[str]): e.g. ``'scratch'``, ``'chest-spark@resnet18=epoch_8.pth'``.

    Returns:
        list[tuple]: ``(name, checkpoint or None, backbone or None)`` per item.

    Raises:
        UserInputError: For an empty name or value, or a checkpoint file that does not exist.
    """
    inits = []
    for item in items:
        key, sep, ckpt = item.partition('=')
        if not key or (sep and not ckpt):
            raise UserInputError(f'--init {item!r}: expected NAME=VALUE')
        name, _, only = key.partition('@')
        if ckpt:
            require_file(ckpt, f'--init {name} checkpoint')
        inits.append((name, ckpt or None, only or None))
    return inits


def plan_runs(backbones: Iterable[str], inits: Sequence[tuple[str, str | None, str | None]],
              fractions: Iterable[float], seeds: Iterable[int]) -> list[RunSpec]:
    """Expand the grid backbones x initialisations x fractions x seeds.

    Args:
        backbones (Iterable[str]): Backbone names.
        inits (Sequence[tuple]): ``(name, checkpoint or None, backbone or None)``; an init with
            a backbone applies to that backbone only (e.g. a chest-MAE ViT checkpoint).
        fractions (Iterable[float]): Label fractions.
        seeds (Iterable[int]): Seeds.

    Returns:
        list[RunSpec]: The runs, backbone-major.

    Raises:
        ValueError: If an init names an unknown backbone or a fraction is outside (0, 1].
    """
    backbones, fractions, seeds = list(backbones), list(fractions), list(seeds)
    for name, _, only in inits:
        if only is not None and only not in backbones:
            raise ValueError(f'init {name!r} is for backbone {only!r}, which is not one of '
                             f'{backbones}')
    for fraction in fractions:
        if not 0 < fraction <= 1:
            raise ValueError(f'label fractions must be in (0, 1], got {fraction}')
    return [RunSpec(b, name, ckpt, f, s) for b in backbones for name, ckpt, only in inits
            if only in (None, b) for f in fractions for s in seeds]


def build_run_config(base: Config, spec: RunSpec, work_dir: str) -> Config:
    """Derive the config of one run from a classifier config.

    The training set is wrapped in ``LabelFractionDataset(fraction, seed)``, the seed set,
    ``load_from``/``resume`` cleared and, for a checkpoint init, the backbone initialised from
    the checkpoint's ``backbone.*`` weights (``init_cfg=dict(type='Pretrained')``); for a
    scratch run a ``Pretrained`` backbone init of the config is removed, so a fine-tuning
    config serves for both arms (same recipe, same normalisation).

    Args:
        base (Config): A classifier config with train and test dataloaders.
        spec (RunSpec): The run.
        work_dir (str): The run's work directory.

    Returns:
        Config: A new config; ``base`` is left unchanged.
    """
    cfg = copy.deepcopy(base)
    cfg.work_dir = work_dir
    # One process runs many Runners: a unique name keeps their loggers and visualizers apart.
    cfg.experiment_name = f'data_efficiency_{spec.name.replace(osp.sep, "_")}_{time.time_ns()}'
    cfg.randomness = dict(seed=spec.seed, deterministic=False)
    cfg.load_from, cfg.resume = None, False
    cfg.train_dataloader.dataset = dict(type='LabelFractionDataset', fraction=spec.fraction,
                                        seed=spec.seed, dataset=cfg.train_dataloader.dataset)
    if spec.checkpoint is not None:
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=spec.checkpoint,
                                           prefix='backbone.')
    elif cfg.model.backbone.get('init_cfg', {}).get('type') == 'Pretrained':
        # A fine-tuning config names its pretraining checkpoint; scratch means without it.
        cfg.model.backbone.pop('init_cfg')
    return cfg


def train_and_test(cfg: Config) -> dict:
    """Train with an MMEngine Runner, then test; return the test metrics.

    Args:
        cfg (Config): A run config (see :func:`build_run_config`).

    Returns:
        dict: The test metrics plus ``num_train_images``.
    """
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
        metrics = dict(runner.test())
    finally:
        stop_dataloader_workers(runner)
    metrics['num_train_images'] = len(runner.train_dataloader.dataset)
    return metrics




def run_study(configs: dict[str, Config], runs: Sequence[RunSpec], work_dir: str, metric: str,
              runner_fn: Callable[[Config], dict] = train_and_test) -> pd.DataFrame:
    """Run (or resume) the study and return one row per finished run.

    Args:
        configs (dict[str, Config]): Classifier config of each backbone.
        runs (Sequence[RunSpec]): The grid, from :func:`plan_runs`.
        work_dir (str): Root work directory.
        metric (str): Test metric to collect, e.g. ``'binary/roc_auc'``.
        runner_fn (Callable): Trains and tests one config, returning its test metrics.

    Returns:
        pd.DataFrame: Columns ``backbone, init, checkpoint, fraction, seed, <metric>`` plus
        the metric's ``_ci_low``/``_ci_high`` when the metric reports them,
        ``num_train_images`` and ``seconds``.

    Raises:
        KeyError: If the test metrics lack ``metric`` (the message lists the available keys).
    """
    rows = []
    for spec in tqdm(runs, desc='data-efficiency runs', unit='run'):
        run_dir = osp.join(work_dir, spec.name)
        result_path = osp.join(run_dir, RESULT_FILE)
        if not osp.isfile(result_path):
            os.makedirs(run_dir, exist_ok=True)
            start = time.time()
            metrics = runner_fn(build_run_config(configs[spec.backbone], spec, run_dir))
            if metric not in metrics:
                raise KeyError(f'run {spec.name}: test metrics have no {metric!r}; available: '
                               f'{sorted(metrics)}')
            keep = {k: float(v) for k, v in metrics.items()
                    if k in (metric, f'{metric}_ci_low', f'{metric}_ci_high', 'num_train_images')}
            dump_json_atomic(dict(asdict(spec), seconds=time.time() - start, **keep),
                             result_path, default=float)
        with open(result_path) as f:
            rows.append(json.load(f))
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame, metric: str, confidence: float = 0.95) -> pd.DataFrame:
    """Mean test metric per backbone, init and fraction with a t-interval over seeds.

    Args:
        results (pd.DataFrame): Output of :func:`run_study`.
        metric (str): The metric column.
        confidence (float): Confidence level of the interval.

    Returns:
        pd.DataFrame: ``backbone, init, fraction, n_seeds, mean, std, ci_low, ci_high``;
        the interval is NaN with a single seed (no spread to estimate).
    """
    rows = []
    for (backbone, init, fraction), group in results.groupby(['backbone', 'init', 'fraction'],
                                                            sort=True):
        values = group[metric].to_numpy(dtype=float)
        n, mean = len(values), float(np.mean(values))
        std = float(np.std(values, ddof=1)) if n > 1 else float('nan')
        half = (float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / np.sqrt(n)
                if n > 1 else float('nan'))
        rows.append(dict(backbone=backbone, init=init, fraction=fraction, n_seeds=n, mean=mean,
                         std=std, ci_low=mean - half, ci_high=mean + half))
    return pd.DataFrame(rows)


def plot_learning_curves(summary: pd.DataFrame, out_file: str, metric: str) -> None:
    """Plot the metric vs labelled fraction, one panel per backbone, one line per init.

    Args:
        summary (pd.DataFrame): Output of :func:`summarize`.
        out_file (str): PNG path (written atomically).
        metric (str): Axis label.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    backbones = sorted(summary['backbone'].unique())
    fig, axes = plt.subplots(1, len(backbones), figsize=(4.5 * len(backbones), 3.6),
                             squeeze=False, sharey=True)
    for ax, backbone in zip(axes[0], backbones):
        part = summary[summary['backbone'] == backbone]
        ticks = np.sort(part['fraction'].unique()) * 100
        for init, line in part.groupby('init', sort=True):
            line = line.sort_values('fraction')
            x = line['fraction'].to_numpy() * 100
            ax.plot(x, line['mean'], marker='o', label=f'{init}')
            ax.fill_between(x, line['ci_low'], line['ci_high'], alpha=0.2)
        ax.set_xscale('log')
        ax.set_xticks(ticks, [f'{v:g}' for v in ticks])
        ax.set_xlabel('labelled training patients (%)')
        ax.set_title(backbone)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel(f'test {metric} (mean, 95% CI over seeds)')
    fig.tight_layout()
    tmp = f'{out_file}.tmp.png'
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, out_file)


def summary_markdown(summary: pd.DataFrame, metric: str) -> str:
    """Format the summary as a Markdown table (mean [95 % CI] per row).

    Args:
        summary (pd.DataFrame): Output of :func:`summarize`.
        metric (str): Metric name for the header.

    Returns:
        str: The table.
    """
    lines = [f'| backbone | init | labelled fraction | seeds | {metric} mean [95% CI] |',
             '| --- | --- | --- | --- | --- |']
    for row in summary.itertuples():
        lines.append(f'| {row.backbone} | {row.init} | {row.fraction:g} | {row.n_seeds} | '
                     f'{row.mean:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}] |')
    return '\n'.join(lines) + '\n'


def write_outputs(results: pd.DataFrame, work_dir: str, metric: str) -> pd.DataFrame:
    """Write ``results.csv``, ``summary.csv``, ``summary.md`` and ``learning_curve.png``.

    Args:
        results (pd.DataFrame): Output of :func:`run_study`.
        work_dir (str): Output directory.
        metric (str): The metric column.

    Returns:
        pd.DataFrame: The summary (see :func:`summarize`).
    """
    summary = summarize(results, metric)
    for name, text in (('results.csv', results.to_csv(index=False)),
                       ('summary.csv', summary.to_csv(index=False)),
                       ('summary.md', summary_markdown(summary, metric))):
        path = osp.join(work_dir, name)
        with open(f'{path}.tmp', 'w') as f:
            f.write(text)
        os.replace(f'{path}.tmp', path)
    plot_learning_curves(summary, osp.join(work_dir, 'learning_curve.png'), metric)
    return summary
