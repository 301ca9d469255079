"""Binary and multi-class diagnostic metrics with patient-level bootstrap CIs.

MMPretrain ships accuracy/precision/recall but no ROC-AUC, sensitivity/specificity, threshold
selection or confidence intervals; these metrics add them. AUCs come from scikit-learn; the
threshold metrics come from :mod:`osteo_mm.stats.threshold` (the one implementation the report
shares). The patient is the unit of analysis: CIs resample whole patients, stratified by whether
the patient has a positive image (:func:`osteo_mm.stats.clusters.patient_strata`), and every
metric dict states ``unit``, ``n_patients`` and ``n_images`` and, per CI, ``<key>_ci_n_skipped``
(resamples where the metric was undefined; above 1 % the CI is NaN).

Operating threshold (binary): the validation metric (``threshold='youden'``) picks the threshold
that maximises Youden's J = sensitivity + specificity - 1 on the validation set, stores it in the
MMEngine ``MessageHub`` runtime info (key ``'youden_threshold'``) and,
if ``threshold_file`` is set, appends a record to that JSON file naming the checkpoint it
belongs to (epoch/iteration and the SHA-256 of the weights, see
:mod:`osteo_mm.utils.threshold_record`). The test metric (``threshold='from_val'``) reads it back,
from the file if given (the record of the weights under test; any other is refused), otherwise
from the runtime info of the same process, and keeps it *fixed*. A relative ``threshold_file``
lives in the Runner's ``work_dir``, so ``tools/train.py CONFIG`` and ``tools/test.py CONFIG CKPT``
with the same work dir share it. The file keeps one record per validation, so any checkpoint
that was validated (the last, the best) can be tested; for another, validate it first or pass
``tools/test.py --threshold VALUE``.
"""
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, MMLogger
from mmpretrain.registry import METRICS
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score, roc_curve

from osteo_mm.stats.bootstrap import bootstrap_ci
from osteo_mm.stats.clusters import patient_groups, patient_strata, unit_of_analysis
from osteo_mm.stats.threshold import (  # noqa: F401  (re-exported for callers of this module)
    THRESHOLD_METRICS,
    confusion_counts,
    mean_defined,
    ratio,
)
from osteo_mm.utils.threshold_record import (
    WEIGHTS_INFO_KEY,
    append_record,
    read_threshold_record,
)

#: Key of the validation Youden threshold in the MessageHub runtime info.
THRESHOLD_INFO_KEY = 'youden_threshold'


def binary_auc(labels: np.ndarray, scores: np.ndarray, average_precision: bool = False,
               warn: bool = True) -> float:
    """ROC-AUC (or PR-AUC as average precision) with a NaN for single-class input.

    Args:
        labels (np.ndarray): 0/1 ground truth, shape (N,).
        scores (np.ndarray): Positive-class scores, shape (N,).
        average_precision (bool): Return sklearn's average precision (step-wise PR-AUC)
            instead of the ROC-AUC. Defaults to False.
        warn (bool): Warn when only one class is present. Defaults to True.

    Returns:
        float: The AUC, or NaN when ``labels`` holds only one class.
    """
    if len(np.unique(labels)) < 2:
        if warn:
            warnings.warn('only one class present in the labels: AUC is undefined (NaN)',
                          stacklevel=2)
        return float('nan')
    fn = average_precision_score if average_precision else roc_auc_score
    return float(fn(labels, scores))


