"""Training-step throughput (images/s) of a config's model: forward, loss, backward, step.

Works for the self-supervised configs (MAE, SparK, proxy tasks: ``model.loss(inputs, [])``) and
for classifiers (random binary/multi-class labels as ``DataSample`` ground truth). On a CUDA
device the step runs under ``torch.autocast`` (fp16) with a gradient scaler, as the configs'
``AmpOptimWrapper`` does (``--fp32`` turns it off); on CPU in fp32. Inputs are random (data
loading excluded), so this is the model's ceiling, not ``tools/train.py``'s rate.

Several configs run one after the other in one process, one line each.

Usage (numbers in docs/benchmarks.md):
    python benchmarks/step_throughput.py \
        configs/mae/mae_vit-base-p16_8xb64-amp-coslr-400e_nih-cxr14.py --batch 64 --iters 20
    python benchmarks/step_throughput.py configs/resnet/resnet{18,50}_phantom-shoulder-binary.py \
        --img-size 224 --batch 128
"""
import argparse
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import osteo_mm  # noqa: F401  (registers the X-ray transforms the configs name)


def input_size(cfg: Config, fallback: int | None) -> int:
    """The side of the model's input: the config's own (MAE/SparK fix it), else ``fallback``."""
    size = cfg.model.get('input_size') or cfg.model.get('backbone', {}).get('img_size')
    size = size or fallback
    if not size:
        raise SystemExit(f'{cfg.filename}: no input_size/backbone.img_size; pass --img-size')
    return int(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--img-size', type=int,
                        help='input side of configs that fix none (classifiers)')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--fp32', action='store_true', help='no autocast on CUDA')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    for config in args.configs:
        measure(config, args)


def measure(config: str, args: argparse.Namespace) -> None:
    """Time ``args.iters`` training steps of one config's model and print one line."""
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model).to(args.device).train()
    model.init_weights()
    size = input_size(cfg, args.img_size)
    inputs = torch.randn(args.batch, 3, size, size, device=args.device)
    samples = []
    if isinstance(model, ImageClassifier):
        classes = int(cfg.model.head.num_classes)
        samples = [DataSample().set_gt_label(int(label)).to(args.device)
                   for label in torch.randint(0, classes, (args.batch,))]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    cuda = args.device.startswith('cuda')
    amp = cuda and not args.fp32
    scaler = torch.amp.GradScaler(enabled=amp)
    for i in range(args.warmup + args.iters):
        if i == args.warmup:
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
        with torch.autocast(device_type='cuda', dtype=torch.float16, enabled=amp):
            total, _ = model.parse_losses(model.loss(inputs, samples))
        optimizer.zero_grad()
        scaler.scale(total).backward()
        scaler.step(optimizer)
        scaler.update()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    device = torch.cuda.get_device_name() if cuda else f'CPU, {torch.get_num_threads()} threads'
    print(f'{config}: {size} px, batch {args.batch}, {"AMP fp16" if amp else "fp32"}, '
          f'{device}: {args.batch * args.iters / seconds:.1f} images/s '
          f'({seconds / args.iters:.3f} s/iter over {args.iters} iters)')


if __name__ == '__main__':
    main()
