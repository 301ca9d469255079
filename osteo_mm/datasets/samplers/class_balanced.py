"""Class-balanced sampling for imbalanced single-label X-ray datasets."""
import math
from typing import Iterator, Optional, Sized

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmpretrain.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(Sampler):
    """Draw images with replacement so that every class is sampled equally often on average.

    Each image gets weight ``1 / (number of images of its class)``; an epoch draws
    ``num_samples`` indices from that distribution with a generator seeded by
    ``seed + epoch``, identical on all ranks, and each rank takes every ``world_size``-th
    index. The draw is padded to a multiple of the world size (extra draws from the same
    distribution), so every rank yields the same number of indices and DDP cannot wait on a
    rank that ran out. Use it as ``train_dataloader.sampler`` (``DistSamplerSeedHook`` calls
    :meth:`set_epoch`). Multi-label datasets are not supported (their "class" is undefined).

    Config keys:
        num_samples (int, optional): Indices per epoch over all ranks, rounded up to a
            multiple of the world size. Defaults to the dataset length.
        seed (int, optional): Base seed, synchronised across ranks when None.

    Args:
        dataset (Sized): Dataset whose ``get_data_info(i)['gt_label']`` is a class index.
        num_samples (int, optional): See config keys.
        seed (int, optional): See config keys.

    Raises:
        ValueError: If a ``gt_label`` is missing or not a single class index.
    """

    def __init__(self, dataset: Sized, num_samples: Optional[int] = None,
                 seed: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        labels = self._labels(dataset)
        _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        self.weights = torch.as_tensor(1.0 / counts[inverse], dtype=torch.double)
        requested = num_samples if num_samples is not None else len(dataset)
        self.num_samples = math.ceil(requested / self.world_size)
        self.total_size = self.num_samples * self.world_size
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0

    @staticmethod
    def _labels(dataset: Sized) -> np.ndarray:
        """One class index per image."""
        labels = [dataset.get_data_info(i).get('gt_label') for i in range(len(dataset))]
        for i, label in enumerate(labels):
            if label is None or np.ndim(label) != 0:
                raise ValueError(f'ClassBalancedSampler needs one class index per image; image '
                                 f'{i} has gt_label={label!r}')
        return np.asarray(labels, dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        """Yield this rank's indices for the current epoch."""
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        indices = torch.multinomial(self.weights, self.total_size, replacement=True,
                                    generator=generator)
        return iter(indices[self.rank::self.world_size].tolist())

    def __len__(self) -> int:
        """Number of indices this rank yields per epoch."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch so each epoch draws a different, reproducible sample.

        Args:
            epoch (int): The epoch number.
        """
        self.epoch = epoch
