"""Time the DeLong test for 2 correlated models on 100,000 cases (target: < 0.2 s).

Also checks exactness: the AUCs equal scikit-learn's, and on a 2,000-case subsample the fast
(Sun & Xu) covariance equals the O(m*n) definition of DeLong et al. (1988).

    python benchmarks/delong_speed.py [--cases 100000] [--repeats 7]
"""
import argparse
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from osteo_mm.stats import delong_covariance, delong_test


def brute_force_cov(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """DeLong covariance by its definition (all positive/negative pairs)."""
    pos, neg = scores[:, y], scores[:, ~y]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    v10, v01 = psi.mean(axis=2), psi.mean(axis=1)
    return np.cov(v10) / pos.shape[1] + np.cov(v01) / neg.shape[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cases', type=int, default=100_000)
    parser.add_argument('--repeats', type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = rng.random(args.cases) < 0.3
    # Scores rounded to 3 decimals: many ties, as with real quantised probabilities.
    a = np.round(1 / (1 + np.exp(-(2 * y - 1) - rng.normal(0, 1, args.cases))), 3)
    b = np.round(1 / (1 + np.exp(-(2 * y - 1) * 0.8 - rng.normal(0, 1, args.cases))), 3)

    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = delong_test(y, a, b)
        times.append(time.perf_counter() - start)
    print(f'delong_test, 2 models x {args.cases} cases: median {np.median(times):.4f} s, '
          f'min {np.min(times):.4f} s over {args.repeats} runs')
    print(f'AUC A {result.auc_a:.6f} B {result.auc_b:.6f}, diff {result.difference:.6f}, '
          f'z {result.z:.3f}, p {result.p_value:.3g}')
    error = np.abs(np.array([result.auc_a, result.auc_b]) - [roc_auc_score(y, a),
                                                              roc_auc_score(y, b)])
    print(f'max |AUC - sklearn| = {error.max():.2e}')
    sub = slice(0, 2000)
    scores = np.stack([a[sub], b[sub]])
    _, fast = delong_covariance(y[sub], scores)
    exact = brute_force_cov(y[sub], scores)
    print(f'2,000-case subsample: max relative covariance error vs O(m*n) definition = '
          f'{np.max(np.abs(fast - exact) / np.abs(exact)):.2e}')


if __name__ == '__main__':
    main()
