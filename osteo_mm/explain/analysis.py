"""Dataset-level Grad-CAM analysis: maps, overlays and per-image causality records."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint
from mmpretrain.registry import DATASETS, MODELS
from torch import nn
from torch.utils.data import Subset
from tqdm import tqdm

from osteo_mm.evaluation.metrics.causality import causality_scores, zero_maps

from .cam import BatchCAM, cam_to_original
from .faithfulness import deletion_insertion
from .io import id_to_relpath, save_csv, save_npz, save_png
from .targets import TargetSpec
from .visualize import cam_overlay

SCORE_PREFIX = 'score_'


def load_classifier(cfg: Config, checkpoint: str, device: str = 'cpu') -> Tuple[nn.Module, dict]:
    """Build ``cfg.model``, load ``checkpoint`` (safe loading) and switch to eval mode.

    Args:
        cfg (Config): The model config.
        checkpoint (str): Checkpoint path.
        device (str): Torch device. Defaults to ``'cpu'``.

    Returns:
        tuple[nn.Module, dict]: The model and the checkpoint's ``dataset_meta`` (may be empty).
    """
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.copy()
    # As MMEngine's Runner does: a top-level ``data_preprocessor`` (the dataset base configs
    # set mean/std there) applies unless the model names its own. Without this the model
    # would see unnormalised inputs and score films differently from tools/test.py.
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    ckpt = load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return model.to(device).eval(), dict(ckpt.get('meta', {}).get('dataset_meta') or {})


def build_split(cfg: Config, split: str = 'test') -> Tuple[BaseDataset, dict]:
    """Build the dataset of ``<split>_dataloader`` and return it with its loader settings.

    Args:
        cfg (Config): The full config.
        split (str): ``'test'``, ``'val'`` or ``'train'``. Defaults to ``'test'``.

    Returns:
        tuple[BaseDataset, dict]: Dataset and the loader config (without dataset/sampler).
    """
    key = f'{split}_dataloader'
    if not cfg.get(key):
        raise ValueError(f'config has no {key}')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    loader_cfg = dict(cfg[key])
    dataset = DATASETS.build(loader_cfg.pop('dataset'))
    loader_cfg.pop('sampler', None)
    loader_cfg.pop('batch_sampler', None)
    if not loader_cfg.get('num_workers'):
        loader_cfg.pop('persistent_workers', None)
    return dataset, loader_cfg


def image_ids(dataset: BaseDataset) -> List[str]:
    """Unique image ids of a dataset (``img_id``, else the path relative to ``data_root``).

    Raises:
        ValueError: When two samples share an id (outputs would overwrite each other).
    """
    root = getattr(dataset, 'data_root', None) or ''
    ids = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        img_id = info.get('img_id') or osp.relpath(info['img_path'], root or None)
        ids.append(str(img_id))
    seen = set()
    dupes = sorted({i for i in ids if i in seen or seen.add(i)})
    if dupes:
        raise ValueError(f'duplicate image ids in the dataset: {dupes[:5]}')
    return ids


def _sample_record(sample, cam: np.ndarray, img_id: str) -> dict:
    """Network-input map, original-coordinate map and ROI of one predicted sample."""
    if 'transform_matrix' not in sample or 'ori_shape' not in sample:
        raise ValueError(f'sample {img_id} has no transform_matrix/ori_shape: end the test '
                         'pipeline with PackXrayInputs (docs/conventions.md)')
    mask = sample.roi_mask.cpu().numpy() if sample.get('has_roi', False) else None
    if mask is not None and mask.shape != cam.shape:
        raise ValueError(f'sample {img_id}: ROI mask {mask.shape} and CAM {cam.shape} differ '
                         '(batch padding in the data preprocessor?)')
    cam_ori = cam_to_original(cam, sample.transform_matrix, sample.ori_shape)
    return dict(cam=cam, cam_ori=cam_ori, mask=mask)


def _score_batch(records: Sequence[dict], tolerance: int, top_fraction: float) -> List[dict]:
    """Causality scores for the samples that have a mask (NaN for the others)."""
    with_mask = [i for i, r in enumerate(records) if r['mask'] is not None]
    scores = [{} for _ in records]
    if with_mask:
        batch = causality_scores(np.stack([records[i]['cam'] for i in with_mask]),
                                 np.stack([records[i]['mask'] for i in with_mask]),
                                 tolerance=tolerance, top_fraction=top_fraction)
        for row, i in enumerate(with_mask):
            scores[i] = {name: float(values[row]) for name, values in batch.items()}
    return scores


def run_gradcam(model: nn.Module, dataset: BaseDataset, loader_cfg: dict, out_dir: str,
                method: str = 'gradcam', target: TargetSpec = 'gt', num_vis: int = 16,
                target_layers: Optional[Sequence[str]] = None, tolerance: int = 0,
                top_fraction: float = 0.2, score: str = 'logit',
                attribution_options: Optional[dict] = None,
                faithfulness_steps: int = 0) -> pd.DataFrame:
    """Explain every image of ``dataset`` in batches and write the results under ``out_dir``.

    Writes ``maps/<img_id>.npz`` (``cam`` in network-input and ``cam_ori`` in original-image
    coordinates, ``target_class``, the scores), ``vis/<img_id>.png`` for the first ``num_vis``
    images (image | CAM | expert contour) and ``causality.csv`` (one row per image:
    ``img_id, method, target_class, zero_map`` and one column per score; empty scores without
    an ROI). ``zero_map`` is 1 for an all-zero map, scored by the rule of
    :mod:`osteo_mm.evaluation.metrics.causality` (energy 0, rank scores at chance), not
    dropped. With ``faithfulness_steps > 0`` every image (ROI or not) also gets
    ``deletion_auc`` (lower = more faithful) and ``insertion_auc`` (higher = more faithful) of
    the target class's probability (:mod:`.faithfulness`, RISE).
    Every file is written atomically; a rerun skips images whose ``.npz`` exists, so a killed
    run resumes where it stopped.

    Args:
        model (nn.Module): Classifier in eval mode.
        dataset (BaseDataset): Dataset with the test pipeline.
        loader_cfg (dict): Dataloader settings (``batch_size``, ``num_workers``, ...).
        out_dir (str): Output folder.
        method (str): CAM method. Defaults to ``'gradcam'``.
        target (str | int): ``'gt'``, ``'pred'`` or a class index. Defaults to ``'gt'``.
        num_vis (int): Number of overlays to write. Defaults to 16.
        target_layers (Sequence[str], optional): Dotted layer names (default per backbone).
        tolerance (int): Pointing-game tolerance in pixels. Defaults to 0.
        top_fraction (float): Pixel share of the top-k IoU/Dice. Defaults to 0.2.
        score (str): ``'logit'`` or ``'log-odds'`` (see :class:`BatchCAM`). Defaults to
            ``'logit'``.
        attribution_options (dict, optional): Options of the input-attribution methods (see
            :func:`osteo_mm.explain.attribution.attribution_maps`).
        faithfulness_steps (int): Steps of the deletion/insertion curves; 0 (default) skips
            them (they cost ``2 * (steps + 1)`` forward passes per image).

    Returns:
        pd.DataFrame: The causality table (also written to ``causality.csv``).
    """
    explainer = BatchCAM(model, method=method, target_layers=target_layers, score=score,
                         attribution_options=attribution_options)
    ids = image_ids(dataset)
    npz_paths = [osp.join(out_dir, 'maps', id_to_relpath(i, '.npz')) for i in ids]
    _check_previous_run(npz_paths, method, str(target), score, faithfulness_steps)
    todo = [i for i, path in enumerate(npz_paths) if not osp.isfile(path)]
    if todo:
        loader = Runner.build_dataloader(dict(
            loader_cfg, dataset=Subset(dataset, todo),
            sampler=dict(type='DefaultSampler', shuffle=False)))
        with tqdm(total=len(ids), initial=len(ids) - len(todo), unit='img',
                  desc=f'{method} CAMs') as bar:
            for batch in loader:
                _explain_batch(explainer, batch, target, ids, npz_paths, out_dir, num_vis,
                               tolerance, top_fraction, faithfulness_steps)
                bar.update(len(batch['inputs']))
    table = _collect(ids, npz_paths, method)
    save_csv(osp.join(out_dir, 'causality.csv'), table)
    return table


def _explain_batch(explainer: BatchCAM, batch: dict, target: TargetSpec, ids: List[str],
                   npz_paths: List[str], out_dir: str, num_vis: int, tolerance: int,
                   top_fraction: float, faithfulness_steps: int = 0) -> None:
    result, samples, inputs = explainer.explain(batch, target, return_inputs=True)
    indices = [int(s.sample_idx) for s in samples]
    records = [_sample_record(s, cam, ids[i]) for s, cam, i in zip(samples, result.cams, indices)]
    scores = _score_batch(records, tolerance, top_fraction)
    zero = zero_maps(result.cams)
    if faithfulness_steps:
        curves = deletion_insertion(explainer.model, inputs, result.cams,
                                    result.target_classes, steps=faithfulness_steps)
        for k, row in enumerate(scores):
            row.update(deletion_auc=float(curves['deletion_auc'][k]),
                       insertion_auc=float(curves['insertion_auc'][k]))
    for k, idx in enumerate(indices):
        rec = records[k]
        if idx < num_vis:
            save_png(osp.join(out_dir, 'vis', id_to_relpath(ids[idx], '.png')),
                     cam_overlay(batch['inputs'][k], rec['cam'], rec['mask']))
        save_npz(npz_paths[idx], cam=rec['cam'].astype(np.float16), zero_map=zero[k],
                 cam_ori=rec['cam_ori'].astype(np.float16),
                 target_class=np.int64(result.target_classes[k]), method=explainer.method,
                 target=str(target), cam_score=explainer.score,
                 faithfulness_steps=np.int64(faithfulness_steps),
                 **{SCORE_PREFIX + name: value for name, value in scores[k].items()})


def _check_previous_run(npz_paths: List[str], method: str, target: str, score: str,
                        faithfulness_steps: int = 0) -> None:
    """Refuse to mix maps of another method, target, score or curve setting into a folder."""
    for path in npz_paths:
        if osp.isfile(path):
            with np.load(path) as stored:
                # Maps written before scores were selectable explain the logit.
                old = (str(stored['method']), str(stored['target']),
                       str(stored['cam_score']) if 'cam_score' in stored.files else 'logit')
                if old != (method, target, score):
                    raise ValueError(
                        f'{path} holds {old[0]} maps of the {old[2]} for target {old[1]}, '
                        f'not {method} of the {score} for {target}: use another --out-dir')
                steps = int(stored['faithfulness_steps']) \
                    if 'faithfulness_steps' in stored.files else 0
                if steps != faithfulness_steps:
                    raise ValueError(f'{path} was written with {steps} deletion/insertion steps, '
                                     f'not {faithfulness_steps}: use another --out-dir')


def _collect(ids: List[str], npz_paths: List[str], method: str) -> pd.DataFrame:
    """Read the per-image records back into the causality table (in dataset order)."""
    rows = []
    for img_id, path in zip(ids, npz_paths):
        with np.load(path) as stored:
            row = dict(img_id=img_id, method=method, target_class=int(stored['target_class']),
                       zero_map=int(stored['zero_map']) if 'zero_map' in stored.files
                       else int(zero_maps(stored['cam'][None])[0]))
            row.update({k[len(SCORE_PREFIX):]: float(stored[k]) for k in stored.files
                        if k.startswith(SCORE_PREFIX)})
        rows.append(row)
    return pd.DataFrame(rows)


def load_maps(out_dir: str, img_id: str) -> dict:
    """Read the stored maps of one image.

    Args:
        out_dir (str): The ``--out-dir`` of a Grad-CAM run.
        img_id (str): Image id.

    Returns:
        dict: ``cam``, ``cam_ori`` (float32) and ``target_class``.
    """
    with np.load(osp.join(out_dir, 'maps', id_to_relpath(img_id, '.npz'))) as stored:
        return dict(cam=stored['cam'].astype(np.float32),
                    cam_ori=stored['cam_ori'].astype(np.float32),
                    target_class=int(stored['target_class']))
