from collections import Counter

import pytest
from mmpretrain.registry import DATA_SAMPLERS

import osteo_mm  # noqa: F401


class ToyDataset:
    """Minimal stand-in with MMPretrain's ``get_data_info`` interface."""

    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, idx):
        return dict(gt_label=self.labels[idx])


def test_minority_class_is_drawn_about_as_often_as_majority():
    dataset = ToyDataset([0] * 90 + [1] * 10)
    sampler = DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', num_samples=4000, seed=0),
                                  default_args=dict(dataset=dataset))
    counts = Counter(dataset.labels[i] for i in sampler)
    assert len(sampler) == 4000
    assert 0.45 < counts[1] / 4000 < 0.55


def test_epochs_differ_but_are_reproducible():
    sampler = DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', seed=3),
                                  default_args=dict(dataset=ToyDataset([0, 1, 1, 2] * 5)))
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) == first != second


def test_multilabel_dataset_is_rejected():
    with pytest.raises(ValueError, match='image 1'):
        DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', seed=0),
                            default_args=dict(dataset=ToyDataset([0, [0, 1]])))
