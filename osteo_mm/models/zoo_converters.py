"""Weights from torchvision, timm and Hugging Face in MMPretrain's layout, with a parity check.

Each ``convert_*`` function renames a source state dict to the MMPretrain module the project
fine-tunes (``ResNet``, ``VisionTransformer``, or the ``MAE`` algorithm's ``MAEViT`` +
``MAEPretrainDecoder``). Each ``check_*`` function loads the converted weights into a freshly
built MMPretrain module and compares its features with the source model's on random inputs:
a converter that renames one tensor wrongly, or builds a mismatched architecture, fails there
and not weeks later as a poor fine-tuning result.

The source models are built by their own libraries (torchvision, ``timm``,
``transformers``), imported only inside the functions that need them.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

#: Largest accepted absolute feature difference between source and converted model.
PARITY_ATOL = 1e-5
#: MMPretrain VisionTransformer arch names and the widths they stand for.
VIT_ARCHS = {'deit-t': (192, 3), 'deit-s': (384, 6), 'b': (768, 12)}


class ConversionError(ValueError):
    """A source checkpoint that does not fit the requested conversion."""


@dataclass
class ParityReport:
    """How closely the converted model reproduces the source model.

    Attributes:
        what (str): Which outputs were compared.
        max_abs_diff (float): Largest absolute difference over all outputs.
        atol (float): The tolerance.
    """

    what: str
    max_abs_diff: float
    atol: float = PARITY_ATOL

    @property
    def ok(self) -> bool:
        """bool: True when the difference is within the tolerance."""
        return self.max_abs_diff <= self.atol

    def summary(self) -> str:
        """One line for the tool's output."""
        verdict = 'OK' if self.ok else 'FAILED'
        return (f'parity {verdict}: {self.what}, max |diff| = {self.max_abs_diff:.3g} '
                f'(tolerance {self.atol:g})')


def _max_diff(a: torch.Tensor, b: torch.Tensor, what: str) -> float:
    if a.shape != b.shape:
        raise ConversionError(f'{what}: source output {tuple(a.shape)} vs converted '
                              f'{tuple(b.shape)}')
    return float((a.double() - b.double()).abs().max())


def _load_strict(module: nn.Module, state: dict, what: str) -> None:
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConversionError(f'{what}: converted weights do not fit; missing {missing[:5]}, '
                              f'unexpected {unexpected[:5]}')


# --- torchvision ResNet -> mmpretrain ResNet ---------------------------------------------------

def convert_torchvision_resnet(state: dict) -> OrderedDict:
    """torchvision ``resnet18/34/50/101/152`` weights as MMPretrain ``ResNet`` weights.

    Both use the same parameter names (``conv1``, ``bn1``, ``layerK.i.convJ``, ``downsample``)
    and put the stride of a bottleneck in its 3x3 convolution (MMPretrain ``style='pytorch'``),
    so the conversion drops the classifier ``fc`` and checks that nothing else is unknown.

    Args:
        state (dict): The torchvision state dict.

    Returns:
        OrderedDict: Backbone state dict (no prefix).

    Raises:
        ConversionError: If a key is not a torchvision ResNet key.
    """
    pattern = re.compile(r'^(conv1|bn1|layer[1-4]\.\d+\.(conv\d|bn\d|downsample\.[01]))\.')
    bad = [k for k in state if not k.startswith('fc.') and not pattern.match(k)]
    if bad:
        raise ConversionError(f'not a torchvision ResNet state dict: unexpected keys {bad[:5]}')
    return OrderedDict((k, v) for k, v in state.items() if not k.startswith('fc.'))


