"""MAE training steps fed from the array cache vs from random inputs, in one process.

Writes a synthetic array cache (``--films`` films at ``--side`` px, letterboxed slots), then
times the same MAE model (default: the research-scale ViT-B/16 recipe, mask 0.75, bf16, fused
AdamW) twice: on a fixed random batch already on the device (the model's ceiling), and fed by a
DataLoader with ``--workers`` workers that only slice films out of the cache
(``LoadXrayFromArrayCache(letterbox=True, channels=1)`` -> ``PackXrayInputs``), pinned memory and
prefetching, with the random-resized crop and flip on the device (``XrayDeviceAugPreprocessor``).
The ratio of the two rates says whether the loader keeps the device fed.

    python benchmarks/gpu_loader_throughput.py --workers 14 --batch 256 --iters 40
    python benchmarks/gpu_loader_throughput.py --arch deit-t --batch 8 --iters 2 --workers 2 \
        --films 64 --side 64 --crop 64      # CPU smoke run
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401

sys.path.insert(0, str(Path(__file__).parent))
from array_cache_speed import write_synthetic_cache  # noqa: E402

CONFIG = 'configs/mae/mae_vit-base-p16_1xb256-bf16-coslr-400e_nih-cxr14-array256_mask0.75.py'


class CacheFilms(torch.utils.data.Dataset):
    """The films of a cache through the recipe's (CPU) pipeline."""

    def __init__(self, names: list[str], pipeline: list[dict]) -> None:
        from mmcv.transforms import Compose
        self.names = names
        self.pipeline = Compose(pipeline)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, idx: int) -> dict:
        return self.pipeline(dict(img_id=self.names[idx]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--arch', help='override the backbone arch (e.g. deit-t)')
    parser.add_argument('--batch', type=int, default=256)
    parser.add_argument('--iters', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--workers', type=int, default=14)
    parser.add_argument('--films', type=int, default=20_000)
    parser.add_argument('--side', type=int, default=256)
    parser.add_argument('--crop', type=int, default=224)
    parser.add_argument('--tmp', help='scratch folder for the cache')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope('mmpretrain')
    cuda = args.device.startswith('cuda')
    if args.arch:
        dims = {'deit-t': (192, 3), 'deit-s': (384, 6), 'b': (768, 12)}[args.arch]
        cfg.model.backbone.arch = args.arch
        cfg.model.neck.update(embed_dim=dims[0])
    cfg.model.backbone.img_size = args.crop
    cfg.model.neck.num_patches = (args.crop // cfg.model.backbone.patch_size)**2
    cfg.model.data_preprocessor = dict(cfg.data_preprocessor, crop_size=args.crop)
    model = MODELS.build(cfg.model).to(args.device).train()
    model.init_weights()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=cuda or None)
    dtype = torch.bfloat16 if cuda else None

    def step(data: dict) -> None:
        data = model.data_preprocessor(data, True)
        with torch.autocast('cuda' if cuda else 'cpu', dtype=dtype, enabled=dtype is not None):
            total, _ = model.parse_losses(model(**data, mode='loss'))
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()

    def rate(batches) -> float:
        for i, data in enumerate(batches):
            if i == args.warmup:
                if cuda:
                    torch.cuda.synchronize()
                start = time.perf_counter()
            step(data)
            if i == args.warmup + args.iters - 1:
                break
        if cuda:
            torch.cuda.synchronize()
        return args.batch * args.iters / (time.perf_counter() - start)

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        names = write_synthetic_cache(Path(tmp), args.films, args.side)
        pipeline = [dict(cfg.train_dataloader.dataset.pipeline[0], cache_dir=tmp)] + \
            list(cfg.train_dataloader.dataset.pipeline[1:])
        loader = torch.utils.data.DataLoader(
            CacheFilms(names, pipeline), batch_size=args.batch, shuffle=True,
            num_workers=args.workers, collate_fn=default_collate, pin_memory=cuda,
            persistent_workers=args.workers > 0, drop_last=True,
            prefetch_factor=4 if args.workers else None)
        fixed = next(iter(loader))
        if cuda:
            fixed['inputs'] = fixed['inputs'].to(args.device)
        random_rate = rate(iter(lambda: fixed, None))

        def epochs():
            while True:
                yield from loader
        loader_rate = rate(epochs())
    name = torch.cuda.get_device_name() if cuda else 'CPU'
    print(f'{args.config} ({cfg.model.backbone.arch}, {args.crop} px, batch {args.batch}, '
          f'{name}): fixed batch on the device {random_rate:.1f} images/s; from the array '
          f'cache with {args.workers} workers {loader_rate:.1f} images/s '
          f'(**{loader_rate / random_rate:.2f}x**)')


if __name__ == '__main__':
    main()
