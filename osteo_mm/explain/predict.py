"""Single-film prediction with a CAM overlay: what a clinician-researcher runs on one X-ray."""
import json
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmpretrain.models.heads import MultiLabelClsHead
from torch import nn
from tqdm import tqdm

from .cam import BatchCAM, cam_to_original
from .io import save_png, write_atomic
from .visualize import prediction_panels


def class_names(dataset_meta: dict, cfg: Config, num_classes: int) -> List[str]:
    """Class names from the checkpoint meta, else the test dataset's metainfo, else indices.

    Args:
        dataset_meta (dict): ``meta['dataset_meta']`` of the checkpoint.
        cfg (Config): The config.
        num_classes (int): Number of model outputs.

    Returns:
        list[str]: One name per output.
    """
    names = dataset_meta.get('classes') or \
        cfg.get('test_dataloader', {}).get('dataset', {}).get('metainfo', {}).get('classes')
    names = list(names) if names else [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f'{len(names)} class names {names} for a model with {num_classes} '
                         'outputs')
    return names


def predict_files(model: nn.Module, pipeline_cfg: Sequence[dict], files: Sequence[str],
                  out_dir: str, names: Sequence[str], method: str = 'gradcam',
                  target_layers: Optional[Sequence[str]] = None,
                  score: str = 'logit') -> List[dict]:
    """Predict and explain each file; write ``<stem>.json`` and ``<stem>.png`` to ``out_dir``.

    The JSON holds the file's base name, class probabilities, the predicted class and the CAM
    method; the PNG shows film | CAM overlay | the map alone with its colour scale, in
    original-image pixels (:func:`~osteo_mm.explain.visualize.prediction_panels`). Only
    pixel data is read from DICOMs, so no identifier can reach the outputs.

    Args:
        model (nn.Module): Classifier in eval mode.
        pipeline_cfg (Sequence[dict]): The test pipeline; its first transform loads the file.
        files (Sequence[str]): DICOM/PNG/JPEG paths.
        out_dir (str): Output folder.
        names (Sequence[str]): Class names.
        method (str): CAM method. Defaults to ``'gradcam'``.
        target_layers (Sequence[str], optional): Dotted layer names.
        score (str): ``'logit'`` or ``'log-odds'`` (see :class:`BatchCAM`). Defaults to
            ``'logit'``.

    Returns:
        list[dict]: The JSON records.
    """
    stems = [osp.splitext(osp.basename(f))[0] for f in files]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise ValueError(f'several input files share the name(s) {clashes}: outputs would '
                         'overwrite each other')
    transforms = Compose(pipeline_cfg).transforms
    explainer = BatchCAM(model, method=method, target_layers=target_layers, score=score)
    multi_label = isinstance(getattr(model, 'head', None), MultiLabelClsHead)
    records = []
    for path, stem in tqdm(list(zip(files, stems)), unit='file', desc='predict'):
        if not osp.isfile(path):
            raise FileNotFoundError(f'input file not found: {path}')
        results = transforms[0](dict(img_path=path, img_id=osp.basename(path)))
        original = results['img'].copy()
        for transform in transforms[1:]:
            results = transform(results)
        result, samples = explainer.explain(pseudo_collate([results]), target='pred')
        logits = result.logits[0].float()
        probs = (torch.sigmoid(logits) if multi_label else torch.softmax(logits, 0)).tolist()
        pred = int(np.argmax(probs))
        if 'transform_matrix' not in samples[0]:
            raise ValueError('the test pipeline must end with PackXrayInputs (it records the '
                             'transform_matrix that maps the CAM back to the film)')
        cam = cam_to_original(result.cams[0], samples[0].transform_matrix, original.shape[:2])
        record = dict(file=osp.basename(path), pred_label=pred, pred_class=names[pred],
                      probabilities=dict(zip(names, probs)), cam_method=method, cam_score=score,
                      cam_target_class=int(result.target_classes[0]), overlay=f'{stem}.png')
        save_png(osp.join(out_dir, f'{stem}.png'), prediction_panels(original, cam))
        write_atomic(osp.join(out_dir, f'{stem}.json'), json.dumps(record, indent=2).encode())
        records.append(record)
    return records
