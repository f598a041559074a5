"""``cd8rscore import-lifex``: a LIFEx feature export as a candidate-features table, to score or fit from.

Accepted export layout (LIFEx "save features" CSV, one row per ROI): a column naming the ROI (``INFO_NameOfRoi``,
``NameOfRoi`` or ``ROI``), optionally a patient column (``INFO_PatientID``, ``PatientID`` or ``Patient``), and one
column per feature named as LIFEx names it (``CONVENTIONAL_HUmin``, ``GLRLM_LRHGE``, ``GLZLM_SZHGE``,
``NGLDM_Coarseness``, ...). Comma- or semicolon-separated; with semicolons a decimal comma is accepted. Each
lesion has two ROIs, named ``<lesion>_core`` and ``<lesion>_ring`` (a space or '-' may stand for '_'). LIFEx
names map to the catalogue's IBSI features (features.FEATURES: GLZLM = GLSZM, LIFEx NGLDM coarseness / contrast
/ busyness = IBSI NGTDM); LIFEx columns without an IBSI counterpart in the catalogue are reported and skipped.
"""
from __future__ import annotations

import csv
import io
import math
import re
import sys
from pathlib import Path

from .errors import InputError
from .feature_table import INFO_COLUMNS, KEY_COLUMNS, candidate_column
from .features import FEATURES
from .lesion_table import atomic_write_text, write_csv

ROI_COLUMNS = ("INFO_NameOfRoi", "NameOfRoi", "ROI")
PATIENT_COLUMNS = ("INFO_PatientID", "PatientID", "Patient")
LIFEX_PREFIXES = ("CONVENTIONAL_", "HISTO_", "SHAPE_", "GLCM_", "GLRLM_", "NGLDM_", "GLZLM_", "DISCRETIZED_")
_ROI_NAME = re.compile(r"^(?P<lesion>.+?)[ _-]+(?P<voi>core|ring)$", re.IGNORECASE)
_BY_LIFEX = {info.lifex_name: info for info in FEATURES.values() if info.lifex_name}


def _number(text: str, decimal_comma: bool) -> float:
    text = (text or "").strip()
    if text in ("", "NaN", "nan", "NA", "-"):
        return math.nan
    return float(text.replace(",", ".") if decimal_comma else text)


def read_lifex_export(path: "str | Path", patient_id: "str | None" = None, locations: "dict[str, str] | None" = None,
                      kvp: "float | None" = None) -> tuple[list[str], list[dict], list[str]]:
    """(candidate columns, feature-table rows, skipped LIFEx columns) of a LIFEx export."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path)
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = list(reader.fieldnames or [])
    roi_column = next((c for c in ROI_COLUMNS if c in header), None)
    if roi_column is None:
        raise InputError(f"no ROI name column ({' or '.join(ROI_COLUMNS)}); export the features from LIFEx with "
                         "the ROI names", path, "header")
    patient_column = next((c for c in PATIENT_COLUMNS if c in header), None)
    if patient_column is None and not patient_id:
        raise InputError("no patient column (INFO_PatientID, PatientID or Patient); give --patient-id", path,
                         "header")
    known = [c for c in header if c in _BY_LIFEX]
    skipped = [c for c in header if c.startswith(LIFEX_PREFIXES) and c not in _BY_LIFEX]
    if not known:
        raise InputError("no LIFEx feature column the catalogue knows (e.g. CONVENTIONAL_HUmin, GLRLM_LRHGE)",
                         path, "header")
    lesions: dict[tuple[str, str], dict] = {}
    columns_seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        roi = (row.get(roi_column) or "").strip()
        match = _ROI_NAME.match(roi)
        if not match:
            raise InputError(f"ROI {roi!r} is not named <lesion>_core or <lesion>_ring", path,
                             f"row {number}, column {roi_column}")
        patient = patient_id or (row.get(patient_column) or "").strip()
        if not patient:
            raise InputError("empty patient", path, f"row {number}, column {patient_column}")
        lesion, voi = match.group("lesion"), match.group("voi").lower()
        entry = lesions.setdefault((patient, lesion), {
            "patient_id": patient, "lesion_id": lesion, "location": (locations or {}).get(lesion, ""),
            "kvp": kvp, "reason": ""})
        for column in known:
            target = candidate_column(voi, _BY_LIFEX[column].ibsi_column)
            if target in entry:
                raise InputError(f"lesion {lesion} has two {voi} ROIs", path, f"row {number}, column {roi_column}")
            try:
                entry[target] = _number(row.get(column), delimiter == ";")
            except ValueError:
                raise InputError(f"{row.get(column)!r} is not a number", path, f"row {number}, column {column}") \
                    from None
            columns_seen.add(target)
    if not lesions:
        raise InputError("no ROI rows", path)
    order = [candidate_column(voi, info.ibsi_column) for voi in ("core", "ring") for info in FEATURES.values()]
    candidates = [c for c in order if c in columns_seen]
    return candidates, list(lesions.values()), skipped


def write_lifex_export(path: "str | Path", rows: list[dict]) -> None:
    """Feature-table rows (``extract``'s) in LIFEx's export layout: two ROIs per lesion, ``<lesion>_core`` and
    ``<lesion>_ring``, one column per LIFEx feature name; what ``import-lifex`` reads (the demo writes one)."""
    named = [info for info in FEATURES.values() if info.lifex_name]
    lines = [["INFO_PatientID", "INFO_NameOfRoi"] + [info.lifex_name for info in named]]
    for row in rows:
        for voi in ("core", "ring"):
            values = [row.get(candidate_column(voi, info.ibsi_column)) for info in named]
            lines.append([row["patient_id"], f"{row['lesion_id']}_{voi}"]
                         + ["" if v is None else str(v) for v in values])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    atomic_write_text(path, buffer.getvalue())


def cmd_import_lifex(args) -> int:
    from .cli import read_locations

    locations = read_locations(args.locations) if args.locations else None
    candidates, rows, skipped = read_lifex_export(args.lifex, args.patient_id, locations, args.kvp)
    write_csv(args.out, rows, list(KEY_COLUMNS) + list(INFO_COLUMNS) + candidates)
    if skipped:
        print(f"{len(skipped)} LIFEx column(s) without an IBSI counterpart in the catalogue skipped: "
              f"{', '.join(skipped)}", file=sys.stderr)
    print(f"{len(rows)} lesion(s), {len(candidates)} candidate column(s) -> {args.out}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add the ``import-lifex`` subcommand."""
    from .cli import example

    p = subparsers.add_parser(
        "import-lifex", help="a LIFEx feature export as a candidate-features table",
        description="Read a LIFEx feature export (one row per ROI named <lesion>_core / <lesion>_ring, LIFEx "
                    "feature names) into the candidate-features table of extract, to score or fit from.",
        epilog=example("cd8rscore import-lifex --lifex demo-output/signature_training/lifex_export.csv "
                       "--locations demo-output/synthetic/SYNTHETIC-001_locations.csv --kvp 120 "
                       "--out my-results/lifex_features.csv"))
    p.add_argument("--lifex", required=True, help="LIFEx feature export CSV")
    p.add_argument("--patient-id", help="patient identifier (default: the export's patient column)")
    p.add_argument("--locations", help="CSV with columns lesion, location (default: every lesion 'other')")
    p.add_argument("--kvp", type=float, help="peak kilovoltage of the scan (kV); default: the signature's assumed "
                                             "value when scored")
    p.add_argument("--out", required=True, help="candidate-features CSV to write")
    p.set_defaults(func=cmd_import_lifex)
