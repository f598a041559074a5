"""What a reader sees instead of a results.json key: row labels of the report's tables and figure captions.

Every table row and figure of the cohort report takes its words from here, so a key, a template or a file name
never reaches the page: ``label`` turns a key into its label (a key without one is spelt out in words), and
``ReportFigure`` carries each figure's caption (what it shows, on which patients, which cut-off, which test).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

COUNT_LABELS = {
    "patients_clinical": "Patients in the clinical table",
    "patients_lesion_table": "Patients in the lesion table",
    "patients_analysed": "Patients in both tables (analysed)",
    "patients_with_lesion_gt_min_volume": "Patients with a computable baseline lesion above the minimum volume",
    "patients_with_e1": "Patients with a follow-up (E1) CT",
    "lesion_rows": "Lesion rows (baseline and follow-up)",
    "lesions_e0": "Baseline (E0) lesion rows",
    "lesions_e1": "Follow-up (E1) lesion rows",
    "lesions_not_computable": "Lesion rows without a score (not computable)",
    "lesions_class_unstable_under_perturbation": "Lesions whose class changes under perturbation",
    "train": "Training set (patients)",
    "test": "Test set (patients)",
}
METRIC_LABELS = {
    "min": "minimum score", "max": "maximum score", "mean": "mean score", "sd": "SD of the scores",
    "skewness": "skewness of the scores", "kurtosis": "kurtosis of the scores", "entropy": "entropy of the scores",
}
ASSOCIATION_LABELS = {
    "spearman_score_vs_volume_ml": "score vs baseline volume (mL)",
    "spearman_score_vs_diameter_mm": "score vs baseline longest axial diameter (mm)",
    "spearman_score_vs_volume_change_pct": "score vs volume change E0 to E1 (%)",
}
VARIABLE_LABELS = {
    "n_lesions": "number of lesions", "recist_e1": "RECIST 1.1 response at E1",
    "min_score_optimised": "minimum score (optimised cut-off)",
    "min_score_optimised_class": "minimum score class (optimised cut-off)",
    "min_score_reference_class": "minimum score class (reference cut-off)",
    "n_organ_sites": "number of organ sites", "rmh_score": "RMH score", "grim_score": "GRIm score",
}
SET_LABELS = {"train": "training set", "test": "test set", "all": "all patients"}
ENDPOINT_LABELS = {"os": "overall survival", "pfs": "progression-free survival"}


def label(key: str, labels: "dict[str, str] | None" = None) -> str:
    """The reader's words for a key: its label in ``labels`` (or any table above), else the key spelt out."""
    for table in ([labels] if labels else []) + [COUNT_LABELS, METRIC_LABELS, ASSOCIATION_LABELS, SET_LABELS,
                                                  ENDPOINT_LABELS]:
        if key in table:
            return table[key]
    return key.replace("_gt_", " > ").replace("_", " ")


def term_label(text: str) -> str:
    """A model term, table variable or note in words: each variable name with a label is replaced by it
    ("n_lesions > 6" -> "number of lesions > 6"); other names (the user's column names) are kept as written."""
    return _VARIABLE.sub(lambda m: VARIABLE_LABELS[m.group(0)], str(text))


_VARIABLE = re.compile(r"(?<![\w.])(" + "|".join(sorted(VARIABLE_LABELS, key=len, reverse=True)) + r")(?![\w.])")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def reason_template(reason: str) -> str:
    """The reason with its numbers taken out: reasons that differ only by numbers share one template."""
    return _NUMBER.sub("#", reason)


def fill_reason(reasons: list[str]) -> str:
    """One reason for a group of reasons sharing a template, with the numbers put back: a number that differs
    across the group is written as its range ("core VOI has 3–29 voxels at 1 mm; ... at least 30")."""
    parts = [_NUMBER.findall(r) for r in reasons]
    template = _NUMBER.split(reasons[0])
    out = [template[0]]
    for i, rest in enumerate(template[1:]):
        values = sorted({float(p[i]) for p in parts}, key=float)
        texts = {float(p[i]): p[i] for p in parts}
        out.append(texts[values[0]] if len(values) == 1 else f"{texts[values[0]]}–{texts[values[-1]]}")
        out.append(rest)
    return "".join(out)


@dataclass(frozen=True)
class ReportFigure:
    """A figure of the report: its PNG file (in the output folder), caption and the report section it belongs
    to ("lesion", "os", "pfs", "prediction", "nomogram"; any other section goes under "Other figures")."""

    file: str
    caption: str
    section: str
