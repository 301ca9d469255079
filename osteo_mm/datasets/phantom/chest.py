"""Chest PA radiograph phantom with locally rendered NIH findings.

The film shows lungs with vessel markings, posterior ribs with cortices, clavicles, the spine,
the heart, the diaphragm domes and the humeral heads in the upper corners. Each finding is drawn
inside the anatomy where it occurs on real films and comes with its own mask.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .draw import (
    canonical_grid,
    chord,
    ellipse_radius,
    ellipsoid,
    expose,
    pose_matrix,
    sample_canonical,
    segment,
    shell,
    smooth_noise,
)

#: The NIH findings the chest phantom renders, with their expected per-image prevalence.
CHEST_FINDINGS: dict[str, float] = {
    'Atelectasis': 0.1, 'Cardiomegaly': 0.08, 'Effusion': 0.1, 'Mass': 0.06, 'Nodule': 0.08,
    'Pneumothorax': 0.06, 'Consolidation': 0.06}

_MU_SOFT, _MU_AIR, _MU_BONE = 0.5, 1.1, 8.0
# A patient's finding shows on each of their follow-up films with this probability.
_SHOWN_PER_FILM = 0.7


@dataclass(frozen=True)
class ChestPatient:
    """Per-patient truth of the chest phantom.

    Attributes:
        index (int): 0-based patient number.
        age (int): Age in years.
        sex (str): ``'M'`` or ``'F'``.
        build (float): Body size factor.
        findings (tuple[str, ...]): Findings the patient has; each follow-up film shows each of
            them with probability 0.7.
        sites (dict[str, tuple[float, float]]): Canonical location of each local finding.
    """

    index: int
    age: int
    sex: str
    build: float
    findings: tuple[str, ...]
    sites: dict[str, tuple[float, float]] = field(default_factory=dict)


def _lung_point(rng: np.random.Generator, lower: bool = False) -> tuple[float, float]:
    """A random point well inside one lung (canonical units)."""
    right = rng.random() < 0.5
    cx = 0.3 if right else 0.7
    v = rng.uniform(0.5, 0.62) if lower else rng.uniform(0.3, 0.58)
    return cx + rng.uniform(-0.07, 0.07), v


def sample_chest_patient(rng: np.random.Generator, index: int) -> ChestPatient:
    """Draw a chest patient: demographics, findings and where the local ones sit.

    Args:
        rng (np.random.Generator): The patient's random source.
        index (int): 0-based patient number.

    Returns:
        ChestPatient: The patient's truth.
    """
    findings = tuple(name for name, rate in CHEST_FINDINGS.items()
                     if rng.random() < rate / _SHOWN_PER_FILM)
    sites = {'Nodule': _lung_point(rng), 'Mass': _lung_point(rng),
             'Consolidation': _lung_point(rng, lower=True),
             'Atelectasis': _lung_point(rng, lower=True),
             'Effusion': (0.3 if rng.random() < 0.5 else 0.7, 0.0),
             'Pneumothorax': (0.3 if rng.random() < 0.5 else 0.7, 0.0)}
    return ChestPatient(index, int(rng.integers(18, 90)), 'M' if rng.random() < 0.55 else 'F',
                        float(rng.uniform(0.92, 1.08)), findings, sites)


@dataclass(frozen=True)
class ChestView:
    """One rendered chest film.

    Attributes:
        image (np.ndarray): float32 image in ``[0, 1]``.
        findings (dict[str, np.ndarray]): bool mask per finding shown on this film.
    """

    image: np.ndarray
    findings: dict[str, np.ndarray]


def _lungs(u: np.ndarray, v: np.ndarray, heart: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Air path through both lungs above the diaphragm domes, minus the heart shadow."""
    air = np.zeros_like(u)
    inside = np.zeros(u.shape, bool)
    for cx, dome in ((0.3, 0.74), (0.7, 0.77)):
        r = ellipse_radius(u, v, (cx, 0.47), (0.16, 0.33))
        below_dome = v > dome - 0.06 * (1.0 - np.square((u - cx) / 0.17))
        lung = (r < 1.0) & ~below_dome
        air += np.where(lung, chord(r, 1.0) * 0.25, 0.0)
        inside |= lung
    return air * (1.0 - np.clip(heart / 0.1, 0.0, 1.0)), inside


