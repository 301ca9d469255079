"""Load X-ray images (DICOM, PNG, JPEG) and expert ROI masks."""
from __future__ import annotations

import logging
import os
import os.path as osp
from typing import Sequence

import cv2
import numpy as np
import pydicom
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmpretrain.registry import TRANSFORMS
from PIL import Image
from pydicom.pixels import apply_modality_lut, apply_voi_lut, get_decoder

from ..errors import XrayDataError
from .dicom_pixels import (
    COLOUR_PHOTOMETRICS,
    decode_jpeg12_with_gdcm,
    is_jpeg12,
    padding_mask,
    presentation_inverted,
    read_dataset,
    to_luminance,
)

DICOM_SUFFIXES = ('.dcm', '.dicom')
RASTER_SUFFIXES = ('.png', '.jpg', '.jpeg')
WINDOW_MODES = ('file', 'fixed', 'percentile')
COLOUR_MODES = ('luminance', 'refuse')


def _decoder_hint(ds: pydicom.Dataset, path: str) -> None:
    """Fail early, naming the transfer syntax, when pydicom has no usable decoder for it."""
    meta = getattr(ds, 'file_meta', None)
    tsyntax = meta.get('TransferSyntaxUID') if meta is not None else None
    if tsyntax is None or not tsyntax.is_compressed:
        return
    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError as err:
        raise XrayDataError(
            f'{path}: transfer syntax {tsyntax.name} ({tsyntax}) is not supported by pydicom'
        ) from err
    if not decoder.is_available:
        raise XrayDataError(
            f'{path}: cannot decode transfer syntax {tsyntax.name} ({tsyntax}); install one of: '
            + '; '.join(decoder.missing_dependencies))


def read_dicom(path: str, max_side: int, on_colour: str = 'refuse'
               ) -> tuple[np.ndarray, pydicom.Dataset, np.ndarray | None]:
    """Read one single-frame DICOM image and apply its Modality LUT.

    Args:
        path (str): The DICOM file (with or without the preamble, see
            :func:`~osteo_mm.datasets.transforms.dicom_pixels.read_dataset`).
        max_side (int): Largest accepted number of rows or columns.
        on_colour (str): ``'luminance'`` reduces RGB/YBR_FULL/YBR_FULL_422 images to BT.601
            luminance; ``'refuse'`` rejects them. Defaults to 'refuse'.

    Returns:
        tuple: The float64 (H, W) array in modality units (after Rescale Slope/Intercept or the
        Modality LUT; colour images: luminance of the stored values), the dataset, and the
        boolean mask of ``PixelPaddingValue`` pixels (None when there are none).

    Raises:
        XrayDataError: If the file is not a readable single-frame DICOM image.
    """
    try:
        return _read_dicom(path, max_side, on_colour)
    except XrayDataError:
        raise
    except Exception as err:
        # pydicom parses elements lazily and its decoders raise many exception types on
        # corrupt or truncated files; each becomes one clear per-file error.
        raise XrayDataError(
            f'{path}: corrupt or unreadable DICOM ({type(err).__name__}: {err})') from err


