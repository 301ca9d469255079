"""Protocol guard: what ``tools/train.py`` and ``tools/test.py`` check before any work.

* The train, val and test datasets of a config share no image (``img_id``, else ``img_path``)
  and no patient (``patient_id``; empty ids are not compared). A clash is refused with counts
  and examples unless overlap is allowed (``--allow-overlap`` or ``allow_overlap = True`` in
  the config); an allowed clash is recorded (:func:`check_splits` returns the record that the
  tools put into ``run_info.json``, the metrics file and ``preds.csv``).
* The test evaluator chooses nothing on the test split (no ``threshold='youden'``).
* A ``threshold='from_val'`` test metric gets the validation record of the checkpoint under
  test (:func:`bind_test_threshold`), or the user's ``--threshold`` value, recorded.

No peer toolkit (MMPretrain, MONAI, TorchXRayVision) runs such a check, so it is written here.
"""
import copy
import itertools
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .threshold_record import checkpoint_fingerprint, describe, read_threshold_record

SPLITS = ('train', 'val', 'test')
#: Examples named per clash in the error message and the record.
NUM_EXAMPLES = 3


class ProtocolError(ValueError):
    """The evaluation protocol is broken (split overlap, choice on the test set); one line."""


def dataset_ids(dataset) -> Tuple[List[str], List[str]]:
    """Image and patient id of every item of a dataset.

    Args:
        dataset: An MMEngine dataset (wrappers included) with ``get_data_info``.

    Returns:
        tuple[list[str], list[str]]: ``img_id`` (``img_path`` when the dataset has no ids) and
        ``patient_id`` (``''`` when unknown) per item.
    """
    column = getattr(dataset, 'column', None)  # column-wise datasets: no dict per item
    if callable(column):
        images = column('img_id').tolist()
        if all(images):
            return images, [str(p or '') for p in column('patient_id').tolist()]
    images, patients = [], []
    infos = getattr(dataset, 'data_list', None)  # unserialised BaseDataset: no per-item copy
    if not isinstance(infos, list) or len(infos) != len(dataset):
        infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    for info in infos:
        image = info.get('img_id') or info.get('img_path') or ''
        images.append(str(image) if info.get('img_id') else osp.abspath(str(image)))
        patients.append(str(info.get('patient_id') or ''))
    return images, patients


def find_overlap(ids: Dict[str, Tuple[Sequence[str], Sequence[str]]]) -> Dict[str, dict]:
    """Images and patients shared by each pair of splits.

    Args:
        ids (dict): Split name -> (image ids, patient ids), e.g. from :func:`dataset_ids`.

    Returns:
        dict: ``'<a>/<b>'`` -> ``dict(images=n, patients=n, image_examples=[...],
        patient_examples=[...])`` for every pair that shares something (empty dict: none).
    """
    overlap = {}
    for (a, (img_a, pat_a)), (b, (img_b, pat_b)) in itertools.combinations(ids.items(), 2):
        images = sorted((set(img_a) - {''}) & set(img_b))
        patients = sorted((set(pat_a) - {''}) & set(pat_b))
        if images or patients:
            overlap[f'{a}/{b}'] = dict(
                images=len(images), patients=len(patients),
                image_examples=images[:NUM_EXAMPLES], patient_examples=patients[:NUM_EXAMPLES])
    return overlap


def _describe_dataset(dataset) -> str:
    ann = getattr(dataset, 'ann_file', '') or getattr(dataset, 'data_root', '')
    split = getattr(dataset, 'split', None)
    return f'{type(dataset).__name__}({ann}{f", split={split}" if split else ""})'


def build_split_datasets(cfg, splits: Sequence[str] = SPLITS) -> Dict[str, Any]:
    """Build the datasets of the config's ``<split>_dataloader`` entries that exist.

    Args:
        cfg (Config): The runner config.
        splits (Sequence[str]): Which loaders to build. Defaults to train, val and test.

    Returns:
        dict: split -> dataset (loaders set to None or without a dataset are skipped).
    """
    from mmengine.registry import DATASETS, init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    datasets = {}
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or not loader.get('dataset'):
            continue
        dataset = loader['dataset']
        if isinstance(dataset, dict):
            try:  # unserialised: skips MMEngine's gc.collect() per dataset
                dataset = DATASETS.build(_unserialized(copy.deepcopy(dataset)))
            except TypeError:  # a dataset class without ``serialize_data``
                dataset = DATASETS.build(copy.deepcopy(dataset))
        datasets[split] = dataset
    return datasets


def _unserialized(cfg: dict) -> dict:
    """Set ``serialize_data=False`` on the innermost dataset configs (wrappers recursed)."""
    if isinstance(cfg.get('dataset'), dict):
        _unserialized(cfg['dataset'])
    elif isinstance(cfg.get('datasets'), (list, tuple)):
        for inner in cfg['datasets']:
            _unserialized(inner)
    else:
        cfg['serialize_data'] = False
    return cfg


