"""Tests for the label-fraction dataset wrapper."""
from collections import Counter

import numpy as np
import pytest
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

from osteo_mm.datasets.wrappers import LabelFractionDataset, select_label_fraction


class ToyDataset(BaseDataset):
    """40 patients with 2 images each; patients 0-29 are class 0, patients 30-39 class 1."""

    def load_data_list(self):
        return [dict(img_id=f'p{p:02d}_{k}.png', patient_id=f'p{p:02d}', gt_label=int(p >= 30))
                for p in range(40) for k in range(2)]


def _patients(infos, indices):
    return Counter(infos[i]['patient_id'] for i in indices)


def test_fraction_keeps_whole_patients_and_class_balance():
    infos = ToyDataset().load_data_list()
    kept = select_label_fraction(infos, 0.25, seed=3)
    patients = _patients(infos, kept)
    assert set(patients.values()) == {2}  # both images of every kept patient
    labels = Counter(infos[i]['gt_label'] for i in kept)
    assert labels == {0: 2 * 8, 1: 2 * 2}  # 25 % of 30 and of 10 patients (rounded)


def test_selection_is_seeded_and_nested():
    infos = ToyDataset().load_data_list()
    assert select_label_fraction(infos, 0.5, seed=1) == select_label_fraction(infos, 0.5, seed=1)
    assert select_label_fraction(infos, 0.5, seed=1) != select_label_fraction(infos, 0.5, seed=2)
    small = set(select_label_fraction(infos, 0.1, seed=1))
    assert small < set(select_label_fraction(infos, 0.25, seed=1))
    assert select_label_fraction(infos, 1.0) == list(range(len(infos)))


def test_rare_class_is_kept_and_patient_takes_most_severe_label():
    infos = [dict(img_id='a0', patient_id='a', gt_label=0), dict(img_id='a1', patient_id='a',
                                                                     gt_label=2)]
    infos += [dict(img_id=f'b{i}', patient_id=f'b{i}', gt_label=0) for i in range(20)]
    kept = select_label_fraction(infos, 0.1, seed=0)
    assert {0, 1} <= set(kept)  # patient 'a' is the only class-2 patient: kept whole
    assert len(kept) == 2 + 2


def test_multilabel_and_missing_patient_ids():
    infos = [dict(img_id=f'x{i}', patient_id='', gt_label=np.array([i % 2, 0]))
             for i in range(10)]
    kept = select_label_fraction(infos, 0.4, seed=0)
    assert len(kept) == 4  # each image is its own patient; 2 of 5 per stratum


@pytest.mark.parametrize('bad, match', [
    (dict(img_id='img7.png', patient_id='p'), "'img7.png' has no gt_label"),
    (dict(img_id='img7.png', patient_id='p', gt_label=-1), 'unlabelled'),
])
def test_unlabelled_sample_is_an_error(bad, match):
    with pytest.raises(ValueError, match=match):
        select_label_fraction([dict(img_id='ok', patient_id='q', gt_label=0), bad], 0.5)


def test_wrapper_builds_from_config_and_indexes_subset():
    DATASETS.register_module(module=ToyDataset, force=True)
    ds = DATASETS.build(dict(type='LabelFractionDataset', fraction=0.1, seed=0,
                             dataset=dict(type='ToyDataset')))
    assert isinstance(ds, LabelFractionDataset)
    assert len(ds) == 2 * (3 + 1)
    ids = {ds.get_data_info(i)['patient_id'] for i in range(len(ds))}
    assert ids == {ds[i]['patient_id'] for i in range(len(ds))}
    assert len(ids) == 4
    with pytest.raises(ValueError, match='fraction'):
        LabelFractionDataset(ToyDataset(), fraction=0)


def test_multilabel_sample_with_only_finding_zero_counts_as_positive():
    from osteo_mm.datasets.wrappers import _stratum
    assert _stratum({'gt_label': [0], 'img_id': 'a'}, 0) == 1
    assert _stratum({'gt_label': [], 'img_id': 'b'}, 1) == 0
    assert _stratum({'gt_label': [0], 'gt_score': np.array([1., 0.]), 'img_id': 'c'}, 2) == 1
