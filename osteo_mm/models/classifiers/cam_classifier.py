"""An image classifier whose predictions carry a saliency map."""
from typing import List, Optional

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from osteo_mm.explain.cam import BatchCAM
from osteo_mm.explain.targets import target_classes


@MODELS.register_module()
class CAMClassifier(ImageClassifier):
    """:class:`mmpretrain.models.ImageClassifier` that adds a CAM to every prediction.

    MMEngine's test loop runs under ``torch.no_grad()`` and metrics never see the model, so the
    map is computed here: ``predict`` re-enables gradients, runs one batched CAM pass (whose
    logits also give the predictions, so there is no second forward pass) and stores the map as
    the ``cam`` field (``(H, W)`` float32, network-input coordinates) and the explained class as
    the ``cam_target`` metainfo. :class:`~osteo_mm.evaluation.metrics.causality.CausalityMetric`
    then scores it, so ``tools/test.py`` reports accuracy/AUC and causality in one table.
    Checkpoints of a plain ``ImageClassifier`` load unchanged (same parameters).

    Config keys (in addition to those of ``ImageClassifier``):
        - ``cam_cfg`` (dict, optional): ``method`` (``'gradcam'`` default; any of
          ``osteo_mm.explain.METHODS``: the CAMs and the input attributions), ``target``
          (``'pred'`` default, ``'gt'`` or a class index), ``target_layers`` (dotted names;
          default last stage / ViT ``layers[-1].ln1``), ``score``, ``backend``,
          ``score_cam_batch_size`` and ``attribution_options`` (see
          :class:`~osteo_mm.explain.BatchCAM`).

    Example:
        >>> model = dict(type='CAMClassifier', cam_cfg=dict(method='gradcam', target='gt'),
        ...              backbone=..., neck=..., head=...)
        >>> test_evaluator = [dict(type='Accuracy'), dict(type='CausalityMetric')]
    """

    def __init__(self, *args, cam_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cam_cfg = dict(cam_cfg or {})
        self.cam_target = cam_cfg.pop('target', 'pred')
        self.explainer = BatchCAM(self, **cam_cfg)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        """Predict and explain a batch.

        Args:
            inputs (torch.Tensor): ``(B, C, H, W)`` preprocessed images.
            data_samples (list[DataSample], optional): The batch's samples (needed for
                ``target='gt'``).

        Returns:
            list[DataSample]: Predictions with ``cam`` fields.
        """
        if data_samples is None and self.cam_target == 'gt':
            raise ValueError("cam target 'gt' needs data samples with gt_label")
        classes = target_classes(self.cam_target, data_samples or [None] * len(inputs),
                                 self.explainer.num_classes)
        result = self.explainer(inputs, classes)
        # ClsHead.predict would run the head again; its protected _get_predictions turns the
        # logits of the CAM pass into the same DataSamples without a second forward pass.
        predictions = self.head._get_predictions(result.logits, data_samples)
        for sample, cam, cls in zip(predictions, result.cams, result.target_classes):
            sample.set_field(torch.from_numpy(cam), 'cam', dtype=torch.Tensor)
            sample.set_metainfo({'cam_target': int(cls)})
        return predictions
