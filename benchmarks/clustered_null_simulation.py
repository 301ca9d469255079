"""Type-I error of naive (image-level) and patient-clustered model-comparison tests.

Null simulation: two models with the *same* true AUC (exchangeable score distributions) scored
on datasets of ``--patients`` patients x ``--images`` correlated images (e.g. both shoulders).
Patient k has a latent risk; image labels are correlated within a patient (some patients hold a
positive and a negative image). Model m scores image j of patient k as
``delta * y + a_k + b_mk + e_mkj``: ``a_k`` is shared by both models, ``b_mk`` is the model's own
patient effect (its errors repeat on the patient's other image) and ``e_mkj`` is image noise.
Decisions for McNemar are ``score >= delta / 2`` for both models (equal true accuracy).

For each dataset every test is run at alpha = 0.05; the rejection rate over ``--datasets``
datasets estimates its type-I error (a valid test: about 0.05). Printed as a Markdown table
with 95 % Wilson intervals.

    python benchmarks/clustered_null_simulation.py [--datasets 2000] [--patients 200] \
        [--images 2] [--seed 0]
"""
import argparse
import time
import warnings

import numpy as np
from scipy.stats import norm
from tqdm import tqdm

from osteo_mm.stats import (
    clustered_mcnemar_test,
    delong_test,
    mcnemar_test,
    permutation_test_paired,
)

ALPHA = 0.05


def simulate(rng: np.random.Generator, n_patients: int, n_images: int, delta: float = 1.5,
             sd_shared: float = 0.5, sd_model: float = 1.0, sd_image: float = 0.5,
             prevalence: float = 0.3) -> tuple:
    """One null dataset: labels, two models' scores and patient ids (see module docstring)."""
    pid = np.repeat(np.arange(n_patients), n_images)
    risk = rng.normal(0, 1, n_patients)[pid] + rng.normal(0, 0.5, pid.size)
    y = risk > norm.ppf(1 - prevalence) * np.sqrt(1.25)
    shared = rng.normal(0, sd_shared, n_patients)[pid]
    own = rng.normal(0, sd_model, (2, n_patients))[:, pid]
    scores = delta * y + shared + own + rng.normal(0, sd_image, (2, pid.size))
    return y, scores, pid


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple:
    """95 % Wilson score interval of a binomial proportion."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--datasets', type=int, default=2000)
    parser.add_argument('--patients', type=int, default=200)
    parser.add_argument('--images', type=int, default=2)
    parser.add_argument('--permutations', type=int, default=999)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    tests = {
        'AUC difference, DeLong (images independent)':
            lambda y, s, g, da, db: delong_test(y, s[0], s[1]).p_value,
        'AUC difference, clustered DeLong (Obuchowski 1997)':
            lambda y, s, g, da, db: delong_test(y, s[0], s[1], groups=g).p_value,
        'accuracy, McNemar (images independent)':
            lambda y, s, g, da, db: mcnemar_test(y, da, db).p_value,
        'accuracy, clustered McNemar (Obuchowski 1998)':
            lambda y, s, g, da, db: clustered_mcnemar_test(y, da, db, g, 'obuchowski').p_value,
        'accuracy, clustered McNemar (Durkalski 2003)':
            lambda y, s, g, da, db: clustered_mcnemar_test(y, da, db, g, 'durkalski').p_value,
        'accuracy, permutation test (images swapped)':
            lambda y, s, g, da, db: permutation_test_paired(
                da == y, db == y, args.permutations, seed=0).p_value,
        'accuracy, permutation test (patients swapped)':
            lambda y, s, g, da, db: permutation_test_paired(
                da == y, db == y, args.permutations, seed=0, groups=g).p_value,
    }
    rejections = {name: 0 for name in tests}
    undefined = {name: 0 for name in tests}
    auc_diffs, mixed = [], []
    start = time.perf_counter()
    for _ in tqdm(range(args.datasets), desc='null datasets', mininterval=10):
        y, scores, pid = simulate(rng, args.patients, args.images)
        groups = np.array([f'p{p}' for p in pid], dtype=object)
        dec_a, dec_b = (scores >= 1.5 / 2).astype(int)
        mixed.append(np.mean([len(set(y[pid == k])) == 2 for k in range(args.patients)]))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for name, test in tests.items():
                p = test(y.astype(int), scores, groups, dec_a, dec_b)
                if np.isfinite(p):
                    rejections[name] += p < ALPHA
                else:
                    undefined[name] += 1
        auc_diffs.append(delong_test(y, scores[0], scores[1]).difference)
    elapsed = time.perf_counter() - start
    print(f'{args.datasets} null datasets, {args.patients} patients x {args.images} images, '
          f'alpha = {ALPHA}; {np.mean(mixed):.1%} of patients hold both a positive and a '
          f'negative image; mean AUC difference {np.mean(auc_diffs):+.4f} '
          f'(SD {np.std(auc_diffs):.4f}); {elapsed:.0f} s wall')
    print()
    print('| test | rejection rate | 95 % CI | undefined |')
    print('| --- | --- | --- | --- |')
    for name in tests:
        n = args.datasets - undefined[name]
        rate = rejections[name] / n
        low, high = wilson(rejections[name], n)
        print(f'| {name} | {rate:.4f} | [{low:.3f}, {high:.3f}] | {undefined[name]} |')


if __name__ == '__main__':
    main()
