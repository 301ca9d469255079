"""Gradient-weighted CAMs computed on the model's device, for whole batches.

pytorch-grad-cam copies every activation and gradient to the host inside its hooks and then
weights, rectifies, scales and resizes each map in NumPy/OpenCV, one image at a time. On a GPU
that host work dominated a CAM pass (0.61 ms per image of post-processing alone at 256 px
against 0.84 ms for the whole pass; docs/benchmarks.md, "GPU"), so for the five methods whose
maps are closed-form in activations and gradients (Grad-CAM, Grad-CAM++, XGrad-CAM, LayerCAM,
HiResCAM) the same arithmetic is done here in batched torch ops on the device. The formulas,
the epsilons and the post-processing order (rectify, per-map min-max, bilinear resize with
half-pixel centres, layer mean, min-max again) follow pytorch-grad-cam 1.5.7, so the maps
equal the library's to float rounding (tested); gradient-free methods (EigenCAM, ScoreCAM,
Ablation-CAM) stay with the library.
"""
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .targets import log_odds


def _gradcam_map(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al., 2017): channels weighted by their mean gradient."""
    return (grads.mean(dim=(2, 3), keepdim=True) * acts).sum(dim=1)


def _gradcam_pp_map(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++ (Chattopadhay et al., 2018), eq. 19 with the ReLU of eq. 7."""
    grads_2 = grads.pow(2)
    alpha = grads_2 / (2 * grads_2 + acts.sum(dim=(2, 3), keepdim=True) * grads_2 * grads
                       + 1e-6)
    alpha = torch.where(grads != 0, alpha, torch.zeros_like(alpha))
    weights = (grads.clamp(min=0) * alpha).sum(dim=(2, 3), keepdim=True)
    return (weights * acts).sum(dim=1)


def _xgradcam_map(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """XGrad-CAM (Fu et al., 2020): gradients weighted by the normalised activations."""
    weights = (grads * acts / (acts.sum(dim=(2, 3), keepdim=True) + 1e-7)).sum(
        dim=(2, 3), keepdim=True)
    return (weights * acts).sum(dim=1)


def _hirescam_map(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """HiResCAM (Draelos & Carin, 2020): element-wise gradients times activations, summed."""
    return (grads * acts).sum(dim=1)


def _layercam_map(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """LayerCAM (Jiang et al., 2021): element-wise positive gradients times activations."""
    return (grads.clamp(min=0) * acts).sum(dim=1)


DEVICE_METHODS: Dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    'gradcam': _gradcam_map,
    'gradcam++': _gradcam_pp_map,
    'xgradcam': _xgradcam_map,
    'layercam': _layercam_map,
    'hirescam': _hirescam_map,
}


def _min_max(maps: torch.Tensor) -> torch.Tensor:
    """Scale each ``(H, W)`` map of a ``(B, H, W)`` stack to ``[0, 1]`` (library epsilon)."""
    shifted = maps - maps.amin(dim=(1, 2), keepdim=True)
    return shifted / (1e-7 + shifted.amax(dim=(1, 2), keepdim=True))


def class_scores(logits: torch.Tensor, classes: torch.Tensor, use_log_odds: bool) -> torch.Tensor:
    """Per-image score to explain: the target class's logit or its log-odds.

    Args:
        logits (torch.Tensor): ``(B, K)`` model outputs.
        classes (torch.Tensor): ``(B,)`` long class index per image.
        use_log_odds (bool): Explain :func:`log_odds` instead of the raw logit.

    Returns:
        torch.Tensor: ``(B,)`` scores.
    """
    index = classes.view(-1, 1)
    if use_log_odds:
        return log_odds(logits, index)
    return logits.gather(1, index).squeeze(1)


def device_cams(model: nn.Module, layers: Mapping[str, nn.Module], inputs: torch.Tensor,
                classes: Optional[Sequence[int]], method: str, use_log_odds: bool = False,
                reshape: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One forward and one backward pass to the target layers; maps stay on the device.

    The caller sets up which tensors require gradients (see ``cam._gradients_from``); only the
    gradients of the score with respect to the target layers' outputs are computed.

    Args:
        model (nn.Module): Classifier; ``model(inputs)`` returns ``(B, K)`` logits.
        layers (Mapping[str, nn.Module]): Target layers by name (each must run once per
            forward).
        inputs (torch.Tensor): ``(B, C, H, W)`` network inputs.
        classes (Sequence[int], optional): Class per image; None takes the arg-max.
        method (str): One of :data:`DEVICE_METHODS`.
        use_log_odds (bool): Explain the log-odds instead of the logit. Defaults to False.
        reshape (callable, optional): Turns a layer output into ``(B, C, h, w)`` (ViT tokens).

    Returns:
        tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ``(B, H, W)`` float32 maps in
        ``[0, 1]``, the ``(B,)`` explained classes and the detached ``(B, K)`` logits.
    """
    if method not in DEVICE_METHODS:
        raise ValueError(f'{method!r} has no on-device implementation; choose from '
                         f'{sorted(DEVICE_METHODS)}')
    captured: Dict[str, List[torch.Tensor]] = {name: [] for name in layers}
    handles = [layer.register_forward_hook(
        lambda module, args, out, store=captured[name]: store.append(out))
        for name, layer in layers.items()]
    try:
        logits = model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    runs = {name: len(outs) for name, outs in captured.items() if len(outs) != 1}
    if runs:
        raise ValueError(f'each target layer must run exactly once per forward pass; runs: '
                         f'{runs}')
    outputs = [outs[0] for outs in captured.values()]
    if classes is None:
        chosen = logits.detach().argmax(dim=1)
    else:
        chosen = torch.as_tensor(list(classes), dtype=torch.long, device=logits.device)
    score = class_scores(logits, chosen, use_log_odds).sum()
    unreachable = [name for name, out in zip(layers, outputs) if not out.requires_grad]
    if not unreachable:
        grads = torch.autograd.grad(score, outputs, allow_unused=True)
        unreachable = [name for name, grad in zip(layers, grads) if grad is None]
    if unreachable:
        raise ValueError(f'no gradient reaches target layer(s) {unreachable}: the class score '
                         'does not depend on them')
    height, width = inputs.shape[-2:]
    per_layer = []
    for acts, grad in zip(outputs, grads):
        acts = acts.detach()
        if reshape is not None:
            acts, grad = reshape(acts), reshape(grad)
        cam = DEVICE_METHODS[method](acts.float(), grad.float()).clamp(min=0)
        cam = F.interpolate(_min_max(cam).unsqueeze(1), size=(height, width), mode='bilinear',
                            align_corners=False)
        per_layer.append(cam)
    maps = _min_max(torch.cat(per_layer, dim=1).clamp(min=0).mean(dim=1))
    return maps, chosen, logits.detach()