def add_ci(metrics: Dict[str, float], key: str, statistic: Callable[..., float],
           arrays: Sequence[np.ndarray], groups: Optional[np.ndarray], n_boot: int,
           alpha: float, seed: int, strata: Optional[np.ndarray] = None) -> None:
    """Add ``<key>_ci_low``, ``<key>_ci_high`` and ``<key>_ci_n_skipped`` from a bootstrap.

    Whole patients are resampled (``groups``), within ``strata`` (e.g.
    :func:`~osteo_mm.stats.clusters.patient_strata`: has the patient a positive image). Resamples
    where the metric is undefined are counted in ``<key>_ci_n_skipped``; when they exceed 1 %
    of ``n_boot`` the bounds are NaN and a warning names the key and says why.

    Args:
        metrics (dict): Metric dict to update in place.
        key (str): Name of the metric whose CI is computed.
        statistic (Callable): Maps the resampled ``arrays`` to the metric value.
        arrays (Sequence[np.ndarray]): Per-image arrays resampled together.
        groups (np.ndarray, optional): Patient cluster per image.
        n_boot (int): Number of bootstrap resamples.
        alpha (float): 1 - confidence level.
        seed (int): Bootstrap seed; every key uses the same resamples.
        strata (np.ndarray, optional): Stratum per image, constant within a patient.
    """
    with warnings.catch_warnings():
        # bootstrap_ci's own warning does not name the metric; the note is re-issued below.
        warnings.simplefilter('ignore', UserWarning)
        result = bootstrap_ci(statistic, *arrays, groups=groups, strata=strata, n_boot=n_boot,
                              alpha=alpha, seed=seed)
    if result.note:
        warnings.warn(f'{key}: {result.note}', stacklevel=2)
    metrics[f'{key}_ci_low'] = result.low
    metrics[f'{key}_ci_high'] = result.high
    metrics[f'{key}_ci_n_skipped'] = result.n_skipped


def resolve_in_work_dir(path: str) -> str:
    """Resolve a relative path in the running Runner's ``work_dir``, else the current directory.

    MMEngine exposes no current Runner; its logger writes ``work_dir/<timestamp>/<timestamp>.log``,
    so the work dir is the parent of the log file's folder.

    Args:
        path (str): A file path.

    Returns:
        str: ``path`` itself when absolute or when no Runner logger exists, else the path joined
        to the work dir.
    """
    log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
    if osp.isabs(path) or not log_file:
        return path
    return osp.join(osp.dirname(osp.dirname(osp.abspath(log_file))), path)


def _gt_label(sample: dict) -> int:
    """The single ground-truth class index of a data-sample dict."""
    label = np.asarray(sample['gt_label'].cpu() if hasattr(sample['gt_label'], 'cpu')
                       else sample['gt_label']).reshape(-1)
    if label.size != 1:
        raise ValueError(f'image {sample.get("img_id", "?")!r}: expected one gt_label, '
                         f'got {label.tolist()}')
    return int(label[0])