def _read_dicom(path: str, max_side: int, on_colour: str
                ) -> tuple[np.ndarray, pydicom.Dataset, np.ndarray | None]:
    ds = read_dataset(path)
    if 'PixelData' not in ds:
        modality = ds.get('Modality', 'unknown')
        raise XrayDataError(
            f'{path}: DICOM object has no pixel data (Modality {modality}); not an image')
    samples = int(ds.get('SamplesPerPixel', 1))
    photometric = str(ds.get('PhotometricInterpretation', ''))
    frames = int(ds.get('NumberOfFrames', 1) or 1)
    rows, cols = int(ds.Rows), int(ds.Columns)
    bits = int(ds.BitsStored)
    colour = samples == 3 and photometric in COLOUR_PHOTOMETRICS
    gray = samples == 1 and photometric in ('MONOCHROME1', 'MONOCHROME2')
    if colour and on_colour == 'refuse':
        raise XrayDataError(
            f'{path}: colour DICOM (PhotometricInterpretation {photometric!r}); refused with '
            "on_colour='refuse' (on_colour='luminance' converts it)")
    if not (colour or gray):
        raise XrayDataError(
            f'{path}: colour DICOM (PhotometricInterpretation {photometric!r}, SamplesPerPixel '
            f'{samples}) is not supported; grayscale X-rays and {"/".join(COLOUR_PHOTOMETRICS)} '
            'films are')
    if frames != 1:
        raise XrayDataError(f'{path}: multi-frame DICOM ({frames} frames); expected one image')
    if not 1 <= bits <= 16:
        raise XrayDataError(f'{path}: BitsStored {bits} is outside the supported range 1-16')
    _check_side(path, rows, cols, max_side)
    if is_jpeg12(ds):
        stored = decode_jpeg12_with_gdcm(path, ds)
    else:
        _decoder_hint(ds, path)
        stored = ds.pixel_array
    if colour:
        if stored.shape != (rows, cols, 3):
            raise XrayDataError(f'{path}: decoded colour array has shape {stored.shape}, '
                                f'header says {(rows, cols, 3)}')
        return to_luminance(stored), ds, None
    arr = apply_modality_lut(stored, ds).astype(np.float64)
    if arr.shape != (rows, cols):
        raise XrayDataError(
            f'{path}: decoded pixel array has shape {arr.shape}, header says {(rows, cols)}')
    return arr, ds, padding_mask(ds, stored)


def _check_side(path: str, height: int, width: int, max_side: int) -> None:
    """Refuse absurd image sizes before decoding (a resource limit, not a format rule)."""
    if height <= 0 or width <= 0:
        raise XrayDataError(f'{path}: image has an empty size {width}x{height}')
    if max(height, width) > max_side:
        raise XrayDataError(
            f'{path}: image size {width}x{height} exceeds the limit of {max_side} px per side '
            '(raise max_side if this is intended)')


def read_raster(path: str, max_side: int) -> np.ndarray:
    """Read a PNG/JPEG (8 or 16 bit, gray, RGB or RGBA) as a 2-D grayscale array.

    Args:
        path (str): The image file.
        max_side (int): Largest accepted width or height.

    Returns:
        np.ndarray: uint8 or uint16 (H, W) array.

    Raises:
        XrayDataError: If the file cannot be decoded.
    """
    # PIL reads only the header here, so the size guard runs before any pixel is decoded.
    try:
        with Image.open(path) as header:
            width, height = header.size
    except Exception as err:  # PIL raises many types on corrupt headers
        raise XrayDataError(
            f'{path}: not a readable image file ({type(err).__name__}: {err})') from err
    _check_side(path, height, width, max_side)
    try:
        img = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as err:
        raise XrayDataError(f'{path}: image data is corrupt ({err})') from err
    if img is None:
        raise XrayDataError(f'{path}: image data is corrupt or truncated (OpenCV cannot decode)')
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY)
    elif img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    elif img.ndim == 3:
        img = img[..., 0]
    if img.dtype not in (np.uint8, np.uint16) or img.shape != (height, width):
        raise XrayDataError(
            f'{path}: unsupported image (dtype {img.dtype}, shape {img.shape}); expected an 8- '
            'or 16-bit grayscale/RGB(A) image')
    return img


def _percentile_window(arr: np.ndarray, percentiles: Sequence[float]) -> np.ndarray:
    low, high = np.percentile(arr, percentiles)
    return _linear_window(arr, low, high)


