"""Vectorised drawing primitives shared by the radiograph phantoms.

Anatomy is described in *canonical units*: the unposed film spans ``[0, 1] x [0, 1]``. Every
output pixel is mapped to canonical coordinates through a pose matrix, and each solid contributes
its projected path length (the chord an X-ray travels through it) at that point. Drawing
libraries only fill shapes; radiographs need chord lengths through spheres, tubes and shells, so
these few formulas are written by hand on top of NumPy and OpenCV.
"""
from __future__ import annotations

import cv2
import numpy as np

Point = tuple[float, float]


def pose_matrix(rotation_deg: float, scale: float, shift: Point, mirror: bool) -> np.ndarray:
    """Build the matrix mapping normalised output coordinates to canonical coordinates.

    Args:
        rotation_deg (float): In-plane rotation of the anatomy in degrees (counter-clockwise).
        scale (float): Magnification of the anatomy (> 1 makes it larger on the film).
        shift (tuple[float, float]): Translation of the anatomy in canonical units.
        mirror (bool): Mirror the anatomy left-right (the other body side).

    Returns:
        np.ndarray: 3x3 float64 matrix ``M`` with ``[u, v, 1] = M @ [x / W, y / H, 1]``.
    """
    centre = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]], dtype=np.float64)
    uncentre = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]], dtype=np.float64)
    theta = np.deg2rad(rotation_deg)
    cos, sin = np.cos(theta), np.sin(theta)
    rotate = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], dtype=np.float64)
    zoom = np.diag([1.0 / scale, 1.0 / scale, 1.0])
    move = np.array([[1, 0, -shift[0]], [0, 1, -shift[1]], [0, 0, 1]], dtype=np.float64)
    flip = np.diag([-1.0 if mirror else 1.0, 1.0, 1.0])
    return centre @ flip @ zoom @ rotate @ move @ uncentre


