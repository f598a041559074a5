"""The lesion table of DESIGN §5: column names, units, descriptions, and atomic CSV writing/reading.

One row per lesion and timepoint. Feature columns sit between ``ring_voxels`` and ``score``: for each
signature feature ``<voi>_<LIFEx name>`` (raw value) and ``<voi>_<LIFEx name>_norm`` (min-max normalised).
"""
from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from .csv_cells import from_cell, to_cell
from .errors import InputError

HEAD_COLUMNS: tuple[str, ...] = (
    "patient_id", "timepoint", "lesion_id", "segment_name", "location", "signature_location",
    "volume_ml", "longest_axial_diameter_mm", "kvp", "kvp_source", "core_voxels", "ring_voxels",
)
TAIL_COLUMNS: tuple[str, ...] = (
    "score", "score_class", "least_infiltrated", "computable", "reason", "signature_name", "signature_status", "warnings",
)
# Robustness of the score by image perturbation (perturbation.py); empty unless scored with perturbations.
ROBUSTNESS_COLUMNS: tuple[str, ...] = ("score_perturbation_sd", "score_perturbation_mean_shift", "score_class_agreement",
                                       "perturbed_scores")
# The CT's geometry and the nodes' RECIST measure, appended after the columns above (their order is kept for users).
GEOMETRY_COLUMNS: tuple[str, ...] = ("short_axis_mm", "slice_thickness_mm", "pixel_spacing_mm")
# How ``warnings`` names a lesion whose class changes under perturbation too often (the cohort report counts them).
UNSTABLE_CLASS_WARNING = "class unstable"

# (unit, description) per fixed column: set on the Slicer table node, documented in the README.
COLUMN_INFO: dict[str, tuple[str, str]] = {
    "patient_id": ("", "Patient identifier"),
    "timepoint": ("", "E0 = baseline CT, E1 = first evaluation CT"),
    "lesion_id": ("", "Label value or segment identifier of the lesion"),
    "segment_name": ("", "Name of the lesion's segment"),
    "location": ("", "Anatomical site of the lesion (fine, for reporting)"),
    "signature_location": ("", "Site category used by the signature's location terms"),
    "volume_ml": ("mL", "Lesion volume from the original-resolution mask"),
    "longest_axial_diameter_mm": ("mm", "Longest diameter in an axial slice (RECIST 1.1)"),
    "kvp": ("kV", "Peak kilovoltage of the CT acquisition"),
    "kvp_source": ("", "Where kVp came from: dicom (tag 0018,0060), user, or assumed"),
    "core_voxels": ("voxels", "Voxels of the core VOI at 1 mm isotropic"),
    "ring_voxels": ("voxels", "Voxels of the peritumoral ring VOI (±2 mm) at 1 mm isotropic"),
    "score": ("", "CD8 radiomics score computed with the named signature"),
    "score_class": ("", "high / low against the signature's reference cut-off; NA if not computable"),
    "least_infiltrated": ("", "1 for the least-infiltrated lesion of the patient at this timepoint (lowest score "
                              "among computable lesions above the minimum volume, 1 mL by default), else 0"),
    "computable": ("", "1 if the score could be computed, else 0"),
    "reason": ("", "Why the score is not computable (empty when computable)"),
    "signature_name": ("", "Signature that produced the score"),
    "signature_status": ("", "published, demonstration or custom"),
    "warnings": ("", "Acquisition and geometry warnings, separated by '; '"),
    "score_perturbation_sd": ("", "SD of the scores under image perturbation (empty without perturbations)"),
    "score_perturbation_mean_shift": ("", "Mean of the perturbed scores minus the score: a bias the SD does not show"),
    "score_class_agreement": ("", "Share of perturbed scores in the same class as the score (0-1)"),
    "perturbed_scores": ("", "The score under each perturbation, in order, space-separated"),
    "short_axis_mm": ("mm", "Short axis (RECIST 1.1, lymph nodes): the longest diameter perpendicular to the "
                            "longest axial diameter, i.e. its plane's longest chord inside the lesion perpendicular "
                            "to it"),
    "slice_thickness_mm": ("mm", "Slice thickness of the CT: DICOM SliceThickness when the CT has it, else the "
                                 "spacing of its axial slices (the number the slice-thickness warning uses)"),
    "pixel_spacing_mm": ("mm", "In-plane spacing of the CT's axial slices (the mean of the two when they differ)"),
}


