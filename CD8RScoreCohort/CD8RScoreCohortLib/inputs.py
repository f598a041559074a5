"""Reading and checking the cohort inputs: the lesion table (E0 and E1 rows) and the clinical table.

Bad input raises ``InputError`` naming the file, the row and the field. Rows that are valid but cannot enter
an analysis (a lesion whose score is not computable, a patient without follow-up CT, ...) are not dropped
silently: each is counted in an ``Exclusions`` record that reaches results.json and the report.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from CD8RScoreLib.errors import InputError
from CD8RScoreLib.lesion_table import UNSTABLE_CLASS_WARNING, parse_float, read_csv

LESION_REQUIRED_COLUMNS: tuple[str, ...] = (
    "patient_id", "timepoint", "lesion_id", "location", "volume_ml", "longest_axial_diameter_mm",
    "score", "score_class", "computable", "signature_name", "signature_status",
)
OPTIONAL_LESION_NUMBERS: tuple[str, ...] = ("short_axis_mm", "kvp", "slice_thickness_mm", "pixel_spacing_mm")
"""Lesion columns read when present (empty = missing): the node's short axis (mm, for RECIST 1.1 per patient),
the scan's kVp (kV), slice thickness and pixel spacing (mm) (for the E0 vs E1 table)."""
CLINICAL_REQUIRED_COLUMNS: tuple[str, ...] = ("patient_id", "os_time", "os_event")
PFS_COLUMNS: tuple[str, ...] = ("pfs_time", "pfs_event")
"""Optional, together: without them the PFS analyses are not run (and the report says so)."""
TIMEPOINTS: tuple[str, ...] = ("E0", "E1")

SIMULATED_COLUMN = "simulated"
"""Clinical column flagging simulated data (1 = simulated); it is a flag, not a covariate."""
PD_COLUMN = "pd_at_e1"
"""Optional clinical column: progressive disease at the first evaluation (1/0). Without it, PD is derived from
the lesion table (section ``patient_level.progressive_disease``). Not a covariate."""
BOR_COLUMN = "best_overall_response"
"""Optional clinical column: the patient's best response as ``BOR_MEANING`` says (CR, PR, SD, PD or NE; empty =
unknown), for supplementary table S3 (later scans than E1 are not read). Not a covariate."""
BOR_MEANING = ("the best response over the whole follow-up as the study reports it, a response after an initial "
               "progression included (not RECIST 1.1's best overall response, which stops at the first progression)")
"""What ``BOR_COLUMN`` holds, in words. The study's best responses count a response after an initial progression:
52 patients had PD at the first evaluation and 46 in the overall response (Sun et al. 2022, Treatment response)."""
BOR_VALUES: tuple[str, ...] = ("CR", "PR", "SD", "PD", "NE")
RESERVED_CLINICAL_COLUMNS: tuple[str, ...] = CLINICAL_REQUIRED_COLUMNS + PFS_COLUMNS + (SIMULATED_COLUMN, PD_COLUMN,
                                                                                          BOR_COLUMN)
MAX_IDS_LISTED = 20
"""At most this many identifiers are listed per exclusion reason (the count is always complete)."""


@dataclass
class Exclusions:
    """Rows or patients left out of an analysis, grouped by table and reason, with counts."""

    items: dict = field(default_factory=dict)

    def add(self, table: str, reason: str, ids) -> None:
        """Record the identifiers (lesions or patients) left out for ``reason``; empty lists are ignored."""
        ids = [str(i) for i in ids]
        if not ids:
            return
        entry = self.items.setdefault((table, reason), {"table": table, "reason": reason, "count": 0, "ids": []})
        entry["count"] += len(ids)
        room = MAX_IDS_LISTED - len(entry["ids"])
        if room > 0:
            entry["ids"].extend(ids[:room])

    def to_list(self) -> list[dict]:
        """JSON-ready list, in the order the reasons were first met."""
        return [dict(v) for v in self.items.values()]


def _row_label(index: int) -> str:
    """CSV row number as a spreadsheet shows it (header = row 1)."""
    return f"row {index + 2}"


def _parse_number(text: str, path, index: int, column: str, *, allow_missing: bool,
                  non_negative: bool = False) -> float:
    try:
        value = parse_float(text)
    except ValueError:
        raise InputError(f"{text!r} is not a number", path, f"{_row_label(index)}, column {column}") from None
    if math.isnan(value):
        if not allow_missing:
            raise InputError("missing value", path, f"{_row_label(index)}, column {column}")
        return value
    if math.isinf(value):
        raise InputError(f"{text!r} is not a finite number", path, f"{_row_label(index)}, column {column}")
    if non_negative and value < 0:
        raise InputError(f"{value:g} is negative", path, f"{_row_label(index)}, column {column}")
    return value


def _parse_flag(text: str, path, index: int, column: str) -> int:
    value = (text or "").strip()
    if value in ("1", "1.0", "true", "True"):
        return 1
    if value in ("0", "0.0", "false", "False"):
        return 0
    raise InputError(f"{text!r} must be 1 or 0", path, f"{_row_label(index)}, column {column}")


