"""Pack X-ray samples into MMPretrain ``DataSample`` objects."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackXrayInputs(PackInputs):
    """MMPretrain's ``PackInputs`` plus the X-ray metainfo and the expert ROI mask.

    The data sample gets the metainfo ``img_id``, ``patient_id``, ``img_shape``, ``ori_shape``,
    ``transform_matrix`` (and the other ``meta_keys`` present), ``has_roi``, and, when the
    sample has an expert ROI, the data field ``roi_mask`` (torch.uint8, H x W, network-input
    coordinates).

    Args:
        input_key (str): Key of the network input. Defaults to 'img'.
        algorithm_keys (Sequence[str]): Extra data fields to carry. Defaults to ().
        meta_keys (Sequence[str]): Metainfo keys. Defaults to :attr:`DEFAULT_META_KEYS`.
    """

    DEFAULT_META_KEYS = ('sample_idx', 'img_path', 'img_id', 'patient_id', 'ori_shape',
                         'img_shape', 'transform_matrix', 'flip', 'flip_direction',
                         'valid_shape')

    def __init__(self,
                 input_key: str = 'img',
                 algorithm_keys: Sequence[str] = (),
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        super().__init__(input_key=input_key, algorithm_keys=algorithm_keys, meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack ``results`` into ``inputs`` and ``data_samples``.

        Args:
            results (dict): The transformed sample.

        Returns:
            dict: ``inputs`` (tensor) and ``data_samples`` (``DataSample``).

        Raises:
            ValueError: If the ROI mask and the image differ in size.
        """
        packed = super().transform(results)
        sample = packed['data_samples']
        mask = results.get('roi_mask')
        sample.set_metainfo(dict(has_roi=mask is not None))
        if mask is not None:
            if mask.shape[:2] != results[self.input_key].shape[:2]:
                raise ValueError(f'roi_mask shape {mask.shape[:2]} differs from image shape '
                                 f'{results[self.input_key].shape[:2]} for '
                                 f'{results.get("img_path")}')
            sample.set_field(torch.from_numpy(np.ascontiguousarray(mask, dtype=np.uint8)),
                             'roi_mask')
        return packed