def resnet_depth(state: dict) -> int:
    """The depth (18/34/50/101/152) of a torchvision ResNet state dict."""
    blocks = tuple(len({k.split('.')[1] for k in state if k.startswith(f'layer{i}.')})
                   for i in range(1, 5))
    bottleneck = any('.conv3.' in k for k in state)
    depths = {(False, (2, 2, 2, 2)): 18, (False, (3, 4, 6, 3)): 34, (True, (3, 4, 6, 3)): 50,
              (True, (3, 4, 23, 3)): 101, (True, (3, 8, 36, 3)): 152}
    if (bottleneck, blocks) not in depths:
        raise ConversionError(f'unknown ResNet layout: blocks per stage {blocks}')
    return depths[(bottleneck, blocks)]


def check_torchvision_resnet(state: dict, converted: dict, img_size: int = 64,
                             batch: int = 2, seed: int = 0) -> ParityReport:
    """Compare stage-4 features of the torchvision model and the converted MMPretrain ResNet.

    Args:
        state (dict): The torchvision state dict.
        converted (dict): Output of :func:`convert_torchvision_resnet`.
        img_size (int): Side of the random inputs. Defaults to 64.
        batch (int): Number of random inputs. Defaults to 2.
        seed (int): Seed of the inputs. Defaults to 0.

    Returns:
        ParityReport: The comparison.
    """
    import torchvision
    from mmpretrain.models import ResNet

    depth = resnet_depth(state)
    source = getattr(torchvision.models, f'resnet{depth}')(weights=None)
    source.load_state_dict(state)
    target = ResNet(depth=depth, out_indices=(3,))
    _load_strict(target, converted, f'ResNet-{depth}')
    x = torch.randn(batch, 3, img_size, img_size, generator=torch.Generator().manual_seed(seed))
    source.eval(), target.eval()
    with torch.no_grad():
        trunk = nn.Sequential(*list(source.children())[:-2])  # up to layer4
        diff = _max_diff(trunk(x), target(x)[0], f'ResNet-{depth}')
    return ParityReport(f'torchvision resnet{depth} layer4 vs ResNet stage 4', diff)


# --- timm ViT / DeiT -> mmpretrain VisionTransformer ----------------------------------------

_TIMM_BLOCK = {'norm1': 'ln1', 'attn.qkv': 'attn.qkv', 'attn.proj': 'attn.proj', 'norm2': 'ln2',
               'mlp.fc1': 'ffn.layers.0.0', 'mlp.fc2': 'ffn.layers.1'}


def convert_timm_vit(state: dict) -> OrderedDict:
    """timm ``VisionTransformer`` (ViT, DeiT, MAE-pretrained) weights as MMPretrain weights.

    ``norm`` becomes the final ``ln1``; a ``fc_norm`` (MAE fine-tuned models that average the
    patch tokens) becomes ``ln2``, for ``out_type='avg_featmap', final_norm=False``. The
    classifier ``head`` is dropped.

    Args:
        state (dict): The timm state dict.

    Returns:
        OrderedDict: Backbone state dict (no prefix).

    Raises:
        ConversionError: For distilled DeiT (``dist_token``), layer scale or unknown keys.
    """
    out, bad = OrderedDict(), []
    for key, value in state.items():
        if key.startswith('head.') or key.startswith('head_dist.'):
            continue
        match = re.match(r'^blocks\.(\d+)\.(.+)\.(weight|bias)$', key)
        if key in ('cls_token', 'pos_embed'):
            out[key] = value
        elif key.startswith('patch_embed.proj.'):
            out['patch_embed.projection.' + key.rsplit('.', 1)[1]] = value
        elif key.startswith('norm.'):
            out['ln1.' + key.split('.', 1)[1]] = value
        elif key.startswith('fc_norm.'):
            out['ln2.' + key.split('.', 1)[1]] = value
        elif match and match.group(2) in _TIMM_BLOCK:
            out[f'layers.{match.group(1)}.{_TIMM_BLOCK[match.group(2)]}.{match.group(3)}'] = value
        else:
            bad.append(key)
    if bad:
        raise ConversionError(
            f'timm keys without an MMPretrain VisionTransformer counterpart: {bad[:5]} '
            '(distilled DeiT, layer scale and register tokens are not supported)')
    return out