def _linear_window(arr: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map [low, high] linearly to [0, 1] and clip; a flat window gives zeros."""
    if high <= low:
        return np.zeros(arr.shape, dtype=np.float64)
    return np.clip((arr - low) / (high - low), 0.0, 1.0)


def _file_window(arr: np.ndarray, ds: pydicom.Dataset) -> np.ndarray | None:
    """Apply the file's VOI LUT or Window Center/Width; ``None`` when the file has neither."""
    has_lut = bool(ds.get('VOILUTSequence'))
    has_window = 'WindowCenter' in ds and 'WindowWidth' in ds
    if not (has_lut or has_window):
        return None
    # pydicom's VOI LUT path indexes a table, so it needs integer input values.
    values = np.rint(arr).astype(np.int64) if has_lut else arr
    out = apply_voi_lut(values, ds).astype(np.float64)
    if has_lut:
        low, high = 0.0, float(2 ** int(ds.VOILUTSequence[0].LUTDescriptor[2]) - 1)
    else:
        # Windowing maps onto the output range [y_min, y_max] of the stored values; applying
        # the same function to two far-out values yields exactly those bounds.
        low, high = apply_voi_lut(np.array([-1e12, 1e12]), ds)
    return _linear_window(out, low, high)


@TRANSFORMS.register_module()
class LoadXrayFromFile(BaseTransform):
    """Load an X-ray (DICOM, PNG or JPEG) so that bone is bright.

    DICOM: Modality LUT (Rescale Slope/Intercept) -> VOI LUT or window -> Presentation LUT
    (``PresentationLUTShape`` INVERSE, or MONOCHROME1 without that attribute, inverts), for any
    BitsStored 1-16 and every transfer syntax pydicom can decode (compressed ones via the
    pylibjpeg plugins; 12-bit lossy JPEG via the optional python-gdcm plugin; a missing plugin is
    named in the error). Files without the preamble are read when they parse as an image
    dataset. ``PixelPaddingValue`` pixels are left out of the percentile window's statistics and
    come out black. Colour films (RGB, YBR_FULL, YBR_FULL_422) become BT.601 luminance with a
    warning logged once per file. Multi-frame, other colour models and non-image objects are
    rejected. PNG/JPEG: 8- or 16-bit gray, RGB or RGBA (converted to gray).

    **Required Keys:** ``img_path``

    **Added Keys:** ``img``, ``img_shape``, ``ori_shape``, ``transform_matrix`` (np.eye(3))

    Args:
        window (str): How intensities are mapped to the output range.
            ``'file'``: the DICOM VOI LUT / Window Center-Width (DICOMs without one, and
            PNG/JPEG, use the full range of their bit depth); ``'fixed'``: ``window_center`` and
            ``window_width`` in modality units (PNG/JPEG: raw pixel values);
            ``'percentile'``: the ``percentiles`` of the image's own values. Defaults to 'file'.
        window_center (float, optional): Centre of the fixed window.
        window_width (float, optional): Width of the fixed window.
        percentiles (Sequence[float]): Low and high percentile of the robust window.
            Defaults to (0.5, 99.5).
        channels (int): 3 gives (H, W, 3) with the gray image repeated; 1 gives (H, W).
            Defaults to 3.
        to_float32 (bool): Return float32 in [0, 255] instead of uint8. Defaults to False.
        max_side (int): Images with a larger width or height are refused before decoding.
            Defaults to 20000.
        on_colour (str): ``'luminance'`` converts colour DICOM films to luminance (logging a
            warning); ``'refuse'`` rejects them as before. Defaults to 'luminance'.
        on_bad_sample (str): ``'raise'`` raises :class:`XrayDataError`; ``'skip'`` logs the
            file once, counts it in ``num_skipped`` and returns ``None`` (MMEngine datasets
            then fetch another index in training). Defaults to 'raise'.
    """

    def __init__(self,
                 window: str = 'file',
                 window_center: float | None = None,
                 window_width: float | None = None,
                 percentiles: Sequence[float] = (0.5, 99.5),
                 channels: int = 3,
                 to_float32: bool = False,
                 max_side: int = 20000,
                 on_colour: str = 'luminance',
                 on_bad_sample: str = 'raise') -> None:
        if window not in WINDOW_MODES:
            raise ValueError(f'window must be one of {WINDOW_MODES}, got {window!r}')
        if window == 'fixed' and (window_center is None or window_width is None
                                  or window_width <= 0):
            raise ValueError("window='fixed' needs window_center and a positive window_width")
        if len(percentiles) != 2 or not 0 <= percentiles[0] < percentiles[1] <= 100:
            raise ValueError(f'percentiles must be (low, high) in [0, 100], got {percentiles}')
        if channels not in (1, 3):
            raise ValueError(f'channels must be 1 or 3, got {channels}')
        if on_colour not in COLOUR_MODES:
            raise ValueError(f'on_colour must be one of {COLOUR_MODES}, got {on_colour!r}')
        if on_bad_sample not in ('raise', 'skip'):
            raise ValueError(f"on_bad_sample must be 'raise' or 'skip', got {on_bad_sample!r}")
        self.window = window
        self.window_center = window_center
        self.window_width = window_width
        self.percentiles = tuple(percentiles)
        self.channels = channels
        self.to_float32 = to_float32
        self.max_side = max_side
        self.on_colour = on_colour
        self.on_bad_sample = on_bad_sample
        self.num_skipped = 0
        self._skipped: set[str] = set()
        self._colour_warned: set[str] = set()

    def read(self, path: str) -> np.ndarray:
        """Read ``path`` into a float64 (H, W) array in [0, 1] with bone bright.

        Args:
            path (str): A DICOM, PNG or JPEG file.

        Returns:
            np.ndarray: The windowed image.

        Raises:
            XrayDataError: If the file is missing or cannot be read as an X-ray.
        """
        if not osp.isfile(path):
            raise XrayDataError(f'{path}: image file not found')
        if self._is_dicom(path):
            arr, ds, padding = read_dicom(path, self.max_side, self.on_colour)
            if int(ds.get('SamplesPerPixel', 1)) == 3 and path not in self._colour_warned:
                self._colour_warned.add(path)
                print_log(f'{path}: colour DICOM ({ds.PhotometricInterpretation}) reduced to '
                          'luminance', logger='current', level=logging.WARNING)
            out = self._window(arr, ds, padding=padding)
            if presentation_inverted(ds):
                out = 1.0 - out
            if padding is not None:
                out[padding] = 0.0
            return out
        raster = read_raster(path, self.max_side)
        return self._window(raster.astype(np.float64), None,
                            full_range=float(np.iinfo(raster.dtype).max))

    def _is_dicom(self, path: str) -> bool:
        suffix = osp.splitext(path)[1].lower()
        if suffix in DICOM_SUFFIXES:
            return True
        if suffix in RASTER_SUFFIXES:
            return False
        with open(path, 'rb') as f:  # DICOM Part 10 files carry 'DICM' after a 128-byte preamble
            if f.read(132)[128:] == b'DICM':
                return True
        # No preamble: a raster image if PIL recognises it, else try it as a bare DICOM dataset.
        try:
            with Image.open(path):
                return False
        except Exception:  # PIL raises many types for what it does not recognise
            return True

    def _window(self, arr: np.ndarray, ds: pydicom.Dataset | None,
                full_range: float = 0.0, padding: np.ndarray | None = None) -> np.ndarray:
        """Map modality values (DICOM) or raw values (``full_range`` for PNG/JPEG) to [0, 1].

        ``padding`` pixels are left out of the percentile statistics.
        """
        if self.window == 'fixed':
            half = self.window_width / 2
            return _linear_window(arr, self.window_center - half, self.window_center + half)
        if self.window == 'file':
            if ds is not None:
                try:
                    out = _file_window(arr, ds)
                except Exception as err:  # malformed VOI attributes raise many types
                    raise XrayDataError(
                        f'{ds.filename}: invalid VOI LUT / window in the DICOM ({err})') from err
                if out is not None:
                    return out
                bits = int(ds.BitsStored)
                low = float(apply_modality_lut(np.array([0]), ds)[0])
                high = float(apply_modality_lut(np.array([2 ** bits - 1]), ds)[0])
                if int(ds.get('PixelRepresentation', 0)) == 1:
                    low = float(apply_modality_lut(np.array([-2 ** (bits - 1)]), ds)[0])
                    high = float(apply_modality_lut(np.array([2 ** (bits - 1) - 1]), ds)[0])
                return _linear_window(arr, min(low, high), max(low, high))
            return _linear_window(arr, 0.0, full_range)
        if padding is not None and not padding.all():
            low, high = np.percentile(arr[~padding], self.percentiles)
            return _linear_window(arr, low, high)
        return _percentile_window(arr, self.percentiles)

    def transform(self, results: dict) -> dict | None:
        """Load the image of ``results['img_path']``.

        Args:
            results (dict): Data info with ``img_path``.

        Returns:
            dict | None: ``results`` with the image keys, or ``None`` for a skipped bad file.
        """
        path = results['img_path']
        try:
            img01 = self.read(path)
        except XrayDataError as err:
            if self.on_bad_sample == 'raise':
                raise
            self.num_skipped += 1
            if path not in self._skipped:
                self._skipped.add(path)
                print_log(f'skipping bad image ({self.num_skipped} skipped so far): {err}',
                          logger='current', level=logging.WARNING)
            return None
        img = img01 * 255.0
        img = img.astype(np.float32) if self.to_float32 else np.rint(img).astype(np.uint8)
        if self.channels == 3:
            img = np.repeat(img[..., None], 3, axis=2)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['transform_matrix'] = np.eye(3)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(window={self.window!r}, '
                f'percentiles={self.percentiles}, channels={self.channels}, '
                f'to_float32={self.to_float32}, max_side={self.max_side}, '
                f'on_colour={self.on_colour!r}, on_bad_sample={self.on_bad_sample!r})')


def rasterize_boxes(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Draw boxes into a 0/1 mask.

    Box coordinates are pixel edges: pixel (i, j) covers [j, j + 1) x [i, i + 1), so an
    ``x, y, w, h`` annotation covers columns x .. x + w - 1. A pixel is set when its centre
    (j + 0.5, i + 0.5) lies inside a box.

    Args:
        boxes (np.ndarray): (N, 4) x1, y1, x2, y2.
        shape (tuple[int, int]): (H, W) of the mask.

    Returns:
        np.ndarray: uint8 (H, W) mask with 1 inside any box.
    """
    mask = np.zeros(shape, dtype=np.uint8)
    centres_x = np.arange(shape[1]) + 0.5
    centres_y = np.arange(shape[0]) + 0.5
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        cols = (centres_x >= x1) & (centres_x < x2)
        rows = (centres_y >= y1) & (centres_y < y2)
        mask[np.ix_(rows, cols)] = 1
    return mask


@TRANSFORMS.register_module()
class LoadRoiMask(BaseTransform):
    """Load the expert ROI as a 0/1 mask aligned with the freshly loaded image.

    Uses ``roi_mask_path`` (PNG, non-zero = ROI, same size as the image) when present,
    otherwise rasterises ``gt_bboxes`` (see :func:`rasterize_boxes`). Samples with neither get no
    ``roi_mask``. Must run directly after :class:`LoadXrayFromFile`, before any geometry.

    **Required Keys:** ``img_shape``, ``transform_matrix``; optional ``roi_mask_path``,
    ``gt_bboxes``

    **Added Keys:** ``roi_mask`` (uint8 (H, W) 0/1)

    Args:
        max_side (int): Largest accepted mask side. Defaults to 20000.
    """

    def __init__(self, max_side: int = 20000) -> None:
        self.max_side = max_side

    def transform(self, results: dict) -> dict:
        """Add ``roi_mask`` to ``results``.

        Args:
            results (dict): Output of :class:`LoadXrayFromFile`.

        Returns:
            dict: ``results`` with ``roi_mask`` when the sample has an expert ROI.

        Raises:
            XrayDataError: If the mask file is unreadable or its size differs from the image.
        """
        if not np.array_equal(results['transform_matrix'], np.eye(3)):
            raise ValueError('LoadRoiMask must come before any geometric transform')
        shape = tuple(results['img_shape'])
        path = results.get('roi_mask_path')
        if path:
            if not os.path.isfile(path):
                raise XrayDataError(f'{path}: ROI mask file not found')
            mask = read_raster(path, self.max_side)
            if mask.shape != shape:
                raise XrayDataError(
                    f'{path}: ROI mask size {mask.shape[::-1]} differs from the image size '
                    f'{shape[::-1]} of {results.get("img_path")}')
            results['roi_mask'] = (mask > 0).astype(np.uint8)
        elif results.get('gt_bboxes') is not None and len(results['gt_bboxes']):
            results['roi_mask'] = rasterize_boxes(results['gt_bboxes'], shape)
        return results
