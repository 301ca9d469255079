"""Per-image prediction records (CSV or JSON), the interface to the analysis tools."""
import csv
import json
import os
import os.path as osp
import tempfile
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmpretrain.registry import METRICS


@METRICS.register_module()
class DumpXrayPredictions(BaseMetric):
    """Write one record per image to a CSV or JSON file (chosen by the extension).

    Single-label rows hold ``img_id, patient_id, gt_label, pred_label, pred_score`` (the
    probability of ``pred_label``) and ``prob_<class>`` per class; multi-label rows (samples
    with ``gt_score``) hold ``img_id, patient_id`` and ``gt_<label>``/``prob_<label>`` per label
    (``gt`` is -1 for an ignored CheXpert cell). Without a threshold ``pred_label`` is the
    arg-max class. With ``threshold_file`` (the validation Youden threshold written by
    ``BinaryDiagnosticMetric``, the record of the weights under test) or ``threshold`` (a value
    given by the user) binary rows also carry that ``threshold`` on the positive-class (last)
    probability and ``threshold_source`` (``'validation'`` or ``'override'``), and
    ``pred_label`` is the call at that threshold (``prob >= threshold`` is positive), so
    ``pred_label``, ``pred_score`` and ``threshold`` never contradict each other. Class names
    come from ``dataset_meta['classes']``. Only these columns are written, so no DICOM
    identifier can leak; ``patient_id`` is the dataset's pseudonymous id. The file is written
    atomically and an existing file is replaced. ``compute_metrics`` returns no metric values.

    Config keys:
        out_file (str): Output path ending in ``.csv`` or ``.json``.
        threshold_file (str, optional): Threshold record (:mod:`osteo_mm.utils.threshold_record`)
            written by validation; relative paths are taken in the Runner's work dir.
            Defaults to None (no threshold column).
        threshold (float, optional): A fixed threshold that overrides ``threshold_file``
            (``tools/test.py --threshold``). Defaults to None.
        extra_columns (dict, optional): Constant columns appended to every row (e.g. the
            protocol status ``split_overlap`` written by ``tools/test.py``). Defaults to None.
        collect_device (str): ``'cpu'`` or ``'gpu'`` for distributed collection.
        prefix (str, optional): Unused metric-name prefix. Defaults to ``'predictions'``.
    """
    default_prefix: Optional[str] = 'predictions'

    def __init__(self,
                 out_file: str,
                 threshold_file: Optional[str] = None,
                 threshold: Optional[float] = None,
                 extra_columns: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        ext = osp.splitext(out_file)[1].lower()
        if ext not in ('.csv', '.json'):
            raise ValueError(f'out_file must end in .csv or .json, got {out_file!r}')
        self.out_file = out_file
        self.threshold_file = threshold_file
        self.threshold = None if threshold is None else float(threshold)
        self.extra_columns = dict(extra_columns or {})

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Collect ids, ground truth and scores of every sample.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): Model outputs with ``pred_score`` and ``gt_label``
                or ``gt_score``.
        """
        for sample in data_samples:
            record = dict(img_id=sample.get('img_id', ''),
                          patient_id=sample.get('patient_id', ''),
                          scores=sample['pred_score'].cpu().numpy().astype(np.float64))
            if 'gt_score' in sample:
                record['gt_score'] = sample['gt_score'].cpu().numpy()
            elif 'gt_label' in sample:
                label = sample['gt_label'].cpu().reshape(-1)
                if label.numel() != 1:
                    raise ValueError(f'image {record["img_id"]!r}: {label.numel()} gt labels; '
                                     'multi-label samples need gt_score')
                record['gt_label'] = int(label[0])
            self.results.append(record)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Write the records to ``out_file``.

        Args:
            results (list[dict]): What :meth:`process` collected over the dataset.

        Returns:
            dict: An empty dict (this metric only writes a file).

        Raises:
            ValueError: If there is nothing to write or the class names do not match the scores.
        """
        if not results:
            raise ValueError(f'no predictions were collected, {self.out_file} not written')
        num_classes = len(results[0]['scores'])
        classes = (self.dataset_meta or {}).get('classes')
        if not classes:
            warnings.warn("dataset_meta has no 'classes': prediction columns use class indices",
                          stacklevel=2)
            classes = [str(i) for i in range(num_classes)]
        if len(classes) != num_classes:
            raise ValueError(f"dataset_meta['classes'] has {len(classes)} names but the model "
                             f'predicts {num_classes} scores')
        threshold, source = None, None
        if 'gt_score' not in results[0] and num_classes == 2:
            if self.threshold is not None:
                threshold, source = self.threshold, 'override'
            elif self.threshold_file:
                threshold, source = self._read_threshold(), 'validation'
        elif self.threshold is not None or self.threshold_file:
            warnings.warn('a decision threshold applies to binary predictions only; ignored',
                          stacklevel=2)
        rows = [self.to_row(r, classes, threshold) for r in results]
        if threshold is not None:
            for row in rows:
                row.update(threshold=threshold, threshold_source=source)
        for row in rows:
            row.update(self.extra_columns)
        _atomic_write(rows, self.out_file)
        print_log(f'Wrote {len(rows)} per-image predictions to {self.out_file}', 'current')
        return {}

    def _read_threshold(self) -> float:
        """The validation threshold of the weights under test (see ``BinaryDiagnosticMetric``)."""
        from mmengine.logging import MessageHub

        from osteo_mm.utils.threshold_record import WEIGHTS_INFO_KEY, read_threshold_record

        from .diagnostic import resolve_in_work_dir
        path = resolve_in_work_dir(self.threshold_file)
        sha = MessageHub.get_current_instance().get_info(WEIGHTS_INFO_KEY)
        return float(read_threshold_record(path, sha)['threshold'])

    @staticmethod
    def to_row(record: dict, classes: Sequence[str], threshold: Optional[float] = None) -> dict:
        """Turn one collected record into an output row.

        Args:
            record (dict): One entry of ``results``.
            classes (Sequence[str]): Class or label names.
            threshold (float, optional): Binary decision threshold on the last (positive)
                class probability; None takes the arg-max class.

        Returns:
            dict: The row, columns in output order.
        """
        scores = record['scores']
        row = dict(img_id=record['img_id'], patient_id=record['patient_id'])
        if 'gt_score' in record:
            row.update({f'gt_{c}': int(g) for c, g in zip(classes, record['gt_score'])})
            row.update({f'prob_{c}': float(s) for c, s in zip(classes, scores)})
            return row
        if threshold is None:
            pred = int(np.argmax(scores))
        else:
            pred = int(scores[-1] >= threshold)
        row.update(gt_label=record.get('gt_label', ''), pred_label=pred,
                   pred_score=float(scores[pred]))
        row.update({f'prob_{c}': float(s) for c, s in zip(classes, scores)})
        return row


def _atomic_write(rows: List[dict], path: str) -> None:
    """Write rows as CSV or JSON (by extension) through a temporary file and ``os.replace``."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix='.tmp')
    with os.fdopen(fd, 'w', newline='') as f:
        if path.lower().endswith('.json'):
            json.dump(rows, f, indent=1)
        else:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ['img_id'])
            writer.writeheader()
            writer.writerows(rows)
    os.replace(tmp, path)
