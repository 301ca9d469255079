"""Inference engines: the config's test pipeline, then PyTorch or onnxruntime.

Both engines load a film with the *same* test pipeline as ``tools/test.py`` (the config's
``test_dataloader.dataset.pipeline``; the ONNX engine reads it from the model's metadata), so a
film gets the same probability from the service, from ``tools/test.py`` and from
``tools/predict.py`` (tested). The evidence map is Grad-CAM of the default target layer
(PyTorch engine, :class:`~osteo_mm.explain.cam.BatchCAM`) or the class activation map exported
with the graph (ONNX engine; identical to Grad-CAM for a global-pooling + linear head, see
:mod:`.export`).
"""
import os
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmpretrain.models.heads import MultiLabelClsHead

from osteo_mm.explain.analysis import load_classifier
from osteo_mm.explain.cam import BatchCAM, cam_to_original
from osteo_mm.explain.predict import class_names

ENGINES = ('torch', 'onnx')


@dataclass
class Prediction:
    """The result for one film.

    Attributes:
        probabilities (dict): Softmax probability per class name.
        probability (float): Probability of the positive class (``pos_label``).
        label (str): Class at the validated threshold (positive iff ``probability >=
            threshold``, as in the validation metric).
        threshold (float): The operating threshold.
        cam (np.ndarray | None): ``(H0, W0)`` evidence map in ``[0, 1]`` in original-film
            pixels (None when the engine has no map for this model).
        image (np.ndarray): The film as the pipeline loaded it (for the overlay).
    """

    probabilities: Dict[str, float]
    probability: float
    label: str
    threshold: float
    cam: Optional[np.ndarray]
    image: np.ndarray


