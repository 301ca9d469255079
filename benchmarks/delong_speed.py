"""Time DeLong for 2 correlated models: plain (100,000 cases) and patient-clustered (100,000
images in 50,000 patients; target < 0.3 s), and check both are exact.

Exactness: the AUCs equal scikit-learn's; on a subsample the fast plain covariance equals the
O(m*n) definition of DeLong et al. (1988) and the fast clustered covariance equals Obuchowski's
(1997) formulas evaluated from the full m x n kernel matrix. Times are process (CPU) time, the
fair measure on a shared machine, with wall time beside it; the clustered call includes turning
the string patient ids into clusters.

    python benchmarks/delong_speed.py [--cases 100000] [--patients 50000] [--repeats 7]
"""
import argparse
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from osteo_mm.stats import delong_covariance, delong_test


def kernel(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """psi(X_i, Y_j) for every positive/negative pair, shape (k, m, n)."""
    pos, neg = scores[:, y], scores[:, ~y]
    return (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])


def brute_force_cov(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """DeLong covariance by its definition (all positive/negative pairs)."""
    psi = kernel(y, scores)
    v10, v01 = psi.mean(axis=2), psi.mean(axis=1)
    return np.cov(v10) / psi.shape[1] + np.cov(v01) / psi.shape[2]


def brute_force_clustered_cov(y: np.ndarray, scores: np.ndarray, codes: np.ndarray
                              ) -> np.ndarray:
    """Obuchowski (1997) covariance from the full kernel matrix and per-patient sums."""
    psi = kernel(y, scores)
    big_m, big_n = psi.shape[1], psi.shape[2]
    aucs = psi.mean(axis=(1, 2))
    n_clusters = codes.max() + 1
    onehot_pos = np.eye(n_clusters)[codes[y]]  # (m, I)
    onehot_neg = np.eye(n_clusters)[codes[~y]]  # (n, I)
    m_i, n_i = onehot_pos.sum(0), onehot_neg.sum(0)
    x = psi.mean(axis=2) @ onehot_pos - m_i * aucs[:, None]
    yc = psi.mean(axis=1) @ onehot_neg - n_i * aucs[:, None]
    i10, i01 = np.count_nonzero(m_i), np.count_nonzero(n_i)
    s10 = i10 / ((i10 - 1) * big_m) * x @ x.T
    s01 = i01 / ((i01 - 1) * big_n) * yc @ yc.T
    s11 = n_clusters / (n_clusters - 1) * x @ yc.T
    return s10 / big_m + s01 / big_n + (s11 + s11.T) / (big_m * big_n)


def timed(fn, repeats: int) -> tuple:
    """Median and min process time and median wall time of ``fn()`` over ``repeats`` calls."""
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return result, np.median(cpu), np.min(cpu), np.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cases', type=int, default=100_000)
    parser.add_argument('--patients', type=int, default=50_000)
    parser.add_argument('--repeats', type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    # Every patient has >= 1 image, the other images go to random patients (2 on average, up
    # to ~8); labels are correlated within a patient.
    patient = np.sort(np.concatenate([np.arange(args.patients), rng.integers(
        0, args.patients, args.cases - args.patients)]))
    patient_ids = np.array([f'P{p:07d}' for p in patient], dtype=object)
    risk = rng.normal(0, 1, args.patients)[patient]
    y = risk + rng.normal(0, 0.6, args.cases) > 0.6
    # Scores rounded to 3 decimals: many ties, as with real quantised probabilities.
    effect = rng.normal(0, 0.7, (2, args.patients))[:, patient]
    a = np.round(1 / (1 + np.exp(-(2 * y - 1) - effect[0] - rng.normal(0, 1, args.cases))), 3)
    b = np.round(1 / (1 + np.exp(-(2 * y - 1) * 0.8 - effect[1]
                                  - rng.normal(0, 1, args.cases))), 3)
    print(f'{args.cases} images, {len(np.unique(patient))} patients, {y.mean():.1%} positive')

    plain, cpu, cpu_min, wall = timed(lambda: delong_test(y, a, b), args.repeats)
    print(f'plain delong_test: process time median {cpu:.4f} s (min {cpu_min:.4f} s), '
          f'wall median {wall:.4f} s over {args.repeats} runs')
    clus, cpu, cpu_min, wall = timed(lambda: delong_test(y, a, b, groups=patient_ids),
                                     args.repeats)
    print(f'clustered delong_test (Obuchowski): process time median {cpu:.4f} s '
          f'(min {cpu_min:.4f} s), wall median {wall:.4f} s over {args.repeats} runs')
    singletons = np.array([f'I{i:07d}' for i in range(args.cases)], dtype=object)
    _, cpu, cpu_min, wall = timed(lambda: delong_test(y, a, b, groups=singletons),
                                  args.repeats)
    print(f'clustered delong_test, one image per patient (fast path = plain DeLong): process '
          f'time median {cpu:.4f} s (min {cpu_min:.4f} s), wall median {wall:.4f} s')
    print(f'AUC A {clus.auc_a:.6f} B {clus.auc_b:.6f}, diff {clus.difference:.6f}; '
          f'SE plain {np.sqrt(plain.variance):.6f} clustered {np.sqrt(clus.variance):.6f}; '
          f'p plain {plain.p_value:.3g} clustered {clus.p_value:.3g}')
    error = np.abs(np.array([clus.auc_a, clus.auc_b]) - [roc_auc_score(y, a),
                                                          roc_auc_score(y, b)])
    print(f'max |AUC - sklearn| = {error.max():.2e}')

    sub = patient < patient[2000]  # whole patients, about 2,000 images
    scores = np.stack([a[sub], b[sub]])
    _, fast = delong_covariance(y[sub], scores)
    exact = brute_force_cov(y[sub], scores)
    print(f'{sub.sum()}-image subsample: plain covariance max relative error vs O(m*n) '
          f'definition = {np.max(np.abs(fast - exact) / np.abs(exact)):.2e}')
    codes = np.unique(patient[sub], return_inverse=True)[1]
    _, fast = delong_covariance(y[sub], scores, groups=patient_ids[sub])
    exact = brute_force_clustered_cov(y[sub], scores, codes)
    print(f'{sub.sum()}-image subsample ({codes.max() + 1} patients): clustered covariance max '
          f'relative error vs Obuchowski from the full kernel = '
          f'{np.max(np.abs(fast - exact) / np.abs(exact)):.2e}')


if __name__ == '__main__':
    main()
