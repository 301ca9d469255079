"""Host-side time of pytorch-grad-cam's map post-processing, per image.

After the backward pass, ``BaseCAM`` copies activations and gradients to NumPy and, on the host,
weights and sums the channels, rectifies, min-max scales and resizes each map to the input with
OpenCV (one image at a time), then aggregates the layers and scales again. This times exactly
those library calls (``get_cam_image``, ``scale_cam_image``, ``aggregate_multi_layers``) on
random activations/gradients of a ResNet-18's last stage (default: batch 64, 512 x 8 x 8 ->
256 px), to bound how much of a GPU CAM pass they can explain. Median of ``--repeats``.
Results go to the "GPU" section of docs/benchmarks.md.

Example::

    .venv/bin/python benchmarks/cam_postprocess_speed.py
"""
import argparse
import statistics
import time

import numpy as np
import torch
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.image import scale_cam_image
from torch import nn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--channels', type=int, default=512)
    parser.add_argument('--grid', type=int, default=8, help='side of the CAM layer grid')
    parser.add_argument('--size', type=int, default=256, help='network input side')
    parser.add_argument('--repeats', type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    shape = (args.batch, args.channels, args.grid, args.grid)
    activations = rng.random(shape, dtype=np.float32)
    gradients = rng.standard_normal(shape, dtype=np.float32)
    layer = nn.Linear(1, 1)  # BaseCAM needs a model with a parameter; only its methods are used
    cam = GradCAM(model=nn.Sequential(layer), target_layers=[layer])
    inputs = torch.zeros(args.batch, 3, args.size, args.size)

    def post_process() -> np.ndarray:
        maps = cam.get_cam_image(inputs, layer, None, activations, gradients, False)
        scaled = scale_cam_image(np.maximum(maps, 0), (args.size, args.size))
        return cam.aggregate_multi_layers([scaled[:, None, :]])

    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        post_process()
        times.append(time.perf_counter() - start)
    cam.activations_and_grads.release()
    t = statistics.median(times)
    print(f'pytorch-grad-cam host post-processing, {args.batch} maps from {args.channels}x'
          f'{args.grid}x{args.grid} to {args.size} px: {t * 1e3:.1f} ms per batch = '
          f'{t / args.batch * 1e3:.3f} ms per image ({args.batch / t:,.0f} images/s)')


if __name__ == '__main__':
    main()
