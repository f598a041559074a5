"""The candidate-features table: one row per lesion, the inputs a signature is built, validated or scored from.

Columns: ``patient_id, lesion_id`` (keys), ``location`` (fine site or signature category), ``kvp`` (kV),
``reason`` (why candidates are empty, if they are), then numeric candidates named ``<voi>_<IBSI column>``
(e.g. ``ring_stat_minimum_intensity``, ``core_rlm_long_run_high_grey_level_emphasis``; see
``features.FeatureInfo.ibsi_column``). Written by ``cd8rscore extract`` and ``cd8rscore import-lifex``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .features import BY_IBSI_COLUMN
from .lesion_table import parse_float, read_csv
from .locations import SIGNATURE_CATEGORIES, normalise_site, signature_category
from .signature import Signature

KEY_COLUMNS = ("patient_id", "lesion_id")
INFO_COLUMNS = ("location", "kvp", "reason")
"""Columns of the table that are not candidates."""
VOIS = ("core", "ring")


def candidate_column(voi: str, ibsi_column: str) -> str:
    """``<voi>_<IBSI column>``, the name of a radiomic candidate."""
    return f"{voi}_{ibsi_column}"


def radiomic_candidates() -> list[str]:
    """Every radiomic candidate column, core first, in catalogue order."""
    return [candidate_column(voi, column) for voi in VOIS for column in BY_IBSI_COLUMN]


def table_columns() -> list[str]:
    """All columns of a candidate-features table, in order."""
    return list(KEY_COLUMNS) + list(INFO_COLUMNS) + radiomic_candidates()


@dataclass
class FeatureTable:
    """A candidate-features table read and checked: rows as dicts of floats (NaN = empty) and strings."""

    path: str
    candidates: list[str]
    rows: list[dict]

    def key(self, row: dict) -> tuple[str, str]:
        return row["patient_id"], row["lesion_id"]


def read_feature_table(path: "str | Path") -> FeatureTable:
    """Read a candidate-features CSV; refuse missing key columns, duplicate lesions and non-numeric cells."""
    columns, raw = read_csv(path, required=KEY_COLUMNS + ("location", "kvp"))
    candidates = [c for c in columns if c not in KEY_COLUMNS + INFO_COLUMNS]
    if not candidates:
        raise InputError("no candidate feature columns; write the table with `cd8rscore extract`", path, "header")
    if not raw:
        raise InputError("no lesion rows", path)
    rows, seen = [], set()
    for number, row in enumerate(raw, start=2):
        key = ((row["patient_id"] or "").strip(), (row["lesion_id"] or "").strip())
        if not all(key):
            raise InputError("empty patient_id or lesion_id", path, f"row {number}")
        if key in seen:
            raise InputError(f"lesion {key[1]} of patient {key[0]} appears twice", path, f"row {number}, lesion_id")
        seen.add(key)
        parsed = {"patient_id": key[0], "lesion_id": key[1], "location": (row.get("location") or "").strip(),
                  "reason": (row.get("reason") or "").strip()}
        for column in ["kvp"] + candidates:
            try:
                parsed[column] = parse_float(row.get(column))
            except ValueError:
                raise InputError(f"{row.get(column)!r} is not a number", path, f"row {number}, column {column}") \
                    from None
        rows.append(parsed)
    return FeatureTable(str(path), candidates, rows)


def location_category(location: str) -> str:
    """The signature category of a fine site or category name ("other" when unknown)."""
    if location in SIGNATURE_CATEGORIES:
        return location
    site = normalise_site(location) if location else None
    return signature_category(site) if site else "other"


def score_rows(signature: Signature, table: FeatureTable) -> list["float | None"]:
    """The signature's score of every row of the table (None where a feature it needs is empty).

    The features are read from ``<voi>_<IBSI column>``, normalised with the signature's ranges, and combined with
    the location and kVp terms exactly as in scoring (``Signature.linear_score``); an empty kVp is the
    signature's assumed kVp.
    """
    missing = [f.candidate_column for f in signature.features if f.candidate_column not in table.candidates]
    if missing:
        raise InputError(f"has no column {', '.join(missing)} that signature {signature.name} needs; extract "
                         "the features with `cd8rscore extract`", table.path, "header")
    scores: list["float | None"] = []
    for row in table.rows:
        values = {f.key: row[f.candidate_column] for f in signature.features}
        if not all(math.isfinite(v) for v in values.values()):
            scores.append(None)
            continue
        normalised = {f.key: f.normalise(values[f.key]) for f in signature.features}
        kvp = row["kvp"] if math.isfinite(row["kvp"]) else signature.kvp.assumed_kv
        scores.append(signature.linear_score(normalised, location_category(row["location"]), kvp))
    return scores
