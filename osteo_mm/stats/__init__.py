"""Statistics for model comparison: bootstrap CIs, DeLong AUC tests, paired tests, Holm."""
from .bootstrap import BootstrapResult, bootstrap_ci
from .delong import (
    AucCI,
    DeLongResult,
    delong_auc_ci,
    delong_covariance,
    delong_test,
    delong_test_independent,
)
from .multiple import holm
from .paired import PairedTestResult, mcnemar_test, permutation_test_paired, wilcoxon_test

__all__ = [
    'AucCI', 'BootstrapResult', 'DeLongResult', 'PairedTestResult', 'bootstrap_ci',
    'delong_auc_ci', 'delong_covariance', 'delong_test', 'delong_test_independent', 'holm',
    'mcnemar_test', 'permutation_test_paired', 'wilcoxon_test'
]
