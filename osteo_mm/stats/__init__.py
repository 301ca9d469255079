"""Statistics for model comparison with the patient as the unit of analysis.

Bootstrap CIs (patient-level, stratified), DeLong AUC tests (clustered by patient, Obuchowski
1997), paired tests (clustered McNemar, patient-level permutation), Holm, the binary threshold
metrics and the patient clusters every layer above shares.
"""
from .bootstrap import MAX_SKIP_FRACTION, BootstrapResult, bootstrap_ci
from .clusters import (
    UnitOfAnalysis,
    cluster_codes,
    is_clustered,
    patient_groups,
    patient_means,
    patient_strata,
    unit_of_analysis,
)
from .delong import (
    AucCI,
    DeLongResult,
    delong_auc_ci,
    delong_covariance,
    delong_test,
    delong_test_independent,
)
from .multiple import holm
from .paired import (
    CLUSTERED_MCNEMAR_METHODS,
    PairedTestResult,
    clustered_mcnemar_test,
    mcnemar_test,
    permutation_test_paired,
    wilcoxon_test,
)
from .threshold import (
    THRESHOLD_METRICS,
    confusion_counts,
    confusion_from_decisions,
    threshold_metrics,
)

__all__ = [
    'AucCI', 'BootstrapResult', 'CLUSTERED_MCNEMAR_METHODS', 'DeLongResult', 'MAX_SKIP_FRACTION',
    'PairedTestResult', 'THRESHOLD_METRICS', 'UnitOfAnalysis', 'bootstrap_ci', 'cluster_codes',
    'clustered_mcnemar_test', 'confusion_counts', 'confusion_from_decisions', 'delong_auc_ci',
    'delong_covariance', 'delong_test', 'delong_test_independent', 'holm', 'is_clustered',
    'mcnemar_test', 'patient_groups', 'patient_means', 'patient_strata',
    'permutation_test_paired', 'threshold_metrics', 'unit_of_analysis', 'wilcoxon_test'
]