def cam_from_class_maps(maps: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Turn one raw ``(h, w)`` class activation map into a ``[0, 1]`` map of ``size``.

    Same post-processing as pytorch-grad-cam 1.5.7 and :mod:`osteo_mm.explain.device_cam`:
    rectify, min-max (epsilon 1e-7), bilinear resize with half-pixel centres, min-max again.

    Args:
        maps (np.ndarray): ``(h, w)`` raw map.
        size (Sequence[int]): ``(H, W)`` network-input size.

    Returns:
        np.ndarray: ``(H, W)`` float32 map.
    """
    cam = np.maximum(np.asarray(maps, dtype=np.float32), 0)
    cam = cam - cam.min()
    cam = cam / (1e-7 + cam.max())
    cam = cv2.resize(cam, (int(size[1]), int(size[0])), interpolation=cv2.INTER_LINEAR)
    cam = np.maximum(cam, 0)
    cam = cam - cam.min()
    return cam / (1e-7 + cam.max())


class BaseEngine:
    """Shared part of the engines: pipeline, class names, threshold and the decision.

    Args:
        pipeline_cfg (Sequence[dict]): The test pipeline.
        names (Sequence[str]): Class names (binary models only).
        threshold (dict): Record from :mod:`.provenance` (``threshold``, ``pos_label``,
            ``provenance``).
        model_name (str): Name reported in the SR and the API.
        model_version (str): Version reported in the SR and the API.
    """

    kind = 'base'

    def __init__(self, pipeline_cfg: Sequence[dict], names: Sequence[str], threshold: dict,
                 model_name: str, model_version: str) -> None:
        if len(names) != 2:
            raise ValueError(f'the service scores binary models only; this one has the '
                             f'classes {list(names)}')
        init_default_scope('mmpretrain')
        self.transforms = Compose([dict(t) for t in pipeline_cfg]).transforms
        self.pipeline_cfg = [dict(t) for t in pipeline_cfg]
        self.names: List[str] = list(names)
        self.threshold = threshold
        self.pos_label = int(threshold.get('pos_label', 1))
        self.model_name = model_name
        self.model_version = model_version
        self._lock = threading.Lock()

    def _load(self, path: str):
        results = self.transforms[0](dict(img_path=path, img_id='film'))
        original = results['img'].copy()
        for transform in self.transforms[1:]:
            results = transform(results)
        return results, original

    def _scores(self, inputs, samples) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, path: str) -> Prediction:
        """Score one film file (DICOM/PNG/JPEG).

        Raises:
            osteo_mm.datasets.errors.XrayDataError: For a film the pipeline cannot read.
        """
        results, original = self._load(path)
        with self._lock:  # CAM hooks and sessions are used by one caller at a time
            logits, cam = self._scores(results)
        logits = np.asarray(logits, dtype=np.float64)
        exp = np.exp(logits - logits.max())
        probs = exp / exp.sum()
        sample = results['data_samples']
        cam_ori = None
        if cam is not None:
            cam_ori = cam_to_original(cam, sample.transform_matrix, original.shape[:2])
        prob = float(probs[self.pos_label])
        threshold = float(self.threshold['threshold'])
        label = self.names[self.pos_label] if prob >= threshold else \
            self.names[1 - self.pos_label]
        return Prediction(probabilities=dict(zip(self.names, map(float, probs))),
                          probability=prob, label=label, threshold=threshold, cam=cam_ori,
                          image=original)

    def describe(self) -> dict:
        """What ``GET /v1/model`` reports."""
        return dict(engine=self.kind, model_name=self.model_name,
                    model_version=self.model_version, class_names=self.names,
                    positive_class=self.names[self.pos_label],
                    threshold=float(self.threshold['threshold']),
                    threshold_provenance=self.threshold.get('provenance', {}),
                    evidence_map=self.cam_name)

    cam_name: Optional[str] = None


class TorchEngine(BaseEngine):
    """PyTorch engine: the MMPretrain model and Grad-CAM, as ``tools/predict.py`` runs them.

    Args:
        cfg (Config): The model config.
        checkpoint (str): Checkpoint path.
        threshold (dict): Threshold record (see :class:`BaseEngine`).
        model_name (str): Reported model name.
        model_version (str): Reported model version.
        device (str): Torch device. Defaults to ``'cpu'``.
    """

    kind = 'torch'
    cam_name = 'gradcam'

    def __init__(self, cfg: Config, checkpoint: str, threshold: dict, model_name: str,
                 model_version: str, device: str = 'cpu') -> None:
        model, dataset_meta = load_classifier(cfg, checkpoint, device)
        if isinstance(getattr(model, 'head', None), MultiLabelClsHead):
            raise ValueError('multi-label models are not served (one decision per film)')
        names = class_names(dataset_meta, cfg, model.head.num_classes)
        super().__init__(cfg.test_dataloader.dataset.pipeline, names, threshold, model_name,
                         model_version)
        self.model = model
        self.explainer = BatchCAM(model, method='gradcam')

    def _scores(self, results: dict) -> tuple:
        result, _ = self.explainer.explain(pseudo_collate([results]), target='pred')
        return result.logits[0].float().cpu().numpy(), result.cams[0]


class OnnxEngine(BaseEngine):
    """onnxruntime engine for a file written by ``tools/deployment/export_onnx.py``.

    The pipeline, class names, threshold and model version come from the file's metadata.

    Args:
        onnx_path (str): The ``.onnx`` file.
        threshold (dict, optional): Overrides the embedded threshold record.
        num_threads (int): onnxruntime intra-op threads (0: ``$OMP_NUM_THREADS``, else
            onnxruntime's default). Defaults to 0.
    """

    kind = 'onnx'

    def __init__(self, onnx_path: str, threshold: Optional[dict] = None,
                 num_threads: int = 0) -> None:
        import onnxruntime as ort

        from .export import read_metadata

        options = ort.SessionOptions()
        # As for PyTorch, OMP_NUM_THREADS (when set) bounds the intra-op threads.
        options.intra_op_num_threads = num_threads or int(os.environ.get('OMP_NUM_THREADS', 0))
        # No busy-waiting worker threads: in the service they would take the CPU from the
        # network threads that receive and check films (see docs/benchmarks.md, "Serving").
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        self.session = ort.InferenceSession(onnx_path, options,
                                            providers=['CPUExecutionProvider'])
        meta = read_metadata(self.session)
        missing = {'preprocessing', 'class_names', 'threshold', 'model_name',
                   'model_version'} - set(meta)
        if missing:
            raise ValueError(f'{onnx_path} lacks the osteo_mm metadata {sorted(missing)}: '
                             'export it with tools/deployment/export_onnx.py')
        self.metadata = meta
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.cam_name = 'cam' if 'class_maps' in self.outputs else None
        super().__init__(meta['preprocessing']['test_pipeline'], meta['class_names'],
                         threshold or meta['threshold'], meta['model_name'],
                         meta['model_version'])

    def _scores(self, results: dict) -> tuple:
        inputs = results['inputs']
        raw = (inputs.numpy() if isinstance(inputs, torch.Tensor) else np.asarray(inputs))
        raw = raw[None].astype(np.float32)
        if self.cam_name is None:
            return self.session.run(['logits'], {'input': raw})[0][0], None
        logits, maps = self.session.run(['logits', 'class_maps'], {'input': raw})
        target = int(np.argmax(logits[0]))  # explain the predicted class, as the torch engine
        return logits[0], cam_from_class_maps(maps[0, target], raw.shape[-2:])