def canonical_grid(size: int, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Canonical coordinates of every output pixel centre.

    Args:
        size (int): Output image side in pixels.
        matrix (np.ndarray): Pose matrix from :func:`pose_matrix`.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(u, v)`` float32 arrays of shape ``(size, size)``.
    """
    axis = (np.arange(size, dtype=np.float64) + 0.5) / size
    x, y = np.meshgrid(axis, axis)
    u = matrix[0, 0] * x + matrix[0, 1] * y + matrix[0, 2]
    v = matrix[1, 0] * x + matrix[1, 1] * y + matrix[1, 2]
    return u.astype(np.float32), v.astype(np.float32)


def to_pixels(points: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Map canonical points to output pixel coordinates (inverse of :func:`canonical_grid`).

    Args:
        points (np.ndarray): ``(N, 2)`` canonical ``(u, v)`` points.
        matrix (np.ndarray): Pose matrix from :func:`pose_matrix`.
        size (int): Output image side in pixels.

    Returns:
        np.ndarray: ``(N, 2)`` float64 pixel ``(x, y)`` coordinates (pixel centres at integers).
    """
    homo = np.c_[np.asarray(points, dtype=np.float64), np.ones(len(points))]
    xy = (np.linalg.inv(matrix) @ homo.T).T[:, :2]
    return xy * size - 0.5


def chord(distance: np.ndarray, radius: float | np.ndarray) -> np.ndarray:
    """Path length through a disc/sphere/tube of ``radius`` at ``distance`` from its axis."""
    return 2.0 * np.sqrt(np.maximum(radius * radius - distance * distance, 0.0))


def shell(distance: np.ndarray, outer: float | np.ndarray,
          inner: float | np.ndarray) -> np.ndarray:
    """Path length through the wall of a hollow tube/sphere (outer minus inner chord)."""
    return chord(distance, outer) - chord(distance, inner)


def segment(u: np.ndarray, v: np.ndarray, p0: Point,
            p1: Point) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position along and distance from the segment ``p0 -> p1``.

    Args:
        u (np.ndarray): Canonical x coordinates.
        v (np.ndarray): Canonical y coordinates.
        p0 (tuple[float, float]): Start point.
        p1 (tuple[float, float]): End point.

    Returns:
        tuple: ``(s, side, dist)``: arc length from ``p0`` along the segment (unclamped),
        signed perpendicular offset (positive on the left of the direction of travel in image
        coordinates, i.e. towards smaller ``u`` when travelling down) and the Euclidean distance
        to the clamped segment.
    """
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    length = float(np.hypot(dx, dy))
    ex, ey = dx / length, dy / length
    pu, pv = u - p0[0], v - p0[1]
    s = pu * ex + pv * ey
    side = ex * pv - ey * pu
    clamped = np.clip(s, 0.0, length)
    dist = np.hypot(pu - clamped * ex, pv - clamped * ey)
    return s, side, dist


def ellipse_radius(u: np.ndarray, v: np.ndarray, centre: Point, axes: Point,
                   angle_deg: float = 0.0) -> np.ndarray:
    """Normalised elliptical radius (1 on the boundary of the ellipse)."""
    du, dv = u - centre[0], v - centre[1]
    if angle_deg:
        cos, sin = float(np.cos(np.deg2rad(angle_deg))), float(np.sin(np.deg2rad(angle_deg)))
        du, dv = du * cos + dv * sin, dv * cos - du * sin
    return np.hypot(du / axes[0], dv / axes[1])


def ellipsoid(u: np.ndarray, v: np.ndarray, centre: Point, axes: Point, depth: float,
              angle_deg: float = 0.0) -> np.ndarray:
    """Path length through an ellipsoid whose projected outline is the given ellipse."""
    return chord(ellipse_radius(u, v, centre, axes, angle_deg), 1.0) * (depth / 2.0)


def smooth_noise(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian-filtered white noise.

    Args:
        rng (np.random.Generator): Random source.
        size (int): Side of the square field in pixels.
        sigma (float): Gaussian correlation length in pixels.

    Returns:
        np.ndarray: float32 field of shape ``(size, size)``.
    """
    field = rng.standard_normal((size, size)).astype(np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigmaX=max(sigma, 0.3),
                             borderType=cv2.BORDER_REFLECT)
    return (field - field.mean()) / max(float(field.std()), 1e-6)


def trabecular_texture(rng: np.random.Generator, size: int, density: float,
                       sigma: float) -> np.ndarray:
    """A sponge-like binary-ish texture whose bone area fraction is ``density``.

    Band-pass noise is thresholded at its ``1 - density`` quantile, so lowering the density
    removes (rather than thins) struts, as happens in osteoporotic trabecular bone.

    Args:
        rng (np.random.Generator): Random source.
        size (int): Side of the texture in pixels.
        density (float): Bone area fraction in ``(0, 1)``.
        sigma (float): Strut scale in pixels.

    Returns:
        np.ndarray: float32 texture in ``[0, 1]``, slightly smoothed.
    """
    fine = smooth_noise(rng, size, sigma)
    band = fine - cv2.GaussianBlur(fine, (0, 0), sigmaX=3.0 * sigma)
    threshold = np.quantile(band, 1.0 - density)
    struts = (band > threshold).astype(np.float32)
    return cv2.GaussianBlur(struts, (0, 0), sigmaX=max(0.5 * sigma, 0.3))


def sample_canonical(texture: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Look up a canonical-frame texture (spanning ``[0, 1]^2``) at canonical coordinates."""
    side = texture.shape[0]
    return cv2.remap(texture, u * side - 0.5, v * side - 0.5, interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)


def expose(attenuation: np.ndarray, rng: np.random.Generator, gain: float, gamma: float,
           blur_px: float, noise_sd: float) -> np.ndarray:
    """Turn a line-integral attenuation map into a film-like image (bone bright).

    Args:
        attenuation (np.ndarray): Summed ``mu * path`` per pixel.
        rng (np.random.Generator): Random source for the noise.
        gain (float): Exposure; higher saturates dense regions sooner.
        gamma (float): Display contrast curve exponent.
        blur_px (float): Detector blur (Gaussian sigma in pixels).
        noise_sd (float): Standard deviation of the additive noise on the [0, 1] scale.

    Returns:
        np.ndarray: float32 image in ``[0, 1]``.
    """
    image = (1.0 - np.exp(-gain * attenuation)).astype(np.float32)
    image = np.power(np.clip(image, 0.0, 1.0), gamma)
    image = cv2.GaussianBlur(image, (0, 0), sigmaX=max(blur_px, 0.3))
    image += noise_sd * rng.standard_normal(image.shape).astype(np.float32)
    return np.clip(image, 0.0, 1.0)


def mask_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes ``(x, y, w, h)`` of the labelled regions of an integer mask.

    Args:
        mask (np.ndarray): Integer label image; each positive value is one region.

    Returns:
        list[tuple[int, int, int, int]]: One box per present label, in label order.
    """
    boxes = []
    for value in np.unique(mask[mask > 0]):
        ys, xs = np.nonzero(mask == value)
        x0, y0 = int(xs.min()), int(ys.min())
        boxes.append((x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1))
    return boxes


def burn_marker(image: np.ndarray, rng: np.random.Generator,
                letter: str) -> tuple[int, int, int, int]:
    """Burn a bright tag with a dark letter into a random corner, as hospitals' film markers.

    Args:
        image (np.ndarray): float32 image in ``[0, 1]``, modified in place.
        rng (np.random.Generator): Random source for the corner and the offset.
        letter (str): The character printed on the tag.

    Returns:
        tuple[int, int, int, int]: The tag box ``(x, y, w, h)`` in pixels.
    """
    size = image.shape[0]
    side = max(int(round(0.1 * size)), 10)
    margin = int(rng.integers(1, max(2, size // 32) + 1))
    corner = int(rng.integers(4))
    x = margin if corner in (0, 2) else size - margin - side
    y = margin if corner in (0, 1) else size - margin - side
    tag = np.full((side, side), 255, np.uint8)
    scale = cv2.getFontScaleFromHeight(cv2.FONT_HERSHEY_SIMPLEX, int(0.7 * side))
    thickness = max(1, side // 6)
    (text_w, text_h), _ = cv2.getTextSize(letter, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    origin = ((side - text_w) // 2, (side + text_h) // 2)
    cv2.putText(tag, letter, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 40, thickness, cv2.LINE_8)
    image[y:y + side, x:x + side] = tag.astype(np.float32) / 255.0
    return x, y, side, side
