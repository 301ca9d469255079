"""Overlays of saliency maps and expert contours for human review."""
from typing import Optional

import cv2
import numpy as np
import torch
from pytorch_grad_cam.utils.image import show_cam_on_image

#: Expert contours are drawn in exactly this BGR colour (the report recovers the ROI from it).
ROI_COLOUR = (0, 255, 0)


def to_display_image(image) -> np.ndarray:
    """Turn an image (``(C, H, W)`` tensor or ``(H, W[, C])`` array, any dtype) into BGR uint8.

    Float images are min-max scaled; one channel is repeated to three.

    Args:
        image (torch.Tensor | np.ndarray): The image.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8.
    """
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
        image = image.transpose(1, 2, 0) if image.ndim == 3 else image
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype != np.uint8:
        lo, hi = float(image.min()), float(image.max())
        image = np.zeros(image.shape, np.uint8) if hi <= lo else \
            np.rint((image - lo) * (255.0 / (hi - lo))).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(image[:, :, :3])


def cam_overlay(image, cam: np.ndarray, roi_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Three panels side by side: image | CAM heat-map overlay | overlay with the expert contour.

    Args:
        image (torch.Tensor | np.ndarray): The image the map belongs to (same height/width).
        cam (np.ndarray): ``(H, W)`` map in ``[0, 1]``.
        roi_mask (np.ndarray, optional): ``(H, W)`` expert mask; its outline is drawn in green.
            Without one the third panel repeats the overlay.

    Returns:
        np.ndarray: ``(H, 3 W, 3)`` BGR uint8 picture.
    """
    base = to_display_image(image)
    if base.shape[:2] != cam.shape:
        raise ValueError(f'image {base.shape[:2]} and CAM {cam.shape} differ in size')
    heat = show_cam_on_image(base.astype(np.float32) / 255, np.clip(cam, 0, 1), use_rgb=False)
    outlined = heat.copy()
    if roi_mask is not None:
        contours, _ = cv2.findContours((np.asarray(roi_mask) > 0).astype(np.uint8),
                                       cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(outlined, contours, -1, ROI_COLOUR, 1)
    return np.concatenate([base, heat, outlined], axis=1)


def colour_bar(height: int, width: int, lo: float = 0.0, hi: float = 1.0,
               label: str = 'CAM') -> np.ndarray:
    """A vertical JET colour bar (high values on top) with its tick values written beside it.

    Args:
        height (int): Height in pixels (the film's).
        width (int): Width of the whole strip (bar and labels).
        lo (float): Value at the bottom. Defaults to 0.
        hi (float): Value at the top. Defaults to 1.
        label (str): Name written above the ticks. Defaults to ``'CAM'``.

    Returns:
        np.ndarray: ``(height, width, 3)`` BGR uint8 strip on white.
    """
    strip = np.full((height, width, 3), 255, np.uint8)
    bar_w = max(4, width // 4)
    ramp = np.linspace(255, 0, height).astype(np.uint8)[:, None].repeat(bar_w, axis=1)
    strip[:, :bar_w] = cv2.applyColorMap(ramp, cv2.COLORMAP_JET)
    scale = max(0.3, height / 600)
    thickness = max(1, int(round(scale * 1.5)))
    for frac in (0.0, 0.5, 1.0):
        y = int(round((1 - frac) * (height - 1)))
        cv2.line(strip, (bar_w, y), (bar_w + bar_w // 2, y), (0, 0, 0), thickness)
        text_y = min(max(y + int(10 * scale), int(14 * scale)), height - 2)
        cv2.putText(strip, f'{lo + frac * (hi - lo):.1f}', (bar_w + bar_w // 2 + 2, text_y),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    cv2.putText(strip, label, (bar_w + 2, int(height * 0.25)), cv2.FONT_HERSHEY_SIMPLEX,
                scale * 0.8, (0, 0, 0), thickness, cv2.LINE_AA)
    return strip


def prediction_panels(image, cam: np.ndarray) -> np.ndarray:
    """Three panels that each add something: film | CAM overlay | raw map with its scale.

    The film is shown as it is, the overlay blends the map onto it, and the third panel is the
    map alone (JET, no film underneath) with a colour bar of its values: the min-max scaled map
    in ``[0, 1]``, so it shows where the map is flat or empty, which an overlay hides.

    Args:
        image (torch.Tensor | np.ndarray): The film (same height/width as ``cam``).
        cam (np.ndarray): ``(H, W)`` map in ``[0, 1]``.

    Returns:
        np.ndarray: ``(H, 3 W + bar, 3)`` BGR uint8 picture.
    """
    base = to_display_image(image)
    if base.shape[:2] != cam.shape:
        raise ValueError(f'image {base.shape[:2]} and CAM {cam.shape} differ in size')
    cam = np.clip(np.asarray(cam, np.float32), 0, 1)
    heat = show_cam_on_image(base.astype(np.float32) / 255, cam, use_rgb=False)
    raw = cv2.applyColorMap(np.rint(cam * 255).astype(np.uint8), cv2.COLORMAP_JET)
    height = base.shape[0]
    bar = colour_bar(height, max(48, height // 5))
    return np.concatenate([base, heat, raw, bar], axis=1)
