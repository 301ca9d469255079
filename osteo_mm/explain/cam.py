"""Batched class-activation maps for MMPretrain classifiers (pytorch-grad-cam methods)."""
import contextlib
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Sequence

import cv2
import numpy as np
import torch
from mmpretrain.models.heads import MultiLabelClsHead
from pytorch_grad_cam import (
    AblationCAM,
    AblationLayerVit,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    ScoreCAM,
    XGradCAM,
)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from .attribution import ATTRIBUTION_METHODS, VIT_METHODS, attribution_maps
from .device_cam import DEVICE_METHODS, device_cams
from .reshape import TokensToFeatureMap
from .targets import (
    CAM_SCORES,
    LogOddsTarget,
    TargetSpec,
    default_target_layer_names,
    get_target_layers,
    is_vit,
    target_classes,
)

CAM_METHODS: Dict[str, type] = {
    'gradcam': GradCAM,
    'gradcam++': GradCAMPlusPlus,
    'xgradcam': XGradCAM,
    'layercam': LayerCAM,
    'eigencam': EigenCAM,
    'scorecam': ScoreCAM,
    'hirescam': HiResCAM,
    'ablationcam': AblationCAM,
}
GRADIENT_FREE = ('eigencam', 'scorecam', 'ablationcam')
#: Every method :class:`BatchCAM` offers: the CAMs above and :mod:`.attribution`'s methods.
METHODS = tuple(sorted(CAM_METHODS)) + ATTRIBUTION_METHODS
CAM_BACKENDS = ('auto', 'device', 'grad-cam')


@dataclass
class CAMResult:
    """Maps of one batch.

    Attributes:
        cams (np.ndarray): ``(B, H, W)`` float32 maps in ``[0, 1]`` (each min-max scaled as
            pytorch-grad-cam does), in network-input coordinates.
        target_classes (np.ndarray): ``(B,)`` explained class per image.
        logits (torch.Tensor): ``(B, num_classes)`` detached model outputs of the same pass.
    """

    cams: np.ndarray
    target_classes: np.ndarray
    logits: torch.Tensor


@contextlib.contextmanager
def _gradients_from(model: nn.Module, layers: Sequence[nn.Module],
                    inputs: torch.Tensor) -> Iterator[None]:
    """Let gradients flow only from the target layers to the output; leave no trace.

    Weight gradients of the rest of the network are useless for a CAM; switching them off stops
    the backward pass at the target layers (a CAM then costs one forward and a partial
    backward). Layers without parameters need the graph to start at the input instead. The
    parameters' ``requires_grad`` flags and ``.grad`` tensors are restored afterwards, so a CAM
    pass during validation cannot leak gradients into the next training step.
    """
    params = list(model.parameters())
    saved = [(p.requires_grad, p.grad) for p in params]
    keep = {p for layer in layers for p in layer.parameters()}
    from_input = not all(any(True for _ in layer.parameters()) for layer in layers)
    try:
        for param in params:
            param.requires_grad_(param in keep)
        inputs.requires_grad_(from_input)
        with torch.enable_grad():
            yield
    finally:
        for param, (flag, grad) in zip(params, saved):
            param.requires_grad_(flag)
            param.grad = grad
        inputs.requires_grad_(False)


