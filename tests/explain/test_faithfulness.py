"""Deletion / insertion curves against a brute-force loop and an analytic model."""
import numpy as np
import torch
from analytic_models import box_classifier, box_mask

from osteo_mm.explain.faithfulness import curve_auc, deletion_insertion, saliency_ranks
from osteo_mm.explain.intervention import gaussian_blur

BOX = (8, 10, 18, 22)
SIZE = 32


def _images(n, seed=0):
    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


def test_curves_equal_a_brute_force_loop():
    model = box_classifier(BOX)
    images = _images(2)
    maps = torch.rand(2, SIZE, SIZE, generator=torch.Generator().manual_seed(1))  # no ties
    steps = 4
    out = deletion_insertion(model, images, maps, [0, 1], steps=steps, batch_size=3)
    blurred = gaussian_blur(images, SIZE / 16)
    for i, c in enumerate([0, 1]):
        order = np.argsort(-maps[i].numpy().ravel())
        for k in range(steps + 1):
            top = np.zeros(SIZE * SIZE, bool)
            top[order[:round(k * SIZE * SIZE / steps)]] = True
            top = torch.from_numpy(top.reshape(SIZE, SIZE))
            deleted = torch.where(top, torch.zeros(()), images[i])
            inserted = torch.where(top, images[i], blurred[i])
            with torch.no_grad():
                p_del = model(deleted[None]).softmax(1)[0, c].item()
                p_ins = model(inserted[None]).softmax(1)[0, c].item()
            assert abs(out['deletion_curve'][i, k] - p_del) < 1e-5
            assert abs(out['insertion_curve'][i, k] - p_ins) < 1e-5
    curve = out['deletion_curve']
    np.testing.assert_allclose(out['deletion_auc'], np.trapezoid(curve, dx=1 / steps, axis=1))


def test_a_map_of_the_box_beats_its_complement_on_the_analytic_model():
    model = box_classifier(BOX)
    images = _images(3)
    with torch.no_grad():
        classes = model(images).argmax(1).tolist()
    box = torch.from_numpy(box_mask(BOX, (SIZE, SIZE))).float()
    steps = 8
    good = deletion_insertion(model, images, box.expand(3, -1, -1), classes, steps=steps)
    bad = deletion_insertion(model, images, (1 - box).expand(3, -1, -1), classes, steps=steps)
    assert (good['deletion_auc'] < bad['deletion_auc']).all()
    assert (good['insertion_auc'] > bad['insertion_auc']).all()
    # Deleting pixels outside the box first leaves the score exactly unchanged until the box
    # is reached: 120 of 1,024 px lie in the box, so the first 7 of 8 steps stay flat.
    flat = bad['deletion_curve'][:, :8]
    assert (flat == flat[:, :1]).all()


def test_ties_are_broken_by_a_seeded_random_order():
    zero = torch.zeros(1, 6, 6)
    a, b, c = saliency_ranks(zero, 0), saliency_ranks(zero, 0), saliency_ranks(zero, 1)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert sorted(a[0].tolist()) == list(range(36))
    ramp = torch.arange(36.0).view(1, 6, 6)
    assert saliency_ranks(ramp)[0].tolist() == list(range(35, -1, -1))


def test_curve_auc_is_the_trapezoid():
    assert curve_auc(np.array([[1.0, 0.0], [1.0, 1.0]])).tolist() == [0.5, 1.0]
