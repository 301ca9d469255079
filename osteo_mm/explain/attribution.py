"""Attribution methods beyond the CAM family, batched on the model's device.

* ``'occlusion'``: occlusion sensitivity (Zeiler & Fergus, ECCV 2014) -- the drop of the target
  score when a square window is replaced by the baseline, averaged over the windows covering a
  pixel (captum ``Occlusion``, which evaluates many occluded copies per forward pass).
* ``'integrated-gradients'``: Integrated Gradients (Sundararajan et al., ICML 2017) from the
  all-zero network input (the dataset mean after normalisation; captum
  ``IntegratedGradients``, Gauss-Legendre steps batched).
* ``'input-x-gradient'``: input times gradient (Shrikumar et al., 2016; captum
  ``InputXGradient``).
* ViTs only: ``'attention-rollout'`` (Abnar & Zuidema, ACL 2020: the product over blocks of
  the head-averaged attention plus identity, rows re-normalised; the class token's row) and
  ``'transformer-attribution'``: the gradient-weighted attention rule of Chefer, Gur & Wolf
  (``R <- R + E_h[(grad A * A)^+] R`` from ``R = I``; the rule of their ICCV 2021 paper, which
  generalises the CVPR 2021 transformer attribution without its LRP relevance term).

captum is the maintained library for the first three; the two ViT rules need the attention
probabilities, which MMPretrain computes inside a fused ``scaled_dot_product_attention`` call,
so they are recorded here by swapping that call for an explicit softmax while the map is
computed (:func:`recording_attention`) -- nothing in captum or pytorch-grad-cam covers
MMPretrain's ViT.

Every method explains the same score as the CAMs (the target class's logit or log-odds). Maps
are summed over channels, rectified (positive evidence for the class, as the CAMs' ReLU) and
min-max scaled per image to ``[0, 1]``, so they score exactly like CAMs.
"""
import contextlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .device_cam import _min_max
from .targets import is_vit

#: Methods of this module; the ViT-only ones need a ViT backbone with MMPretrain attention.
ATTRIBUTION_METHODS = ('occlusion', 'integrated-gradients', 'input-x-gradient',
                       'attention-rollout', 'transformer-attribution')
VIT_METHODS = ('attention-rollout', 'transformer-attribution')
#: Methods that occlude square windows: their maps are blurred by the window size.
PATCH_METHODS = ('occlusion', )


def all_class_scores(logits: torch.Tensor, use_log_odds: bool) -> torch.Tensor:
    """Every class's explained score: the logit, or its log-odds against the other classes.

    Args:
        logits (torch.Tensor): ``(N, K)`` logits.
        use_log_odds (bool): Return ``z_c - logsumexp_{j != c} z_j`` for every ``c``.

    Returns:
        torch.Tensor: ``(N, K)`` scores (captum picks the target column per image).
    """
    if not use_log_odds:
        return logits
    num = logits.shape[1]
    if num < 2:
        raise ValueError(f'log-odds need at least two softmax outputs, got {num}')
    eye = torch.eye(num, dtype=torch.bool, device=logits.device)
    others = logits.unsqueeze(1).expand(-1, num, -1).masked_fill(eye, float('-inf'))
    return logits - torch.logsumexp(others, dim=-1)