def _ribs(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Posterior ribs: arcs from the spine curving down laterally, with cortices."""
    path = np.zeros_like(u)
    for k in range(10):
        for sign in (-1.0, 1.0):
            centre = (0.5 + sign * 0.02, 0.55 + 0.065 * k)
            ring = np.abs(np.hypot(u - centre[0], v - centre[1]) - 0.45)
            upper = (v < centre[1] - 0.05) & (sign * (u - 0.5) > 0.03)
            path += np.where(upper, shell(ring, 0.01, 0.006) + 0.1 * chord(ring, 0.006), 0.0)
    thorax = ellipse_radius(u, v, (0.5, 0.47), (0.42, 0.4)) < 1.0
    return path * thorax


def _skeleton(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Spine, clavicles and humeral heads."""
    _, _, spine_d = segment(u, v, (0.5, 0.0), (0.5, 1.0))
    vertebrae = 0.8 + 0.2 * np.cos(2.0 * np.pi * v / 0.07)
    spine = 0.5 * shell(spine_d, 0.035, 0.028) + 0.1 * chord(spine_d, 0.028) * vertebrae
    clavicles = np.zeros_like(u)
    for start, end in (((0.46, 0.17), (0.12, 0.11)), ((0.54, 0.17), (0.88, 0.11))):
        _, _, d = segment(u, v, start, end)
        clavicles += shell(d, 0.018, 0.011) + 0.2 * chord(d, 0.011)
    heads = sum(shell(np.hypot(u - cx, v - 0.2), 0.075, 0.07) + 0.2 * chord(np.hypot(
        u - cx, v - 0.2), 0.07) for cx in (0.02, 0.98))
    return spine + clavicles + heads


def _finding_masks(u: np.ndarray, v: np.ndarray, patient: ChestPatient, shown: tuple[str, ...],
                   lungs: np.ndarray, heart_r: np.ndarray,
                   texture: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray]:
    """Masks and extra attenuation of the findings shown on this film."""
    masks, extra, air_scale = {}, np.zeros_like(u), np.ones_like(u)
    sites = patient.sites
    if 'Nodule' in shown:
        rho = np.hypot(u - sites['Nodule'][0], v - sites['Nodule'][1])
        masks['Nodule'] = rho < 0.022
        extra += _MU_SOFT * 4.0 * chord(rho, 0.022)
    if 'Mass' in shown:
        cx, cy = sites['Mass']
        blob = sum(chord(np.hypot(u - cx - dx, v - cy - dy), 0.045)
                   for dx, dy in ((0, 0), (0.03, 0.015), (-0.02, 0.025)))
        masks['Mass'] = blob > 0
        extra += _MU_SOFT * 2.5 * blob
    if 'Consolidation' in shown:
        region = (ellipse_radius(u, v, sites['Consolidation'], (0.1, 0.07)) < 1.0) & lungs
        patchy = region & (texture > -0.3)
        masks['Consolidation'] = patchy
        air_scale = np.where(patchy, 0.25, air_scale)
    if 'Atelectasis' in shown:
        cx, cy = sites['Atelectasis']
        _, _, d = segment(u, v, (cx - 0.07, cy - 0.02), (cx + 0.07, cy + 0.03))
        band = (d < 0.018) & lungs
        masks['Atelectasis'] = band
        air_scale = np.where(band, 0.3, air_scale)
    if 'Effusion' in shown:
        cx = sites['Effusion'][0]
        towards_wall = np.clip((u - cx) * np.sign(cx - 0.5) / 0.16, 0.0, 1.0)
        meniscus = 0.64 - 0.07 * towards_wall
        fluid = lungs & (v > meniscus) & (np.abs(u - cx) < 0.2)
        masks['Effusion'] = fluid
        air_scale = np.where(fluid, 0.0, air_scale)
        extra += np.where(fluid, 0.08, 0.0)
    if 'Pneumothorax' in shown:
        cx = sites['Pneumothorax'][0]
        lateral = np.sign(cx - 0.5)
        collapsed = ellipse_radius(u, v, (cx - lateral * 0.04, 0.52), (0.11, 0.25)) < 1.0
        gap = lungs & ~collapsed & (v < 0.6) & ((u - 0.5) * lateral > 0)
        masks['Pneumothorax'] = gap
        air_scale = np.where(gap, 1.6, air_scale)
    if 'Cardiomegaly' in shown:
        masks['Cardiomegaly'] = heart_r < 1.0
    return masks, extra, air_scale


def render_chest(patient: ChestPatient, rng: np.random.Generator, size: int) -> ChestView:
    """Render one PA chest film of ``patient``.

    Args:
        patient (ChestPatient): The patient's truth.
        rng (np.random.Generator): The film's random source.
        size (int): Output side in pixels.

    Returns:
        ChestView: The image and the masks of the findings shown.
    """
    shown = tuple(name for name in patient.findings if rng.random() < _SHOWN_PER_FILM)
    matrix = pose_matrix(rotation_deg=rng.uniform(-4, 4), scale=rng.uniform(0.92, 1.05),
                         shift=(rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03)),
                         mirror=False)
    u, v = canonical_grid(size, matrix)
    heart_w = 0.2 if 'Cardiomegaly' in shown else 0.13
    heart_r = ellipse_radius(u, v, (0.55, 0.63), (heart_w * patient.build, 0.13), -15.0)
    heart = np.where(heart_r < 1.0, chord(heart_r, 1.0) * 0.12, 0.0)
    air, lungs = _lungs(u, v, heart)

    tex_size = max(64, size)
    markings = sample_canonical(smooth_noise(rng, tex_size, 0.012 * tex_size), u, v)
    vessels = np.exp(-np.square(markings) / 0.05) * np.exp(-np.hypot(u - 0.5, v - 0.45) / 0.25)
    blotch = sample_canonical(smooth_noise(rng, tex_size, 0.02 * tex_size), u, v)
    masks, extra, air_scale = _finding_masks(u, v, patient, shown, lungs, heart_r, blotch)
    if 'Pneumothorax' in masks:
        vessels = np.where(masks['Pneumothorax'], 0.0, vessels)

    body = np.maximum(ellipsoid(u, v, (0.5, 0.6), (0.55 * patient.build, 0.62), 1.2),
                      chord(segment(u, v, (0.5, -0.1), (0.5, 0.2))[2], 0.11))
    body += ellipsoid(u, v, (0.5, 0.45), (0.07, 0.3), 0.25)
    attenuation = (_MU_SOFT * body - _MU_AIR * air * air_scale + _MU_SOFT * heart
                   + 0.12 * vessels * lungs + extra
                   + _MU_BONE * (_ribs(u, v) + _skeleton(u, v)))
    image = expose(np.clip(attenuation, 0.0, None), rng, gain=rng.uniform(1.0, 1.6),
                   gamma=rng.uniform(0.8, 1.2), blur_px=rng.uniform(0.4, 1.0) * size / 256,
                   noise_sd=rng.uniform(0.005, 0.02))
    return ChestView(image, masks)
