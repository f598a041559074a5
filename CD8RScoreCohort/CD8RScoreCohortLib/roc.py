"""Area under the ROC curve of lesion progression: DeLong's AUC (shared with the scoring library) and the curve.

Convention of the cohort analysis (DESIGN §5): cases = progressive lesions, controls = the others, and
direction ">" as in ``pROC::roc(..., direction = ">")``: controls have higher scores than cases, so AUC > 0.5
means progressive lesions have lower scores. ``delong_auc`` (AUC, DeLong SE, 95 % CI, p of AUC = 0.5) lives in
``CD8RScoreLib.statistics``, the one home of the statistical primitives both libraries use.
"""
from __future__ import annotations

import numpy as np

from CD8RScoreLib.statistics import AucResult, delong_auc

__all__ = ["AucResult", "delong_auc", "roc_curve"]


def roc_curve(scores, is_case, direction: str = ">") -> tuple[np.ndarray, np.ndarray]:
    """(1 - specificity, sensitivity) over all thresholds, from (0, 0) to (1, 1), for plotting.

    With direction ">" a lesion is called positive (progressive) when its score is <= the threshold.
    """
    scores = np.asarray(scores, dtype=float)
    is_case = np.asarray(is_case, dtype=bool)
    keep = ~np.isnan(scores)
    s = scores[keep] * (-1.0 if direction == ">" else 1.0)
    c = is_case[keep]
    n_cases, n_controls = int(c.sum()), int((~c).sum())
    if n_cases == 0 or n_controls == 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    thresholds = np.unique(s)[::-1]
    order = np.argsort(-s, kind="mergesort")
    s_sorted, c_sorted = s[order], c[order]
    tp = np.cumsum(c_sorted)
    fp = np.cumsum(~c_sorted)
    last_of_value = np.searchsorted(-s_sorted, -thresholds, side="right") - 1
    tpr = np.concatenate([[0.0], tp[last_of_value] / n_cases])
    fpr = np.concatenate([[0.0], fp[last_of_value] / n_controls])
    return fpr, tpr
