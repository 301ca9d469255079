"""Pretraining throughput (images/s) of an MAE or SparK config: forward, backward and step.

On a CUDA device the step runs under ``torch.autocast`` (fp16) with a gradient scaler, as the
configs' ``AmpOptimWrapper`` does; on CPU in fp32. Inputs are random (data loading excluded).

Usage (numbers in docs/benchmarks.md):
    python benchmarks/mae_throughput.py \
        configs/mae/mae_vit-base-p16_8xb64-amp-coslr-400e_nih-cxr14.py --batch 64 --iters 20
"""
import argparse
import time

import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401  (registers the X-ray transforms the configs name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model).to(args.device).train()
    model.init_weights()
    size = cfg.model.get('input_size') or cfg.model.backbone.img_size
    inputs = torch.randn(args.batch, 3, size, size, device=args.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    amp = args.device.startswith('cuda')
    scaler = torch.amp.GradScaler(enabled=amp)
    for i in range(args.warmup + args.iters):
        if i == args.warmup:
            if amp:
                torch.cuda.synchronize()
            start = time.perf_counter()
        with torch.autocast(device_type='cuda', dtype=torch.float16, enabled=amp):
            loss = model.loss(inputs, [])['loss']
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    if amp:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    device = torch.cuda.get_device_name() if amp else f'CPU, {torch.get_num_threads()} threads'
    print(f'{args.config}: {size} px, batch {args.batch}, {"AMP fp16" if amp else "fp32"}, '
          f'{device}: {args.batch * args.iters / seconds:.1f} images/s '
          f'({seconds / args.iters:.3f} s/iter over {args.iters} iters)')


if __name__ == '__main__':
    main()
