"""Clinical covariates as Cox model terms: which columns are covariates, and their validated cut-offs, median splits
and categories.

A column of the clinical table is a covariate only when the user names it (``--covariates``) or, when the user
names none, when its name is a recognised one (``RECOGNISED_NAMES``: the names with a validated cut-off, and age and
sex); every other column is listed as not used, with the reason, and never enters a model (nor the RMH and GRIm
scores of ``prognostic_scores``). Numeric covariates are dichotomised at a validated cut-off when their column name
is in ``VALIDATED_CUTOFFS`` (the cut-offs named by the melanoma study, Sun et al. J Immunother Cancer 2022), otherwise
at the median (group "high" = value > median). Binary 0/1 columns are used as they are. Text columns are
categories: the most frequent level is the reference and each other level gets an indicator. Missing values
stay missing (no imputation): a model leaves those patients out and the count is reported.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ValidatedCutoff:
    """A published threshold: the term is 1 when ``value <op> threshold``."""

    op: str
    threshold: float
    label: str
    source: str


_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}

# Column names (lower case) -> validated cut-off. Units are part of the name; the thresholds are those the
# melanoma study used (PAPER_FACTS: LDH > ULN, albumin < 35 g/L, CRP >= 10 mg/L, neutrophils >= 7 x 10^9/L,
# NLR > 6).
_LDH = ValidatedCutoff(">", 1.0, "LDH > ULN", "Sun et al. 2022; LDH as a multiple of the upper limit of normal")
_ALB = ValidatedCutoff("<", 35.0, "albumin < 35 g/L", "Sun et al. 2022")
_CRP = ValidatedCutoff(">=", 10.0, "CRP >= 10 mg/L", "Sun et al. 2022")
_NEU = ValidatedCutoff(">=", 7.0, "neutrophils >= 7 x10^9/L", "Sun et al. 2022")
_NLR = ValidatedCutoff(">", 6.0, "NLR > 6", "Sun et al. 2022")
VALIDATED_CUTOFFS: dict[str, ValidatedCutoff] = {
    "ldh_uln": _LDH, "ldh_x_uln": _LDH, "ldh_ratio_uln": _LDH,
    "albumin_g_l": _ALB, "albumin": _ALB,
    "crp_mg_l": _CRP, "crp": _CRP,
    "neutrophils_g_l": _NEU, "neutrophils": _NEU, "neutrophils_10e9_l": _NEU,
    "nlr": _NLR,
}
RECOGNISED_NAMES: tuple[str, ...] = tuple(VALIDATED_CUTOFFS) + ("age", "sex")
"""Column names (lower case) used as covariates without being named: those with a validated cut-off, and age
(median split) and sex (categories), which every survival analysis of the melanoma study adjusts for."""


def recognised_names_text() -> str:
    """The recognised names with their rules, for --help and the docs: "ldh_uln / ... (LDH > ULN), ..."."""
    by_rule: dict[str, list[str]] = {}
    for name, cut in VALIDATED_CUTOFFS.items():
        by_rule.setdefault(cut.label, []).append(name)
    return ", ".join([f"{' / '.join(names)} ({label})" for label, names in by_rule.items()]
                     + ["age (median split)", "sex (categories)"])


NAMED = "named with --covariates"
RECOGNISED = "recognised name"
DERIVED = "derived from the lesions' locations and the covariate columns"


@dataclass
class Covariate:
    """One clinical variable turned into 0/1 model terms (NaN = missing)."""

    name: str
    kind: str  # "validated_cutoff", "median_split", "binary", "categorical", "constant" (no terms)
    definition: str
    terms: pd.DataFrame  # one column per term, index = patient_id
    origin: str = ""  # why it is a covariate: NAMED, RECOGNISED, or derived from the scores

    @property
    def rule(self) -> str:
        """The rule as the terminal and the report say it: "albumin_g_l < 35 (...) [recognised name]"."""
        return f"{self.definition} [{self.origin}]" if self.origin else self.definition

    def describe(self) -> dict:
        """JSON-ready description."""
        return {"variable": self.name, "kind": self.kind, "definition": self.definition, "origin": self.origin,
                "rule": self.rule, "terms": list(self.terms.columns),
                "n_missing": int(self.terms.isna().any(axis=1).sum())}


def _numeric(values: pd.Series) -> "pd.Series | None":
    """Float series if every non-missing cell is a number, else None."""
    present = values.dropna()
    try:
        converted = present.astype(float)
    except (TypeError, ValueError):
        return None
    out = pd.Series(np.nan, index=values.index, dtype=float)
    out.loc[converted.index] = converted
    return out


def build_covariate(name: str, values: pd.Series) -> Covariate:
    """Terms of one covariate; ``values`` is indexed by patient_id and holds text (None = missing)."""
    numeric = _numeric(values)
    present = values.dropna()
    if present.empty:
        return Covariate(name, "constant", f"{name}: no values; not analysable", pd.DataFrame(index=values.index))
    if numeric is not None:
        cut = VALIDATED_CUTOFFS.get(name.lower())
        if cut is not None:
            term = _OPS[cut.op](numeric, cut.threshold).astype(float).where(numeric.notna())
            col = f"{name} {cut.op} {cut.threshold:g}"
            return Covariate(name, "validated_cutoff", f"{col} ({cut.label}; {cut.source})", term.to_frame(col))
        levels = set(numeric.dropna().unique())
        if len(levels) < 2:
            return Covariate(name, "constant", f"{name}: a single value; not analysable",
                             pd.DataFrame(index=values.index))
        if levels <= {0.0, 1.0}:
            return Covariate(name, "binary", f"{name} = 1 vs 0", numeric.to_frame(f"{name} = 1"))
        median = float(numeric.median())
        term = (numeric > median).astype(float).where(numeric.notna())
        op = ">"
        if term.dropna().nunique() < 2:  # many values equal to the median
            term = (numeric >= median).astype(float).where(numeric.notna())
            op = ">="
        return Covariate(name, "median_split", f"{name} {op} median {median:g}",
                         term.to_frame(f"{name} {op} {median:g}"))
    counts = present.value_counts()
    levels = sorted(counts.index, key=lambda v: (-counts[v], str(v)))
    reference = levels[0]
    frame = pd.DataFrame(index=values.index)
    for level in levels[1:]:
        frame[f"{name} = {level}"] = (values == level).astype(float).where(values.notna())
    if frame.shape[1] == 0:
        return Covariate(name, "constant", f"{name}: a single category {reference!r}; not analysable", frame)
    return Covariate(name, "categorical", f"{name}: categories vs reference {reference!r}", frame)


def choose_covariates(columns: list[str], named: "list[str] | None", path=None) -> tuple[dict[str, str], list[dict]]:
    """({column: origin} of the covariates in table order, [{"column", "reason"}] of the columns not used).

    ``columns``: the clinical table's candidate columns (not the survival or flag columns); ``named``: the columns
    the user gave with --covariates (None: the recognised names present). A named column that is not a candidate
    raises InputError naming it.
    """
    from CD8RScoreLib.errors import InputError

    if named is not None:
        missing = [n for n in named if n not in columns]
        if missing:
            raise InputError(f"no covariate column {', '.join(map(repr, missing))}; the table's covariate columns "
                             f"are: {', '.join(columns) or 'none'}", path, "--covariates")
        chosen = {c: NAMED for c in columns if c in named}
        reason = "not named with --covariates"
    else:
        chosen = {c: RECOGNISED for c in columns if c.lower() in RECOGNISED_NAMES}
        reason = "not a recognised name; name it with --covariates to use it"
    return chosen, [{"column": c, "reason": reason} for c in columns if c not in chosen]


def build_covariates(clinical: pd.DataFrame, chosen: dict[str, str]) -> list[Covariate]:
    """Covariates of the clinical table (indexed by patient_id): ``chosen`` maps each column to its origin."""
    indexed = clinical.set_index("patient_id")
    covariates = []
    for name, origin in chosen.items():
        covariate = build_covariate(name, indexed[name])
        covariate.origin = origin
        covariates.append(covariate)
    return covariates