@METRICS.register_module()
class BinaryDiagnosticMetric(BaseMetric):
    """Screening metrics for a binary task at 0.5 and at a validation-chosen threshold.

    Reports ``roc_auc``, ``pr_auc`` (average precision) and, at each threshold, ``accuracy``,
    ``balanced_accuracy``, ``sensitivity``, ``specificity``, ``ppv``, ``npv`` and ``f1`` as
    ``<name>@0.5`` and ``<name>@youden`` (or ``<name>@<float>`` for a fixed float threshold),
    plus ``threshold`` (the operating threshold used) and, when ``n_boot > 0``,
    ``<key>_ci_low``/``<key>_ci_high`` 95 % bootstrap CIs and ``<key>_ci_n_skipped`` (whole
    patients resampled, stratified by whether the patient has a positive image; images without
    ``patient_id`` count as their own patient; the threshold is held fixed inside the
    bootstrap; NaN when more than 1 % of resamples are undefined), and ``unit``,
    ``n_patients``, ``n_images``. Values are fractions in [0, 1]; undefined values (e.g. PPV
    with no positive call) are NaN. A score ``>= threshold`` is a positive call.

    Config keys:
        pos_label (int): Index of the positive class in ``pred_score``/``gt_label``
            (1 = ``'osteoporosis'`` in the binary task). Ignored for one-score heads.
            Defaults to 1.
        threshold (str | float): ``'youden'`` (choose on these data: use in ``val_evaluator``),
            ``'from_val'`` (read the validation threshold: use in ``test_evaluator``) or a float.
            Defaults to ``'youden'``.
        threshold_file (str, optional): JSON file the ``'youden'`` metric writes and the
            ``'from_val'`` metric reads (``{"threshold": ..., "epoch": ..., ...}``); relative
            paths are taken in the Runner's ``work_dir``. Without it the threshold passes
            through the MessageHub of the running process only.
        n_boot (int): Bootstrap resamples for CIs; 0 disables CIs. Defaults to 1000.
        alpha (float): 1 - confidence level. Defaults to 0.05.
        seed (int): Bootstrap seed. Defaults to 0.
        collect_device (str): ``'cpu'`` or ``'gpu'`` for distributed collection.
        prefix (str, optional): Metric-name prefix. Defaults to ``'binary'``.

    Examples:
        >>> import numpy as np
        >>> scores = np.array([0.1, 0.4, 0.35, 0.8])
        >>> labels = np.array([0, 0, 1, 1])
        >>> BinaryDiagnosticMetric.calculate(scores, labels, 0.5)['roc_auc']
        0.75
    """
    default_prefix: Optional[str] = 'binary'

    def __init__(self,
                 pos_label: int = 1,
                 threshold: Union[str, float] = 'youden',
                 threshold_file: Optional[str] = None,
                 n_boot: int = 1000,
                 alpha: float = 0.05,
                 seed: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(threshold, str) and threshold not in ('youden', 'from_val'):
            raise ValueError(f"threshold must be 'youden', 'from_val' or a float, got "
                             f'{threshold!r}')
        if n_boot < 0:
            raise ValueError(f'n_boot must be >= 0, got {n_boot}')
        self.pos_label = pos_label
        self.threshold = threshold
        self.threshold_file = threshold_file
        self.n_boot = n_boot
        self.alpha = alpha
        self.seed = seed

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Collect the positive-class score, label and patient id of every sample.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): Model outputs with ``pred_score`` and ``gt_label``.
        """
        for sample in data_samples:
            score = sample['pred_score'].cpu().numpy().reshape(-1)
            if score.size > 2:
                raise ValueError(f'image {sample.get("img_id", "?")!r}: a binary metric needs 1 '
                                 f'or 2 scores per image, got {score.size}')
            self.results.append(dict(
                score=float(score[0] if score.size == 1 else score[self.pos_label]),
                label=_gt_label(sample), img_id=sample.get('img_id', ''),
                patient_id=sample.get('patient_id', '')))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Aggregate the collected results into the metric dict.

        Args:
            results (list[dict]): What :meth:`process` collected over the dataset.

        Returns:
            dict[str, float]: Metrics as described in the class docstring.
        """
        scores = np.array([r['score'] for r in results], dtype=np.float64)
        labels = np.array([1 if r['label'] == self.pos_label else 0 for r in results])
        bad = [r['img_id'] for r in results if r['label'] not in (0, 1)]
        if bad:
            raise ValueError(f'binary metric got labels outside {{0, 1}} for images {bad[:5]}')
        operating, tag = self._operating_threshold(scores, labels)
        metrics = {f'{k}@0.5': v for k, v in self.calculate(scores, labels, 0.5).items()
                   if k in THRESHOLD_METRICS}
        metrics.update({f'{k}@{tag}' if k in THRESHOLD_METRICS else k: v
                        for k, v in self.calculate(scores, labels, operating).items()})
        metrics['threshold'] = operating
        patient_ids = [r['patient_id'] for r in results]
        if self.n_boot:
            groups = patient_groups(patient_ids, [r['img_id'] for r in results])
            self._add_cis(metrics, scores, labels, groups, operating, tag)
        metrics.update(unit_of_analysis(patient_ids).as_dict())
        return metrics

    def _add_cis(self, metrics: dict, scores: np.ndarray, labels: np.ndarray,
                 groups: Optional[np.ndarray], operating: float, tag: str) -> None:
        """Add bootstrap CIs for every reported metric except the threshold."""
        boot = dict(groups=groups, strata=patient_strata(labels, groups), n_boot=self.n_boot,
                    alpha=self.alpha, seed=self.seed)
        add_ci(metrics, 'roc_auc', lambda y, s: binary_auc(y, s, warn=False), (labels, scores),
               **boot)
        add_ci(metrics, 'pr_auc', lambda y, s: binary_auc(y, s, True, warn=False),
               (labels, scores), **boot)
        for thr, thr_tag in {0.5: '0.5', operating: tag}.items():
            for name, fn in THRESHOLD_METRICS.items():
                add_ci(metrics, f'{name}@{thr_tag}',
                       lambda y, s, fn=fn, thr=thr: fn(*confusion_counts(s, y, thr)),
                       (labels, scores), **boot)

    def _operating_threshold(self, scores: np.ndarray, labels: np.ndarray) -> Tuple[float, str]:
        """Choose (``'youden'``), read (``'from_val'``) or return the fixed threshold."""
        if self.threshold == 'youden':
            threshold = self.youden_threshold(scores, labels)
            hub = MessageHub.get_current_instance()
            hub.update_info(THRESHOLD_INFO_KEY, threshold)
            if self.threshold_file:
                # The hub holds 0-based indices of the last epoch/iteration started; + 1 gives
                # the numbers in the checkpoint names (epoch_<n>.pth / iter_<n>.pth).
                done = {k: hub.get_info(k) + 1 for k in ('epoch', 'iter')
                        if hub.get_info(k) is not None}
                append_record(resolve_in_work_dir(self.threshold_file), dict(
                    threshold=threshold, method='youden', pos_label=self.pos_label,
                    num_samples=len(labels), weights_sha256=hub.get_info(WEIGHTS_INFO_KEY),
                    **done))
            return threshold, 'youden'
        if self.threshold == 'from_val':
            return self._read_val_threshold(), 'youden'
        return float(self.threshold), f'{float(self.threshold):g}'

    def _read_val_threshold(self) -> float:
        """The validation Youden threshold from ``threshold_file`` or the MessageHub.

        With a file, the record must belong to the weights under test (hash set by
        ``WeightsFingerprintHook``); without the hook the latest record is used, with a warning.
        """
        hub = MessageHub.get_current_instance()
        if self.threshold_file:
            path = resolve_in_work_dir(self.threshold_file)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f"threshold='from_val' but {path} does not exist: run validation with "
                    "threshold='youden' and the same threshold_file and work dir first")
            sha = hub.get_info(WEIGHTS_INFO_KEY)
            if sha is None:
                warnings.warn(f'no WeightsFingerprintHook: the threshold in {path} is not '
                              'checked against the weights under test', stacklevel=2)
            return float(read_threshold_record(path, sha)['threshold'])
        value = hub.get_info(THRESHOLD_INFO_KEY)
        if value is None:
            raise RuntimeError("threshold='from_val' found no validation threshold: set "
                               'threshold_file (written by the validation metric) or validate '
                               'in the same process first')
        return float(value)

    @staticmethod
    def youden_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
        """The ROC threshold maximising Youden's J (the highest one on ties).

        Args:
            scores (np.ndarray): Positive-class scores, shape (N,).
            labels (np.ndarray): 0/1 ground truth, shape (N,).

        Returns:
            float: The threshold (a score ``>=`` it is positive); 0.5 with a warning when only
            one class is present.
        """
        if len(np.unique(labels)) < 2:
            warnings.warn('only one class present: Youden threshold undefined, using 0.5',
                          stacklevel=2)
            return 0.5
        fpr, tpr, thresholds = roc_curve(labels, scores)
        # roc_curve's first threshold is +inf (nothing positive); it never maximises J
        # together with a finite one, and argmax picks the highest threshold on ties.
        return float(thresholds[1:][np.argmax((tpr - fpr)[1:])])

    @staticmethod
    def calculate(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.5
                  ) -> Dict[str, float]:
        """All binary metrics at one threshold.

        Args:
            scores (np.ndarray): Positive-class scores, shape (N,).
            labels (np.ndarray): 0/1 ground truth, shape (N,).
            threshold (float): Decision threshold. Defaults to 0.5.

        Returns:
            dict[str, float]: ``roc_auc``, ``pr_auc`` and the :data:`THRESHOLD_METRICS`.
        """
        scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
        counts = confusion_counts(scores, labels, threshold)
        metrics = dict(roc_auc=binary_auc(labels, scores),
                       pr_auc=binary_auc(labels, scores, average_precision=True, warn=False))
        metrics.update({name: fn(*counts) for name, fn in THRESHOLD_METRICS.items()})
        return metrics