def _finish(attr: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` attributions -> rectified, min-max scaled ``(B, H, W)`` maps."""
    return _min_max(attr.detach().float().sum(dim=1).clamp(min=0))


def occlusion_window(height: int, width: int) -> Tuple[int, int]:
    """Default occlusion window and stride: 1/8 of the shorter side, stride half of it."""
    window = max(2, min(height, width) // 8)
    return window, max(1, window // 2)


def _captum_maps(model: nn.Module, inputs: torch.Tensor, classes: torch.Tensor, method: str,
                 use_log_odds: bool, options: dict) -> torch.Tensor:
    from captum.attr import InputXGradient, IntegratedGradients, Occlusion

    def forward(x: torch.Tensor) -> torch.Tensor:
        return all_class_scores(model(x), use_log_odds)

    target = classes.tolist()
    batch = len(inputs)
    if method == 'occlusion':
        height, width = inputs.shape[-2:]
        window, stride = occlusion_window(height, width)
        window = options.get('occlusion_window') or window
        stride = options.get('occlusion_stride') or stride
        per_eval = max(1, options.get('internal_batch_size', 256) // batch)
        with torch.no_grad():
            attr = Occlusion(forward).attribute(
                inputs, sliding_window_shapes=(inputs.shape[1], window, window),
                strides=(inputs.shape[1], stride, stride), baselines=0.0, target=target,
                perturbations_per_eval=per_eval)
    elif method == 'integrated-gradients':
        steps = options.get('ig_steps', 32)
        with torch.enable_grad():
            attr = IntegratedGradients(forward).attribute(
                inputs, baselines=0.0, target=target, n_steps=steps,
                internal_batch_size=max(batch, options.get('internal_batch_size', 256)))
    else:
        with torch.enable_grad():
            attr = InputXGradient(forward).attribute(inputs.detach().requires_grad_(True),
                                                     target=target)
    return _finish(attr)


def _attention_modules(model: nn.Module) -> List[nn.Module]:
    backbone = getattr(model, 'backbone', None)
    if backbone is None or not is_vit(backbone):
        raise ValueError('attention-based maps need a ViT backbone (patch_embed and layers)')
    modules = [getattr(layer, 'attn', None) for layer in backbone.layers]
    if not all(hasattr(m, 'scaled_dot_product_attention') for m in modules):
        raise ValueError('attention-based maps need MMPretrain MultiheadAttention blocks '
                         '(layers[i].attn)')
    return modules


@contextlib.contextmanager
def recording_attention(model: nn.Module) -> Iterator[List[torch.Tensor]]:
    """Record every block's attention probabilities ``(B, heads, N, N)`` while open.

    MMPretrain's ``MultiheadAttention`` calls ``self.scaled_dot_product_attention(q, k, v)``
    (torch's fused kernel, which never materialises the probabilities); each block's call is
    replaced by the explicit ``softmax(q k^T * scale) v`` with the same scale, and restored on
    exit. Attention dropout is not applied (eval mode).

    Yields:
        list[torch.Tensor]: Filled with one tensor per block and forward pass, in order.
    """
    modules = _attention_modules(model)
    store: List[torch.Tensor] = []
    saved = [m.__dict__.get('scaled_dot_product_attention') for m in modules]

    def make(original):
        # A partial of MMPretrain's Python implementation (qk_scale set) divides by its
        # ``scale``; the fused torch call scales by 1 / sqrt(head_dim).
        divisor = getattr(original, 'keywords', {}).get('scale')

        def attention(q, k, v, attn_mask=None, dropout_p=0.0, **kwargs):
            scale = 1.0 / divisor if divisor else q.shape[-1] ** -0.5
            weights = torch.softmax((q @ k.transpose(-2, -1)) * scale, dim=-1)
            store.append(weights)
            return weights @ v
        return attention

    try:
        for module, original in zip(modules, saved):
            module.scaled_dot_product_attention = make(
                original or module.scaled_dot_product_attention)
        yield store
    finally:
        for module, original in zip(modules, saved):
            if original is None:
                del module.scaled_dot_product_attention
            else:
                module.scaled_dot_product_attention = original


def _patch_grid(model: nn.Module) -> tuple:
    """Hook ``patch_embed`` to record the patch grid of each forward pass."""
    grids = []
    handle = model.backbone.patch_embed.register_forward_hook(
        lambda m, a, out: grids.append(tuple(out[1])))
    return handle, grids


def _vit_maps(model: nn.Module, inputs: torch.Tensor, classes: torch.Tensor, method: str,
              use_log_odds: bool) -> torch.Tensor:
    handle, grids = _patch_grid(model)
    try:
        with recording_attention(model) as attns:
            if method == 'attention-rollout':
                with torch.no_grad():
                    model(inputs)
                grads = None
            else:
                with torch.enable_grad():
                    scores = all_class_scores(model(inputs.detach().requires_grad_(True)),
                                              use_log_odds)
                    score = scores.gather(1, classes.view(-1, 1)).sum()
                    grads = torch.autograd.grad(score, attns)
    finally:
        handle.remove()
    tokens = attns[0].shape[-1]
    eye = torch.eye(tokens, device=inputs.device, dtype=torch.float32).expand(
        len(inputs), tokens, tokens)
    relevance = eye.clone()
    for i, attn in enumerate(attns):
        attn = attn.detach().float()
        if grads is None:  # Abnar & Zuidema: mean over heads, plus identity, rows normalised
            step = 0.5 * attn.mean(dim=1) + 0.5 * eye
            step = step / step.sum(dim=-1, keepdim=True)
            relevance = step @ relevance
        else:  # Chefer et al.: gradient-weighted heads, positive part, accumulated
            weighted = (grads[i].float() * attn).clamp(min=0).mean(dim=1)
            relevance = relevance + weighted @ relevance
    grid = grids[-1]
    extra = tokens - grid[0] * grid[1]
    # The class token's row (the head reads it) over the patch tokens, row-major like
    # reshape.tokens_to_grid.
    maps = relevance[:, 0, extra:].reshape(len(inputs), 1, *grid)
    maps = F.interpolate(maps, size=inputs.shape[-2:], mode='bilinear', align_corners=False)
    return _min_max(maps.squeeze(1).clamp(min=0))


def attribution_maps(model: nn.Module, inputs: torch.Tensor, classes: Optional[Sequence[int]],
                     method: str, use_log_odds: bool = False,
                     options: Optional[Dict] = None
                     ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Maps of one batch by one of :data:`ATTRIBUTION_METHODS`.

    Args:
        model (nn.Module): Classifier in eval mode; ``model(x)`` returns ``(B, K)`` logits.
        inputs (torch.Tensor): ``(B, C, H, W)`` network inputs.
        classes (Sequence[int], optional): Target class per image; None takes the arg-max.
        method (str): The method.
        use_log_odds (bool): Explain the log-odds instead of the logit. Defaults to False.
        options (dict, optional): ``occlusion_window``, ``occlusion_stride`` (pixels; default
            :func:`occlusion_window`), ``ig_steps`` (default 32) and ``internal_batch_size``
            (images per forward pass for the expanded batches; default 256).

    Returns:
        tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ``(B, H, W)`` float32 maps in
        ``[0, 1]``, the ``(B,)`` explained classes and the ``(B, K)`` logits.
    """
    if method not in ATTRIBUTION_METHODS:
        raise ValueError(f'unknown attribution method {method!r}; choose from '
                         f'{ATTRIBUTION_METHODS}')
    model.eval()
    inputs = inputs.detach()
    with torch.no_grad():
        logits = model(inputs)
    if classes is None:
        chosen = logits.argmax(dim=1)
    else:
        chosen = torch.as_tensor(list(classes), dtype=torch.long, device=logits.device)
    if method in VIT_METHODS:
        maps = _vit_maps(model, inputs, chosen, method, use_log_odds)
    else:
        maps = _captum_maps(model, inputs, chosen, method, use_log_odds, dict(options or {}))
    return maps, chosen, logits.detach()
