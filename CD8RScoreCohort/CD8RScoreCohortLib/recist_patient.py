"""Per-patient response at the first evaluation (E1) by RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-47).

From the lesion table's baseline (E0) and E1 rows of each patient with an E1 CT:
- Measurable at baseline: a lesion of another location with a longest axial diameter >= 10 mm, or >= twice the
  slice thickness of a CT whose slices are thicker than 5 mm (column ``slice_thickness_mm`` of the baseline row;
  without it the CT is taken as <= 5 mm and the result says so); a node (location ``node``) with a short axis
  >= 15 mm. Nodes are measured by their short axis (column ``short_axis_mm``); without that column their longest
  axial diameter stands in, and the result says so.
- Target lesions: the largest measurable lesions, at most 2 per location and 5 in all (largest first, then by
  lesion id). Their sum of diameters at E0 and E1 (a lesion gone at E1 counts 0).
- Response: PD when a lesion is new at E1 (a lesion id without a baseline row), or when the sum grows by >= 20 %
  and >= 5 mm (E1 is the first evaluation, so the baseline sum is the smallest); CR when every baseline lesion has
  gone (nodes: short axis < 10 mm) and none is new; PR when the sum falls by >= 30 %; otherwise SD. Without target
  lesions: PD (new lesion), CR, else non-CR/non-PD. A target without an E1 measurement makes the patient NE.
Not assessed: the unequivocal progression of non-target lesions (a radiologist's judgement).

The lesion-wise rule of the melanoma study (``CD8RScoreLib.response.classify_change``) stays as it is; this is the
per-patient response the paper's "at first evaluation" counts (CR/PR/SD/PD) and objective response rate use.
Written here because no maintained Python package implements RECIST 1.1 on a lesion table.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .diagnostics import proportion_with_ci
from .inputs import BOR_MEANING, BOR_VALUES
from .patient_level import RECIST_PD_ABSOLUTE_MM, RECIST_PD_INCREASE_PCT

NODE = "node"
MEASURABLE_MM = 10.0
"""Smallest longest diameter (mm) of a measurable lesion other than a node on a CT of slices <= 5 mm thick."""
THIN_SLICE_MM = 5.0
"""On a CT of thicker slices (mm) a measurable lesion other than a node is at least twice the slice thickness."""
MEASURABLE_NODE_SHORT_AXIS_MM = 15.0
NORMAL_NODE_SHORT_AXIS_MM = 10.0
"""A node whose short axis is below this (mm) is normal (counts toward a complete response)."""
MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
PR_DECREASE_PCT = 30.0
RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "PD", "non-CR/non-PD", "NE")


def _size(row, use_short_axis: bool) -> float:
    """RECIST size (mm): the short axis of a node when known, else the longest axial diameter."""
    if row["location"] == NODE and use_short_axis:
        return float(row["short_axis_mm"])
    return float(row["longest_axial_diameter_mm"])


def measurable_limit_mm(location: str, slice_thickness_mm: float) -> float:
    """RECIST 1.1's smallest measurable size (mm) at baseline: a node's short axis 15 mm; another lesion's longest
    diameter 10 mm, or twice the slice thickness (mm) when that exceeds 5 mm (NaN: unknown, taken as <= 5 mm)."""
    if location == NODE:
        return MEASURABLE_NODE_SHORT_AXIS_MM
    if math.isfinite(slice_thickness_mm) and slice_thickness_mm > THIN_SLICE_MM:
        return max(MEASURABLE_MM, 2.0 * slice_thickness_mm)
    return MEASURABLE_MM


def patient_response(e0: pd.DataFrame, e1: pd.DataFrame, use_short_axis: bool) -> dict:
    """RECIST 1.1 at E1 of one patient from its E0 and E1 lesion rows."""
    sizes0 = {r["lesion_id"]: _size(r, use_short_axis) for _, r in e0.iterrows()}
    rows1 = {r["lesion_id"]: r for _, r in e1.iterrows()}
    new = sorted(set(rows1) - set(sizes0))
    measurable = []
    for _, r in e0.iterrows():
        size = sizes0[r["lesion_id"]]
        limit = measurable_limit_mm(r["location"], _number(r.get("slice_thickness_mm")))
        if math.isfinite(size) and size >= limit:
            measurable.append((-size, str(r["lesion_id"]), r["location"]))
    targets, per_organ = [], {}
    for neg_size, lid, loc in sorted(measurable):
        if len(targets) < MAX_TARGETS and per_organ.get(loc, 0) < MAX_TARGETS_PER_ORGAN:
            targets.append(lid)
            per_organ[loc] = per_organ.get(loc, 0) + 1
    sizes1 = {lid: _size(r, use_short_axis) for lid, r in rows1.items()}
    out = {"n_targets": len(targets), "targets": " ".join(targets), "new_lesions": len(new), "sum_e0_mm": None,
           "sum_e1_mm": None, "change_pct": None, "change_mm": None}
    missing = [lid for lid in targets if not math.isfinite(sizes1.get(lid, float("nan")))]
    if missing:
        return {**out, "response": "PD" if new else "NE",
                "reason": f"no E1 measurement of target lesion(s) {' '.join(missing)}"
                + ("; new lesion at E1" if new else "")}
    gone = all(_gone(lid, sizes1, e0) for lid in sizes0)
    if targets:
        s0 = sum(sizes0[t] for t in targets)
        s1 = sum(sizes1[t] for t in targets)
        change = 100.0 * (s1 - s0) / s0
        out.update(sum_e0_mm=s0, sum_e1_mm=s1, change_pct=change, change_mm=s1 - s0)
        if new:
            return {**out, "response": "PD", "reason": "new lesion at E1"}
        if change >= RECIST_PD_INCREASE_PCT and s1 - s0 >= RECIST_PD_ABSOLUTE_MM:
            return {**out, "response": "PD", "reason": "sum of diameters +20 % and +5 mm"}
        if gone:
            return {**out, "response": "CR", "reason": "every lesion gone (nodes < 10 mm short axis)"}
        if change <= -PR_DECREASE_PCT:
            return {**out, "response": "PR", "reason": "sum of diameters -30 % or more"}
        return {**out, "response": "SD", "reason": "neither PR nor PD"}
    if new:
        return {**out, "response": "PD", "reason": "new lesion at E1 (no target lesion)"}
    if gone:
        return {**out, "response": "CR", "reason": "every lesion gone (no target lesion)"}
    return {**out, "response": "non-CR/non-PD", "reason": "no measurable (target) lesion at baseline"}


def _number(value) -> float:
    """A lesion-table cell as a float; NaN when empty or absent."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _gone(lid: str, sizes1: dict, e0: pd.DataFrame) -> bool:
    """A baseline lesion has gone at E1: size 0 (a node: short axis < 10 mm); False without an E1 row."""
    size = sizes1.get(lid, float("nan"))
    if not math.isfinite(size):
        return False
    is_node = bool((e0.loc[e0["lesion_id"] == lid, "location"] == NODE).any())
    return size < NORMAL_NODE_SHORT_AXIS_MM if is_node else size == 0