def feature_columns(feature_keys: Sequence[str]) -> list[str]:
    """Raw and normalised column names for signature features keyed ``<voi>_<LIFEx name>``."""
    columns: list[str] = []
    for key in feature_keys:
        columns += [key, f"{key}_norm"]
    return columns


def lesion_columns(feature_keys: Sequence[str]) -> list[str]:
    """All lesion-table columns, in order, for a signature whose features are ``feature_keys``."""
    return (list(HEAD_COLUMNS) + feature_columns(feature_keys) + list(TAIL_COLUMNS) + list(ROBUSTNESS_COLUMNS)
            + list(GEOMETRY_COLUMNS))


def format_value(value: object) -> str:
    """CSV text of a cell: empty for None/NaN, integers without a decimal point, floats with 10 significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    return str(value)


def _default_file_mode(path: Path) -> int:
    """The mode of the file being replaced, else 0666 less the process umask."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: "str | os.PathLike", text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: a temporary file in the same folder, fsync, then rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: "str | os.PathLike", data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, fsync, then rename.

    A symbolic link is followed: the file it names is replaced and the link stays (a shared file stays shared)."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _default_file_mode(path))  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def rows_to_csv_text(rows: Iterable[dict], columns: Sequence[str]) -> str:
    """CSV text (header + rows) with exactly ``columns``; missing cells are empty. Every cell is one line and none
    is a live spreadsheet formula (csv_cells.to_cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([to_cell(col) for col in columns])
    for row in rows:
        writer.writerow([to_cell(format_value(row.get(col))) for col in columns])
    return buffer.getvalue()


def write_csv(path: "str | os.PathLike", rows: Sequence[dict], columns: Sequence[str]) -> None:
    """Write rows to a CSV file atomically."""
    atomic_write_text(path, rows_to_csv_text(rows, columns))


def read_csv(path: "str | os.PathLike", required: Sequence[str] = ()) -> tuple[list[str], list[dict]]:
    """Read a CSV into (columns, rows as dicts of strings); refuse a missing file or missing required columns.
    Cells written with the formula guard (csv_cells.to_cell) read back as the values that were written."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path)
    from .input_checks import read_csv_text
    with io.StringIO(read_csv_text(path), newline="") as handle:  # UTF-8, Windows-1252 or Latin-1
        reader = csv.DictReader(handle)
        columns = [from_cell(c) for c in reader.fieldnames or []]
        reader.fieldnames = columns
        missing = [c for c in required if c not in columns]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(missing)}; the file has: {', '.join(columns) or 'no header'}",
                path, "header")
        rows = [{k: from_cell(v) if isinstance(v, str) else v for k, v in r.items()} for r in reader]
    return columns, rows


def parse_float(text: "str | None") -> float:
    """Float of a CSV cell; NaN for empty or NA."""
    if text is None:
        return float("nan")
    text = text.strip()
    if text in ("", "NA", "NaN", "nan"):
        return float("nan")
    return float(text)


def check_number_columns(rows: Sequence[dict], columns: Sequence[str], path: "str | os.PathLike") -> None:
    """``InputError`` naming the row and column of the first cell of ``columns`` that is neither empty/NA nor a
    number written with a decimal point ("1,7" and "12 mm" are refused, not misread)."""
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        for column in columns:
            try:
                parse_float(row.get(column))
            except ValueError:
                raise InputError(f"{row.get(column)!r} is not a number; write numbers with a decimal point and no "
                                 "unit", path, f"row {number}, column {column}") from None
