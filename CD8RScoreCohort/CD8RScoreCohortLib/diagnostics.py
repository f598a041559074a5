"""Sensitivity, specificity, PPV and NPV with exact (Clopper-Pearson) 95 % CIs.

The exact interval is ``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``, the same as R's
``binom.test(k, n)$conf.int`` (Clopper and Pearson, Biometrika 1934;26:404-13).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import binomtest


def proportion_with_ci(k: int, n: int, confidence: float = 0.95) -> dict:
    """{"k", "n", "estimate", "ci95": [lo, hi]}; estimate and CI None when n = 0."""
    k, n = int(k), int(n)
    if n == 0:
        return {"k": 0, "n": 0, "estimate": None, "ci95": None}
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return {"k": k, "n": n, "estimate": k / n, "ci95": [float(ci.low), float(ci.high)]}


def diagnostic_performance(predicted_positive, actual_positive) -> dict:
    """Sensitivity, specificity, PPV, NPV (each with k, n, estimate, exact CI) and the 2x2 counts.

    predicted_positive: the rule's call (e.g. high risk); actual_positive: the truth (e.g. progressive disease).
    """
    pred = np.asarray(predicted_positive, dtype=bool)
    truth = np.asarray(actual_positive, dtype=bool)
    if pred.shape != truth.shape:
        raise ValueError("predicted_positive and actual_positive must have the same length")
    tp = int(np.sum(pred & truth))
    fp = int(np.sum(pred & ~truth))
    fn = int(np.sum(~pred & truth))
    tn = int(np.sum(~pred & ~truth))
    return {
        "sensitivity": proportion_with_ci(tp, tp + fn),
        "specificity": proportion_with_ci(tn, tn + fp),
        "ppv": proportion_with_ci(tp, tp + fp),
        "npv": proportion_with_ci(tn, tn + fn),
        "counts": {"true_positive": tp, "false_positive": fp, "false_negative": fn, "true_negative": tn},
    }
