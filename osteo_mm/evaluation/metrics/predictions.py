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
    (``gt`` is -1 for an ignored CheXpert cell). With ``threshold_file`` (the validation
    Youden threshold written by ``BinaryDiagnosticMetric``) single-label rows also carry the
    fixed decision ``threshold`` on the positive-class probability. Class names come from
    ``dataset_meta['classes']``. Only these columns are written, so no DICOM identifier can
    leak; ``patient_id`` is the dataset's pseudonymous id. The file is written atomically and an
    existing file is replaced. ``compute_metrics`` returns no metric values.

    Config keys:
        out_file (str): Output path ending in ``.csv`` or ``.json``.
        threshold_file (str, optional): JSON with the validation ``threshold``; relative paths
            are taken in the Runner's work dir. Defaults to None (no threshold column).
        collect_device (str): ``'cpu'`` or ``'gpu'`` for distributed collection.
        prefix (str, optional): Unused metric-name prefix. Defaults to ``'predictions'``.
    """
    default_prefix: Optional[str] = 'predictions'

    def __init__(self,
                 out_file: str,
                 threshold_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        ext = osp.splitext(out_file)[1].lower()
        if ext not in ('.csv', '.json'):
            raise ValueError(f'out_file must end in .csv or .json, got {out_file!r}')
        self.out_file = out_file
        self.threshold_file = threshold_file

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
        rows = [self.to_row(r, classes) for r in results]
        if self.threshold_file and 'gt_score' not in results[0]:
            threshold = self._read_threshold()
            for row in rows:
                row['threshold'] = threshold
        _atomic_write(rows, self.out_file)
        print_log(f'Wrote {len(rows)} per-image predictions to {self.out_file}', 'current')
        return {}

    def _read_threshold(self) -> float:
        from .diagnostic import resolve_in_work_dir
        path = resolve_in_work_dir(self.threshold_file)
        if not osp.isfile(path):
            raise FileNotFoundError(f'threshold file not found: {path} (written when validation '
                                    "runs BinaryDiagnosticMetric with threshold='youden')")
        with open(path) as f:
            value = json.load(f).get('threshold')
        if not isinstance(value, (int, float)):
            raise ValueError(f'{path}: "threshold" must be a number, got {value!r}')
        return float(value)

    @staticmethod
    def to_row(record: dict, classes: Sequence[str]) -> dict:
        """Turn one collected record into an output row.

        Args:
            record (dict): One entry of ``results``.
            classes (Sequence[str]): Class or label names.

        Returns:
            dict: The row, columns in output order.
        """
        scores = record['scores']
        row = dict(img_id=record['img_id'], patient_id=record['patient_id'])
        if 'gt_score' in record:
            row.update({f'gt_{c}': int(g) for c, g in zip(classes, record['gt_score'])})
            row.update({f'prob_{c}': float(s) for c, s in zip(classes, scores)})
            return row
        pred = int(np.argmax(scores))
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