def recist_at_e1(lesions: pd.DataFrame, patients) -> tuple[dict, pd.DataFrame]:
    """(the ``recist_e1`` block, one row per patient of ``patients`` with an E1 CT: patient_id, response, reason,
    n_targets, targets, sums and change)."""
    use_short_axis = "short_axis_mm" in lesions.columns and lesions.loc[
        lesions["location"] == NODE, "short_axis_mm"].notna().all() and (lesions["location"] == NODE).any()
    rows = []
    for pid in patients:
        own = lesions[lesions["patient_id"] == pid]
        e0, e1 = own[own["timepoint"] == "E0"], own[own["timepoint"] == "E1"]
        if e1.empty or e0.empty:
            continue
        rows.append({"patient_id": pid, **patient_response(e0, e1, use_short_axis)})
    table = pd.DataFrame(rows, columns=["patient_id", "response", "reason", "n_targets", "targets", "new_lesions",
                                        "sum_e0_mm", "sum_e1_mm", "change_pct", "change_mm"])
    n = len(table)
    shares = _counts_block(table["response"], RESPONSES)  # every patient with an E1 CT has a response
    block = {"n_patients_with_e1": n,
             **{key: shares[key] for key in ("counts", "percent", "objective_response_rate")},
             "nodes_measured_by": "short axis (short_axis_mm)" if use_short_axis else
             "longest axial diameter (no complete short_axis_mm column for the nodes)",
             "definition": (f"RECIST 1.1 at E1: {_measurable_rule(lesions)}; at most {MAX_TARGETS} target lesions, "
                            f"{MAX_TARGETS_PER_ORGAN} per location; PD = sum +{RECIST_PD_INCREASE_PCT:g} % and "
                            f"+{RECIST_PD_ABSOLUTE_MM:g} mm or a new lesion; PR = sum -{PR_DECREASE_PCT:g} %; CR = "
                            f"every lesion gone (nodes < {NORMAL_NODE_SHORT_AXIS_MM:g} mm short axis); non-target "
                            "progression not assessed"),
             "n_targets_median": float(np.median(table["n_targets"])) if n else None}
    return block, table


