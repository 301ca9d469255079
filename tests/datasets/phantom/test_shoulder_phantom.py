"""The shoulder phantom: WHO labels, expert ROI placement, shortcut marker, and where the signal
lives (inside the ROI, not in the global intensity histogram)."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from osteo_mm.datasets.phantom import (
    POSE_SHIFT,
    ROI_DIAPHYSIS,
    ROI_HEAD,
    cortical_index,
    render_shoulder,
    sample_patient,
    shoulder_image,
)


def _patient(i, seed=0):
    return sample_patient(np.random.default_rng([seed, i]), i)


def test_who_label_follows_t_score_thresholds():
    patients = [_patient(i) for i in range(300)]
    for p in patients:
        expected = 2 if p.t_score <= -2.5 else (0 if p.t_score >= -1.0 else 1)
        assert p.who_label == expected, p
    counts = np.bincount([p.who_label for p in patients], minlength=3)
    assert (counts >= 30).all(), f'every WHO class must be common, got {counts}'


def test_t_score_drives_cortex_and_trabeculae():
    patients = [_patient(i) for i in range(300)]
    t = np.array([p.t_score for p in patients])
    assert np.corrcoef(t, [p.dti for p in patients])[0, 1] > 0.8
    assert np.corrcoef(t, [p.trabecular_density for p in patients])[0, 1] > 0.7
    age = np.array([p.age for p in patients])
    assert np.corrcoef(age, t)[0, 1] < -0.3, 'T-scores must fall with age'


@pytest.mark.parametrize('side', ['R', 'L'])
def test_roi_lies_on_the_humerus_inside_the_image(side):
    for i in range(5):
        view = render_shoulder(_patient(i), np.random.default_rng([1, i]), 64, side=side)
        assert view.image.shape == (64, 64) and view.image.dtype == np.float32
        assert 0.0 <= view.image.min() and view.image.max() <= 1.0
        assert view.side == side
        assert set(np.unique(view.roi_mask)) == {0, ROI_DIAPHYSIS, ROI_HEAD}
        head = view.roi_mask == ROI_HEAD
        shaft = view.roi_mask == ROI_DIAPHYSIS
        assert view.humerus_mask[head].all()
        # The diaphysis ROI is the bone plus a rim of soft tissue around the cortex.
        assert view.humerus_mask[shaft].mean() > 0.6
        assert len(view.roi_boxes) == 2
        for value, (x, y, w, h) in zip((ROI_DIAPHYSIS, ROI_HEAD), view.roi_boxes):
            ys, xs = np.nonzero(view.roi_mask == value)
            assert (x, y, x + w - 1, y + h - 1) == (xs.min(), ys.min(), xs.max(), ys.max())
        # The head sits above the diaphysis ROI on an AP film.
        assert np.nonzero(head)[0].mean() < np.nonzero(shaft)[0].mean()


def test_side_mirrors_the_anatomy():
    right = render_shoulder(_patient(0), np.random.default_rng(5), 64, side='R')
    left = render_shoulder(_patient(0), np.random.default_rng(5), 64, side='L')
    head_x = [np.nonzero(v.roi_mask == ROI_HEAD)[1].mean() for v in (right, left)]
    assert head_x[0] < 32 < head_x[1]


def test_marker_changes_only_its_box():
    patient = _patient(3)
    plain, no_box = shoulder_image(patient, np.random.default_rng(9), 64, marker=False)
    marked, (x, y, w, h) = shoulder_image(patient, np.random.default_rng(9), 64, marker=True)
    assert no_box is None
    outside = np.ones((64, 64), bool)
    outside[y:y + h, x:x + w] = False
    np.testing.assert_array_equal(plain.image[outside], marked.image[outside])
    tag = marked.image[y:y + h, x:x + w]
    assert tag.max() == 1.0 and (tag < 0.5).any(), 'a bright tag with a dark letter'


def test_signal_is_local_not_global():
    histograms, index, positive = [], [], []
    for i in range(300):
        patient = _patient(i, seed=11)
        view = render_shoulder(patient, np.random.default_rng([11, i, 1]), 64)
        histograms.append(np.histogram(view.image, bins=32, range=(0, 1))[0] / view.image.size)
        index.append(cortical_index(view.image, view.roi_mask))
        positive.append(patient.who_label == 2)
    positive = np.array(positive)
    assert 40 <= positive.sum() <= 120
    prob = cross_val_predict(LogisticRegression(max_iter=2000), np.array(histograms), positive,
                             cv=5, method='predict_proba')[:, 1]
    global_auc = roc_auc_score(positive, prob)
    local_auc = roc_auc_score(positive, -np.array(index))
    assert global_auc < 0.65, f'global histogram AUC {global_auc:.3f}'
    assert local_auc >= 0.85, f'ROI cortical index AUC {local_auc:.3f}'


def test_cortical_index_needs_a_diaphysis_roi():
    with pytest.raises(ValueError, match='no diaphyseal region'):
        cortical_index(np.ones((8, 8)), np.full((8, 8), ROI_HEAD, np.uint8))


@pytest.mark.parametrize('mode, outside', [('anatomy', (0.3, 1.0)), ('roi', (0.0, 0.0))])
def test_signal_region_confines_the_bone_signal(mode, outside):
    # Same film (same random stream), a weak and a strong skeleton: where do the pixels differ?
    import dataclasses

    import cv2

    patient = _patient(0, seed=1)
    weak = dataclasses.replace(patient, dti=1.25, trabecular_density=0.2)
    strong = dataclasses.replace(patient, dti=1.7, trabecular_density=0.5)
    a = render_shoulder(weak, np.random.default_rng(5), 128, 'R', mode)
    b = render_shoulder(strong, np.random.default_rng(5), 128, 'R', mode)
    diff = np.abs(a.image - b.image)
    roi = cv2.dilate((a.roi_mask > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (a.roi_mask == b.roi_mask).all()
    assert diff[roi].sum() > 1.0  # the signal is there ...
    share = diff[~roi].sum() / diff.sum()
    assert outside[0] <= share <= outside[1], f'{mode}: {share:.3f} of the difference outside'


def test_signal_region_keeps_the_default_film_and_rejects_unknown_modes():
    patient = _patient(3)
    default = render_shoulder(patient, np.random.default_rng(9), 64)
    anatomy = render_shoulder(patient, np.random.default_rng(9), 64, signal_region='anatomy')
    np.testing.assert_array_equal(default.image, anatomy.image)
    with pytest.raises(ValueError, match='signal_region'):
        render_shoulder(patient, np.random.default_rng(9), 64, signal_region='cortex')


def test_pose_shift_moves_the_anatomy_and_nothing_else():
    def films(pose_shift):
        return [render_shoulder(_patient(i), np.random.default_rng([5, i]), 96,
                                pose_shift=pose_shift) for i in range(40)]

    default, wide = films(POSE_SHIFT), films(0.2)
    np.testing.assert_array_equal(
        render_shoulder(_patient(0), np.random.default_rng([5, 0]), 96).image, default[0].image)
    centres = {name: np.array([np.argwhere(v.roi_mask > 0).mean(0) for v in views])
               for name, views in (('default', default), ('wide', wide))}
    # Same patients, sides and poses: only the position of the anatomy changed ...
    assert [v.side for v in default] == [v.side for v in wide]
    areas = np.array([[(a.roi_mask > 0).sum(), (b.roi_mask > 0).sum()]
                      for a, b in zip(default, wide)], float)
    assert np.all(np.abs(areas[:, 1] / areas[:, 0] - 1) < 0.1)
    # ... and it spreads over the film (row spread about 3x, columns less: the sides mirror).
    spread = {name: c.std(0) for name, c in centres.items()}
    assert spread['wide'][0] > 2 * spread['default'][0]
    assert spread['wide'][1] > 1.2 * spread['default'][1]