def check_splits(cfg, splits: Sequence[str] = SPLITS, allow_overlap: bool = False
                 ) -> Dict[str, Any]:
    """Refuse datasets that share an image or a patient, unless overlap is allowed.

    Args:
        cfg (Config): The runner config; ``cfg.allow_overlap = True`` also allows overlap.
        splits (Sequence[str]): Loaders to check. Defaults to train, val and test.
        allow_overlap (bool): Run anyway (the record says so). Defaults to False.

    Returns:
        dict: The protocol record: ``checked`` (split -> dataset description and counts),
        ``overlap`` (see :func:`find_overlap`), ``overlap_allowed`` (bool) and
        ``split_overlap`` (``'none'`` or ``'allowed'``: the status written beside results).

    Raises:
        ProtocolError: On overlap that is not allowed; the one-line message gives counts and
            examples for every clashing pair.
    """
    allow_overlap = bool(allow_overlap or cfg.get('allow_overlap', False))
    datasets = build_split_datasets(cfg, splits)
    ids = {name: dataset_ids(ds) for name, ds in datasets.items()}
    overlap = find_overlap(ids)
    checked = {name: dict(dataset=_describe_dataset(datasets[name]), images=len(img),
                          patients=len(set(pat) - {''}))
               for name, (img, pat) in ids.items()}
    if overlap and not allow_overlap:
        clashes = '; '.join(
            f'{pair} share {c["patients"]} patient(s) (e.g. {c["patient_examples"]}) and '
            f'{c["images"]} image(s) (e.g. {c["image_examples"]})' for pair, c in overlap.items())
        names = ', '.join(f'{n}={checked[n]["dataset"]}' for n in checked)
        raise ProtocolError(f'protocol guard: {clashes} [{names}]; fix the splits, or pass '
                            '--allow-overlap to run anyway (recorded in run_info.json and the '
                            'metrics)')
    return dict(checked=checked, overlap=overlap, overlap_allowed=allow_overlap,
                split_overlap='allowed' if overlap else 'none')


def _evaluators(cfg_evaluator) -> List[dict]:
    if cfg_evaluator is None:
        return []
    return list(cfg_evaluator) if isinstance(cfg_evaluator, (list, tuple)) else [cfg_evaluator]


def check_test_evaluators(cfg) -> None:
    """Refuse a test evaluator that picks its threshold on the test split.

    Raises:
        ProtocolError: If a test metric has ``threshold='youden'``.
    """
    for evaluator in _evaluators(cfg.get('test_evaluator')):
        if evaluator.get('type') == 'BinaryDiagnosticMetric' and evaluator.get(
                'threshold', 'youden') == 'youden':
            raise ProtocolError(
                "protocol guard: test_evaluator BinaryDiagnosticMetric has threshold='youden' "
                "(chosen on the test split); use threshold='from_val' with the validation "
                'threshold_file, or a number')


def bind_test_threshold(cfg, checkpoint: str, threshold: Optional[float] = None
                        ) -> Optional[Dict[str, Any]]:
    """Check (or override) the validation threshold the test metrics will use.

    With ``threshold`` given, every ``BinaryDiagnosticMetric`` of the test evaluator uses it.
    Otherwise every ``BinaryDiagnosticMetric(threshold='from_val', threshold_file=F)`` needs a
    record in ``F`` (relative to ``cfg.work_dir``) for the checkpoint's weights.

    Args:
        cfg (Config): The runner config (``work_dir`` set); updated in place.
        checkpoint (str): The checkpoint under test.
        threshold (float, optional): The user's ``--threshold``.

    Returns:
        dict | None: ``threshold``, ``threshold_source`` (``'validation'`` or ``'override'``),
        ``checkpoint`` (its fingerprint) and, from validation, ``threshold_record``; None when
        no test metric reads a validation threshold file.

    Raises:
        ThresholdMismatchError: If the file holds no record of these weights (one line naming
            the recorded and the tested checkpoint).
        ProtocolError: If ``threshold`` is given but no test metric is binary.
    """
    binary = [e for e in _evaluators(cfg.get('test_evaluator'))
              if e.get('type') == 'BinaryDiagnosticMetric']
    if threshold is not None:
        if not binary:
            raise ProtocolError('--threshold applies to a BinaryDiagnosticMetric test evaluator; '
                                'this config has none')
        for evaluator in binary:
            evaluator['threshold'] = float(threshold)
        return dict(threshold=float(threshold), threshold_source='override',
                    checkpoint=checkpoint_fingerprint(checkpoint))
    targets = [e for e in binary if e.get('threshold') == 'from_val' and e.get('threshold_file')]
    if not targets:
        return None
    fingerprint = checkpoint_fingerprint(checkpoint)
    record = None
    for evaluator in targets:
        path = evaluator['threshold_file']
        path = path if osp.isabs(path) else osp.join(cfg.work_dir, path)
        record = read_threshold_record(
            path, fingerprint['weights_sha256'],
            tested=f'{osp.basename(checkpoint)}: {describe(fingerprint)}')
    return dict(threshold=float(record['threshold']), threshold_source='validation',
                threshold_record=record, checkpoint=fingerprint)


def add_prediction_dump(cfg, out_file: str, protocol: Dict[str, Any]) -> None:
    """Append ``DumpXrayPredictions`` to the test evaluator, carrying the protocol record.

    The dump gets the validation ``threshold_file`` of a ``'from_val'`` metric or the
    ``--threshold`` override, and the constant column ``split_overlap``.

    Args:
        cfg (Config): The runner config; updated in place.
        out_file (str): ``preds.csv`` or ``.json``.
        protocol (dict): What :func:`check_splits` and :func:`bind_test_threshold` returned.
    """
    evaluators = _evaluators(cfg.get('test_evaluator'))
    dump = dict(type='DumpXrayPredictions', out_file=out_file)
    if 'split_overlap' in protocol:
        dump['extra_columns'] = dict(split_overlap=protocol['split_overlap'])
    if protocol.get('threshold_source') == 'override':
        dump['threshold'] = protocol['threshold']
    for evaluator in evaluators:
        if evaluator.get('threshold') == 'from_val' and evaluator.get('threshold_file'):
            dump['threshold_file'] = evaluator['threshold_file']
    cfg.test_evaluator = evaluators + [dump]