def check_timm_vit(state: dict, converted: dict, arch: str, img_size: int,
                   batch: int = 2, seed: int = 0) -> ParityReport:
    """Compare the timm model's features with the converted MMPretrain VisionTransformer.

    Tokens after the final norm (``forward_features`` vs ``out_type='raw'``), or the pooled
    feature for ``fc_norm`` models (``forward_head(pre_logits=True)`` vs ``'avg_featmap'``).

    Args:
        state (dict): The timm state dict.
        converted (dict): Output of :func:`convert_timm_vit`.
        arch (str): MMPretrain arch: ``'deit-t'``, ``'deit-s'`` or ``'b'``.
        img_size (int): Image size the checkpoint was trained at.
        batch (int): Number of random inputs. Defaults to 2.
        seed (int): Seed of the inputs. Defaults to 0.

    Returns:
        ParityReport: The comparison.
    """
    from mmpretrain.models import VisionTransformer
    from timm.models.vision_transformer import VisionTransformer as TimmViT

    if arch not in VIT_ARCHS:
        raise ConversionError(f'arch must be one of {sorted(VIT_ARCHS)}, got {arch!r}')
    width, heads = VIT_ARCHS[arch]
    patch = state['patch_embed.proj.weight'].shape[-1]
    depth = len({k.split('.')[1] for k in state if k.startswith('blocks.')})
    if state['patch_embed.proj.weight'].shape[0] != width or depth != 12:
        raise ConversionError(f'checkpoint is {state["patch_embed.proj.weight"].shape[0]} wide '
                              f'with {depth} blocks; arch {arch!r} is {width} wide with 12')
    avg = 'fc_norm.weight' in state
    source = TimmViT(img_size=img_size, patch_size=patch, embed_dim=width, depth=depth,
                     num_heads=heads, num_classes=0, global_pool='avg' if avg else 'token',
                     fc_norm=avg)
    tokens, grid = state['pos_embed'].shape[1], (img_size // patch) ** 2 + 1
    if tokens != grid:
        side = patch * int(round((tokens - 1) ** 0.5))
        raise ConversionError(f'weights do not fit a timm ViT {arch} with patch {patch} at '
                              f'{img_size} px: pos_embed has {tokens} tokens, not {grid} '
                              f'(--img-size {side}?)')
    try:
        source.load_state_dict({k: v for k, v in state.items() if not k.startswith('head')})
    except RuntimeError as err:  # torch lists every mismatch over several lines
        raise ConversionError(' '.join(str(err).split())[:300]) from None
    target = VisionTransformer(arch=arch, img_size=img_size, patch_size=patch,
                               out_type='avg_featmap' if avg else 'raw', final_norm=not avg)
    _load_strict(target, converted, f'ViT {arch}')
    x = torch.randn(batch, 3, img_size, img_size, generator=torch.Generator().manual_seed(seed))
    source.eval(), target.eval()
    with torch.no_grad():
        feats = source.forward_features(x)
        ref = source.forward_head(feats, pre_logits=True) if avg else feats
        diff = _max_diff(ref, target(x)[0], f'ViT {arch}')
    what = 'pooled fc_norm feature' if avg else 'all tokens after the final norm'
    return ParityReport(f'timm ViT vs VisionTransformer {arch}, {what}', diff)


# --- Hugging Face ViTMAEForPreTraining -> mmpretrain MAE ------------------------------------

_HF_LAYER = {'layernorm_before': 'ln1', 'attention.output.dense': 'attn.proj',
             'layernorm_after': 'ln2', 'intermediate.dense': 'ffn.layers.0.0',
             'output.dense': 'ffn.layers.1'}


def _hf_layer(prefix: str, state: dict, out_prefix: str, out: dict, used: set) -> None:
    """One HF ViT layer: concatenate query/key/value into qkv, rename the rest."""
    for kind in ('weight', 'bias'):
        parts = [f'{prefix}.attention.attention.{n}.{kind}' for n in ('query', 'key', 'value')]
        out[f'{out_prefix}.attn.qkv.{kind}'] = torch.cat([state[p] for p in parts], dim=0)
        used.update(parts)
        for src, dst in _HF_LAYER.items():
            out[f'{out_prefix}.{dst}.{kind}'] = state[f'{prefix}.{src}.{kind}']
            used.add(f'{prefix}.{src}.{kind}')


def convert_hf_vitmae(state: dict) -> OrderedDict:
    """Hugging Face ``ViTMAEForPreTraining`` weights as MMPretrain ``MAE`` weights.

    Args:
        state (dict): The HF state dict (``vit.*`` encoder, ``decoder.*``).

    Returns:
        OrderedDict: ``backbone.*`` (``MAEViT``) and ``neck.*`` (``MAEPretrainDecoder``)
        tensors, loadable into the ``MAE`` algorithm or, via ``mim2backbone.py``, a classifier.

    Raises:
        ConversionError: If keys are missing or left unused.
    """
    out, used = OrderedDict(), set()

    def take(src: str, dst: str) -> None:
        if src not in state:
            raise ConversionError(f'not a ViTMAEForPreTraining state dict: {src!r} missing')
        out[dst] = state[src]
        used.add(src)

    take('vit.embeddings.cls_token', 'backbone.cls_token')
    take('vit.embeddings.position_embeddings', 'backbone.pos_embed')
    for kind in ('weight', 'bias'):
        take(f'vit.embeddings.patch_embeddings.projection.{kind}',
             f'backbone.patch_embed.projection.{kind}')
        take(f'vit.layernorm.{kind}', f'backbone.ln1.{kind}')
        take(f'decoder.decoder_embed.{kind}', f'neck.decoder_embed.{kind}')
        take(f'decoder.decoder_norm.{kind}', f'neck.ln1.{kind}')
        take(f'decoder.decoder_pred.{kind}', f'neck.decoder_pred.{kind}')
    take('decoder.mask_token', 'neck.mask_token')
    take('decoder.decoder_pos_embed', 'neck.decoder_pos_embed')
    for src, dst in (('vit.encoder.layer', 'backbone.layers'),
                     ('decoder.decoder_layers', 'neck.decoder_blocks')):
        ids = sorted({int(k[len(src) + 1:].split('.')[0]) for k in state
                      if k.startswith(src + '.')})
        for i in ids:
            _hf_layer(f'{src}.{i}', state, f'{dst}.{i}', out, used)
    left = [k for k in state if k not in used]
    if left:
        raise ConversionError(f'ViTMAEForPreTraining keys not converted: {left[:5]}')
    return out


def build_mmpretrain_mae(config) -> nn.Module:
    """The MMPretrain ``MAE`` (``MAEViT`` + ``MAEPretrainDecoder`` + head) matching an HF config.

    Args:
        config (transformers.ViTMAEConfig): The source configuration.

    Returns:
        nn.Module: The MMPretrain algorithm (random weights).
    """
    from mmpretrain.registry import MODELS

    if config.hidden_act != 'gelu' or not config.qkv_bias:
        raise ConversionError(f'unsupported ViTMAE config: hidden_act={config.hidden_act!r}, '
                              f'qkv_bias={config.qkv_bias}')
    norm = dict(type='LN', eps=config.layer_norm_eps)
    grid = config.image_size // config.patch_size
    return MODELS.build(dict(
        type='MAE',
        backbone=dict(type='MAEViT', arch=dict(
            embed_dims=config.hidden_size, num_layers=config.num_hidden_layers,
            num_heads=config.num_attention_heads, feedforward_channels=config.intermediate_size),
            img_size=config.image_size, patch_size=config.patch_size,
            mask_ratio=config.mask_ratio, norm_cfg=norm),
        neck=dict(type='MAEPretrainDecoder', num_patches=grid * grid,
                  patch_size=config.patch_size, in_chans=config.num_channels,
                  embed_dim=config.hidden_size, decoder_embed_dim=config.decoder_hidden_size,
                  decoder_depth=config.decoder_num_hidden_layers,
                  decoder_num_heads=config.decoder_num_attention_heads,
                  mlp_ratio=config.decoder_intermediate_size / config.decoder_hidden_size,
                  norm_cfg=norm),
        head=dict(type='MAEPretrainHead', norm_pix=config.norm_pix_loss,
                  patch_size=config.patch_size, loss=dict(type='PixelReconstructionLoss',
                                                          criterion='L2'))))


def check_hf_vitmae(source: nn.Module, converted: dict, batch: int = 2,
                    seed: int = 0) -> tuple[ParityReport, nn.Module]:
    """Compare encoder tokens (unmasked) and decoder predictions (masked) with the HF model.

    The encoder runs without masking on both sides (HF: ``mask_ratio=0`` with ordered noise).
    The decoders then both receive the HF encoder's masked tokens and ``ids_restore`` (from a
    fixed noise), so both halves of the converted MAE are checked.

    Args:
        source (nn.Module): The ``ViTMAEForPreTraining`` model holding the source weights.
        converted (dict): Output of :func:`convert_hf_vitmae`.
        batch (int): Number of random inputs. Defaults to 2.
        seed (int): Seed of inputs and noise. Defaults to 0.

    Returns:
        tuple[ParityReport, nn.Module]: The comparison and the loaded MMPretrain ``MAE``.
    """
    config = source.config
    target = build_mmpretrain_mae(config)
    _load_strict(target, converted, 'MAE')
    gen = torch.Generator().manual_seed(seed)
    size, grid = config.image_size, (config.image_size // config.patch_size) ** 2
    x = torch.randn(batch, config.num_channels, size, size, generator=gen)
    source.eval(), target.eval()
    ratio = config.mask_ratio
    with torch.no_grad():
        source.vit.embeddings.config.mask_ratio = 0.0
        try:
            ordered = torch.arange(grid, dtype=torch.float32).expand(batch, grid)
            enc_ref = source.vit(x, noise=ordered).last_hidden_state
        finally:
            source.vit.embeddings.config.mask_ratio = ratio
        enc = target.backbone(x, mask=None)[0]
        diff_enc = _max_diff(enc_ref, enc, 'MAE encoder')
        masked = source.vit(x, noise=torch.rand(batch, grid, generator=gen))
        dec_ref = source.decoder(masked.last_hidden_state, masked.ids_restore).logits
        dec = target.neck(masked.last_hidden_state, masked.ids_restore)
        diff_dec = _max_diff(dec_ref, dec, 'MAE decoder')
    return ParityReport('HF ViTMAE vs MAEViT tokens (unmasked) and MAEPretrainDecoder '
                        f'predictions (mask ratio {ratio})', max(diff_enc, diff_dec)), target


# --- reading sources and writing checkpoints -------------------------------------------------

def load_source_state(path: str) -> dict:
    """Read a source state dict from ``.safetensors`` or a PyTorch file (weights only).

    Wrappers used by timm/DeiT/MAE releases (``model``, ``state_dict``, ``module``) are unwrapped.

    Args:
        path (str): The checkpoint file.

    Returns:
        dict: Tensor name -> tensor.
    """
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return dict(load_file(path))
    from osteo_mm.utils.checkpoint import safe_load
    state = safe_load(path, map_location='cpu')
    for key in ('model', 'state_dict', 'module'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ConversionError(f'{path}: not a state dict of tensors')
    return dict(state)


def save_checkpoint(state: dict, dst: str, meta: dict) -> None:
    """Atomically write ``{'state_dict': state, 'meta': meta}`` (MMEngine checkpoint layout)."""
    import os
    import os.path as osp
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = f'{dst}.tmp'
    torch.save(dict(state_dict=OrderedDict((k, v.clone()) for k, v in state.items()),
                    meta=meta), tmp)
    os.replace(tmp, dst)
