"""Shoulder AP radiograph phantom whose bone quality follows a latent DXA T-score.

The T-score (drawn from age and sex) drives the two places experts read on a shoulder film:
the cortical thickness of the proximal humeral diaphysis at the deltoid tuberosity (Deltoid
Tuberosity Index, DTI = outer / inner cortical diameter) and the trabecular density of the
humeral head. Both are coupled to T with noise, so the WHO label is learnable but not trivial,
and everything else on the film (pose, exposure, soft tissue) is independent of the label.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import cv2
import numpy as np

from ..labels import t_score_to_who
from .draw import (
    burn_marker,
    canonical_grid,
    chord,
    ellipse_radius,
    ellipsoid,
    expose,
    mask_boxes,
    pose_matrix,
    sample_canonical,
    segment,
    shell,
    to_pixels,
    trabecular_texture,
)

#: Values of the ``roi_mask`` PNG: diaphyseal cortex at the deltoid tuberosity, humeral head.
ROI_DIAPHYSIS, ROI_HEAD = 1, 2

# Linear attenuation per canonical unit of path (arbitrary but film-like relative values).
_MU_SOFT, _MU_LUNG_AIR, _MU_CORTEX, _MU_MARROW, _MU_TRABECULA = 0.55, 0.35, 14.0, 0.9, 3.5

# Deltoid tuberosity: distance down the humeral axis from the top of the metaphysis.
_DT_LEVEL = 0.34
#: Default largest translation of the anatomy on the film, per axis, in canonical units.
POSE_SHIFT = 0.06

#: Where the T-score shows on the film: ``'anatomy'`` (cortex of the whole diaphysis, trabeculae
#: of head and metaphysis, as in bone) or ``'roi'`` (only inside the expert ROI; elsewhere the
#: bone of a reference patient), the variant for testing explanations against expert regions.
SIGNAL_REGIONS = ('anatomy', 'roi')
# The reference patient of the 'roi' variant: T = -1.0 on the mean T -> DTI / density lines.
_REF_DTI, _REF_DENSITY = 1.52 - 0.085, 0.36 - 0.045


@dataclass(frozen=True)
class ShoulderPatient:
    """Latent per-patient truth of the shoulder phantom.

    Attributes:
        index (int): 0-based patient number.
        age (int): Age in years.
        sex (str): ``'F'`` or ``'M'``.
        t_score (float): Latent DXA T-score (rounded to 0.1 as DXA reports it).
        dti (float): True Deltoid Tuberosity Index (outer / inner cortical diameter).
        trabecular_density (float): Bone area fraction of the humeral head trabeculae.
    """

    index: int
    age: int
    sex: str
    t_score: float
    dti: float
    trabecular_density: float

    @property
    def patient_id(self) -> str:
        """Pseudonymous id, e.g. ``'PH0001'``."""
        return f'PH{self.index + 1:04d}'

    @property
    def who_label(self) -> int:
        """WHO class index of the T-score."""
        return t_score_to_who(self.t_score)


def sample_patient(rng: np.random.Generator, index: int) -> ShoulderPatient:
    """Draw a patient: age, sex, T-score and the bone parameters it drives.

    T-scores fall with age, faster in women (roughly the NHANES III pattern); the DTI and the
    trabecular density are linear in T plus independent noise, which caps how well any image
    feature can predict the label.

    Args:
        rng (np.random.Generator): The patient's random source.
        index (int): 0-based patient number.

    Returns:
        ShoulderPatient: The latent truth.
    """
    sex = 'F' if rng.random() < 0.7 else 'M'
    age = int(rng.integers(50, 91))
    decline = 0.05 if sex == 'F' else 0.03
    mean_t = -0.4 - decline * (age - 50)
    t_score = round(float(np.clip(rng.normal(mean_t, 1.1), -5.0, 3.0)), 1)
    dti = float(np.clip(1.52 + 0.085 * t_score + rng.normal(0.0, 0.035), 1.12, 1.9))
    density = float(np.clip(0.36 + 0.045 * t_score + rng.normal(0.0, 0.03), 0.1, 0.6))
    return ShoulderPatient(index, age, sex, t_score, dti, density)


@dataclass(frozen=True)
class ShoulderView:
    """One rendered shoulder film and its annotations.

    Attributes:
        image (np.ndarray): float32 image in ``[0, 1]`` (bone bright).
        roi_mask (np.ndarray): uint8 mask, :data:`ROI_DIAPHYSIS` / :data:`ROI_HEAD` / 0.
        roi_boxes (list[tuple[int, int, int, int]]): ``(x, y, w, h)`` per ROI region.
        side (str): ``'R'`` or ``'L'``.
        humerus_mask (np.ndarray): bool mask of the humerus outline (for tests and checks).
    """

    image: np.ndarray
    roi_mask: np.ndarray
    roi_boxes: list[tuple[int, int, int, int]]
    side: str
    humerus_mask: np.ndarray


def _soft_tissue(u: np.ndarray, v: np.ndarray, head: tuple[float, float],
                 axis_end: tuple[float, float], bulk: float) -> np.ndarray:
    """Soft-tissue path: trunk, deltoid and arm, with the lung as a low-density region."""
    trunk = ellipsoid(u, v, (1.05, 0.95), (0.72, 0.8), 1.3)
    deltoid = ellipsoid(u, v, (head[0] + 0.02, head[1] + 0.08), (0.24 * bulk, 0.3), 0.8)
    _, _, arm_dist = segment(u, v, (head[0], head[1] + 0.1), axis_end)
    arm = chord(arm_dist, 0.2 * bulk)
    tissue = np.maximum(np.maximum(trunk, deltoid), arm)
    lung = ellipsoid(u, v, (1.12, 0.78), (0.42, 0.55), 0.9)
    return _MU_SOFT * tissue - _MU_LUNG_AIR * lung


def _ribs(u: np.ndarray, v: np.ndarray, tilt: float) -> np.ndarray:
    """Path through the upper posterior ribs at the medial edge of the film."""
    chest_wall = np.clip((1.0 - ellipse_radius(u, v, (1.1, 0.98), (0.55, 0.8))) / 0.05, 0.0, 1.0)
    inside = chest_wall > 0
    # Evaluated on the chest-wall pixels only: the rings cost most of a film otherwise.
    uu, vv = u[inside], v[inside]
    path = np.zeros_like(uu)
    for k in range(7):
        centre = (1.3, -0.1 + 0.14 * k + tilt)
        ring = np.abs(np.hypot(uu - centre[0], vv - centre[1]) - 0.6)
        path += shell(ring, 0.016, 0.009) + 0.15 * chord(ring, 0.009)
    out = np.zeros_like(u)
    out[inside] = path * chest_wall[inside]
    return out


def _scapula(u: np.ndarray, v: np.ndarray, matrix: np.ndarray, size: int,
             head: tuple[float, float], head_r: float) -> np.ndarray:
    """Path through glenoid, scapular plate, lateral border, acromion, coracoid and clavicle."""
    gx, gy = head[0] + head_r + 0.028, head[1] + 0.01
    plate_pts = np.array([[gx, gy - 0.09], [gx + 0.45, gy - 0.16], [gx + 0.38, gy + 0.62],
                          [gx + 0.12, gy + 0.35]])
    plate = np.zeros(u.shape, np.float32)
    poly = np.round(to_pixels(plate_pts, matrix, size) * 16).astype(np.int32)
    cv2.fillPoly(plate, [poly], 1.0, lineType=cv2.LINE_AA, shift=4)
    plate = cv2.GaussianBlur(plate, (0, 0), sigmaX=max(0.006 * size, 0.5)) * 0.02
    glenoid = shell(ellipse_radius(u, v, (gx, gy), (0.03, 0.085), 8.0), 1.0, 0.75) * 0.03
    _, _, border_d = segment(u, v, (gx + 0.01, gy + 0.08), (gx + 0.14, gy + 0.36))
    border = shell(border_d, 0.016, 0.008)
    _, _, acr_d = segment(u, v, (head[0] - 0.02, head[1] - head_r - 0.045),
                          (gx + 0.28, gy - 0.2))
    acromion = shell(acr_d, 0.03, 0.02) + 0.2 * chord(acr_d, 0.02)
    coracoid = ellipsoid(u, v, (gx + 0.06, gy - 0.12), (0.05, 0.022), 0.03, -20.0)
    _, _, clav_d = segment(u, v, (gx + 0.22, gy - 0.22), (1.2, gy - 0.1))
    clavicle = shell(clav_d, 0.032, 0.02) + 0.2 * chord(clav_d, 0.02)
    return plate + glenoid + border + acromion + coracoid + clavicle


def render_shoulder(patient: ShoulderPatient, rng: np.random.Generator, size: int,
                    side: str | None = None, signal_region: str = 'anatomy',
                    pose_shift: float = POSE_SHIFT) -> ShoulderView:
    """Render one AP shoulder film of ``patient`` with a random pose and acquisition.

    Args:
        patient (ShoulderPatient): Latent truth (bone quality).
        rng (np.random.Generator): The image's random source (pose, exposure, texture, noise).
        size (int): Output side in pixels (the film is square).
        side (str, optional): ``'R'`` or ``'L'``; random when None.
        signal_region (str): One of :data:`SIGNAL_REGIONS`. The random stream is the same for
            both, so a film differs between them only in the bone outside the ROI.
        pose_shift (float): Largest translation of the anatomy per axis (canonical units,
            about a film side); the same random numbers are drawn for any value, so only the
            anatomy's position changes. Defaults to :data:`POSE_SHIFT`.

    Returns:
        ShoulderView: The image, the expert ROI mask and boxes, and the side.
    """
    if signal_region not in SIGNAL_REGIONS:
        raise ValueError(f'signal_region must be one of {SIGNAL_REGIONS}, got {signal_region!r}')
    side = side or ('R' if rng.random() < 0.5 else 'L')
    matrix = pose_matrix(rotation_deg=rng.uniform(-12, 12), scale=rng.uniform(0.85, 1.15),
                         shift=(rng.uniform(-pose_shift, pose_shift),
                                rng.uniform(-pose_shift, pose_shift)),
                         mirror=side == 'L')
    u, v = canonical_grid(size, matrix)
    build = rng.uniform(0.92, 1.08)
    head = (0.40 + rng.uniform(-0.02, 0.02), 0.30 + rng.uniform(-0.02, 0.02))
    head_r = 0.105 * build
    p0 = (head[0] + 0.02, head[1] + 0.065)
    p1 = (p0[0] - 0.06 + rng.uniform(-0.03, 0.03), p0[1] + 0.9)

    # Humerus: a capsule-shaped tube whose radius flares at the metaphysis and whose cortex
    # thickens from the metaphysis to the diaphysis, where the patient's DTI is reached.
    s, _, dist = segment(u, v, p0, p1)
    s_c = np.clip(s, 0.0, None)
    outer = 0.047 * build + 0.042 * build * np.exp(-s_c / 0.11)
    head_rho = np.hypot(u - head[0], v - head[1])
    in_head_roi = head_rho <= 0.75 * head_r
    dti = patient.dti
    if signal_region == 'roi':
        # The patient's DTI inside the ROI band (|s - DT| <= 0.06), the reference's elsewhere.
        band = np.clip((0.06 - np.abs(s - _DT_LEVEL)) / 0.02, 0.0, 1.0)
        dti = _REF_DTI + (patient.dti - _REF_DTI) * band
    dti_here = 1.06 + (dti - 1.06) * (1.0 - np.exp(-s_c / 0.12))
    inner = outer / dti_here
    cortex = shell(dist, outer, inner)
    marrow_path = chord(dist, inner)

    tex_size = max(64, size)
    if signal_region == 'roi':  # the same struts at the reference density, outside the ROI
        reference = sample_canonical(trabecular_texture(copy.deepcopy(rng), tex_size,
                                                        _REF_DENSITY, sigma=0.006 * tex_size),
                                     u, v)
    texture = trabecular_texture(rng, tex_size, patient.trabecular_density,
                                 sigma=0.006 * tex_size)
    trab = sample_canonical(texture, u, v)
    if signal_region == 'roi':
        trab = np.where(in_head_roi, trab, reference)
    metaphysis = np.exp(-s_c / 0.09)
    marrow = marrow_path * (_MU_MARROW + _MU_TRABECULA * trab * metaphysis)

    head_bone = (_MU_CORTEX * shell(head_rho, head_r, head_r - 0.006)
                 + chord(head_rho, head_r - 0.006) * (_MU_MARROW + _MU_TRABECULA * trab))
    tuberosity = ellipsoid(u, v, (head[0] - 0.08 * build, head[1] + 0.055), (0.04, 0.06), 0.05)
    # Overlapping solids of one bone: the union's path is close to the larger of the two.
    humerus = np.maximum(_MU_CORTEX * cortex + marrow, head_bone) + _MU_TRABECULA * tuberosity

    length = float(np.hypot(p1[0] - p0[0], p1[1] - p0[1]))
    ex, ey = (p1[0] - p0[0]) / length, (p1[1] - p0[1]) / length
    dt_outer = 0.047 * build + 0.042 * build * np.exp(-_DT_LEVEL / 0.11)
    dt_centre = (p0[0] + ex * _DT_LEVEL - ey * (dt_outer + 0.004),
                 p0[1] + ey * _DT_LEVEL + ex * (dt_outer + 0.004))
    axis_deg = float(np.degrees(np.arctan2(ey, ex)))
    humerus += _MU_CORTEX * ellipsoid(u, v, dt_centre, (0.05, 0.011), 0.02, axis_deg)

    attenuation = (_soft_tissue(u, v, head, p1, rng.uniform(0.85, 1.15))
                   + _MU_CORTEX * (_ribs(u, v, rng.uniform(-0.04, 0.04))
                                   + _scapula(u, v, matrix, size, head, head_r))
                   + humerus)
    heel = np.linspace(-1.0, 1.0, size, dtype=np.float32) * rng.uniform(-0.08, 0.08)
    attenuation = np.clip(attenuation, 0.0, None) * (1.0 + heel[:, None])
    image = expose(attenuation, rng, gain=rng.uniform(0.9, 1.5), gamma=rng.uniform(0.75, 1.3),
                   blur_px=rng.uniform(0.4, 1.1) * size / 256, noise_sd=rng.uniform(0.008, 0.025))

    roi = np.zeros((size, size), np.uint8)
    roi[in_head_roi] = ROI_HEAD
    roi[(np.abs(s - _DT_LEVEL) <= 0.06) & (dist <= outer + 0.012)] = ROI_DIAPHYSIS
    humerus_mask = (head_rho <= head_r) | ((dist <= outer) & (s >= 0.0))
    return ShoulderView(image, roi, mask_boxes(roi), side, humerus_mask)


def cortical_index(image: np.ndarray, roi_mask: np.ndarray) -> float:
    """Read the cortical signal inside the diaphyseal ROI of a film, without a model.

    The index is where the ROI median (mostly the medullary canal) sits between the soft-tissue
    rim (5th percentile) and the cortices (95th percentile). Thin cortices (low DTI) leave a
    darker canal relative to the cortex, so the index falls with the T-score; being a ratio of
    intensity differences it ignores exposure offsets and gain.

    Args:
        image (np.ndarray): Film, bone bright, any numeric dtype.
        roi_mask (np.ndarray): The phantom's ROI mask (values :data:`ROI_DIAPHYSIS`, ...).

    Returns:
        float: The index (lower = thinner cortex).

    Raises:
        ValueError: If the mask has no diaphyseal ROI pixel.
    """
    values = np.asarray(image, dtype=np.float64)[roi_mask == ROI_DIAPHYSIS]
    if values.size == 0:
        raise ValueError('the ROI mask has no diaphyseal region (value 1)')
    low, high = np.percentile(values, [5, 95])
    return float((np.median(values) - low) / max(high - low, 1e-9))


def shoulder_image(patient: ShoulderPatient, rng: np.random.Generator, size: int,
                   marker: bool, side: str | None = None, signal_region: str = 'anatomy',
                   pose_shift: float = POSE_SHIFT
                   ) -> tuple[ShoulderView, tuple[int, int, int, int] | None]:
    """Render a film and optionally burn in the shortcut marker afterwards.

    The marker is drawn from a separate random stream, so a film is pixel-identical with and
    without the shortcut everywhere outside the marker box.

    Args:
        patient (ShoulderPatient): Latent truth.
        rng (np.random.Generator): The image's random source.
        size (int): Output side in pixels.
        marker (bool): Burn in the marker.
        side (str, optional): ``'R'`` or ``'L'``; random when None.
        signal_region (str): Where the T-score shows (:data:`SIGNAL_REGIONS`).
        pose_shift (float): Largest translation of the anatomy (see :func:`render_shoulder`).

    Returns:
        tuple: The view and the marker box ``(x, y, w, h)`` (None without marker).
    """
    marker_rng = np.random.default_rng(rng.integers(2**63))
    view = render_shoulder(patient, rng, size, side, signal_region, pose_shift)
    box = burn_marker(view.image, marker_rng, 'K') if marker else None
    return view, box
