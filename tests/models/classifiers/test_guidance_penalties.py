"""The guidance penalties on a tiny model whose evidence map is set by hand."""
import pytest
import torch
import torch.nn as nn
from mmpretrain.structures import DataSample

from osteo_mm.models.classifiers import GuidedImageClassifier

SIZE = 32
ROI = (slice(8, 16), slice(8, 16))  # rows, cols of the expert ROI

GUIDANCES = [
    dict(type='InputGradientGuidance', weight=1.0),
    dict(type='CAMAlignmentGuidance', weight=1.0, target_layer='backbone.evidence'),
    dict(type='CAMAlignmentGuidance', weight=1.0, target_layer='backbone.evidence',
         loss='correlation'),
    dict(type='CAMAlignmentGuidance', weight=1.0, target_layer='backbone.evidence',
         loss='cosine'),
]


class EvidenceBackbone(nn.Module):
    """Feature map ``x * evidence``: the model can only see where ``evidence`` is non-zero."""

    def __init__(self, evidence: torch.Tensor) -> None:
        super().__init__()
        self.evidence_map = nn.Parameter(evidence)
        self.evidence = nn.Identity()  # hook point for Grad-CAM

    def forward(self, x: torch.Tensor) -> tuple:
        return (self.evidence(x * self.evidence_map),)


