"""Train a model from a config (same flags as MMPretrain's tools/train.py).

Examples:
    python tools/train.py configs/resnet/resnet18_phantom-shoulder-binary.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume          # auto-resume
    bash tools/dist_train.sh CONFIG 2                                    # 2 processes

Before any work the protocol guard checks that the train, val and test datasets share no image
and no patient (--allow-overlap runs anyway and records it in run_info.json). Data and protocol
errors end in one line and exit code 2; --debug shows the traceback.
"""
import argparse
import os
import os.path as osp
from copy import deepcopy

from mmengine.config import ConfigDict, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from osteo_mm.utils.cli import cli_main, load_config, require_file
from osteo_mm.utils.dist import release_distributed, setup_cpu_distributed
from osteo_mm.utils.protocol import check_splits
from osteo_mm.utils.workers import stop_dataloader_workers


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or, without a path, from the latest '
        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument('--no-validate', action='store_true', help='skip validation')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual / base batch size')
    parser.add_argument('--compile', action='store_true',
                        help='torch.compile the train step (MMEngine cfg.compile)')
    parser.add_argument('--allow-overlap', action='store_true',
                        help='train even if train/val/test share images or patients '
                        '(recorded in run_info.json)')
    parser.add_argument('--no-pin-memory', action='store_true')
    parser.add_argument('--no-persistent-workers', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (e.g. model.head.num_classes=3)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Apply the command-line options to the config, as MMPretrain's train tool does."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, require_file(args.resume, 'checkpoint')
    if args.compile:
        cfg.compile = True
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    loader_defaults = ConfigDict(pin_memory=True, persistent_workers=True,
                                 collate_fn=dict(type='default_collate'))
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(field) is None:
            continue
        loader = deepcopy(loader_defaults)
        loader.update(cfg[field])
        if args.no_pin_memory:
            loader.pin_memory = False
        if args.no_persistent_workers or loader.get('num_workers', 0) == 0:
            loader.persistent_workers = False
        cfg[field] = loader
    if cfg.get('load_from') and not cfg.get('resume'):
        require_file(cfg.load_from, 'load_from checkpoint')
    return cfg


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    cfg = merge_args(cfg, args)
    cfg.protocol = check_splits(cfg, allow_overlap=args.allow_overlap)
    setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    try:
        runner.train()
    finally:
        stop_dataloader_workers(runner)
        release_distributed(runner)


if __name__ == '__main__':
    main()
