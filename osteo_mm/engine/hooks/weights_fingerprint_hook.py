"""Tell the metrics which weights they evaluate (binds a validation threshold to a checkpoint)."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from osteo_mm.utils.threshold_record import WEIGHTS_INFO_KEY, weights_sha256


@HOOKS.register_module()
class WeightsFingerprintHook(Hook):
    """Put the SHA-256 of the model's weights into the MessageHub before validation and test.

    ``BinaryDiagnosticMetric`` writes it into the threshold record (``threshold='youden'``) and
    checks it when reading the record back (``threshold='from_val'``). The hash equals
    :func:`osteo_mm.utils.threshold_record.checkpoint_fingerprint` of a checkpoint saved from the
    same weights. Priority ``LOW`` runs it after ``EMAHook`` has swapped in the averaged weights
    (which the checkpoint's ``state_dict`` also holds). No config keys.
    """

    priority = 'LOW'

    def _update(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        runner.message_hub.update_info(WEIGHTS_INFO_KEY, weights_sha256(model.state_dict()))

    def before_val_epoch(self, runner) -> None:
        self._update(runner)

    def before_test_epoch(self, runner) -> None:
        self._update(runner)