def build_model(guidance: dict, evidence: torch.Tensor) -> GuidedImageClassifier:
    """Classifier scoring class 0 by the mean evidence-weighted intensity (class 1 fixed)."""
    model = GuidedImageClassifier(
        guidance=guidance,
        backbone=EvidenceBackbone(evidence),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=3))
    with torch.no_grad():
        model.head.fc.weight.copy_(torch.tensor([[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]))
        model.head.fc.bias.zero_()
    return model


def blob(shift: int) -> torch.Tensor:
    """An 8 x 8 evidence blob level with the ROI, ``shift`` pixels to its right."""
    evidence = torch.zeros(SIZE, SIZE)
    evidence[8:16, 8 + shift:16 + shift] = 1.0
    return evidence


def roi_sample(label: int = 0) -> DataSample:
    """A packed sample with the expert ROI, as ``PackXrayInputs`` builds it."""
    mask = torch.zeros(SIZE, SIZE, dtype=torch.uint8)
    mask[ROI] = 1
    sample = DataSample().set_gt_label(label)
    sample.set_field(True, 'has_roi', field_type='metainfo')
    sample.set_field(mask, 'roi_mask')
    return sample


def plain_sample(label: int = 0) -> DataSample:
    """A packed sample without expert ROI."""
    sample = DataSample().set_gt_label(label)
    sample.set_field(False, 'has_roi', field_type='metainfo')
    return sample


@pytest.mark.parametrize('guidance', GUIDANCES, ids=lambda g: g['type'])
def test_penalty_is_zero_inside_roi_and_grows_as_evidence_moves_out(guidance):
    inputs = torch.ones(1, 3, SIZE, SIZE)
    penalties = [
        build_model(guidance, blob(shift)).loss(inputs, [roi_sample()])['loss_guidance'].item()
        for shift in (0, 2, 4, 6, 8)
    ]
    assert penalties[0] == pytest.approx(0.0, abs=1e-5)
    assert all(later > earlier for earlier, later in zip(penalties, penalties[1:]))


def test_cam_penalty_is_the_share_of_cam_mass_outside_the_roi():
    model = build_model(GUIDANCES[1], blob(shift=2))  # 2 of the blob's 8 columns are outside
    penalty = model.loss(torch.ones(1, 3, SIZE, SIZE), [roi_sample()])['loss_guidance']
    assert penalty.item() == pytest.approx(2 / 8, abs=1e-5)


@pytest.mark.parametrize('guidance', GUIDANCES, ids=lambda g: g['type'])
def test_weight_scales_the_penalty(guidance):
    inputs = torch.ones(1, 3, SIZE, SIZE)
    unit = build_model(guidance, blob(4)).loss(inputs, [roi_sample()])['loss_guidance']
    scaled = build_model(dict(guidance, weight=3.0), blob(4)).loss(inputs, [roi_sample()])
    assert scaled['loss_guidance'].item() == pytest.approx(3 * unit.item(), rel=1e-5)


@pytest.mark.parametrize('guidance', GUIDANCES, ids=lambda g: g['type'])
def test_images_without_roi_contribute_exactly_zero(guidance):
    model = build_model(guidance, blob(4))
    inputs = torch.rand(2, 3, SIZE, SIZE, requires_grad=True)
    alone = model.loss(inputs[:1], [roi_sample()])['loss_guidance']
    mixed = model.loss(inputs, [roi_sample(), plain_sample(1)])
    assert mixed['loss_guidance'].item() == pytest.approx(alone.item(), rel=1e-6)
    assert mixed['roi_frac'].item() == 0.5


@pytest.mark.parametrize('guidance', GUIDANCES, ids=lambda g: g['type'])
def test_penalty_trains_the_evidence_map(guidance):
    model = build_model(guidance, blob(4))
    model.loss(torch.ones(1, 3, SIZE, SIZE), [roi_sample()])['loss_guidance'].backward()
    grad = model.backbone.evidence_map.grad
    outside = torch.ones(SIZE, SIZE, dtype=torch.bool)
    outside[ROI] = False
    # gradient descent lowers the evidence outside the ROI
    assert (grad[outside & (blob(4) > 0)] > 0).all()


def test_cam_penalty_sees_evidence_routed_through_the_other_class():
    model = build_model(GUIDANCES[1], blob(shift=8))  # all evidence outside the ROI
    with torch.no_grad():  # the blob now only raises class 1's score; the label is class 0
        model.head.fc.weight.copy_(torch.tensor([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]))
    penalty = model.loss(torch.ones(1, 3, SIZE, SIZE), [roi_sample(label=0)])['loss_guidance']
    assert penalty.item() == pytest.approx(1.0, abs=1e-5)
    model = build_model(GUIDANCES[2], blob(shift=0))  # evidence exactly on the ROI ...
    with torch.no_grad():  # ... but it raises the other class's score
        model.head.fc.weight.copy_(torch.tensor([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]))
    penalty = model.loss(torch.ones(1, 3, SIZE, SIZE), [roi_sample(label=0)])['loss_guidance']
    assert penalty.item() == pytest.approx(2.0, abs=1e-5)  # signed map = -ROI: corr = -1


def test_correlation_penalty_asks_for_the_whole_roi_where_the_mass_penalty_does_not():
    half = blob(0)
    half[:, 12:] = 0.0  # evidence on the ROI's left half only: no mass outside it
    inputs = torch.ones(1, 3, SIZE, SIZE)
    mass, corr = (build_model(guidance, half.clone()).loss(inputs, [roi_sample()])
                  ['loss_guidance'].item() for guidance in GUIDANCES[1:3])
    assert mass == pytest.approx(0.0, abs=1e-6)
    # corr(half blob, ROI) = sqrt(1/2 * (1 - 1/16) / (1 - 1/32)) for these areas (32 / 64 cells
    # of 1024); the penalty is one minus that
    assert corr == pytest.approx(1 - (0.5 * (1 - 64 / 1024) / (1 - 32 / 1024)) ** 0.5, abs=1e-4)
    model = build_model(GUIDANCES[2], half.clone())
    model.loss(inputs, [roi_sample()])['loss_guidance'].backward()
    grad = model.backbone.evidence_map.grad
    assert (grad[8:16, 12:16] < 0).all()  # descent raises the evidence on the uncovered half


def test_cosine_penalty_refuses_a_map_that_is_negative_everywhere():
    # evidence = ROI - 2: the signed map is the ROI shifted below zero everywhere, which a
    # visualisation's ReLU erases; correlation accepts it, cosine does not.
    shifted = blob(0) - 2.0
    inputs = torch.ones(1, 3, SIZE, SIZE)
    corr, cosine = (build_model(guidance, shifted.clone()).loss(inputs, [roi_sample()])
                    ['loss_guidance'].item() for guidance in GUIDANCES[2:])
    assert corr == pytest.approx(0.0, abs=1e-5)
    # <s, m> = 64 * (1 - 2), |s| = sqrt(64 * 1 + 960 * 4), |m| = 8
    assert cosine == pytest.approx(1 + 64 / (8 * (64 + 960 * 4) ** 0.5), abs=1e-4)


def test_unknown_cam_guidance_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown CAM guidance loss 'dice'"):
        build_model(dict(GUIDANCES[1], loss='dice'), blob(0))