class BatchCAM:
    """Class-activation maps for whole batches of an MMPretrain classifier.

    One forward and one (partial) backward pass per batch; one target per image (a shorter
    target list would silently give all-zero maps in pytorch-grad-cam, so lengths are checked).

    Args:
        model (nn.Module): An MMPretrain classifier (``model(x)`` returns logits).
        method (str): One of :data:`METHODS`: a CAM of :data:`CAM_METHODS` (at the target
            layers) or an input attribution of :mod:`.attribution` (occlusion, Integrated
            Gradients, input x gradient; for ViTs attention rollout and the gradient-weighted
            transformer attribution), which ignore ``target_layers``. Defaults to
            ``'gradcam'``.
        target_layers (Sequence[str], optional): Dotted module names; default: last backbone
            stage for CNNs, ``backbone.layers[-1].ln1`` for ViTs.
        score_cam_batch_size (int): Masked images per forward pass for ScoreCAM and
            Ablation-CAM. Defaults to 32.
        score (str): What is explained for the target class: ``'logit'`` (the raw output, as
            pytorch-grad-cam does) or ``'log-odds'`` (:class:`LogOddsTarget`; for sigmoid heads
            the logit already is the log-odds). Defaults to ``'logit'``.
        backend (str): Who computes the maps: ``'device'`` (our batched torch code on the
            model's device, :mod:`.device_cam`; Grad-CAM, Grad-CAM++, XGrad-CAM, LayerCAM),
            ``'grad-cam'`` (pytorch-grad-cam, which post-processes on the host) or ``'auto'``
            (``'device'`` where the method has it, else ``'grad-cam'``). Both give the same
            maps to float rounding. Defaults to ``'auto'``.
        attribution_options (dict, optional): Options of :func:`.attribution.attribution_maps`
            (occlusion window/stride, Integrated-Gradients steps, internal batch size).

    Example:
        >>> explainer = BatchCAM(model, method='gradcam++')
        >>> result, samples = explainer.explain(data_batch, target='gt')
        >>> result.cams.shape  # (B, H, W) in network-input coordinates
    """

    def __init__(self, model: nn.Module, method: str = 'gradcam',
                 target_layers: Optional[Sequence[str]] = None,
                 score_cam_batch_size: int = 32, score: str = 'logit',
                 backend: str = 'auto', attribution_options: Optional[dict] = None) -> None:
        if method not in METHODS:
            raise ValueError(f'unknown CAM method {method!r}; choose from {list(METHODS)}')
        if score not in CAM_SCORES:
            raise ValueError(f'unknown CAM score {score!r}; choose from {CAM_SCORES}')
        if backend not in CAM_BACKENDS:
            raise ValueError(f'unknown CAM backend {backend!r}; choose from {CAM_BACKENDS}')
        if backend == 'device' and method not in DEVICE_METHODS:
            raise ValueError(f'CAM method {method!r} has no device backend; choose from '
                             f'{sorted(DEVICE_METHODS)} or backend "grad-cam"')
        self.on_device = backend != 'grad-cam' and method in DEVICE_METHODS
        self.model = model
        self.method = method
        self.attribution = method in ATTRIBUTION_METHODS
        self.attribution_options = dict(attribution_options or {})
        backbone = getattr(model, 'backbone', None)
        self.vit = backbone is not None and is_vit(backbone)
        if method in VIT_METHODS and not self.vit:
            raise ValueError(f'{method!r} explains ViTs only; {type(backbone).__name__} is not '
                             'one')
        if self.attribution:
            self.layer_names, self.layers = [], []
        else:
            self.layer_names = list(target_layers or default_target_layer_names(model))
            self.layers = get_target_layers(model, self.layer_names)
        self.score_cam_batch_size = score_cam_batch_size
        self.score = score
        self._log_odds = score == 'log-odds' and not isinstance(
            getattr(model, 'head', None), MultiLabelClsHead)

    @property
    def num_classes(self) -> Optional[int]:
        """Number of classes of the model's head, when it declares one."""
        return getattr(getattr(self.model, 'head', None), 'num_classes', None)

    def __call__(self, inputs: torch.Tensor, classes: Optional[Sequence[int]]) -> CAMResult:
        """Compute maps for preprocessed inputs.

        Args:
            inputs (torch.Tensor): ``(B, C, H, W)`` network inputs (after the data preprocessor).
            classes (Sequence[int], optional): One class per image; None explains each image's
                predicted (arg-max) class.

        Returns:
            CAMResult: The maps, explained classes and logits.
        """
        if classes is not None and len(classes) != len(inputs):
            raise ValueError(f'{len(classes)} target classes for {len(inputs)} images: '
                             'give exactly one per image')
        if self.attribution:
            maps, chosen, logits = attribution_maps(self.model, inputs, classes, self.method,
                                                    self._log_odds, self.attribution_options)
            return CAMResult(maps.cpu().numpy(), chosen.cpu().numpy(), logits)
        reshape = TokensToFeatureMap(self.model.backbone) if self.vit else None
        if self.on_device:
            self.model.eval()  # as pytorch-grad-cam does: BatchNorm/dropout in inference mode
            with _gradients_from(self.model, self.layers, inputs), \
                    reshape or contextlib.nullcontext():
                maps, chosen, logits = device_cams(
                    self.model, dict(zip(self.layer_names, self.layers)), inputs, classes,
                    self.method, self._log_odds, reshape)
            return CAMResult(maps.cpu().numpy(), chosen.cpu().numpy(), logits)
        if self._log_odds:
            picks = [None] * len(inputs) if classes is None else [int(c) for c in classes]
            targets = [LogOddsTarget(c) for c in picks]
        else:
            targets = (None if classes is None
                       else [ClassifierOutputTarget(int(c)) for c in classes])
        grad_ctx = (torch.no_grad() if self.method in GRADIENT_FREE
                    else _gradients_from(self.model, self.layers, inputs))
        extra = dict(ablation_layer=AblationLayerVit()) if (
            self.method == 'ablationcam' and self.vit) else {}
        cam = CAM_METHODS[self.method](model=self.model, target_layers=self.layers,
                                       reshape_transform=reshape, **extra)
        cam.batch_size = self.score_cam_batch_size  # read by ScoreCAM and AblationCAM only
        try:
            with grad_ctx, reshape or contextlib.nullcontext():
                maps = cam(input_tensor=inputs, targets=targets)
            logits = cam.outputs.detach()
        finally:
            cam.activations_and_grads.release()
        chosen = logits.argmax(dim=1).cpu().numpy() if classes is None else np.asarray(classes)
        return CAMResult(np.asarray(maps, dtype=np.float32), chosen.astype(np.int64), logits)

    def explain(self, data_batch: dict, target: TargetSpec = 'gt',
                return_inputs: bool = False) -> tuple:
        """Preprocess a collated batch and compute its maps.

        Args:
            data_batch (dict): A batch from the dataloader (``inputs``, ``data_samples``).
            target (str | int): ``'gt'``, ``'pred'`` or a class index. Defaults to ``'gt'``.
            return_inputs (bool): Also return the preprocessed network inputs.

        Returns:
            tuple: ``(CAMResult, list[DataSample])``, plus the ``(B, C, H, W)`` inputs with
            ``return_inputs``.
        """
        data = self.model.data_preprocessor(data_batch, False)
        samples = data['data_samples']
        classes = target_classes(target, samples, self.num_classes)
        result = self(data['inputs'], classes)
        return (result, samples, data['inputs']) if return_inputs else (result, samples)


def cam_to_original(cam: np.ndarray, transform_matrix: np.ndarray,
                    ori_shape: Sequence[int]) -> np.ndarray:
    """Map a network-input map back to original-image pixels.

    ``transform_matrix`` maps original pixel centres to network-input ones (see
    docs/conventions.md), so warping with its inverse samples the map at each original pixel;
    pixels outside the network input (e.g. cropped away) get 0.

    Args:
        cam (np.ndarray): ``(H, W)`` map in network-input coordinates.
        transform_matrix (np.ndarray): 3x3 original-to-input matrix of the sample.
        ori_shape (Sequence[int]): ``(H0, W0)`` of the original image.

    Returns:
        np.ndarray: ``(H0, W0)`` float32 map.
    """
    matrix = np.asarray(transform_matrix, dtype=np.float64)
    if matrix.shape != (3, 3):
        raise ValueError(f'transform_matrix must be 3x3, got {matrix.shape}')
    inverse = np.linalg.inv(matrix)[:2]
    return cv2.warpAffine(np.asarray(cam, dtype=np.float32), inverse,
                          (int(ori_shape[1]), int(ori_shape[0])), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
