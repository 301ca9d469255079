"""Where the shoulder phantom's label signal lives, measured without a model.

For each seed: AUC (osteoporosis vs not) of a 5-fold cross-validated logistic regression on
32-bin global intensity histograms, of the cortical index read inside the diaphyseal ROI
(:func:`cortical_index`), and of the latent DTI (the ceiling any image feature of the cortex can
reach given the noisy T -> DTI coupling).

Example:
    nice -n 10 python tools/analysis/phantom_signal.py --num-images 1000 --size 128 --seeds 0 1 2
"""
import argparse

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from osteo_mm.datasets.phantom import cortical_index, render_shoulder, sample_patient


def measure(num_images: int, size: int, seed: int) -> dict:
    """AUCs of the global histogram, the ROI cortical index and the latent DTI."""
    histograms, index, dti, positive = [], [], [], []
    for i in range(num_images):
        patient = sample_patient(np.random.default_rng([seed, i]), i)
        view = render_shoulder(patient, np.random.default_rng([seed, i, 1]), size)
        histograms.append(np.histogram(view.image, bins=32, range=(0, 1))[0] / view.image.size)
        index.append(cortical_index(view.image, view.roi_mask))
        dti.append(patient.dti)
        positive.append(patient.who_label == 2)
    prob = cross_val_predict(LogisticRegression(max_iter=5000), np.array(histograms), positive,
                             cv=5, method='predict_proba')[:, 1]
    return dict(prevalence=float(np.mean(positive)),
                histogram=roc_auc_score(positive, prob),
                roi_index=roc_auc_score(positive, -np.array(index)),
                latent_dti=roc_auc_score(positive, -np.array(dti)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='Shoulder phantom signal locality')
    parser.add_argument('--num-images', type=int, default=1000)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    args = parser.parse_args(argv)
    print('| seed | px | images | prevalence | histogram LR AUC | ROI cortical index AUC '
          '| latent DTI AUC |')
    for seed in args.seeds:
        r = measure(args.num_images, args.size, seed)
        print(f'| {seed} | {args.size} | {args.num_images} | {r["prevalence"]:.3f} '
              f'| {r["histogram"]:.3f} | {r["roi_index"]:.3f} | {r["latent_dti"]:.3f} |')

