"""The end-to-end study on the built-in phantoms, as one resumable sequence of tool calls.

chest + shoulder phantoms -> MAE (DeiT-tiny) and SparK (ResNet-18) pre-training on chest ->
shoulder fine-tuning from scratch and from the pre-trained backbones -> test (AUC, accuracy,
threshold fixed on validation) -> Grad-CAM + causality -> baselines (uniform, centre and dataset
ROI priors, randomised-weights maps) -> ROI intervention (does the decision depend on the
expert region?) -> statistical comparison -> HTML report that opens with a results summary.

Every step runs the same command-line tool a user would (``tools/*.py`` in a subprocess, its
output in ``<work_dir>/logs/<step>.log``) and leaves ``<work_dir>/steps/<step>.done``, so an
interrupted demo continues where it stopped. The default scale fits a 2-core CPU; ``scale='full'``
switches every step to the research configs and data sizes.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@dataclass(frozen=True)
class Scale:
    """Data sizes and configs of one demo scale."""

    chest_patients: int
    shoulder_patients: int
    size: int
    mae_config: str
    spark_config: str
    classifiers: Dict[str, str] = field(default_factory=dict)
    train_options: List[str] = field(default_factory=list)
    #: Run the baselines (priors, random weights) and the ROI intervention per model.
    baselines: bool = True


SMALL = Scale(
    chest_patients=80, shoulder_patients=400, size=128,
    mae_config='configs/demo/mae_deit-tiny_phantom-chest_demo.py',
    spark_config='configs/demo/spark_resnet18_phantom-chest_demo.py',
    classifiers={
        'resnet18': 'configs/demo/resnet18_phantom-shoulder_demo.py',
        'deit-tiny': 'configs/demo/deit-tiny_phantom-shoulder_demo.py',
    })
# Smoke-test scale (tests/tools/test_demo.py): the small configs, tiny data, one epoch each.
TOY = Scale(
    chest_patients=6, shoulder_patients=60, size=64, mae_config=SMALL.mae_config,
    spark_config=SMALL.spark_config, classifiers=SMALL.classifiers,
    train_options=['train_cfg.max_epochs=1', 'train_dataloader.batch_size=8'],
    # Their tools have their own tests; at toy scale 8 more subprocesses cost the suite ~1 min.
    baselines=False)
FULL = Scale(
    chest_patients=3000, shoulder_patients=2000, size=256,
    mae_config='configs/mae/mae_deit-t-p16_8xb64-amp-coslr-400e_phantom-chest.py',
    spark_config='configs/spark/spark_sparse-resnet18_8xb64-amp-coslr-400e_phantom-chest.py',
    classifiers={
        'resnet18': 'configs/resnet/resnet18_phantom-shoulder-binary.py',
        'deit-tiny': 'configs/vit/deit-tiny_phantom-shoulder-binary.py',
    })


def _data_options(root: str, splits=('train', 'val', 'test')) -> List[str]:
    return [f'{split}_dataloader.dataset.data_root={root}/' for split in splits]


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _init_options(checkpoint: str) -> List[str]:
    return ['model.backbone.init_cfg.type=Pretrained',
            f'model.backbone.init_cfg.checkpoint={checkpoint}',
            'model.backbone.init_cfg.prefix=backbone.']


class Demo:
    """Run the study step by step; see the module docstring.

    Args:
        work_dir (str): Everything goes under this folder (data, runs, logs, report).
        scale (str): ``'small'`` (2-core CPU, the default), ``'full'`` (research scale) or
            ``'toy'`` (seconds per step, for tests).
        seed (int): Seed of the phantoms and of every training run.
    """

    def __init__(self, work_dir: str, scale: str = 'small', seed: int = 0) -> None:
        scales = dict(small=SMALL, full=FULL, toy=TOY)
        if scale not in scales:
            raise ValueError(f'unknown demo scale {scale!r}; choose from {sorted(scales)}')
        self.work_dir = osp.abspath(work_dir)
        self.scale = scales[scale]
        self.seed = seed
        self.timings: Dict[str, float] = {}
        for sub in ('steps', 'logs'):
            os.makedirs(osp.join(self.work_dir, sub), exist_ok=True)

    def path(self, *parts: str) -> str:
        return osp.join(self.work_dir, *parts)

    def step(self, name: str, args: List[str]) -> None:
        """Run ``python <args>`` from the repository root unless the step is done."""
        done = self.path('steps', f'{name}.done')
        if osp.isfile(done):
            print(f'[demo] {name}: done earlier, skipped', flush=True)
            return
        print(f'[demo] {name} ...', end=' ', flush=True)
        start = time.time()
        log_file = self.path('logs', f'{name}.log')
        with open(log_file, 'w') as log:
            proc = subprocess.run([sys.executable] + args, cwd=ROOT, stdout=log,
                                  stderr=subprocess.STDOUT)
        seconds = time.time() - start
        if proc.returncode != 0:
            print('FAILED', flush=True)
            with open(log_file) as f:
                tail = ''.join(f.readlines()[-15:])
            raise RuntimeError(f'demo step {name!r} failed (exit {proc.returncode}); '
                               f'log: {log_file}\n{tail}')
        print(f'{seconds:.0f} s', flush=True)
        self.timings[name] = round(seconds, 1)
        with open(done, 'w') as f:
            f.write(f'{seconds:.1f}\n')

    def train(self, name: str, config: str, data_root: str,
              extra: Optional[List[str]] = None, splits=('train', 'val', 'test')) -> str:
        work = self.path('runs', name)
        resume = ['--resume'] if osp.isfile(osp.join(work, 'last_checkpoint')) else []
        self.step(f'train_{name}', ['tools/train.py', config, '--work-dir', work] + resume
                  + ['--cfg-options', f'randomness.seed={self.seed}']
                  + _data_options(data_root, splits) + self.scale.train_options + (extra or []))
        return work

    def run(self) -> str:
        """Run every step; return the path of the HTML report."""
        s = self.scale
        chest, shoulder = self.path('data', 'phantom_chest'), self.path('data', 'phantom_shoulder')
        self.step('phantom_chest', [
            'tools/dataset_converters/make_phantom.py', 'chest', '--out', chest,
            '--num-patients', str(s.chest_patients), '--size', str(s.size),
            '--seed', str(self.seed), '--no-progress'])
        self.step('phantom_shoulder', [
            'tools/dataset_converters/make_phantom.py', 'shoulder', '--out', shoulder,
            '--num-patients', str(s.shoulder_patients), '--size', str(s.size),
            '--seed', str(self.seed + 1), '--no-progress'])
        pretrained = {
            'mae': self.train('pretrain_mae', s.mae_config, chest, splits=('train', )),
            'spark': self.train('pretrain_spark', s.spark_config, chest, splits=('train', )),
        }
        inits = {'resnet18': 'spark', 'deit-tiny': 'mae'}
        models = []
        for arch, config in s.classifiers.items():
            for init in ('scratch', inits[arch]):
                name = f'{arch}_{init}'
                extra = [] if init == 'scratch' else _init_options(
                    _last_checkpoint(pretrained[init]))
                work = self.train(name, config, shoulder, extra)
                models.append((name, config, work))
        for name, config, work in models:
            ckpt = _last_checkpoint(work)
            self.step(f'test_{name}', [
                'tools/test.py', config, ckpt, '--work-dir', work,
                '--out', osp.join(work, 'preds.csv'),
                '--out-metrics', osp.join(work, 'test_metrics.json'),
                # all three splits: the protocol guard checks they share no patient
                '--cfg-options'] + _data_options(shoulder))
            self.step(f'gradcam_{name}', [
                'tools/analysis/gradcam.py', config, ckpt, '--split', 'test',
                '--out-dir', osp.join(work, 'cam'), '--num-vis', '24',
                '--cfg-options'] + _data_options(shoulder, ('test', )))
            if not s.baselines:
                continue
            # Baselines in this model's input geometry; the ROI prior from the training split.
            self.step(f'priors_{name}', [
                'tools/analysis/cam_priors.py', config, '--checkpoint', ckpt, '--split', 'test',
                '--out-dir', osp.join(work, 'priors'), '--num-vis', '0',
                '--cfg-options'] + _data_options(shoulder, ('train', 'test')))
            self.step(f'roi_intervention_{name}', [
                'tools/analysis/roi_intervention.py', config, ckpt, '--split', 'test',
                '--fill', 'blur', '--out-dir', osp.join(work, 'roi_intervention'),
                '--cfg-options'] + _data_options(shoulder, ('test', )))
        report = self.path('report')
        self.step('compare_models', [
            'tools/analysis/compare_models.py',
            '--preds'] + [osp.join(w, 'preds.csv') for _, _, w in models] + [
            '--names'] + [n for n, _, _ in models] + [
            '--cam'] + [osp.join(w, 'cam', 'causality.csv') for _, _, w in models] + [
            '--images-dir'] + [osp.join(w, 'cam') for _, _, w in models] + [
            '--out', report, '--seed', str(self.seed)] + ([
            '--priors'] + [osp.join(w, 'priors') for _, _, w in models] + [
            '--roi-effects'] + [osp.join(w, 'roi_intervention', 'roi_intervention.csv')
                                for _, _, w in models] if s.baselines else []))
        timings_file = self.path('timings.json')
        previous = json.load(open(timings_file)) if osp.isfile(timings_file) else {}
        previous.update(self.timings)
        with open(timings_file, 'w') as f:
            json.dump(previous, f, indent=2)
        return osp.join(report, 'report.html')
