"""ONNX export of MMPretrain classifiers, with the metadata a service needs to run them alone.

The graph takes the *packed* test-pipeline output (``(B, C, H, W)`` float32, the values
``PackXrayInputs`` produces) and applies the model's data preprocessor (channel flip,
mean/std) itself, so that a consumer only has to run the test pipeline. Batch size is dynamic.

Outputs: ``logits`` ``(B, K)``; for CNNs whose neck is global average pooling and whose head is
one linear layer (ResNet + ``GlobalAveragePooling`` + ``LinearClsHead``) also ``features`` (the
last backbone feature map ``(B, D, h, w)``) and ``class_maps`` ``(B, K, h, w)``, the class
activation maps of Zhou et al. (2016), ``sum_d w_kd F_d``. For that head Grad-CAM of the last
stage equals CAM after min-max scaling (the gradient of logit k w.r.t. ``F_d`` is
``w_kd / (h w)`` everywhere), so the service shows the same evidence map without autograd.

Metadata (``metadata_props``, JSON values): ``osteo_mm.model_name``, ``osteo_mm.model_version``,
``osteo_mm.class_names``, ``osteo_mm.preprocessing`` (test pipeline, mean/std, channel flip,
input shape), ``osteo_mm.threshold`` (value, positive class and provenance) and
``osteo_mm.cam`` (feature layer or null).
"""
import json
import os
import os.path as osp
import tempfile
import warnings
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.runner import Runner
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.models.necks import GlobalAveragePooling
from torch import nn
from tqdm import tqdm

from osteo_mm.explain.targets import default_target_layer_names, is_vit

META_PREFIX = 'osteo_mm.'
OUTPUTS_CAM = ('logits', 'features', 'class_maps')


def has_cam_head(model: nn.Module) -> bool:
    """True for a CNN with global average pooling and a single linear classification head."""
    backbone = getattr(model, 'backbone', None)
    return (backbone is not None and not is_vit(backbone)
            and isinstance(getattr(model, 'neck', None), GlobalAveragePooling)
            and type(getattr(model, 'head', None)) is LinearClsHead)


class OnnxWrapper(nn.Module):
    """Data preprocessor + classifier as one graph (see the module docstring).

    Args:
        model (nn.Module): An MMPretrain ``ImageClassifier`` in eval mode.
        with_cam (bool): Also return the last feature map and the class activation maps.
    """

    def __init__(self, model: nn.Module, with_cam: bool) -> None:
        super().__init__()
        prep = model.data_preprocessor
        if getattr(prep, 'pad_size_divisor', 1) > 1:
            raise ValueError('data_preprocessor.pad_size_divisor > 1 is not supported by the '
                             'ONNX export (inputs must already have the network size)')
        self.model = model
        self.with_cam = with_cam

    def forward(self, inputs: torch.Tensor):
        prep = self.model.data_preprocessor
        x = inputs.float()
        if getattr(prep, 'to_rgb', False) and x.shape[1] == 3:
            x = x.flip(1)
        if getattr(prep, '_enable_normalize', False):
            x = (x - prep.mean) / prep.std
        feats = self.model.backbone(x)
        neck_out = self.model.neck(feats) if self.model.with_neck else feats
        logits = self.model.head(neck_out)
        if not self.with_cam:
            return logits
        fmap = feats[-1]
        weight = self.model.head.fc.weight  # (K, D)
        class_maps = torch.einsum('kd,bdhw->bkhw', weight, fmap)
        return logits, fmap, class_maps


def probe_input_shape(pipeline_cfg: List[dict], side: int = 512) -> tuple:
    """Run the test pipeline on a synthetic gray film to learn the network-input shape."""
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'probe.png')
        rng = np.random.default_rng(0)
        cv2.imwrite(path, rng.integers(0, 256, (side, side), dtype=np.uint8))
        packed = Compose(pipeline_cfg)(dict(img_path=path, img_id='probe.png'))
    return tuple(packed['inputs'].shape)


