"""CD8RScoreCohortLib: the Qt-free cohort statistics of CD8RScore.

Lesion-level progression AUCs, patient-level survival (Kaplan-Meier, log-rank, Cox), maximally selected
log-rank cut-points, diagnostic performance, heterogeneity metrics, the cohort report, and a simulated
cohort generator. For research use only, not for clinical decisions.
"""

__version__ = "0.1.0"