def read_lesions(path: "str | Path") -> pd.DataFrame:
    """The lesion table as a DataFrame with typed columns; refuses inconsistent rows with InputError.

    Columns added: ``row`` (CSV row number). Scores of non-computable rows are NaN. Checks: required columns,
    non-empty patient and lesion ids, timepoint E0/E1, numbers where numbers belong (volume mL and diameter mm
    >= 0), computable 1/0 with a score when 1, unique (patient_id, timepoint, lesion_id), a single signature.
    """
    path = Path(path)
    _, rows = read_csv(path, LESION_REQUIRED_COLUMNS)
    if not rows:
        raise InputError("the lesion table has no rows", path)
    records = []
    seen: dict[tuple, int] = {}
    for i, r in enumerate(rows):
        pid = (r.get("patient_id") or "").strip()
        lid = (r.get("lesion_id") or "").strip()
        tp = (r.get("timepoint") or "").strip()
        if not pid:
            raise InputError("empty patient_id", path, f"{_row_label(i)}, column patient_id")
        if not lid:
            raise InputError("empty lesion_id", path, f"{_row_label(i)}, column lesion_id")
        if tp not in TIMEPOINTS:
            raise InputError(f"timepoint {tp!r} must be E0 or E1", path, f"{_row_label(i)}, column timepoint")
        key = (pid, tp, lid)
        if key in seen:
            raise InputError(f"lesion {lid!r} of patient {pid!r} at {tp} is also on {_row_label(seen[key])}",
                             path, f"{_row_label(i)}, column lesion_id")
        seen[key] = i
        computable = _parse_flag(r.get("computable"), path, i, "computable")
        score = _parse_number(r.get("score"), path, i, "score", allow_missing=not computable)
        records.append({
            "row": i + 2, "patient_id": pid, "timepoint": tp, "lesion_id": lid,
            "location": (r.get("location") or "").strip() or "unknown",
            "volume_ml": _parse_number(r.get("volume_ml"), path, i, "volume_ml", allow_missing=True,
                                       non_negative=True),
            "longest_axial_diameter_mm": _parse_number(r.get("longest_axial_diameter_mm"), path, i,
                                                       "longest_axial_diameter_mm", allow_missing=True,
                                                       non_negative=True),
            "score": score if computable else float("nan"),
            "score_class": (r.get("score_class") or "").strip(),
            "computable": computable,
            "reason": (r.get("reason") or "").strip(),
            # flagged by `cd8rscore score --perturbations` (CD8RScoreLib.perturbation)
            "class_unstable": UNSTABLE_CLASS_WARNING in (r.get("warnings") or ""),
            "signature_name": (r.get("signature_name") or "").strip(),
            "signature_status": (r.get("signature_status") or "").strip(),
            **{c: _parse_number(r.get(c), path, i, c, allow_missing=True, non_negative=True)
               for c in OPTIONAL_LESION_NUMBERS},
        })
    df = pd.DataFrame.from_records(records)
    names = sorted(set(df["signature_name"]) - {""})
    if len(names) > 1:
        raise InputError(f"scores from different signatures cannot be pooled: {', '.join(names)}",
                         path, "signature_name")
    return df


def _parse_response(text: "str | None", path, index: int) -> "str | None":
    """A best overall response cell: one of BOR_VALUES (any case), None when empty or NA."""
    text = (text or "").strip()
    if text in ("", "NA"):
        return None
    if text.upper() not in BOR_VALUES:
        raise InputError(f"{text!r} is not a RECIST response; write one of {', '.join(BOR_VALUES)} or leave it empty",
                         path, f"{_row_label(index)}, column {BOR_COLUMN}")
    return text.upper()


