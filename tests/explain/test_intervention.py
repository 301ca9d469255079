"""ROI intervention: fills, control placement, effects on an analytic model, the summary."""
import numpy as np
import pandas as pd
import pytest
import torch
from analytic_models import box_classifier, box_mask

from osteo_mm.explain.intervention import (
    FILLS,
    RegionIntervention,
    control_regions,
    fill_regions,
    summarize_effects,
)

BOX = (8, 10, 18, 22)
SIZE = 40


def _images(n=3, seed=0):
    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('fill', FILLS)
def test_effect_is_nonzero_in_the_box_and_exactly_zero_for_controls_outside(fill):
    model = box_classifier(BOX)
    images = _images()
    regions = np.stack([box_mask(BOX, (SIZE, SIZE))] * len(images))
    reference = _images(seed=1) if fill == 'reference' else None
    result = RegionIntervention(model, fill=fill, controls=4, anatomy='all')(
        images, regions, [0, 1, 0], keys=[11, 12, 13], reference=reference)
    assert (np.abs(result.roi_effect) > 1e-4).all()
    assert result.n_controls.tolist() == [4, 4, 4]
    assert (result.control_effects == 0).all() and (result.control_effect == 0).all()
    # Original log-odds by hand: softmax two-class log-odds z_c - z_other.
    logits = model(images).detach()
    expected = (logits[[0, 1, 2], [0, 1, 0]] - logits[[0, 1, 2], [1, 0, 1]]).numpy()
    np.testing.assert_allclose(result.original, expected, rtol=1e-5, atol=1e-6)


def test_a_control_overlapping_the_box_has_an_effect():
    # The ROI is a small patch outside the box; its controls may land on the box.
    model = box_classifier(BOX)
    region = np.zeros((SIZE, SIZE), bool)
    region[30:36, 30:36] = True
    result = RegionIntervention(model, fill='mean', controls=200, anatomy='all')(
        _images(1), region[None], [1], keys=[0])
    assert result.roi_effect[0] == 0
    hits = [np.any(c & box_mask(BOX, (SIZE, SIZE))) for c in result.controls[0]]
    assert any(hits)
    effects = result.control_effects[0, :result.n_controls[0]]
    assert (effects[np.array(hits)] != 0).any() and (effects[~np.array(hits)] == 0).all()


def test_controls_have_the_region_shape_keep_clear_and_are_seeded():
    region = np.zeros((48, 48), bool)
    region[10:20, 12:16] = True
    region[20:24, 12:26] = True  # an L shape
    anatomy = np.zeros((48, 48), bool)
    anatomy[:, :40] = True
    controls = control_regions(region, anatomy, 6, np.random.default_rng(3))
    assert len(controls) == 6
    grown = np.zeros_like(region)
    ys, xs = np.nonzero(region)
    for y, x in zip(ys, xs):
        grown[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] = True
    template = region[10:24, 12:26]
    for control in controls:
        assert control.sum() == region.sum() and not (control & grown).any()
        cy, cx = np.nonzero(control)
        np.testing.assert_array_equal(control[cy.min():cy.min() + 14, cx.min():cx.min() + 14],
                                      template)
        assert (control & anatomy).sum() >= 0.9 * control.sum()
    again = control_regions(region, anatomy, 6, np.random.default_rng(3))
    assert all((a == b).all() for a, b in zip(controls, again))
    assert control_regions(region, np.zeros_like(anatomy), 3, np.random.default_rng(0)) == []
    assert control_regions(np.zeros_like(region), anatomy, 3, np.random.default_rng(0)) == []


def test_controls_do_not_depend_on_the_batch():
    model = box_classifier(BOX)
    images = _images(3)
    regions = np.stack([box_mask(BOX, (SIZE, SIZE))] * 3)
    intervention = RegionIntervention(model, fill='blur', controls=3, anatomy='all', seed=5)
    whole = intervention(images, regions, keys=[7, 8, 9])
    last = intervention(images[2:], regions[2:], keys=[9])
    assert all((a == b).all() for a, b in zip(whole.controls[2], last.controls[0]))
    np.testing.assert_allclose(whole.roi_effect[2], last.roi_effect[0], rtol=1e-5)


