"""Convert torchvision / timm / Hugging Face weights to MMPretrain modules, checking parity.

Sources:
- ``torchvision-resnet``: a torchvision ``resnet18/34/50`` state dict (``.pth``) -> ``ResNet``.
- ``timm-vit``: a timm ViT / DeiT / MAE-pretrained ViT (``.pth``/``.safetensors``) ->
  ``VisionTransformer`` of ``--arch`` (``deit-t``, ``deit-s``, ``b``) at ``--img-size``.
- ``hf-vitmae``: a Hugging Face ``ViTMAEForPreTraining`` folder (``config.json`` + weights) ->
  the ``MAE`` algorithm (``backbone.*`` = ``MAEViT``, ``neck.*`` = ``MAEPretrainDecoder``).

The converted module is compared with the source model on random inputs; the output is written
only when every feature agrees to ``--atol`` (default 1e-5). Backbones are written as
``backbone.*`` for ``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``.

Examples:
    python tools/model_converters/zoo2mmpretrain.py torchvision-resnet resnet50.pth r50.pth
    python tools/model_converters/zoo2mmpretrain.py timm-vit vit_mae.safetensors mae_b.pth \
        --arch b --img-size 224
    python tools/model_converters/zoo2mmpretrain.py hf-vitmae vit-mae-base/ mae_b_full.pth
"""
import argparse
import os.path as osp

from osteo_mm.models import zoo_converters as zoo
from osteo_mm.models.converters import BACKBONE_PREFIX
from osteo_mm.utils.cli import UserInputError, cli_main

SOURCES = ('torchvision-resnet', 'timm-vit', 'hf-vitmae')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert zoo weights to MMPretrain modules')
    parser.add_argument('source', choices=SOURCES, help='where the weights come from')
    parser.add_argument('src', help='source checkpoint (hf-vitmae: the model folder)')
    parser.add_argument('dst', help='output MMEngine checkpoint')
    parser.add_argument('--arch', choices=sorted(zoo.VIT_ARCHS), help='timm-vit: target arch')
    parser.add_argument('--img-size', type=int, default=224,
                        help='timm-vit: image size of the checkpoint (default 224)')
    parser.add_argument('--atol', type=float, default=zoo.PARITY_ATOL,
                        help='largest accepted feature difference (default 1e-5)')
    return parser.parse_args(argv)


def convert(args: argparse.Namespace) -> tuple:
    """Return (prefixed state dict, parity report) for the chosen source."""
    if args.source == 'hf-vitmae':
        if not osp.isfile(osp.join(args.src, 'config.json')):
            raise UserInputError(f'{args.src}: not a Hugging Face model folder (no config.json)')
        from transformers import ViTMAEForPreTraining
        source = ViTMAEForPreTraining.from_pretrained(args.src, local_files_only=True)
        state = zoo.convert_hf_vitmae(source.state_dict())
        return state, zoo.check_hf_vitmae(source, state)[0]
    if not osp.isfile(args.src):
        raise UserInputError(f'checkpoint file not found: {args.src}')
    raw = zoo.load_source_state(args.src)
    if args.source == 'torchvision-resnet':
        state = zoo.convert_torchvision_resnet(raw)
        report = zoo.check_torchvision_resnet(raw, state)
    else:
        if args.arch is None:
            raise UserInputError('timm-vit needs --arch (deit-t, deit-s or b)')
        state = zoo.convert_timm_vit(raw)
        report = zoo.check_timm_vit(raw, state, args.arch, args.img_size)
    return {BACKBONE_PREFIX + k: v for k, v in state.items()}, report


@cli_main
def main() -> None:
    args = parse_args()
    try:
        state, report = convert(args)
    except (zoo.ConversionError, KeyError) as err:
        raise UserInputError(f'{args.src}: {err}') from None
    report.atol = args.atol
    print(report.summary())
    if not report.ok:
        raise UserInputError(f'{args.src}: converted model differs from the source; not written')
    zoo.save_checkpoint(state, args.dst, dict(source=osp.basename(osp.normpath(args.src)),
                                              converter=f'zoo2mmpretrain {args.source}',
                                              parity_max_abs_diff=report.max_abs_diff))
    print(f'wrote {len(state)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