def export_onnx(model: nn.Module, cfg: Config, out: str, metadata: Dict[str, object],
                opset: int = 17) -> List[str]:
    """Export ``model`` with a dynamic batch axis and write the metadata into the file.

    Args:
        model (nn.Module): Classifier in eval mode (CPU).
        cfg (Config): Its config (the test pipeline is recorded and probed for the input size).
        out (str): Output ``.onnx`` path.
        metadata (dict): Extra ``osteo_mm.*`` entries (model name/version, class names,
            threshold record); values are stored as JSON.
        opset (int): ONNX opset. Defaults to 17.

    Returns:
        list[str]: Names of the graph outputs.
    """
    import onnx

    pipeline = cfg.test_dataloader.dataset.pipeline
    shape = probe_input_shape(pipeline)
    with_cam = has_cam_head(model)
    outputs = list(OUTPUTS_CAM if with_cam else OUTPUTS_CAM[:1])
    wrapper = OnnxWrapper(model, with_cam).eval()
    dummy = torch.zeros((2, ) + shape)
    axes = {'input': {0: 'batch'}, **{name: {0: 'batch'} for name in outputs}}
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter (dynamo=False) is several times faster than torch.export
        # for these plain CNN/ViT graphs and gives the same numbers (tested parity).
        warnings.simplefilter('ignore')
        torch.onnx.export(wrapper, (dummy, ), out, input_names=['input'], output_names=outputs,
                          dynamic_axes=axes, opset_version=opset, dynamo=False)
    proto = onnx.load(out)
    prep = model.data_preprocessor
    info = dict(metadata)
    info['preprocessing'] = dict(
        test_pipeline=[dict(t) for t in pipeline], input_shape=list(shape),
        input_dtype='float32', channel_flip=bool(getattr(prep, 'to_rgb', False)),
        mean=prep.mean.flatten().tolist() if getattr(prep, '_enable_normalize', False) else None,
        std=prep.std.flatten().tolist() if getattr(prep, '_enable_normalize', False) else None,
        note='the graph applies channel flip and mean/std; feed the packed pipeline output')
    info['cam'] = (dict(method='cam', feature_layer=default_target_layer_names(model)[0],
                        equals='gradcam of the same layer after min-max scaling')
                   if with_cam else None)
    info['outputs'] = outputs
    onnx.helper.set_model_props(
        proto, {META_PREFIX + k: json.dumps(v, default=str) for k, v in info.items()})
    onnx.checker.check_model(proto)
    onnx.save(proto, out)
    return outputs


def read_metadata(session) -> Dict[str, object]:
    """The ``osteo_mm.*`` metadata of an onnxruntime session, decoded from JSON."""
    props = session.get_modelmeta().custom_metadata_map
    return {k[len(META_PREFIX):]: json.loads(v) for k, v in props.items()
            if k.startswith(META_PREFIX)}


def check_parity(model: nn.Module, cfg: Config, onnx_path: str, split: str = 'test',
                 atol: float = 1e-4, max_images: Optional[int] = None) -> dict:
    """Compare onnxruntime and PyTorch fp32 logits on a data split.

    Args:
        model (nn.Module): The exported classifier (eval mode, CPU).
        cfg (Config): Its config.
        onnx_path (str): The exported file.
        split (str): Dataloader whose images are compared. Defaults to ``'test'``.
        atol (float): Largest allowed absolute logit difference. Defaults to 1e-4.
        max_images (int, optional): Stop after this many images.

    Returns:
        dict: ``num_images``, ``max_abs_diff``, ``class_mismatches`` and ``passed``.
    """
    import onnxruntime as ort

    from osteo_mm.explain.analysis import build_split

    session = ort.InferenceSession(onnx_path, providers=['CPUExecutionProvider'])
    dataset, loader_cfg = build_split(cfg, split)
    loader_cfg = dict(loader_cfg, num_workers=0)
    loader_cfg.pop('persistent_workers', None)
    loader = Runner.build_dataloader(dict(
        loader_cfg, dataset=dataset, sampler=dict(type='DefaultSampler', shuffle=False)))
    count, worst, mismatches = 0, 0.0, 0
    for batch in tqdm(loader, unit='batch', desc=f'ONNX parity ({split})'):
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
            ref = model(data['inputs'], mode='tensor').numpy()
        raw = torch.stack(list(batch['inputs'])).float().numpy()
        got = session.run(['logits'], {'input': raw})[0]
        worst = max(worst, float(np.abs(got - ref).max()))
        mismatches += int((got.argmax(1) != ref.argmax(1)).sum())
        count += len(raw)
        if max_images and count >= max_images:
            break
    return dict(split=split, num_images=count, max_abs_diff=worst, atol=atol,
                class_mismatches=mismatches, passed=worst <= atol and mismatches == 0)