def _measurable_rule(lesions: pd.DataFrame) -> str:
    """How measurability at baseline was decided: with each CT's slice thickness, or by the fixed sizes where the
    lesion table does not give it."""
    rule = (f"measurable = longest diameter >= {MEASURABLE_MM:g} mm (>= twice the slice thickness above "
            f"{THIN_SLICE_MM:g} mm), nodes short axis >= {MEASURABLE_NODE_SHORT_AXIS_MM:g} mm")
    thin = f"taken as slices <= {THIN_SLICE_MM:g} mm thick, {MEASURABLE_MM:g} mm"
    baseline = lesions[(lesions["timepoint"] == "E0") & (lesions["location"] != NODE)]
    if "slice_thickness_mm" not in lesions.columns:
        return rule + f" (no slice_thickness_mm column: every CT {thin})"
    unknown = int(pd.to_numeric(baseline["slice_thickness_mm"], errors="coerce").isna().sum())
    if unknown:
        return rule + f" ({unknown} baseline lesion(s) without slice_thickness_mm: their CT {thin})"
    return rule + " (each baseline CT's slice_thickness_mm)"


BEST_FIRST: tuple[str, ...] = ("CR", "PR", "SD", "non-CR/non-PD", "PD", "NE")
"""Responses from best to worst, as RECIST 1.1 ranks them for the best overall response."""
RESPONDED_AFTER_PROGRESSION: tuple[str, ...] = ("CR", "PR", "SD")


def best_of(evaluations: "list[str]") -> "str | None":
    """RECIST 1.1 best overall response from the responses of successive evaluations: the best one recorded up to
    and including the first progression (later ones do not count); None without an evaluation."""
    seen = []
    for response in evaluations:
        seen.append(response)
        if response == "PD":
            break
    return min(seen, key=BEST_FIRST.index) if seen else None


def _counts_block(values: pd.Series, levels: "tuple[str, ...]") -> dict:
    """Counts, percentages of the patients with a value, missing, and the objective response rate (CR + PR)."""
    present = values.dropna()
    n = len(present)
    counts = {r: int((present == r).sum()) for r in levels}
    return {"n": n, "missing": int(values.isna().sum()), "counts": counts,
            "percent": {r: (100.0 * c / n if n else None) for r, c in counts.items()},
            "objective_response_rate": proportion_with_ci(counts.get("CR", 0) + counts.get("PR", 0), n)}


def best_overall_response(recist_table: pd.DataFrame, patients: pd.DataFrame,
                          given_column: str) -> tuple[dict, pd.DataFrame]:
    """Supplementary table S3: the best overall response of each patient (``patients``: patient_id and, when the
    clinical table has it, ``given_column``), with counts, percentages and the objective response rate.

    Derived: RECIST 1.1's best overall response over the evaluations the lesion table holds (E1 only: the response
    at E1). Given: the clinical table's best overall response over the whole follow-up, with the patients whose
    response at E1 was PD and who responded later (response after initial progression) and the table of the
    response at E1 against it."""
    at_e1 = dict(zip(recist_table["patient_id"], recist_table["response"]))
    table = pd.DataFrame({"patient_id": patients["patient_id"].to_numpy()})
    table["response_e1"] = table["patient_id"].map(at_e1)
    table["best_overall_response_derived"] = [best_of([r]) if isinstance(r, str) else None
                                              for r in table["response_e1"]]
    block = {"evaluations_read": ["E1"],
             "definition": "best response recorded up to the first progression (RECIST 1.1); the lesion table holds "
                           "one evaluation (E1), so the derived best overall response is the response at E1",
             "derived": _counts_block(table["best_overall_response_derived"], BEST_FIRST)}
    if given_column in patients.columns:
        given = patients[given_column].where(patients[given_column].notna(), None).to_numpy()
        table["best_overall_response_given"] = given
        progressed = table["response_e1"] == "PD"
        later = table.loc[progressed, "best_overall_response_given"]
        block["given"] = _counts_block(table["best_overall_response_given"], BOR_VALUES)
        block["given"]["source"] = f"clinical column {given_column}: {BOR_MEANING}"
        block["after_initial_progression"] = {r: int((later == r).sum()) for r in RESPONDED_AFTER_PROGRESSION}
        block["e1_vs_given"] = {e1: {g: int(((table["response_e1"] == e1)
                                             & (table["best_overall_response_given"] == g)).sum())
                                     for g in BOR_VALUES}
                                for e1 in BEST_FIRST if (table["response_e1"] == e1).any()}
    else:
        block["given"] = None
        block["note"] = (f"no {given_column} column in the clinical table: the best overall response over the "
                         "whole follow-up and the response after initial progression need it")
    return block, table
