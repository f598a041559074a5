"""CD8RScoreLib: the Qt-free core of CD8RScore.

Lesion VOIs, IBSI-conformant radiomic features (pyradiomics), signatures as data, the CD8 radiomics score,
patient-level heterogeneity metrics, lesion response and the cohort file. Only ``mrml.py`` imports ``slicer``;
nothing here imports qt or ctk. For research use, not for clinical decisions.
"""

__version__ = "0.1.0"

RESEARCH_USE_NOTICE = "For research use only, not for clinical decisions."
