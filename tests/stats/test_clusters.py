import numpy as np
import pytest

from osteo_mm.stats import (
    cluster_codes,
    is_clustered,
    patient_groups,
    patient_means,
    patient_strata,
    unit_of_analysis,
)


def test_patient_groups_give_unknown_patients_their_own_cluster():
    groups = patient_groups(['a', '', 'a', None, 'b'], ['i0', 'i1', 'i2', 'i3', 'i4'])
    assert list(groups) == ['pid:a', 'img:i1', 'pid:a', 'img:i3', 'pid:b']
    # A patient called like an image id never merges with that image.
    assert len(set(patient_groups(['i1', ''], ['x', 'i1']))) == 2
    assert list(cluster_codes(groups)) == [0, 1, 0, 2, 3]
    with pytest.raises(ValueError, match='2 patient ids but 1 image ids'):
        patient_groups(['a', 'b'], ['x'])


def test_unit_of_analysis_counts_patients_and_images():
    assert unit_of_analysis(['a', 'a', 'b', '']) == ('patient', 3, 4)
    assert unit_of_analysis(['', '', '']).as_dict() == dict(unit='image', n_patients=3,
                                                           n_images=3)
    assert is_clustered(['a', 'a', 'b']) and not is_clustered(['a', 'b']) and not is_clustered(
        None)


def test_patient_strata_mark_patients_with_a_positive_image():
    labels = np.array([0, 1, 0, 0, 0, 1])
    groups = np.array(['a', 'a', 'b', 'b', 'c', 'd'])
    assert list(patient_strata(labels, groups)) == [1, 1, 0, 0, 0, 1]
    assert list(patient_strata([0, 2, 1], ['x', 'x', 'y'])) == [2, 2, 1]  # worst WHO class
    assert list(patient_strata(labels, None)) == list(labels)


def test_patient_means_average_within_patients_and_keep_singletons_untouched():
    values = np.array([1.0, 3.0, 10.0, 4.0])
    means, counts = patient_means(values, ['a', 'a', 'b', 'c'])
    np.testing.assert_allclose(means, [2.0, 10.0, 4.0])
    assert list(counts) == [2, 1, 1]
    same, _ = patient_means(values, ['a', 'b', 'c', 'd'])
    assert same is not None and np.array_equal(same, values)
    two, _ = patient_means(np.stack([values, 2 * values], 1), ['a', 'a', 'b', 'b'])
    np.testing.assert_allclose(two, [[2.0, 4.0], [7.0, 14.0]])