@METRICS.register_module()
class MultiClassDiagnosticMetric(BaseMetric):
    """Accuracy, macro one-vs-rest AUC, per-class SEN/SPE and the confusion matrix.

    Keys: ``accuracy``, ``balanced_accuracy`` (mean per-class sensitivity), ``macro_auc``,
    ``sensitivity/<class>``, ``specificity/<class>`` (class names from
    ``dataset_meta['classes']``, else indices), ``confusion_matrix`` (nested list, rows = truth)
    and, when ``n_boot > 0``, ``<key>_ci_low``/``<key>_ci_high``/``<key>_ci_n_skipped`` for
    accuracy, balanced accuracy and macro AUC (whole patients resampled, stratified by the
    patient's highest class), and ``unit``, ``n_patients``, ``n_images``. ``macro_auc`` is NaN
    (with a warning) unless every class is present.

    Config keys:
        n_boot (int): Bootstrap resamples for CIs; 0 disables CIs. Defaults to 1000.
        alpha (float): 1 - confidence level. Defaults to 0.05.
        seed (int): Bootstrap seed. Defaults to 0.
        collect_device (str): ``'cpu'`` or ``'gpu'`` for distributed collection.
        prefix (str, optional): Metric-name prefix. Defaults to ``'multiclass'``.
    """
    default_prefix: Optional[str] = 'multiclass'

    def __init__(self,
                 n_boot: int = 1000,
                 alpha: float = 0.05,
                 seed: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if n_boot < 0:
            raise ValueError(f'n_boot must be >= 0, got {n_boot}')
        self.n_boot = n_boot
        self.alpha = alpha
        self.seed = seed

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Collect class probabilities, label and patient id of every sample.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): Model outputs with ``pred_score`` and ``gt_label``.
        """
        for sample in data_samples:
            self.results.append(dict(
                probs=sample['pred_score'].cpu().numpy().astype(np.float64),
                label=_gt_label(sample), patient_id=sample.get('patient_id', '')))

    def compute_metrics(self, results: List[dict]) -> Dict[str, object]:
        """Aggregate the collected results into the metric dict.

        Args:
            results (list[dict]): What :meth:`process` collected over the dataset.

        Returns:
            dict: Metrics as described in the class docstring.
        """
        probs = np.stack([r['probs'] for r in results])
        labels = np.array([r['label'] for r in results])
        classes = (self.dataset_meta or {}).get('classes') or [
            str(i) for i in range(probs.shape[1])]
        metrics = self.calculate(probs, labels, classes)
        patient_ids = [r['patient_id'] for r in results]
        if self.n_boot:
            groups = patient_groups(patient_ids)
            strata = patient_strata(labels, groups)
            for key in ('accuracy', 'balanced_accuracy', 'macro_auc'):
                add_ci(metrics, key,
                       lambda p, y, key=key: self.calculate(p, y, classes, warn=False)[key],
                       (probs, labels), groups, self.n_boot, self.alpha, self.seed, strata)
        metrics.update(unit_of_analysis(patient_ids).as_dict())
        return metrics

    @staticmethod
    def calculate(probs: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                  warn: bool = True) -> Dict[str, object]:
        """Multi-class metrics from class probabilities.

        Args:
            probs (np.ndarray): Class probabilities, shape (N, C); rows sum to 1.
            labels (np.ndarray): Class indices, shape (N,).
            classes (Sequence[str]): The C class names used in the keys.
            warn (bool): Warn when the macro AUC is undefined. Defaults to True.

        Returns:
            dict: ``accuracy``, ``balanced_accuracy``, ``macro_auc``, per-class
            ``sensitivity/<c>`` and ``specificity/<c>`` and ``confusion_matrix``.

        Raises:
            ValueError: If ``probs`` does not have one column per class or a label is out of
                range.
        """
        num_classes = len(classes)
        if probs.ndim != 2 or probs.shape[1] != num_classes:
            raise ValueError(f'expected scores of shape (N, {num_classes}), got {probs.shape}')
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(f'labels must lie in [0, {num_classes - 1}], got '
                             f'{sorted(set(labels.tolist()))}')
        cm = confusion_matrix(labels, probs.argmax(1), labels=list(range(num_classes)))
        total = cm.sum()
        sens = [ratio(cm[c, c], cm[c].sum()) for c in range(num_classes)]
        specs = [ratio(total - cm[c].sum() - cm[:, c].sum() + cm[c, c], total - cm[c].sum())
                 for c in range(num_classes)]
        if len(np.unique(labels)) == num_classes:
            macro_auc = float(roc_auc_score(labels, probs, multi_class='ovr', average='macro',
                                            labels=list(range(num_classes))))
        else:
            if warn:
                warnings.warn('not every class is present: macro one-vs-rest AUC is NaN',
                              stacklevel=2)
            macro_auc = float('nan')
        metrics = dict(accuracy=ratio(np.trace(cm), total),
                       balanced_accuracy=mean_defined(sens),
                       macro_auc=macro_auc)
        for name, sen, spe in zip(classes, sens, specs):
            metrics[f'sensitivity/{name}'] = sen
            metrics[f'specificity/{name}'] = spe
        metrics['confusion_matrix'] = cm.tolist()
        return metrics
