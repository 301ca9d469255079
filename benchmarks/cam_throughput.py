"""CAM images/s: batched ``gradcam.py`` runner vs a per-image loop vs a training step.

On the same shoulder-phantom test images and the same ResNet-18 config, one process, one run:

1. ``run_gradcam`` (what ``tools/analysis/gradcam.py`` runs after loading the model once):
   data loading, batched Grad-CAM, causality, ``.npz`` + overlay writing, ``causality.csv``;
2. an MMPretrain ``vis_cam.py``-style loop: per image, build the model and load the checkpoint,
   run the test pipeline, build a pytorch-grad-cam ``GradCAM`` and compute one map;
3. compute only, on preprocessed in-memory batches: ``BatchCAM`` with its on-device backend
   and with pytorch-grad-cam's, vs a training step (forward, loss, backward, SGD step) of the
   same model at the same size and batch size.

Results go to the "Grad-CAM and causality" section of docs/benchmarks.md.

Example::

    nice -n 10 .venv/bin/python benchmarks/cam_throughput.py --num-images 200 --img-size 64
"""
import argparse
import os
import os.path as osp
import tempfile
import time

import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

import osteo_mm  # noqa: F401
from osteo_mm.datasets.phantom import generate_shoulder
from osteo_mm.explain import BatchCAM
from osteo_mm.explain.analysis import build_split, load_classifier, run_gradcam

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'resnet', 'resnet18_phantom-shoulder-binary_64px-8e-cpu.py')


def make_config(data_root: str, img_size: int, batch_size: int, num_images: int,
                num_workers: int = 0) -> Config:
    cfg = Config.fromfile(CONFIG)
    pipeline = [
        dict(type='LoadXrayFromFile'),
        dict(type='LoadRoiMask'),
        dict(type='XrayResize', scale=img_size),
        dict(type='XrayCenterCrop', crop_size=img_size),
        dict(type='PackXrayInputs'),
    ]
    cfg.test_dataloader.dataset.update(data_root=data_root, pipeline=pipeline,
                                       indices=num_images)
    cfg.test_dataloader.update(batch_size=batch_size, num_workers=num_workers,
                               persistent_workers=False)
    return cfg


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def per_image_loop(cfg: Config, ckpt: str, dataset, n: int, device: str) -> float:
    """Seconds for ``n`` images, reloading the model for every image (vis_cam.py style)."""
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    start = time.perf_counter()
    for i in range(n):
        model, _ = load_classifier(cfg, ckpt, device)
        data = model.data_preprocessor(pseudo_collate([pipeline(dataset.get_data_info(i))]),
                                       False)
        cam = GradCAM(model=model, target_layers=[model.backbone.layer4])
        cam(input_tensor=data['inputs'], targets=[ClassifierOutputTarget(1)])
        cam.activations_and_grads.release()
    _sync(device)
    return time.perf_counter() - start


def _cam_rate(model, batches: list, n: int, backend: str, device: str) -> float:
    explainer = BatchCAM(model, backend=backend)
    explainer(batches[0]['inputs'], None)  # warm-up
    _sync(device)
    start = time.perf_counter()
    for data in batches:
        explainer(data['inputs'], None)
    _sync(device)
    return n / (time.perf_counter() - start)


def compute_only(cfg: Config, ckpt: str, dataset, n: int, batch_size: int,
                 device: str) -> tuple:
    """Images/s of BatchCAM (device and pytorch-grad-cam backends) and of a training step
    on the same preprocessed batches."""
    model, _ = load_classifier(cfg, ckpt, device)
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    batches = []
    for start in range(0, n, batch_size):
        items = [pipeline(dataset.get_data_info(i)) for i in range(start, min(start + batch_size,
                                                                             n))]
        batches.append(model.data_preprocessor(pseudo_collate(items), False))
    rates = {backend: _cam_rate(model, batches, n, backend, device)
             for backend in ('device', 'grad-cam')}

    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.loss(batches[0]['inputs'], batches[0]['data_samples'])['loss'].backward()  # warm-up
    optim.zero_grad()
    _sync(device)
    start = time.perf_counter()
    for data in batches:
        loss = model.loss(data['inputs'], data['data_samples'])['loss']
        loss.backward()
        optim.step()
        optim.zero_grad()
    _sync(device)
    train_rate = n / (time.perf_counter() - start)
    return rates, train_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', default='/tmp/cam_bench/phantom200',
                        help='shoulder phantom (written here at 128 px if missing)')
    parser.add_argument('--num-images', type=int, default=200)
    parser.add_argument('--img-size', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=0, help='runner dataloader workers')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--compute-only', action='store_true',
                        help='skip the runner and the per-image loop (part 3 only)')
    args = parser.parse_args()
    if not osp.isfile(osp.join(args.data_root, 'labels.csv')):
        generate_shoulder(args.data_root, num_patients=args.num_images, size=128, fmt='png',
                          split_ratios=(0, 0, 1))
    cfg = make_config(args.data_root, args.img_size, args.batch_size, args.num_images,
                      args.num_workers)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    work = tempfile.mkdtemp(prefix='cam_bench_')
    ckpt = osp.join(work, 'model.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
    dataset, loader_cfg = build_split(cfg, 'test')
    n = len(dataset)

    if not args.compute_only:
        start = time.perf_counter()
        model, _ = load_classifier(cfg, ckpt, args.device)
        run_gradcam(model, dataset, loader_cfg, osp.join(work, 'gradcam'), num_vis=16)
        tool_rate = n / (time.perf_counter() - start)
        loop_rate = n / per_image_loop(cfg, ckpt, dataset, n, args.device)
    rates, train_rate = compute_only(cfg, ckpt, dataset, n, args.batch_size, args.device)
    device = (torch.cuda.get_device_name() if args.device.startswith('cuda')
              else f'CPU, torch threads {torch.get_num_threads()}')
    print(f'ResNet-18, {n} phantom images at {args.img_size} px, batch {args.batch_size}, '
          f'{device}, load average {os.getloadavg()[0]:.1f}')
    if not args.compute_only:
        print(f'gradcam runner (load once, batched, with I/O + causality): {tool_rate:.1f} '
              f'img/s')
        print(f'per-image loop (model reloaded per image):                {loop_rate:.1f} '
              f'img/s -> runner is {tool_rate / loop_rate:.1f}x faster')
    for backend, rate in rates.items():
        print(f'compute only: BatchCAM backend {backend!r} {rate:.1f} img/s vs training step '
              f'{train_rate:.1f} img/s -> {rate / train_rate:.2f}x')


if __name__ == '__main__':
    main()
