"""Table 1 (baseline characteristics of the patients) and Table 2 (lesions at E0 and E1) of the melanoma study.

Table 1: per clinical variable, n (%) per category or median (IQR) of a number, overall and in each group of figure
4D/E; a number with a validated cut-off (``covariates.VALIDATED_CUTOFFS``) also gets n (%) on each side of it.
Percentages are of the patients with a value; missing values are counted on their own row.
Table 2: lesions at E0 (every baseline lesion) and at E1 (the E1 rows of those lesions; new lesions are left out):
locations, volume < 1 mL / >= 1 mL and score class high / low as n (%) with Fisher's exact test (2 x 2) or the
chi-squared test (larger tables, as R's ``chisq.test``); lesions gone at E1; volume, longest diameter, kVp, slice
thickness, pixel spacing and score as median (IQR) with the Wilcoxon rank-sum p (as R's ``wilcox.test``: exact
without ties when both groups have fewer than 50 values, else the normal approximation with continuity
correction). Quartiles as R's ``quantile`` (type 7).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .covariates import _OPS, VALIDATED_CUTOFFS

MAX_CATEGORIES_OF_A_NUMBER = 5
"""A numeric variable with at most this many distinct values (a score 0-3, a performance status) is shown as
categories, n (%); with more, as median (IQR)."""
R_EXACT_LIMIT = 50
"""``wilcox.test`` computes the exact p when both groups have fewer values than this and no ties."""
TABLE2_NUMBERS: tuple[tuple[str, str], ...] = (
    ("volume_ml", "lesion volume (mL)"), ("longest_axial_diameter_mm", "longest axial diameter (mm)"),
    ("kvp", "kVp (kV)"), ("slice_thickness_mm", "slice thickness (mm)"), ("pixel_spacing_mm", "pixel spacing (mm)"),
    ("score", "score"))


def median_iqr(values) -> dict:
    """{"n", "median", "q1", "q3"} of the finite values (None when there are none)."""
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    x = x[np.isfinite(x)]
    if not x.size:
        return {"n": 0, "median": None, "q1": None, "q3": None}
    q1, median, q3 = np.percentile(x, [25, 50, 75])  # linear interpolation = R's type 7
    return {"n": int(x.size), "median": float(median), "q1": float(q1), "q3": float(q3)}


def rank_sum_p(x, y) -> "float | None":
    """Two-sided Wilcoxon rank-sum p as R's ``wilcox.test(x, y)``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if not x.size or not y.size:
        return None
    both = np.concatenate([x, y])
    exact = x.size < R_EXACT_LIMIT and y.size < R_EXACT_LIMIT and np.unique(both).size == both.size
    if not exact and np.unique(both).size == 1:
        return None  # no spread: R returns NaN
    res = stats.mannwhitneyu(x, y, alternative="two-sided", method="exact" if exact else "asymptotic",
                             use_continuity=True)
    return float(res.pvalue)


