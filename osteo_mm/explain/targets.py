"""Where to look (target layers) and what to explain (target classes)."""
from typing import List, Optional, Sequence, Union

import torch
from mmpretrain.structures import DataSample
from torch import nn

TargetSpec = Union[str, int]

#: What a map explains for class ``c``: the raw logit ``z_c`` or the class's log-odds
#: (:class:`LogOddsTarget`).
CAM_SCORES = ('logit', 'log-odds')


def is_vit(backbone: nn.Module) -> bool:
    """Whether ``backbone`` is a token-based (ViT-style) backbone.

    Args:
        backbone (nn.Module): The classifier's backbone.

    Returns:
        bool: True when it has ``patch_embed`` and a list of transformer ``layers``.
    """
    return hasattr(backbone, 'patch_embed') and isinstance(getattr(backbone, 'layers', None),
                                                           nn.ModuleList)


def default_target_layer_names(model: nn.Module) -> List[str]:
    """Default CAM target layers of an MMPretrain classifier.

    * ViTs: ``backbone.layers[-1].ln1`` — the final norm's patch tokens receive no gradient when
      the head reads the class token, the last block's first norm does.
    * ResNet-style backbones: the last stage (``backbone.<res_layers[-1]>``).
    * Backbones with ``stages`` (ConvNeXt, EfficientNet, ...): ``backbone.stages[-1]``.

    Args:
        model (nn.Module): Classifier with a ``backbone`` attribute.

    Returns:
        list[str]: Dotted module names.

    Raises:
        ValueError: For backbones without a known last stage; pass names explicitly then.
    """
    backbone = getattr(model, 'backbone', None)
    if backbone is None:
        raise ValueError(f'{type(model).__name__} has no backbone; pass target_layers')
    if is_vit(backbone):
        return [f'backbone.layers.{len(backbone.layers) - 1}.ln1']
    if getattr(backbone, 'res_layers', None):
        return [f'backbone.{backbone.res_layers[-1]}']
    if isinstance(getattr(backbone, 'stages', None), nn.ModuleList):
        return [f'backbone.stages.{len(backbone.stages) - 1}']
    raise ValueError(f'no default CAM target layer for {type(backbone).__name__}; pass '
                     "target_layers, e.g. ['backbone.layer4']")


def get_target_layers(model: nn.Module, names: Optional[Sequence[str]] = None) -> List[nn.Module]:
    """Resolve dotted names (default: :func:`default_target_layer_names`) to modules.

    Args:
        model (nn.Module): The classifier.
        names (Sequence[str], optional): Dotted module names such as ``'backbone.layer3'``.

    Returns:
        list[nn.Module]: The target modules.
    """
    names = list(names) if names else default_target_layer_names(model)
    layers = []
    for name in names:
        try:
            layers.append(model.get_submodule(name))
        except AttributeError as err:
            raise ValueError(f'target layer {name!r} not found in {type(model).__name__}') \
                from err
    return layers


def parse_target(value: str) -> TargetSpec:
    """Parse a command-line target: ``'gt'``, ``'pred'`` or a class index.

    Args:
        value (str): The flag value.

    Returns:
        str | int: ``'gt'``, ``'pred'`` or the index.
    """
    if value in ('gt', 'pred'):
        return value
    if value.isdigit():
        return int(value)
    raise ValueError(f"target must be 'gt', 'pred' or a class index, got {value!r}")


def target_classes(target: TargetSpec, data_samples: Sequence[DataSample],
                   num_classes: Optional[int] = None) -> Optional[List[int]]:
    """One target class per sample (``None`` means "the prediction", resolved by the CAM pass).

    Args:
        target (str | int): ``'gt'`` (ground truth), ``'pred'`` or a class index.
        data_samples (Sequence[DataSample]): The batch's samples (``gt_label`` for ``'gt'``).
        num_classes (int, optional): Number of model outputs, to validate indices.

    Returns:
        list[int] | None: A class per sample, or None for ``'pred'``.
    """
    if target == 'pred':
        return None
    if isinstance(target, int) and not isinstance(target, bool):
        if target < 0 or (num_classes is not None and target >= num_classes):
            raise ValueError(f'target class {target} out of range for {num_classes} classes')
        return [target] * len(data_samples)
    if target != 'gt':
        raise ValueError(f"target must be 'gt', 'pred' or a class index, got {target!r}")
    classes = []
    for sample in data_samples:
        label = torch.as_tensor(sample.get('gt_label', []), dtype=torch.long).flatten()
        if label.numel() != 1:
            raise ValueError(f"sample {sample.get('img_id', '?')} has {label.numel()} "
                             "ground-truth labels; use target 'pred' or a class index")
        classes.append(int(label))
    return classes


class LogOddsTarget:
    """CAM target: the log-odds of one class of a softmax classifier.

    ``log(p_c / (1 - p_c)) = z_c - logsumexp_{j != c}(z_j)``; with two classes simply
    ``z_c - z_other``. Unlike the raw logit it ignores what all classes' logits share, which
    moves no probability (with a linear head on pooled features, Grad-CAM of the raw logit adds
    ``sum_k mean_c(w_ck) A_k``, a map of the features every class reads, to the map of what
    separates the classes); unlike the probability, its gradient does not vanish on confidently
    classified images. Sigmoid (multi-label) logits already are log-odds: use
    ``ClassifierOutputTarget`` there. pytorch-grad-cam's targets give the logit or the softmax
    probability, not the log-odds, hence this class.

    Args:
        category (int, optional): Class index; None takes the arg-max of each output.
    """

    def __init__(self, category: Optional[int] = None) -> None:
        self.category = category

    def __call__(self, model_output: torch.Tensor) -> torch.Tensor:
        if self.category is None:
            index = model_output.argmax(-1, keepdim=True)
        else:
            index = torch.full_like(model_output[..., :1], self.category, dtype=torch.long)
        return log_odds(model_output, index)


def log_odds(logits: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``z_c - logsumexp_{j != c}(z_j)`` of softmax logits (see :class:`LogOddsTarget`).

    Args:
        logits (torch.Tensor): ``(..., K)`` logits, ``K >= 2``.
        index (torch.Tensor): ``(..., 1)`` long class index ``c`` per row.

    Returns:
        torch.Tensor: ``(...)`` log-odds of the indexed classes.
    """
    if logits.shape[-1] < 2:
        raise ValueError(f'log-odds need at least two softmax outputs, got {logits.shape[-1]}')
    chosen = logits.gather(-1, index).squeeze(-1)
    others = logits.scatter(-1, index, float('-inf'))
    return chosen - torch.logsumexp(others, dim=-1)
