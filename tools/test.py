"""Test a checkpoint (same flags as MMPretrain's tools/test.py).

``--out preds.csv`` (or ``.json``) writes the per-image prediction records that the analysis
tools read (docs/conventions.md); ``--out x.pkl`` dumps MMPretrain's raw predictions.

Before any work: the train, val and test datasets must share no image and no patient
(--allow-overlap runs anyway, recorded), and a validation threshold must belong to the
checkpoint under test (--threshold VALUE overrides it, recorded). Every output (metrics, preds,
run_info.json) records the protocol. Data and protocol errors end in one line, exit code 2;
--debug shows the traceback.

Example:
    python tools/test.py CONFIG work_dirs/x/epoch_10.pth --out work_dirs/x/preds.csv
"""
import argparse
import json
import math
import os
import os.path as osp

from mmengine.config import DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file
from osteo_mm.utils.dist import release_distributed, setup_cpu_distributed
from osteo_mm.utils.protocol import (
    add_prediction_dump,
    bind_test_threshold,
    check_splits,
    check_test_evaluators,
)
from osteo_mm.utils.workers import stop_dataloader_workers

_RECORD_FORMATS = ('.csv', '.json')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', help='per-image predictions (.csv/.json) or raw results (.pkl)')
    parser.add_argument('--out-metrics', help='also write the metrics as JSON to this file')
    parser.add_argument('--threshold', type=float,
                        help='binary decision threshold to use instead of the validation '
                        'threshold record (recorded in every output)')
    parser.add_argument('--allow-overlap', action='store_true',
                        help='test even if train/val/test share images or patients (recorded)')
    parser.add_argument('--show-dir', help='save images with predictions drawn into this dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = require_file(args.checkpoint, 'checkpoint')
    cfg.resume = False
    if args.show_dir is not None:
        cfg.default_hooks.visualization.update(enable=True, out_dir=args.show_dir)
    if cfg.test_dataloader.get('num_workers', 0) == 0:
        cfg.test_dataloader.persistent_workers = False
    if args.out and osp.splitext(args.out)[1].lower() not in _RECORD_FORMATS + ('.pkl', ):
        raise UserInputError(f'--out must end with .csv, .json or .pkl: {args.out}')
    return cfg


def _json_value(value):
    """A metric value as strict JSON: NaN/inf (e.g. PPV with no positive call) become null."""
    if hasattr(value, 'tolist'):  # NumPy / torch scalars and arrays
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = merge_args(load_config(args.config, args.cfg_options), args)
    check_test_evaluators(cfg)
    protocol = check_splits(cfg, allow_overlap=args.allow_overlap)
    protocol.update(bind_test_threshold(cfg, args.checkpoint, args.threshold) or {})
    cfg.protocol = protocol
    if args.out and osp.splitext(args.out)[1].lower() in _RECORD_FORMATS:
        add_prediction_dump(cfg, args.out, protocol)
    setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out and args.out.endswith('.pkl'):
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    try:
        metrics = runner.test()
    finally:
        stop_dataloader_workers(runner)
        release_distributed(runner)
    if args.out_metrics and runner.rank == 0:
        out = {k: _json_value(v) for k, v in metrics.items()}
        out['protocol'] = json.loads(json.dumps(protocol, default=_json_value))
        with open(args.out_metrics, 'w') as f:
            json.dump(out, f, indent=2)


if __name__ == '__main__':
    main()