def categorical_p(table: np.ndarray) -> dict:
    """Fisher's exact p for a 2 x 2 table, else the chi-squared p (no continuity correction beyond 2 x 2, as R)."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return {"test": None, "p": None}
    if table.shape == (2, 2):
        return {"test": "Fisher", "p": float(stats.fisher_exact(table).pvalue)}
    return {"test": "chi-squared", "p": float(stats.chi2_contingency(table, correction=False).pvalue)}


def _counts(values: pd.Series, levels: list) -> dict:
    present = values.dropna()
    n = len(present)
    return {str(lv): {"n": int((present == lv).sum()), "percent": 100.0 * (present == lv).sum() / n if n else None}
            for lv in levels} | {"missing": {"n": int(values.isna().sum()), "percent": None}}


def table1(data: pd.DataFrame, variables: list[str], groups: pd.Series) -> dict:
    """Table 1: {"groups": ["overall", ...], "rows": [{"variable", "level", "kind", "cells": {group: ...}}]}."""
    names = ["overall"] + [g for g in pd.unique(groups) if g]
    frames = {"overall": data, **{g: data[groups == g] for g in names[1:]}}
    rows = [{"variable": "patients", "level": "", "kind": "n", "cells": {g: {"n": int(len(f))} for g, f in
                                                                          frames.items()}}]
    for var in variables:
        numeric = pd.to_numeric(data[var], errors="coerce")
        all_numbers = numeric.notna().sum() == data[var].notna().sum() and numeric.notna().any()
        is_number = all_numbers and numeric.dropna().nunique() > MAX_CATEGORIES_OF_A_NUMBER
        if is_number:
            rows.append({"variable": var, "level": "", "kind": "median (IQR)",
                         "cells": {g: median_iqr(pd.to_numeric(f[var], errors="coerce")) for g, f in frames.items()}})
            cut = VALIDATED_CUTOFFS.get(var.lower())
            if cut is None:
                continue
            side = {g: _OPS[cut.op](pd.to_numeric(f[var], errors="coerce"), cut.threshold).where(
                pd.to_numeric(f[var], errors="coerce").notna()) for g, f in frames.items()}
            levels = [(True, cut.label), (False, f"not {cut.label}")]
        else:
            source = numeric if all_numbers else data[var]  # a score 0-3 by value, text by frequency
            present = source.dropna()
            order = sorted(present.unique(), key=(lambda v: v) if all_numbers else (
                lambda v: (-int((present == v).sum()), str(v))))
            side = {g: source.loc[f.index] for g, f in frames.items()}
            levels = [(lv, f"{lv:g}" if all_numbers else str(lv)) for lv in order]
        per_group = {g: _counts(side[g], [lv for lv, _ in levels]) for g in frames}
        for lv, label in levels:
            rows.append({"variable": var, "level": label, "kind": "n (%)",
                         "cells": {g: per_group[g][str(lv)] for g in frames}})
        if any(per_group[g]["missing"]["n"] for g in frames):
            rows.append({"variable": var, "level": "missing", "kind": "n",
                         "cells": {g: {"n": per_group[g]["missing"]["n"]} for g in frames}})
    return {"groups": names, "rows": rows,
            "note": "percentages of the patients with a value; groups of figure 4D/E"}


def table2(lesions: pd.DataFrame, reference_cutoff: float, volume_cut_ml: float = 1.0) -> dict:
    """Table 2: lesions at E0 and at E1 (the E1 rows of baseline lesions)."""
    e0 = lesions[lesions["timepoint"] == "E0"]
    keys = set(zip(e0["patient_id"], e0["lesion_id"]))
    e1_all = lesions[lesions["timepoint"] == "E1"]
    e1 = e1_all[[k in keys for k in zip(e1_all["patient_id"], e1_all["lesion_id"])]]
    sets = {"E0": e0, "E1": e1}
    rows = [{"variable": "lesions", "level": "", "kind": "n", "cells": {t: {"n": int(len(f))} for t, f in sets.items()},
             "test": None, "p": None},
            {"variable": "patients", "level": "", "kind": "n",
             "cells": {t: {"n": int(f["patient_id"].nunique())} for t, f in sets.items()}, "test": None, "p": None}]

    def categorical(variable: str, values: dict, levels: list) -> None:
        table = np.array([[int((values[t] == lv).sum()) for t in sets] for lv in levels])
        test = categorical_p(table)
        for i, lv in enumerate(levels):
            cells = {t: {"n": int(table[i, j]), "percent": 100.0 * table[i, j] / table[:, j].sum()
                         if table[:, j].sum() else None} for j, t in enumerate(sets)}
            rows.append({"variable": variable, "level": str(lv), "kind": "n (%)", "cells": cells,
                         **(test if i == 0 else {"test": None, "p": None})})

    locations = e0["location"].value_counts()
    categorical("location", {t: f["location"] for t, f in sets.items()},
                sorted(set(e0["location"]) | set(e1["location"]), key=lambda v: (-locations.get(v, 0), v)))
    gone = (e1["longest_axial_diameter_mm"] == 0)
    rows.append({"variable": "lesions gone at E1 (diameter 0)", "level": "", "kind": "n",
                 "cells": {"E0": {"n": None}, "E1": {"n": int(gone.sum())}}, "test": None, "p": None})
    scored = {t: f[f["computable"] == 1]["score"] for t, f in sets.items()}
    categorical("score class (reference cut-off)",
                {t: np.where(s >= reference_cutoff, "high", "low") for t, s in scored.items()}, ["high", "low"])
    volume_class = {t: np.where(f["volume_ml"] < volume_cut_ml, f"< {volume_cut_ml:g}", f">= {volume_cut_ml:g}")
                    for t, f in sets.items()}
    categorical("volume (mL)", volume_class, [f"< {volume_cut_ml:g}", f">= {volume_cut_ml:g}"])
    for column, label in TABLE2_NUMBERS:
        values = {t: (scored[t] if column == "score" else f[column]) for t, f in sets.items()}
        cells = {t: median_iqr(v) for t, v in values.items()}
        if not any(c["n"] for c in cells.values()):
            rows.append({"variable": label, "level": "", "kind": "median (IQR)", "cells": cells, "test": None,
                         "p": None, "note": f"no {column} column in the lesion table"})
            continue
        rows.append({"variable": label, "level": "", "kind": "median (IQR)", "cells": cells,
                     "test": "Wilcoxon rank-sum", "p": rank_sum_p(values["E0"], values["E1"])})
    return {"sets": list(sets), "rows": rows,
            "note": "E1: the E1 rows of the baseline lesions (new lesions left out); scores of computable lesions"}


def _cell(cell: dict, kind: str) -> str:
    if kind == "median (IQR)":
        return "" if cell["median"] is None else f"{cell['median']:.4g} ({cell['q1']:.4g}-{cell['q3']:.4g})"
    if kind == "n (%)":
        return f"{cell['n']}" + ("" if cell["percent"] is None else f" ({cell['percent']:.1f})")
    return "" if cell.get("n") is None else str(cell["n"])


def table_rows(table: dict, columns: list[str]) -> list[dict]:
    """CSV rows: variable, level, statistic, one formatted cell per column, then the test and p when given."""
    out = []
    for row in table["rows"]:
        flat = {"variable": row["variable"], "level": row["level"], "statistic": row["kind"]}
        flat.update({c: _cell(row["cells"][c], row["kind"]) for c in columns})
        if "p" in row:
            flat.update({"test": row.get("test") or "", "p": row.get("p")})
        out.append(flat)
    return out
