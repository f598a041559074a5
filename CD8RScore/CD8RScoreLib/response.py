"""Lesion-wise response between baseline (E0) and first evaluation (E1), RECIST 1.1 thresholds on the longest
axial diameter: response = decrease >= 30 %, progression = increase >= 20 %, disappeared (E1 diameter 0) =
complete response, otherwise stable.
"""
from __future__ import annotations

import math
from typing import Iterable

from .errors import InputError
from .lesion_table import parse_float

RESPONSE_THRESHOLD_PCT = -30.0  # RECIST 1.1: at least a 30 % decrease
PROGRESSION_THRESHOLD_PCT = 20.0  # RECIST 1.1: at least a 20 % increase

RESPONSE_COLUMNS: tuple[str, ...] = (
    "patient_id", "lesion_id", "segment_name", "location", "volume_ml_e0", "volume_ml_e1",
    "diameter_e0_mm", "diameter_e1_mm", "diameter_change_pct", "volume_change_pct", "response",
    "score_e0", "score_class_e0", "score_e1", "score_class_e1", "signature_name", "signature_status",
)
RESPONSE_CLASSES = ("complete_response", "response", "stable", "progression", "not_evaluated", "new")


def _number(value) -> float:
    if value is None:
        return float("nan")
    return parse_float(value) if isinstance(value, str) else float(value)


def classify_change(diameter_e0_mm: float, diameter_e1_mm: float) -> tuple[float, str]:
    """(relative diameter change in %, response class) of one lesion."""
    if not (math.isfinite(diameter_e0_mm) and math.isfinite(diameter_e1_mm)) or diameter_e0_mm <= 0:
        return float("nan"), "not_evaluated"
    change = 100.0 * (diameter_e1_mm - diameter_e0_mm) / diameter_e0_mm
    if diameter_e1_mm == 0:
        return change, "complete_response"
    if change <= RESPONSE_THRESHOLD_PCT:
        return change, "response"
    if change >= PROGRESSION_THRESHOLD_PCT:
        return change, "progression"
    return change, "stable"


def lesion_response(baseline_rows: Iterable[dict], followup_rows: Iterable[dict]) -> list[dict]:
    """Match lesions on (patient_id, lesion_id) and classify each; baseline order, then lesions new at E1.

    A baseline lesion missing from the follow-up table is "not_evaluated" (kept, never dropped).
    """
    followup = {(str(r.get("patient_id")), str(r.get("lesion_id"))): r for r in followup_rows}
    out = []
    seen = set()
    for e0 in baseline_rows:
        key = (str(e0.get("patient_id")), str(e0.get("lesion_id")))
        seen.add(key)
        e1 = followup.get(key)
        d0 = _number(e0.get("longest_axial_diameter_mm"))
        d1 = _number(e1.get("longest_axial_diameter_mm")) if e1 else float("nan")
        v0 = _number(e0.get("volume_ml"))
        v1 = _number(e1.get("volume_ml")) if e1 else float("nan")
        change, response = classify_change(d0, d1)
        out.append({
            "patient_id": key[0], "lesion_id": key[1], "segment_name": e0.get("segment_name"),
            "location": e0.get("location"), "volume_ml_e0": v0, "volume_ml_e1": v1,
            "diameter_e0_mm": d0, "diameter_e1_mm": d1, "diameter_change_pct": change,
            "volume_change_pct": 100.0 * (v1 - v0) / v0 if v0 > 0 and math.isfinite(v1) else float("nan"),
            "response": response, "score_e0": e0.get("score"), "score_class_e0": e0.get("score_class"),
            "score_e1": e1.get("score") if e1 else None, "score_class_e1": e1.get("score_class") if e1 else None,
            "signature_name": e0.get("signature_name"), "signature_status": e0.get("signature_status"),
        })
    for key, e1 in followup.items():
        if key not in seen:
            out.append({
                "patient_id": key[0], "lesion_id": key[1], "segment_name": e1.get("segment_name"),
                "location": e1.get("location"), "volume_ml_e1": _number(e1.get("volume_ml")),
                "diameter_e1_mm": _number(e1.get("longest_axial_diameter_mm")), "response": "new",
                "score_e1": e1.get("score"), "score_class_e1": e1.get("score_class"),
                "signature_name": e1.get("signature_name"), "signature_status": e1.get("signature_status"),
            })
    return out


def check_same_patient(baseline_rows: list[dict], followup_rows: list[dict], baseline_path, followup_path) -> None:
    """Refuse tables that are not one patient's baseline (E0) and follow-up (E1): swapped files, rows of other
    timepoints, or no patient in common."""
    for rows, path, flag, wanted in ((baseline_rows, baseline_path, "--baseline", "E0"),
                                     (followup_rows, followup_path, "--followup", "E1")):
        if not rows:
            raise InputError("no lesion rows", path, flag)
        other = sorted({str(r.get("timepoint")).strip() for r in rows if "timepoint" in r} - {wanted})
        if other:
            hint = "; the baseline and follow-up files look swapped" if other == ["E1" if wanted == "E0" else "E0"] \
                else ""
            raise InputError(f"holds timepoint {', '.join(other)} rows; {flag} takes the {wanted} lesion table{hint}",
                             path, "timepoint")
    before = {str(r.get("patient_id")) for r in baseline_rows}
    after = {str(r.get("patient_id")) for r in followup_rows}
    if not before & after:
        raise InputError(f"patient(s) {', '.join(sorted(after))} here, {', '.join(sorted(before))} at baseline: no "
                         "patient in common; give the same patient's tables", followup_path, "patient_id")


def match_summary(rows: list[dict]) -> str:
    """One line: how many baseline lesions were found at follow-up, how many are new."""
    baseline = [r for r in rows if r["response"] != "new"]
    matched = sum(1 for r in baseline if r.get("diameter_e1_mm") is not None
                  and math.isfinite(float(r["diameter_e1_mm"])))
    new = len(rows) - len(baseline)
    line = f"{matched} of {len(baseline)} baseline lesion(s) matched at follow-up, {new} new"
    if baseline and matched == 0:
        line += "; no lesion id is in both tables: check that the follow-up uses the baseline's lesion ids"
    return line
