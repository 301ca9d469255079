"""MMPretrain's classification data preprocessor with an optional channels-last output."""
import torch
from mmpretrain.models import ClsDataPreprocessor
from mmpretrain.registry import MODELS


@MODELS.register_module()
class XrayClsDataPreprocessor(ClsDataPreprocessor):
    """``ClsDataPreprocessor`` that can hand the batch over in channels-last memory format.

    A CNN given a channels-last input runs its convolutions channels-last (cuDNN and oneDNN pick
    the layout from the input), which Tensor Cores prefer under bf16/fp16 autocast; the weights
    are converted on the fly, so the model itself needs no change and checkpoints keep the usual
    layout. Everything else (normalisation, batch augments, labels) is MMPretrain's.

    Args:
        channels_last (bool): Return ``inputs`` channels-last. Defaults to False.
        **kwargs: ``ClsDataPreprocessor`` arguments (``mean``, ``std``, ``num_classes``, ...).

    Examples:
        >>> pre = XrayClsDataPreprocessor(channels_last=True, mean=[0.] * 3, std=[1.] * 3)
        >>> out = pre(dict(inputs=[torch.zeros(3, 8, 8, dtype=torch.uint8)]))
        >>> out['inputs'].is_contiguous(memory_format=torch.channels_last)
        True
    """

    def __init__(self, channels_last: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.channels_last = channels_last

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if self.channels_last and data['inputs'].dim() == 4:
            data['inputs'] = data['inputs'].contiguous(memory_format=torch.channels_last)
        return data
