"""Statistical primitives shared by the scoring and the cohort libraries: the AUC with DeLong's variance.

Convention: cases vs controls with pROC's ``direction`` (">": controls have higher scores than cases, so AUC
> 0.5 means cases have lower scores). The variance is DeLong, DeLong and Clarke-Pearson (Biometrics
1988;44:837-45) through structural components (placements) as ``pROC:::delongPlacements``/``var.roc``:
var = var(V10)/n_cases + var(V01)/n_controls with R's n - 1 sample variances; CI = AUC -/+ z_0.975 SE,
clipped to [0, 1] as ``pROC::ci.auc(method = "delong")``. AUCs are unitless.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import norm, rankdata


@dataclass
class AucResult:
    """AUC with DeLong SE, 95 % CI and p (H0: AUC = 0.5). ``auc`` is None when a group is empty."""

    n: int
    n_progressive: int
    auc: "float | None"
    se: "float | None"
    ci95: "list | None"
    p: "float | None"
    note: str = ""

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


def _placements(cases: np.ndarray, controls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Structural components: V10_i = mean_j psi(case_i, control_j), V01_j = mean_i psi(case_i, control_j).

    psi(case, control) = 1 if case > control, 1/2 if equal, 0 otherwise (direction "<"). Computed with
    mid-ranks, O((m + n) log(m + n)).
    """
    m, n = cases.size, controls.size
    pooled = np.concatenate([cases, controls])
    r_all = rankdata(pooled)  # average ranks
    r_cases = rankdata(cases)
    r_controls = rankdata(controls)
    # number of controls below case i (ties count 1/2) = rank of case i in pooled - rank within cases
    v10 = (r_all[:m] - r_cases) / n
    # number of cases above control j (ties 1/2) = m - (rank in pooled - rank within controls)
    v01 = 1.0 - (r_all[m:] - r_controls) / m
    return v10, v01


def delong_auc(scores, is_case, direction: str = ">") -> AucResult:
    """AUC, DeLong SE, 95 % CI and two-sided p of z = (AUC - 0.5) / SE.

    scores: the marker per observation; is_case: True for a case (progressive lesion).
    direction ">": controls > cases (pROC's meaning); "<": controls < cases.
    """
    scores = np.asarray(scores, dtype=float)
    is_case = np.asarray(is_case, dtype=bool)
    if scores.shape != is_case.shape:
        raise ValueError("scores and is_case must have the same length")
    keep = ~np.isnan(scores)
    scores, is_case = scores[keep], is_case[keep]
    if direction not in (">", "<"):
        raise ValueError("direction must be '>' or '<'")
    sign = -1.0 if direction == ">" else 1.0
    cases = sign * scores[is_case]
    controls = sign * scores[~is_case]
    n, n_cases = int(scores.size), int(cases.size)
    if cases.size == 0 or controls.size == 0:
        return AucResult(n, n_cases, None, None, None, None,
                         note="no progressive lesions" if cases.size == 0 else "no non-progressive lesions")
    v10, v01 = _placements(cases, controls)
    auc = float(v10.mean())
    if cases.size < 2 or controls.size < 2:
        return AucResult(n, n_cases, auc, None, None, None,
                         note="DeLong variance needs at least 2 cases and 2 controls")
    var = float(np.var(v10, ddof=1) / cases.size + np.var(v01, ddof=1) / controls.size)
    se = math.sqrt(var)
    if se == 0:  # pROC prints the CI "1-1" here; a zero variance gives neither a CI nor a test
        return AucResult(n, n_cases, auc, 0.0, None, None,
                         note="DeLong variance 0 (complete separation or all scores tied): CI and p not estimable")
    z975 = norm.ppf(0.975)
    ci = [float(max(0.0, auc - z975 * se)), float(min(1.0, auc + z975 * se))]
    p = float(2 * norm.sf(abs(auc - 0.5) / se))
    return AucResult(n, n_cases, auc, se, ci, p)
