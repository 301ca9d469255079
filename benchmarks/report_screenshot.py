"""Build a comparison report from synthetic records, time it, and screenshot it in Chromium.

Three synthetic models (strong CNN, medium ViT, weak scratch model) on ``--images`` images of
``--images / 2`` patients, with causality files, prior folders, ROI interventions and
Grad-CAM-like overlay PNGs. The HTML report is rendered by headless Chromium
(``apt-get install chromium``) into ``--screenshot``. With ``--html REPORT`` an existing report
(e.g. the demo's ``work_dirs/demo/report/report.html``) is screenshot instead.

    python benchmarks/report_screenshot.py [--images 500] [--n-boot 2000] [--work-dir DIR]
    python benchmarks/report_screenshot.py --html work_dirs/demo/report/report.html \
        --screenshot docs/images/report_screenshot.png
"""
import argparse
import os
import os.path as osp
import shutil
import subprocess
import tempfile
import time

import cv2
import numpy as np
import pandas as pd

from osteo_mm.report import compare_models

MODELS = (('CNN', 1.5, 0.6), ('ViT', 1.2, 0.55), ('Scratch', 0.6, 0.35))


def synthetic_overlay(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Three panels like gradcam.py's overlays: image | heat map | heat map with contour."""
    yy, xx = np.mgrid[:size, :size] / size
    image = (255 * (0.5 + 0.3 * np.sin(6 * xx + rng.random()))).astype(np.uint8)
    cy, cx = rng.random(2) * 0.6 + 0.2
    heat = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.02)
    colour = cv2.applyColorMap((255 * heat).astype(np.uint8), cv2.COLORMAP_JET)
    gray = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    blend = cv2.addWeighted(gray, 0.5, colour, 0.5, 0)
    contour = blend.copy()
    cv2.rectangle(contour, (size // 4, size // 4), (size // 2, size // 2), (0, 255, 0), 1)
    return np.concatenate([gray, blend, contour], axis=1)


def write_records(root: str, n_images: int, seed: int = 0) -> dict:
    """Write predictions, causality files and overlays for :data:`MODELS` under ``root``."""
    rng = np.random.default_rng(seed)
    ids = [f'shoulder/{i:04d}.dcm' for i in range(n_images)]
    y = (rng.random(n_images) < 0.3).astype(int)
    paths = dict(preds=[], cams=[], dirs=[], names=[])
    for name, strength, energy in MODELS:
        p = 1 / (1 + np.exp(-(2 * y - 1) * strength - rng.normal(0, 1, n_images)))
        pred_path = osp.join(root, f'{name}.csv')
        pd.DataFrame(dict(img_id=ids, patient_id=[f'P{i // 2:04d}' for i in range(n_images)],
                          gt_label=y, pred_label=(p >= 0.5).astype(int),
                          pred_score=np.maximum(p, 1 - p), prob_not_osteoporosis=1 - p,
                          prob_osteoporosis=p)).to_csv(pred_path, index=False)
        cam_dir = osp.join(root, f'{name}_cam')
        os.makedirs(osp.join(cam_dir, 'vis', 'shoulder'), exist_ok=True)
        has_roi = rng.random(n_images) < 0.8
        epg = np.where(has_roi, np.clip(rng.normal(energy, 0.15, n_images), 0, 1), np.nan)
        pd.DataFrame(dict(img_id=ids, method='gradcam', target_class=y,
                          roi_area_share=np.where(has_roi, 0.12, np.nan),
                          pointing_game=np.where(has_roi, rng.random(n_images) < energy, np.nan),
                          energy_pointing_game=epg)).to_csv(
                              osp.join(cam_dir, 'causality.csv'), index=False)
        for img_id in ids[:64]:  # gradcam.py writes overlays for its first --num-vis images
            cv2.imwrite(osp.join(cam_dir, 'vis', f'{img_id}.png'), synthetic_overlay(rng))
        prior_dir = osp.join(root, f'{name}_priors')
        os.makedirs(osp.join(prior_dir, 'random_weights'), exist_ok=True)
        for prior, level in (('uniform', 0.12), ('centre', 0.3), ('dataset_roi', 0.45),
                             ('random_weights/causality', 0.15)):
            pd.DataFrame(dict(img_id=ids, method=prior, target_class=-1,
                              roi_area_share=np.where(has_roi, 0.12, np.nan),
                              pointing_game=np.where(has_roi, level, np.nan),
                              energy_pointing_game=np.where(has_roi, level, np.nan))).to_csv(
                                  osp.join(prior_dir, f'{prior}.csv'), index=False)
        effects = osp.join(root, f'{name}_roi.csv')
        pd.DataFrame(dict(img_id=ids, patient_id=[f'P{i // 2:04d}' for i in range(n_images)],
                          target_class=y, roi_effect=strength + rng.normal(0, 1, n_images),
                          control_effect=rng.normal(0, 1, n_images))).to_csv(effects,
                                                                             index=False)
        for key, value in (('preds', pred_path), ('cams', osp.join(cam_dir, 'causality.csv')),
                           ('dirs', cam_dir), ('names', name), ('priors', prior_dir),
                           ('effects', effects)):
            paths.setdefault(key, []).append(value)
    return paths


def screenshot(html: str, png: str, width: int = 1100, height: int = 5200) -> float:
    """Render ``html`` with headless Chromium into ``png``; return the seconds it took."""
    browser = shutil.which('chromium') or shutil.which('chromium-browser')
    if browser is None:
        raise SystemExit('error: chromium not found (apt-get install chromium)')
    os.makedirs(osp.dirname(osp.abspath(png)), exist_ok=True)
    start = time.perf_counter()
    subprocess.run([browser, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                    f'--screenshot={osp.abspath(png)}', f'--window-size={width},{height}',
                    'file://' + osp.abspath(html)], check=True, capture_output=True, timeout=180)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=500)
    parser.add_argument('--n-boot', type=int, default=2000)
    parser.add_argument('--work-dir', help='keep inputs and report here (default: temp dir)')
    parser.add_argument('--html', help='screenshot this existing report instead')
    parser.add_argument('--height', type=int, default=5200, help='window height in px')
    parser.add_argument('--screenshot', default='docs/images/report_screenshot.png')
    args = parser.parse_args()
    if args.html:
        seconds = screenshot(args.html, args.screenshot, height=args.height)
        print(f'chromium screenshot {args.screenshot} in {seconds:.1f} s')
        return
    root = args.work_dir or tempfile.mkdtemp(prefix='report_bench_')
    os.makedirs(root, exist_ok=True)
    paths = write_records(root, args.images)
    start = time.perf_counter()
    written = compare_models(paths['preds'], osp.join(root, 'report'), names=paths['names'],
                             cam_paths=paths['cams'], images_dirs=paths['dirs'],
                             n_boot=args.n_boot, prior_dirs=paths['priors'],
                             roi_effect_paths=paths['effects'])
    elapsed = time.perf_counter() - start
    print(f'compare_models: 3 models x {args.images} images, n_boot {args.n_boot}: '
          f'{elapsed:.1f} s; report.html {osp.getsize(written["html"]) / 1e6:.2f} MB')
    seconds = screenshot(written['html'], args.screenshot, height=args.height)
    print(f'chromium screenshot {args.screenshot} in {seconds:.1f} s')
    if args.work_dir is None:
        shutil.rmtree(root)


if __name__ == '__main__':
    main()
