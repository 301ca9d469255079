"""Overlays of saliency maps and expert contours for human review."""
from typing import Optional

import cv2
import numpy as np
import torch
from pytorch_grad_cam.utils.image import show_cam_on_image

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
