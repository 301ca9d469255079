"""Contact sheets: a grid of phantom films with their ground truth outlined, for the docs."""
from __future__ import annotations

import cv2
import numpy as np

from ..labels import NIH_NO_FINDING, WHO_CLASSES
from .chest import CHEST_FINDINGS, render_chest, sample_chest_patient
from .shoulder import ROI_DIAPHYSIS, ROI_HEAD, sample_patient, shoulder_image

_RED, _GREEN, _YELLOW, _CYAN = (40, 40, 230), (60, 200, 60), (0, 220, 240), (230, 200, 40)


def _tile(image: np.ndarray, outlines: list[tuple[np.ndarray, tuple]], lines: list[str],
          boxes: list[tuple[tuple[int, int, int, int], tuple]] = ()) -> np.ndarray:
    """An annotated BGR tile: outlines of masks, boxes and caption lines."""
    tile = cv2.cvtColor(np.round(image * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    for mask, colour in outlines:
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(tile, contours, -1, colour, 1)
    for (x, y, w, h), colour in boxes:
        cv2.rectangle(tile, (x, y), (x + w - 1, y + h - 1), colour, 1)
    scale = tile.shape[0] / 640
    for k, text in enumerate(lines):
        cv2.putText(tile, text, (4, tile.shape[0] - 6 - int(28 * scale) * k),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, _YELLOW, 1, cv2.LINE_AA)
    return tile


def _grid(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    rows = [np.hstack(tiles[i:i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def shoulder_contact_sheet(per_class: int = 4, size: int = 256, seed: int = 0,
                           marker_rate: float = 0.5) -> np.ndarray:
    """Shoulder films, one row of non-osteoporotic and one of osteoporotic patients.

    The diaphyseal ROI is outlined in red, the head ROI in green and the shortcut marker (burned
    into about ``marker_rate`` of the films) boxed in cyan; captions give label, T-score and DTI.

    Args:
        per_class (int): Films per row.
        size (int): Film side in pixels.
        seed (int): Random seed.
        marker_rate (float): Fraction of films that show the shortcut marker.

    Returns:
        np.ndarray: BGR uint8 image of shape ``(2 * size, per_class * size, 3)``.
    """
    chosen: dict[bool, list] = {False: [], True: []}
    index = 0
    while min(len(v) for v in chosen.values()) < per_class:
        patient = sample_patient(np.random.default_rng([seed, index]), index)
        group = chosen[patient.who_label == 2]
        if len(group) < per_class:
            group.append(patient)
        index += 1
    tiles = []
    for positive in (False, True):
        for k, patient in enumerate(chosen[positive]):
            rng = np.random.default_rng([seed, patient.index, 1])
            view, box = shoulder_image(patient, rng, size, marker=k < marker_rate * per_class)
            tiles.append(_tile(
                view.image,
                [(view.roi_mask == ROI_DIAPHYSIS, _RED), (view.roi_mask == ROI_HEAD, _GREEN)],
                [f'T {patient.t_score:+.1f}  DTI {patient.dti:.2f}',
                 WHO_CLASSES[patient.who_label]],
                [(box, _CYAN)] if box else []))
    return _grid(tiles, per_class)


def chest_contact_sheet(size: int = 256, seed: int = 0, columns: int = 4) -> np.ndarray:
    """Chest films: one without findings, then one for each rendered finding (outlined, named).

    Args:
        size (int): Film side in pixels.
        seed (int): Random seed.
        columns (int): Films per row.

    Returns:
        np.ndarray: BGR uint8 image with ``1 + len(CHEST_FINDINGS)`` tiles.
    """
    wanted = [NIH_NO_FINDING] + list(CHEST_FINDINGS)
    tiles: dict[str, np.ndarray] = {}
    index = 0
    while len(tiles) < len(wanted):
        patient = sample_chest_patient(np.random.default_rng([seed, index]), index)
        view = render_chest(patient, np.random.default_rng([seed, index, 1]), size)
        shown = [name for name, mask in view.findings.items() if mask.any()]
        key = shown[0] if len(shown) == 1 else (NIH_NO_FINDING if not view.findings else '')
        if key and key not in tiles:
            tiles[key] = _tile(view.image, [(view.findings[key], _RED)] if shown else [],
                               [key])
        index += 1
    return _grid([tiles[name] for name in wanted], columns)
