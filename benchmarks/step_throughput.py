"""Training-step throughput (images/s) of a config's model: forward, loss, backward, step.

Works for the self-supervised configs (MAE, SparK, proxy tasks: ``model.loss(inputs, [])``) and
for classifiers (random binary/multi-class labels as ``DataSample`` ground truth). On a CUDA
device the step runs under ``torch.autocast`` in bf16 by default (``--dtype fp16`` adds a
gradient scaler, as the configs' ``AmpOptimWrapper`` does; ``--dtype fp32`` turns autocast off);
on CPU in fp32 unless ``--dtype bf16``. Inputs are random (data loading excluded), so this is
the model's ceiling, not ``tools/train.py``'s rate.

Besides images/s it reports the FLOPs of one training step per image (forward + backward,
counted by ``torch.utils.flop_counter.FlopCounterMode`` on one untimed step, attention through
the math SDPA kernel so that its matmuls are counted on every device), the achieved TFLOP/s and,
when the peak of the device is known (``--peak-tflops``, or the dense bf16/fp16 peak of an
H100/H200/A100 from the device name), the model FLOPs utilisation (MFU). Throughput options:
``--fused`` (fused AdamW), ``--channels-last`` (CNNs), ``--compile`` (``torch.compile`` of the
loss function).

Several configs run one after the other in one process, one line each.

Usage (numbers in docs/benchmarks.md):
    python benchmarks/step_throughput.py \
        configs/mae/mae_vit-base-p16_8xb64-amp-coslr-400e_nih-cxr14.py --batch 256 --fused
    python benchmarks/step_throughput.py configs/resnet/resnet{18,50}_phantom-shoulder-binary.py \
        --img-size 224 --batch 256 --channels-last --fused
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


#: Dense bf16/fp16 tensor-core peaks (TFLOP/s) by device-name fragment (vendor data sheets).
PEAK_TFLOPS = {'H200': 989.4, 'H100': 989.4, 'A100': 312.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--img-size', type=int,
                        help='input side of configs that fix none (classifiers)')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--dtype', choices=['bf16', 'fp16', 'fp32'],
                        help='autocast dtype (default: bf16 on CUDA, fp32 on CPU)')
    parser.add_argument('--fp32', action='store_true', help='same as --dtype fp32')
    parser.add_argument('--fused', action='store_true', help='fused AdamW kernel')
    parser.add_argument('--channels-last', action='store_true',
                        help='channels-last model and inputs (CNNs)')
    parser.add_argument('--compile', action='store_true', help='torch.compile the loss')
    parser.add_argument('--peak-tflops', type=float,
                        help='device peak for the MFU column (default: known GPUs only)')
    parser.add_argument('--no-flops', action='store_true', help='skip the FLOP count')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    if args.fp32:
        args.dtype = 'fp32'
    if args.dtype is None:
        args.dtype = 'bf16' if args.device.startswith('cuda') else 'fp32'
    for config in args.configs:
        measure(config, args)


def step_flops(loss_fn, inputs: torch.Tensor, samples: list, model: torch.nn.Module,
               autocast) -> int:
    """FLOPs of one forward + backward step (matmuls and convolutions, as MFU counts)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:  # one context: entering a FlopCounterMode again resets its counts
        with sdpa_kernel([SDPBackend.MATH]), autocast():
            total, _ = model.parse_losses(loss_fn(inputs, samples))
        total.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def measure(config: str, args: argparse.Namespace) -> None:
    """Time ``args.iters`` training steps of one config's model and print one line."""
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model).to(args.device).train()
    model.init_weights()
    size = input_size(cfg, args.img_size)
    inputs = torch.randn(args.batch, 3, size, size, device=args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    samples = []
    if isinstance(model, ImageClassifier):
        classes = int(cfg.model.head.num_classes)
        samples = [DataSample().set_gt_label(int(label)).to(args.device)
                   for label in torch.randint(0, classes, (args.batch,))]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=args.fused or None)
    cuda = args.device.startswith('cuda')
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16, fp32=None)[args.dtype]
    device_type = 'cuda' if cuda else 'cpu'

    def autocast():
        return torch.autocast(device_type=device_type, dtype=dtype, enabled=dtype is not None)

    scaler = torch.amp.GradScaler(device_type, enabled=args.dtype == 'fp16')
    loss_fn = torch.compile(model.loss) if args.compile else model.loss
    flops = 0 if args.no_flops else step_flops(model.loss, inputs, samples, model, autocast)
    for i in range(args.warmup + args.iters):
        if i == args.warmup:
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
        with autocast():
            total, _ = model.parse_losses(loss_fn(inputs, samples))
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(total).backward()
        scaler.step(optimizer)
        scaler.update()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    device = torch.cuda.get_device_name() if cuda else f'CPU, {torch.get_num_threads()} threads'
    rate = args.batch * args.iters / seconds
    options = [args.dtype] + [name for name in ('fused', 'channels_last', 'compile')
                              if getattr(args, name)]
    line = (f'{config}: {size} px, batch {args.batch}, {"+".join(options)}, {device}: '
            f'{rate:.1f} images/s ({seconds / args.iters:.3f} s/iter over {args.iters} iters)')
    if flops:
        per_image = flops / args.batch
        achieved = per_image * rate / 1e12
        peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items() if k in device),
                                        None)
        if dtype is None and not args.peak_tflops:
            peak = None  # the table holds tensor-core bf16/fp16 peaks only
        mfu = f', MFU {100 * achieved / peak:.1f} % of {peak:g}' if peak else ''
        line += (f'; {per_image / 1e9:.1f} GFLOP/image (fwd+bwd), '
                 f'{achieved:.2f} TFLOP/s achieved{mfu}')
    print(line, flush=True)


if __name__ == '__main__':
    main()
