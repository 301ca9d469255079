"""Figures of the comparison report.

Figures are built with matplotlib's object-oriented ``Figure`` API (no ``pyplot``), so they
render with the Agg canvas whatever the session's backend and never open a window.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from ..explain.io import id_to_relpath
from ..explain.visualize import ROI_COLOUR
from ..stats import bootstrap_ci
from .records import Predictions
from .summary import model_groups, model_strata

#: False-positive rates at which ROC bands are computed.
FPR_GRID = np.linspace(0, 1, 101)


def _tpr_on_grid(y_true: np.ndarray, score: np.ndarray) -> np.ndarray:
    """ROC true-positive rate interpolated on :data:`FPR_GRID` (NaN with one class)."""
    if y_true.all() or not y_true.any():
        return np.full(FPR_GRID.shape, np.nan)
    fpr, tpr, _ = roc_curve(y_true, score)
    return np.interp(FPR_GRID, fpr, tpr)


def roc_figure(models: Dict[str, Predictions], aucs: pd.DataFrame, n_boot: int = 500,
               alpha: float = 0.05, seed: int = 0) -> Figure:
    """ROC curves with pointwise percentile-bootstrap bands (patients resampled, stratified).

    Args:
        models (dict[str, Predictions]): model name -> predictions.
        aucs (pd.DataFrame): :func:`~osteo_mm.report.summary.model_table` output (for legends).
        n_boot (int): bootstrap resamples for the bands. Defaults to 500.
        alpha (float): 1 - band level. Defaults to 0.05.
        seed (int): bootstrap seed. Defaults to 0.

    Returns:
        Figure: the plot.
    """
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    for name, model in models.items():
        band = bootstrap_ci(_tpr_on_grid, model.y_true, model.score,
                            groups=model_groups(model), strata=model_strata(model),
                            n_boot=n_boot, alpha=alpha, seed=seed)
        row = aucs.loc[name]
        label = f"{name}: AUC {row['auc']:.3f} [{row['auc_low']:.3f}, {row['auc_high']:.3f}]"
        fpr, tpr, _ = roc_curve(model.y_true, model.score)
        line, = ax.plot(fpr, tpr, label=label)
        ax.fill_between(FPR_GRID, band.low, band.high, color=line.get_color(), alpha=0.15)
    ax.plot([0, 1], [0, 1], ls='--', color='grey', lw=0.8)
    ax.set(xlabel='1 - specificity (FPR)', ylabel='sensitivity (TPR)', xlim=(0, 1), ylim=(0, 1),
           title=f'ROC with {100 * (1 - alpha):g} % bootstrap bands')
    ax.legend(loc='lower right', fontsize=8)
    fig.tight_layout()
    return fig


def calibration_figure(models: Dict[str, Predictions], n_bins: int = 10) -> Figure:
    """Reliability diagram (quantile bins) of the positive-class probability.

    Args:
        models (dict[str, Predictions]): model name -> predictions.
        n_bins (int): number of quantile bins. Defaults to 10.

    Returns:
        Figure: the plot.
    """
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    for name, model in models.items():
        frac_pos, mean_pred = calibration_curve(model.y_true, model.score, n_bins=n_bins,
                                                strategy='quantile')
        ax.plot(mean_pred, frac_pos, marker='o', ms=3, label=name)
    ax.plot([0, 1], [0, 1], ls='--', color='grey', lw=0.8, label='perfectly calibrated')
    ax.set(xlabel='mean predicted probability', ylabel='observed fraction positive',
           xlim=(0, 1), ylim=(0, 1), title='Calibration (quantile bins)')
    ax.legend(loc='upper left', fontsize=8)
    fig.tight_layout()
    return fig


#: Line styles of the trivial priors in the causality figure.
PRIOR_STYLES = {'uniform': ('uniform (chance)', 'grey', ':'),
                'centre': ('centre prior', 'tab:orange', '--'),
                'dataset_roi': ('dataset ROI prior', 'tab:red', '-.')}


def causality_figure(causality: Dict[str, pd.DataFrame],
                     columns: Optional[Sequence[str]] = None, per_row: int = 3,
                     priors: Optional[Dict[str, Dict[str, pd.DataFrame]]] = None,
                     random: Optional[Dict[str, pd.DataFrame]] = None) -> Figure:
    """Violin plus box plot per causality score, one violin per model, with baselines.

    Args:
        causality (dict[str, pd.DataFrame]): model name -> per-image scores (NaN = no score).
        columns (Sequence[str], optional): scores to plot; default all.
        per_row (int): panels per row. Defaults to 3.
        priors (dict[str, dict[str, pd.DataFrame]], optional): model -> trivial prior ->
            per-image scores; each prior's mean over the model's images is drawn as a
            horizontal line across that model's violin (priors are scored in each model's
            input geometry).
        random (dict[str, pd.DataFrame], optional): model -> its randomised-weights copy's
            scores; its mean is drawn as a black cross on the model's violin.

    Returns:
        Figure: one panel per score column.
    """
    columns = list(columns or next(iter(causality.values())).columns)
    names = list(causality)
    n_cols = min(per_row, len(columns))
    n_rows = -(-len(columns) // n_cols)
    fig = Figure(figsize=(1.0 + (0.9 + 0.8 * len(names)) * n_cols, 3.4 * n_rows + 0.6))
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    handles = {}
    for ax, column in zip(axes, columns):
        data = [causality[name][column].dropna().to_numpy() for name in names]
        positions = [i for i, d in enumerate(data, start=1) if d.size]
        if positions:
            ax.violinplot([d for d in data if d.size], positions=positions, showextrema=False)
            ax.boxplot([d for d in data if d.size], positions=positions, widths=0.15)
        for i, name in enumerate(names, start=1):
            for prior, table in (priors or {}).get(name, {}).items():
                if column not in table.columns:
                    continue
                label, colour, style = PRIOR_STYLES.get(prior, (prior, 'k', '--'))
                mean = float(table[column].reindex(causality[name].index).mean())
                handles[label] = ax.hlines(mean, i - 0.45, i + 0.45, colors=colour,
                                           linestyles=style, lw=1.4)
            table = (random or {}).get(name)
            if table is not None and column in table.columns:
                handles['random-weights copy (mean)'], = ax.plot(
                    [i], [float(table[column].reindex(causality[name].index).mean())], 'kx',
                    ms=8, mew=2)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=20)
        ax.set_title(column, fontsize=9)
    for ax in axes[len(columns):]:
        ax.axis('off')
    if handles:
        fig.legend(list(handles.values()), list(handles), loc='lower center',
                   ncol=len(handles), fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.6 / (3.4 * n_rows + 0.6), 1, 1))
    else:
        fig.tight_layout()
    return fig


def roi_filled_panel(overlay: np.ndarray) -> Optional[np.ndarray]:
    """The film of an overlay with its expert ROI blurred out (the intervention's blur fill).

    ``gradcam.py`` overlays are three panels, image | CAM | CAM with the expert contour drawn
    in exactly :data:`~osteo_mm.explain.visualize.ROI_COLOUR`; the contour is filled to recover
    the ROI, and the film is replaced inside it by its Gaussian blur (sigma 1/32 of the side,
    as :func:`osteo_mm.explain.intervention.fill_regions` does for ``fill='blur'``).

    Args:
        overlay (np.ndarray): RGB(A) overlay as read by ``matplotlib.image.imread``.

    Returns:
        np.ndarray or None: the RGB film with the ROI filled, or None when it has no contour.
    """
    rgb = overlay[..., :3]
    if rgb.dtype != np.uint8:
        rgb = np.rint(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    width = rgb.shape[1] // 3
    film, outlined = rgb[:, :width], rgb[:, 2 * width:3 * width]
    colour = np.array(ROI_COLOUR[::-1], np.uint8)  # BGR constant, RGB image
    contour = np.all(outlined == colour, axis=-1).astype(np.uint8)
    if not contour.any():
        return None
    shapes, _ = cv2.findContours(contour, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    region = np.zeros_like(contour)
    cv2.drawContours(region, shapes, -1, 1, thickness=cv2.FILLED)
    sigma = max(film.shape[0] / 32, 0.5)
    blurred = cv2.GaussianBlur(film, (0, 0), sigma)
    return np.where(region[..., None] > 0, blurred, film)


def overlay_file(directory: str, img_id: str) -> Optional[str]:
    """Find the Grad-CAM overlay PNG of ``img_id`` written by ``tools/analysis/gradcam.py``.

    ``gradcam.py --out-dir D`` writes ``D/vis/<img_id>.png`` (folders mirrored, see
    :func:`osteo_mm.explain.io.id_to_relpath`) for its first ``--num-vis`` images.

    Args:
        directory (str): the Grad-CAM ``--out-dir`` or its ``vis`` folder.
        img_id (str): the image id.

    Returns:
        str or None: the PNG path, or None when there is no overlay for this image.
    """
    relpath = id_to_relpath(img_id, '.png')
    for folder in (osp.join(directory, 'vis'), directory):
        if osp.isfile(osp.join(folder, relpath)):
            return osp.join(folder, relpath)
    return None


def gallery_rows(models: Dict[str, Predictions], images_dirs: Sequence[str],
                 max_images: int = 8) -> List[int]:
    """Images where the models' decisions differ and every model has an overlay.

    Args:
        models (dict[str, Predictions]): aligned predictions.
        images_dirs (Sequence[str]): one Grad-CAM output folder per model, same order.
        max_images (int): at most this many rows. Defaults to 8.

    Returns:
        list[int]: row indices into the aligned arrays, widest probability spread first.
    """
    decisions = np.stack([m.y_pred for m in models.values()])
    scores = np.stack([m.score for m in models.values()])
    differ = np.flatnonzero(decisions.any(axis=0) & ~decisions.all(axis=0))
    differ = differ[np.argsort(-np.ptp(scores[:, differ], axis=0), kind='stable')]
    img_ids = next(iter(models.values())).img_id
    rows = [int(i) for i in differ
            if all(overlay_file(d, img_ids[i]) is not None for d in images_dirs)]
    return rows[:max_images]


def gallery_figure(models: Dict[str, Predictions], images_dirs: Sequence[str],
                   rows: Sequence[int]) -> Figure:
    """Grid of CAM overlays: one row per image, one column per model, then the ROI-filled film.

    Args:
        models (dict[str, Predictions]): aligned predictions.
        images_dirs (Sequence[str]): one overlay directory per model, same order.
        rows (Sequence[int]): row indices to show (e.g. from :func:`gallery_rows`).

    Returns:
        Figure: the gallery.
    """
    names = list(models)
    first = next(iter(models.values()))
    # Row height follows the overlays' aspect ratio (gradcam.py writes three panels side by side).
    height, width = mpimg.imread(overlay_file(images_dirs[0], first.img_id[rows[0]])).shape[:2]
    cell = 3.2
    fig = Figure(figsize=(1.4 + cell * len(names) + cell / 3,
                          len(rows) * (cell * height / width + 0.4)))
    axes = fig.subplots(len(rows), len(names) + 1, squeeze=False,
                        gridspec_kw=dict(width_ratios=[3] * len(names) + [1]))
    for r, idx in enumerate(rows):
        img_id = first.img_id[idx]
        truth = 'positive' if first.y_true[idx] else 'negative'
        for c, (name, directory) in enumerate(zip(names, images_dirs)):
            ax = axes[r, c]
            ax.axis('off')
            model = models[name]
            ax.imshow(mpimg.imread(overlay_file(directory, img_id)))
            decision = 'pos' if model.y_pred[idx] else 'neg'
            ax.set_title(f'{name}: p={model.score[idx]:.2f} ({decision})', fontsize=8)
        ax = axes[r, -1]
        ax.axis('off')
        filled = roi_filled_panel(mpimg.imread(overlay_file(images_dirs[0], img_id)))
        if filled is not None:
            ax.imshow(filled)
            ax.set_title('ROI filled (blur)', fontsize=8)
        axes[r, 0].text(-0.05, 0.5, f'{img_id}\ntruth: {truth}', transform=axes[r, 0].transAxes,
                        ha='right', va='center', fontsize=7)
    fig.tight_layout()
    return fig
