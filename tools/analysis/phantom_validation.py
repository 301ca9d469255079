"""Ground-truth validation of the causality analysis on the ROI-only shoulder phantom.

(i) clean model: ROI vs control intervention effects, random-weights model, every attribution
method against the uniform, centre and dataset ROI priors; (ii) shortcut model (marker on every
osteoporotic film): marker-ablation and ROI effects against the clean model's. See
:mod:`osteo_mm.experiments.phantom_validation`; results in docs/benchmarks.md.

Example (2-core CPU, ~40 min with a chest-SparK backbone)::

    OMP_NUM_THREADS=1 python tools/analysis/phantom_validation.py work_dirs/validation \\
        --num-patients 1000 --img-size 128 --epochs 20 --init-ckpt chest-spark/epoch_8.pth \\
        --methods gradcam gradcam++ layercam
"""
import argparse
import os.path as osp

import torch

from osteo_mm.experiments.phantom_validation import PhantomValidation
from osteo_mm.explain import METHODS
from osteo_mm.utils.cli import UserInputError, cli_main, require_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Phantom validation of the causality analysis')
    parser.add_argument('work_dir')
    parser.add_argument('--num-patients', type=int, default=1000)
    parser.add_argument('--phantom-size', type=int, default=128, help='side of the films')
    parser.add_argument('--img-size', type=int, default=128, help='network input side')
    parser.add_argument('--epochs', type=int, default=20,
                        help='training epochs; 0 keeps the initial weights (toy runs only)')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--train-images', type=int,
                        help='train on the first N training films only (CPU budget)')
    parser.add_argument('--init-ckpt', help='backbone init of both trained models (chest SparK)')
    parser.add_argument('--base-config',
                        help='classifier config to inherit (default: the ResNet-18 phantom '
                        'config); e.g. a DeiT config to rank the ViT attribution rules')
    parser.add_argument('--methods', nargs='+', default=['gradcam'], choices=METHODS,
                        help='attribution methods ranked in (i)')
    parser.add_argument('--controls', type=int, default=4, help='control regions per image')
    parser.add_argument('--faithfulness-steps', type=int, default=8,
                        help='deletion/insertion curve steps (0: skip)')
    parser.add_argument('--ig-steps', type=int, default=16, help='Integrated-Gradients steps')
    parser.add_argument('--occlusion-window', type=int,
                        help='occlusion window in px (stride half of it)')
    parser.add_argument('--parts', nargs='+', default=['i', 'ii'], choices=['i', 'ii'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-workers', type=int, default=0, help='dataloader workers')
    parser.add_argument('--gen-workers', type=int, default=1, help='phantom writer processes')
    parser.add_argument('--amp', action='store_true', help='train with mixed precision')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    if args.epochs < 0 or args.num_patients < 20:
        parser.error('--epochs must be >= 0 and --num-patients >= 20')
    return args


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    if args.init_ckpt:
        require_file(args.init_ckpt, 'init checkpoint')
    if args.base_config:
        args.base_config = osp.abspath(require_file(args.base_config, 'base config'))
    try:
        path = PhantomValidation(
            args.work_dir, num_patients=args.num_patients, phantom_size=args.phantom_size,
            img_size=args.img_size, epochs=args.epochs, batch_size=args.batch_size,
            init_ckpt=args.init_ckpt, methods=args.methods, controls=args.controls,
            seed=args.seed, num_workers=args.num_workers, device=args.device, amp=args.amp,
            gen_workers=args.gen_workers, train_images=args.train_images,
            faithfulness_steps=args.faithfulness_steps,
            attribution_options=dict(
                ig_steps=args.ig_steps, occlusion_window=args.occlusion_window,
                occlusion_stride=args.occlusion_window // 2 if args.occlusion_window else None),
            base_config=args.base_config
        ).run(args.parts)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    print(f'tables: {path}')


if __name__ == '__main__':
    main()
