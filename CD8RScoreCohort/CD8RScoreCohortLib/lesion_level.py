"""Lesion-level analyses (DESIGN §3): does a lesion's baseline score predict its progression at E1?

Lesion response comes from matching (patient_id, lesion_id) between the E0 and E1 rows and classifying the
relative change of the longest axial diameter (``CD8RScoreLib.response.classify_change``: progression = increase
>= 20 %, response = decrease >= 30 %, E1 diameter 0 = complete response, else stable). Cases of the AUC are
progressive lesions; AUC > 0.5 means progressive lesions have lower scores (pROC direction ">").
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import odds_ratio

from CD8RScoreLib.response import classify_change

from .inputs import Exclusions
from .report_text import fill_reason, reason_template
from .roc import delong_auc

VOLUME_SUBGROUPS_ML: dict[str, float] = {"volume_gt_0.5ml": 0.5, "volume_gt_1ml": 1.0}
"""Subgroups by baseline lesion volume (mL, strictly greater), as in the melanoma study."""
EVALUABLE = ("complete_response", "response", "stable", "progression")


def lesion_responses(lesions: pd.DataFrame, exclusions: Exclusions) -> pd.DataFrame:
    """One row per baseline lesion with its E1 match, diameter change (%) and response class.

    Columns: patient_id, lesion_id, location, volume_ml, diameter_e0_mm, diameter_e1_mm, short_axis_e0_mm and
    short_axis_e1_mm (nodes' short axis, mm, when the lesion table gives it; not used by the rule), volume_e1_ml,
    diameter_change_pct, volume_change_pct, response, progression (1/0/NaN), score, score_e1, computable,
    score_class. Lesions without an E1 row or diameter are ``not_evaluated`` and counted in ``exclusions``.
    """
    if "short_axis_mm" not in lesions:  # a table read without inputs.read_lesions (which adds it) has no short axis
        lesions = lesions.assign(short_axis_mm=np.nan)
    e0 = lesions[lesions["timepoint"] == "E0"]
    e1 = lesions[lesions["timepoint"] == "E1"][["patient_id", "lesion_id", "longest_axial_diameter_mm",
                                                 "short_axis_mm", "volume_ml", "score", "computable"]]
    e1 = e1.rename(columns={"longest_axial_diameter_mm": "diameter_e1_mm", "short_axis_mm": "short_axis_e1_mm",
                            "volume_ml": "volume_e1_ml", "score": "score_e1", "computable": "computable_e1"})
    merged = e0.merge(e1, on=["patient_id", "lesion_id"], how="left")
    merged = merged.rename(columns={"longest_axial_diameter_mm": "diameter_e0_mm",
                                    "short_axis_mm": "short_axis_e0_mm"})
    changes = [classify_change(d0, d1) for d0, d1 in zip(merged["diameter_e0_mm"], merged["diameter_e1_mm"])]
    merged["diameter_change_pct"] = [c[0] for c in changes]
    merged["response"] = [c[1] for c in changes]
    with np.errstate(divide="ignore", invalid="ignore"):
        merged["volume_change_pct"] = np.where(merged["volume_ml"] > 0,
                                               100.0 * (merged["volume_e1_ml"] - merged["volume_ml"])
                                               / merged["volume_ml"], np.nan)
    merged["progression"] = np.where(merged["response"].isin(EVALUABLE),
                                     (merged["response"] == "progression").astype(float), np.nan)
    label = merged["patient_id"] + "/" + merged["lesion_id"]
    patients_with_e1 = set(lesions.loc[lesions["timepoint"] == "E1", "patient_id"])
    no_e1_ct = merged["diameter_e1_mm"].isna() & ~merged["patient_id"].isin(patients_with_e1)
    not_matched = merged["diameter_e1_mm"].isna() & merged["patient_id"].isin(patients_with_e1)
    exclusions.add("lesions", "baseline lesion of a patient without E1 CT: no lesion response",
                   label[no_e1_ct])
    exclusions.add("lesions", "baseline lesion without a matching E1 row (patient_id, lesion_id): no lesion response",
                   label[not_matched])
    bad_diameter = ~merged["diameter_e1_mm"].isna() & ~merged["response"].isin(EVALUABLE)
    exclusions.add("lesions", "diameter missing or 0 at E0: no lesion response", label[bad_diameter])
    not_computable = merged["computable"] == 0
    # group reasons that differ only by their numbers ("core VOI has 12 voxels" ~ "has 15 voxels"), each group
    # written with its numbers' range
    reasons = merged.loc[not_computable, "reason"].replace("", "no reason given")
    for _, ids in label[not_computable].groupby(reasons.map(reason_template)):
        reason = fill_reason(list(reasons[ids.index]))
        exclusions.add("lesions", f"baseline score not computable ({reason}): no score analyses", ids)
    e0_keys = set(zip(e0["patient_id"], e0["lesion_id"]))
    is_new = np.array([k not in e0_keys for k in zip(lesions["patient_id"], lesions["lesion_id"])], dtype=bool)
    new = lesions[(lesions["timepoint"] == "E1").to_numpy() & is_new]
    exclusions.add("lesions", "E1 lesion without a baseline row (new lesion): counts toward patient PD only",
                   new["patient_id"] + "/" + new["lesion_id"])
    return merged


def _auc_block(frame: pd.DataFrame) -> dict:
    res = delong_auc(frame["score"].to_numpy(), frame["progression"].to_numpy() == 1, direction=">")
    return res.to_dict()


def progression_auc(resp: pd.DataFrame) -> dict:
    """AUC of the baseline score for lesion progression: all, by volume subgroup and by location."""
    usable = resp[(resp["computable"] == 1) & resp["progression"].notna()]
    out = {"all": _auc_block(usable)}
    for key, threshold in VOLUME_SUBGROUPS_ML.items():
        out[key] = _auc_block(usable[usable["volume_ml"] > threshold])
    by_location = {}
    for loc, frame in sorted(usable.groupby("location"), key=lambda kv: -len(kv[1])):
        block = _auc_block(frame)
        for key, threshold in VOLUME_SUBGROUPS_ML.items():
            block[key] = _auc_block(frame[frame["volume_ml"] > threshold])
        by_location[str(loc)] = block
    out["by_location"] = by_location
    return out


def fisher_2x2(a: int, b: int, c: int, d: int) -> dict:
    """Conditional maximum-likelihood OR with exact 95 % CI and two-sided Fisher p of [[a, b], [c, d]].

    Same as R's ``fisher.test(matrix(c(a, c, b, d), 2))``: scipy's ``odds_ratio(kind="conditional")``.
    """
    table = np.array([[a, b], [c, d]])
    if table.sum(axis=0).min() == 0 or table.sum(axis=1).min() == 0:
        return {"odds_ratio": None, "ci95": None, "p_fisher": None, "table": table.tolist(),
                "note": "a row or column of the 2x2 table is empty"}
    res = odds_ratio(table, kind="conditional")
    ci = res.confidence_interval(0.95)
    p = stats.fisher_exact(table).pvalue
    return {"odds_ratio": float(res.statistic), "ci95": [float(ci.low), float(ci.high)], "p_fisher": float(p),
            "table": table.tolist()}


def reference_cutoff_table(resp: pd.DataFrame, cutoff: float) -> dict:
    """Progression in low (score < cut-off) vs high lesions: rates, conditional OR (low vs high), Fisher p."""
    usable = resp[(resp["computable"] == 1) & resp["progression"].notna()]
    low = usable["score"] < cutoff
    prog = usable["progression"] == 1
    a, b = int((low & prog).sum()), int((low & ~prog).sum())
    c, d = int((~low & prog).sum()), int((~low & ~prog).sum())
    out = fisher_2x2(a, b, c, d)
    out.update({"cutoff": cutoff, "n_low": a + b, "n_high": c + d,
                "progression_rate_low": a / (a + b) if a + b else None,
                "progression_rate_high": c / (c + d) if c + d else None})
    return out


def spearman(x, y) -> dict:
    """Spearman rho and p on the pairs where both values are finite: {"n", "rho", "p"}."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return {"n": int(keep.sum()), "rho": None, "p": None}
    res = stats.spearmanr(x[keep], y[keep])
    return {"n": int(keep.sum()), "rho": float(res.statistic), "p": float(res.pvalue)}


def score_associations(lesions: pd.DataFrame, resp: pd.DataFrame, cutoff: float) -> dict:
    """Spearman of score vs size and vs volume change; Kruskal-Wallis by location; E0 vs E1 comparisons."""
    scored = resp[resp["computable"] == 1]
    out = {
        "spearman_score_vs_volume_ml": spearman(scored["score"], scored["volume_ml"]),
        "spearman_score_vs_diameter_mm": spearman(scored["score"], scored["diameter_e0_mm"]),
        "spearman_score_vs_volume_change_pct": spearman(scored["score"], scored["volume_change_pct"]),
    }
    groups = [g["score"].to_numpy() for _, g in scored.groupby("location") if len(g) > 0]
    if len(groups) >= 2 and len(scored["score"].unique()) > 1:
        kw = stats.kruskal(*groups)
        out["kruskal_score_by_location"] = {"n": int(len(scored)), "groups": len(groups),
                                            "statistic": float(kw.statistic), "p": float(kw.pvalue)}
    else:
        out["kruskal_score_by_location"] = {"n": int(len(scored)), "groups": len(groups), "statistic": None,
                                            "p": None}
    computable = lesions[lesions["computable"] == 1]
    e0 = computable[computable["timepoint"] == "E0"]["score"]
    e1 = computable[computable["timepoint"] == "E1"]["score"]
    low0, low1 = int((e0 < cutoff).sum()), int((e1 < cutoff).sum())
    cmp = {"n_e0": int(e0.size), "n_e1": int(e1.size),
           "proportion_high_e0": float((e0 >= cutoff).mean()) if e0.size else None,
           "proportion_high_e1": float((e1 >= cutoff).mean()) if e1.size else None,
           "fisher_high_low": fisher_2x2(int(e0.size) - low0, low0, int(e1.size) - low1, low1),
           "median_e0": float(e0.median()) if e0.size else None,
           "median_e1": float(e1.median()) if e1.size else None}
    if e0.size and e1.size:
        mw = stats.mannwhitneyu(e0, e1, alternative="two-sided")
        cmp["wilcoxon_rank_sum"] = {"statistic": float(mw.statistic), "p": float(mw.pvalue)}
    paired = resp[(resp["computable"] == 1) & (resp["computable_e1"] == 1)]
    diff = (paired["score_e1"] - paired["score"]).to_numpy()
    if diff.size >= 1 and np.any(diff != 0):
        sr = stats.wilcoxon(paired["score"], paired["score_e1"])
        cmp["wilcoxon_signed_rank_paired"] = {"n": int(diff.size), "statistic": float(sr.statistic),
                                              "p": float(sr.pvalue),
                                              "median_change": float(np.median(diff))}
    out["e0_vs_e1"] = cmp
    return out


def analyse_lesions(lesions: pd.DataFrame, cutoff: float, exclusions: Exclusions) -> tuple[dict, pd.DataFrame]:
    """The lesion_level block of results.json and the lesion response table."""
    resp = lesion_responses(lesions, exclusions)
    counts = resp["response"].value_counts().to_dict()
    result = {
        "n_lesions_e0": int(len(resp)),
        "n_lesions_e1": int((lesions["timepoint"] == "E1").sum()),
        "n_computable_e0": int((resp["computable"] == 1).sum()),
        "response_counts": {k: int(v) for k, v in counts.items()},
        "progression_auc": progression_auc(resp),
        "reference_cutoff": reference_cutoff_table(resp, cutoff),
        "associations": score_associations(lesions, resp, cutoff),
    }
    return result, resp