def read_clinical(path: "str | Path") -> tuple[pd.DataFrame, list[str]]:
    """The clinical table and its candidate covariate columns (every column that is not a survival column or a
    flag; ``covariates.choose_covariates`` decides which are used).

    Checks: required columns, and pfs_time with pfs_event or neither; unique, non-empty patient_id; times numeric,
    finite and >= 0 (months); events 1 or 0. Covariate cells stay text here (``covariates.py`` types them); empty or
    NA cells mean missing. ``endpoints(df)`` tells whether PFS is there.
    """
    path = Path(path)
    columns, rows = read_csv(path, CLINICAL_REQUIRED_COLUMNS)
    if not rows:
        raise InputError("the clinical table has no rows", path)
    present = [c for c in PFS_COLUMNS if c in columns]
    if len(present) == 1:
        other = next(c for c in PFS_COLUMNS if c not in columns)
        raise InputError(f"{present[0]} without {other}: give both PFS columns, or neither for an OS-only "
                         "analysis", path, "header")
    endpoints = ("os", "pfs") if present else ("os",)
    covariates = [c for c in columns if c not in RESERVED_CLINICAL_COLUMNS and c]
    records = []
    seen: dict[str, int] = {}
    for i, r in enumerate(rows):
        pid = (r.get("patient_id") or "").strip()
        if not pid:
            raise InputError("empty patient_id", path, f"{_row_label(i)}, column patient_id")
        if pid in seen:
            raise InputError(f"patient {pid!r} is also on {_row_label(seen[pid])}", path,
                             f"{_row_label(i)}, column patient_id")
        seen[pid] = i
        rec = {"row": i + 2, "patient_id": pid}
        for endpoint in endpoints:
            rec[f"{endpoint}_time"] = _parse_number(r.get(f"{endpoint}_time"), path, i, f"{endpoint}_time",
                                                    allow_missing=False, non_negative=True)
            rec[f"{endpoint}_event"] = _parse_flag(r.get(f"{endpoint}_event"), path, i, f"{endpoint}_event")
        if SIMULATED_COLUMN in columns:
            rec[SIMULATED_COLUMN] = (r.get(SIMULATED_COLUMN) or "").strip() in ("1", "true", "True", "yes")
        if PD_COLUMN in columns:
            text = (r.get(PD_COLUMN) or "").strip()
            rec[PD_COLUMN] = float("nan") if text in ("", "NA") else float(_parse_flag(text, path, i, PD_COLUMN))
        if BOR_COLUMN in columns:
            rec[BOR_COLUMN] = _parse_response(r.get(BOR_COLUMN), path, i)
        for c in covariates:
            text = (r.get(c) or "").strip()
            rec[c] = None if text in ("", "NA", "NaN", "nan") else text
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    for endpoint in endpoints:
        if not (df[f"{endpoint}_time"] > 0).any():
            raise InputError(f"every {endpoint}_time is 0: no follow-up time, so survival cannot be analysed; give "
                             "the time from baseline to event or last contact (months)", path, f"{endpoint}_time")
    what = {"os": "deaths", "pfs": "progressions or deaths"}
    for endpoint in endpoints:
        if df[f"{endpoint}_event"].sum() == 0:
            raise InputError(f"no {what[endpoint]} ({endpoint}_event = 1): survival cannot be analysed", path,
                             f"{endpoint}_event")
    return df, covariates


def endpoints(clinical: pd.DataFrame) -> tuple[str, ...]:
    """The survival endpoints the clinical table holds: ("os", "pfs"), or ("os",) without the PFS columns."""
    return ("os", "pfs") if "pfs_time" in clinical.columns else ("os",)


# Times are in months. A median follow-up above 10 years or a time above 30 years is far beyond a metastatic cohort
# (the melanoma study: median OS about 3 years) and is what survival times in days look like.
PLAUSIBLE_MEDIAN_MONTHS = 120.0
PLAUSIBLE_LONGEST_MONTHS = 360.0
DAYS_PER_MONTH = 365.25 / 12


def time_unit_warnings(clinical: pd.DataFrame) -> list[str]:
    """A warning per endpoint whose times look like days rather than months (the analysis reads months)."""
    warnings = []
    for endpoint in endpoints(clinical):
        times = clinical[f"{endpoint}_time"].dropna()
        if times.empty:
            continue
        median, longest = float(times.median()), float(times.max())
        if median > PLAUSIBLE_MEDIAN_MONTHS or longest > PLAUSIBLE_LONGEST_MONTHS:
            warnings.append(f"{endpoint}_time looks like days, not months (median {median:g}, longest {longest:g}): "
                            f"every time is read as months; if they are days, divide them by {DAYS_PER_MONTH:g}")
    return warnings


def is_simulated(clinical: pd.DataFrame) -> bool:
    """True when the clinical table flags its rows as simulated."""
    return bool(SIMULATED_COLUMN in clinical.columns and clinical[SIMULATED_COLUMN].any())


def match_tables(lesions: pd.DataFrame, clinical: pd.DataFrame, exclusions: Exclusions,
                 lesions_path, clinical_path) -> None:
    """Record patients present in one table only, and patients without a baseline (E0) lesion."""
    lesion_patients = set(lesions["patient_id"])
    clinical_patients = set(clinical["patient_id"])
    exclusions.add("clinical", "patient not in the lesion table (no lesions): left out of every analysis",
                   sorted(clinical_patients - lesion_patients))
    exclusions.add("lesions", "patient not in the clinical table: lesion-level analyses only",
                   sorted(lesion_patients - clinical_patients))
    with_e0 = set(lesions.loc[lesions["timepoint"] == "E0", "patient_id"])
    exclusions.add("lesions", "patient has E1 rows but no E0 lesion: left out of every analysis",
                   sorted(lesion_patients - with_e0))
    if not (clinical_patients & with_e0):
        raise InputError("no patient of the clinical table has baseline (E0) lesions in the lesion table",
                         clinical_path, "patient_id")


def finite(values) -> np.ndarray:
    """Boolean mask of finite entries."""
    return np.isfinite(np.asarray(values, dtype=float))