@pytest.mark.parametrize('fill', ['blur', 'inpaint', 'mean'])
def test_fills_change_only_the_region(fill):
    images = _images(2)
    regions = torch.zeros(2, SIZE, SIZE, dtype=torch.bool)
    regions[0, 5:15, 5:15] = True
    regions[1, 20:30, 2:9] = True
    out = fill_regions(images, regions, fill)
    outside = ~regions.unsqueeze(1).expand_as(images)
    assert torch.equal(out[outside], images[outside])
    assert not torch.equal(out[~outside], images[~outside])
    if fill == 'mean':
        keep = ~regions[0]
        np.testing.assert_allclose(out[0, :, 10, 10].numpy(),
                                   images[0][:, keep].mean(dim=1).numpy(), rtol=1e-5)


def test_forward_passes_are_two_plus_k_batched():
    model = box_classifier(BOX)
    sizes = []
    handle = model.register_forward_pre_hook(lambda m, args: sizes.append(len(args[0])))
    regions = np.stack([box_mask(BOX, (SIZE, SIZE))] * 5)
    RegionIntervention(model, fill='blur', controls=4, anatomy='all')(_images(5), regions)
    handle.remove()
    assert sizes == [5] * 6  # original, ROI, 4 controls: each one pass over the batch


def test_known_original_logits_save_the_first_pass_and_change_nothing():
    model = box_classifier(BOX)
    regions = np.stack([box_mask(BOX, (SIZE, SIZE))] * 5)
    images = _images(5)
    intervention = RegionIntervention(model, fill='blur', controls=4, anatomy='all')
    full = intervention(images, regions)
    with torch.no_grad():
        logits = model(images)
    sizes = []
    handle = model.register_forward_pre_hook(lambda m, args: sizes.append(len(args[0])))
    reused = intervention(images, regions, original_logits=logits)
    handle.remove()
    assert sizes == [5] * 5  # 1 + K
    for field in ('target_classes', 'original', 'roi_effect', 'control_effects', 'control_effect',
                  'n_controls'):
        np.testing.assert_array_equal(getattr(reused, field), getattr(full, field))
    with pytest.raises(ValueError, match='original_logits'):
        intervention(images, regions, original_logits=logits[:4])


def test_summary_uses_patient_means_and_counts_exclusions():
    table = pd.DataFrame(dict(
        img_id=['a', 'b', 'c', 'd', 'e', 'f', 'g'],
        patient_id=['p1', 'p1', 'p2', 'p3', 'p4', 'p5', ''],
        roi_effect=[1.0, 3.0, 2.0, 4.0, np.nan, 1.5, 0.5],
        control_effect=[0.0, 1.0, 0.5, 1.0, 0.2, np.nan, 0.1]))
    summary = summarize_effects(table, n_boot=200)
    assert summary['n_no_region'] == 1 and summary['n_no_controls'] == 1
    assert summary['n_used'] == 5 and summary['n_patients'] == 4  # p1, p2, p3, img:g
    diffs = np.array([1.5, 1.5, 3.0, 0.4])  # p1 mean (2 - 0.5), p2, p3, g
    assert summary['difference'] == pytest.approx(diffs.mean())
    assert summary['mean_roi_effect'] == pytest.approx(np.mean([2.0, 2.0, 4.0, 0.5]))
    assert summary['ci_low'] <= summary['difference'] <= summary['ci_high']
    from scipy.stats import wilcoxon
    assert summary['p_value'] == pytest.approx(wilcoxon(diffs).pvalue)
    assert summary['unit'] == 'patient'


@pytest.mark.parametrize('fill', ['blur', 'mean'])
def test_batched_effects_equal_one_fill_per_region(fill):
    # Oracle: fill each region separately with fill_regions and score the model on it.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 5, padding=2), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(16, 2)).eval()
    images = _images(3, seed=4)
    regions = np.zeros((3, SIZE, SIZE), bool)
    regions[:, 12:20, 15:25] = True
    result = RegionIntervention(model, fill=fill, controls=2, anatomy='all')(
        images, regions, classes=[1, 0, 1])

    def log_odds(x):
        with torch.no_grad():
            z = model(x).double()
        return torch.stack([z[i, c] - z[i, 1 - c] for i, c in enumerate([1, 0, 1])]).numpy()

    base = log_odds(images)
    roi = base - log_odds(fill_regions(images, torch.from_numpy(regions), fill))
    np.testing.assert_allclose(result.roi_effect, roi, rtol=1e-5, atol=1e-6)
    for j in range(2):
        masks = torch.from_numpy(np.stack([c[j] for c in result.controls]))
        np.testing.assert_allclose(result.control_effects[:, j],
                                   base - log_odds(fill_regions(images, masks, fill)),
                                   rtol=1e-5, atol=1e-6)
