"""Organ sites from the lesions' locations and the two prognostic scores of the melanoma study, from their parts.

- Organ sites: the distinct locations of a patient's baseline (E0) lesions, every delineated lesion counted
  whatever its size or score ("unknown" is not a site). Each site is a covariate (involved or not), and so is their
  number (>= 3 vs < 3, i.e. more than 2 sites, the Royal Marsden cut).
- Royal Marsden Hospital score (Arkenau et al., J Clin Oncol 2008; Garrido-Laguna et al., Cancer 2012): one point
  each for albumin < 35 g/L, LDH > ULN and more than 2 organ sites (0-3); covariate RMH 2-3 vs 0-1.
- Gustave Roussy Immune Score (Bigot et al., Eur J Cancer 2017): one point each for NLR > 6, LDH > ULN and albumin
  < 35 g/L (0-3); covariate GRIm 2-3 vs 0-1.
The thresholds are the validated cut-offs of ``covariates.VALIDATED_CUTOFFS``; the parts are found by their
recognised names (NLR from ``nlr``, else neutrophils / lymphocytes) among the clinical columns that are covariates
(named with ``--covariates``, or recognised when none is named; the lymphocyte column is read for the ratio only),
so a column the user left out never enters a score. A score is missing when one of its parts is (no imputation).
"""
from __future__ import annotations

import pandas as pd

from .covariates import _OPS, VALIDATED_CUTOFFS, Covariate, ValidatedCutoff

SITE_COUNT_CUT = 3
"""Organ sites >= this (more than 2) is the RMH point and the covariate "organ sites >= 3"."""
HIGH_SCORE_FROM = 2
"""RMH and GRIm 2-3 are "high" (vs 0-1)."""
LYMPHOCYTE_COLUMNS = ("lymphocytes_g_l", "lymphocytes", "lymphocytes_10e9_l")
NEUTROPHIL_COLUMNS = ("neutrophils_g_l", "neutrophils", "neutrophils_10e9_l")


def ratio_denominators(columns, covariates: list[str]) -> list[str]:
    """The lymphocyte columns the NLR is computed with: read, for that ratio only, when a neutrophil column is a
    covariate and no ``nlr`` column is (a lymphocyte count is not a covariate itself)."""
    names = [str(c).lower() for c in covariates]
    if "nlr" in names or not any(n in NEUTROPHIL_COLUMNS for n in names):
        return []
    return [c for c in columns if str(c).lower() in LYMPHOCYTE_COLUMNS and c not in covariates]


def organ_sites(lesions: pd.DataFrame, patients) -> pd.DataFrame:
    """Per patient (index): ``organ_sites`` (sorted, ';'-joined) and ``n_organ_sites`` of the baseline lesions."""
    e0 = lesions[(lesions["timepoint"] == "E0") & (lesions["location"] != "unknown")]
    sites = e0.groupby("patient_id")["location"].agg(lambda s: sorted(set(s)))
    sites = sites.reindex(list(patients)).apply(lambda v: v if isinstance(v, list) else [])
    return pd.DataFrame({"organ_sites": sites.map(";".join), "n_organ_sites": sites.map(len)})


def _column(data: pd.DataFrame, names: list[str], cutoff: "ValidatedCutoff | None" = None) -> "str | None":
    """The first clinical column whose recognised name is in ``names`` or maps to ``cutoff``."""
    for column in data.columns:
        key = str(column).lower()
        if key in names or (cutoff is not None and VALIDATED_CUTOFFS.get(key) is cutoff):
            return column
    return None


def _numbers(data: pd.DataFrame, column: "str | None") -> "pd.Series | None":
    if column is None:
        return None
    return pd.to_numeric(data[column], errors="coerce")


def _point(values: "pd.Series | None", cutoff: ValidatedCutoff) -> "pd.Series | None":
    if values is None:
        return None
    return _OPS[cutoff.op](values, cutoff.threshold).astype(float).where(values.notna())


def score_parts(data: pd.DataFrame, n_sites: pd.Series) -> tuple[dict, dict]:
    """(name -> 0/1 points per patient, name -> where it comes from) for albumin, LDH, NLR and organ sites."""
    albumin_cut, ldh_cut, nlr_cut = VALIDATED_CUTOFFS["albumin_g_l"], VALIDATED_CUTOFFS["ldh_uln"], \
        VALIDATED_CUTOFFS["nlr"]
    albumin = _column(data, [], albumin_cut)
    ldh = _column(data, [], ldh_cut)
    nlr_col = _column(data, [], nlr_cut)
    nlr = _numbers(data, nlr_col)
    nlr_source = nlr_col
    if nlr is None:
        neutrophils, lymphocytes = _column(data, list(NEUTROPHIL_COLUMNS)), _column(data, list(LYMPHOCYTE_COLUMNS))
        if neutrophils is not None and lymphocytes is not None:
            lym = _numbers(data, lymphocytes)
            nlr = _numbers(data, neutrophils) / lym.where(lym > 0)
            nlr_source = f"{neutrophils} / {lymphocytes}"
    points = {"albumin": _point(_numbers(data, albumin), albumin_cut), "ldh": _point(_numbers(data, ldh), ldh_cut),
              "nlr": _point(nlr, nlr_cut),
              "organ_sites": (n_sites >= SITE_COUNT_CUT).astype(float)}
    sources = {"albumin": f"{albumin}: {albumin_cut.label}" if albumin else None,
               "ldh": f"{ldh}: {ldh_cut.label}" if ldh else None,
               "nlr": f"{nlr_source}: {nlr_cut.label}" if nlr_source else None,
               "organ_sites": f"organ sites of the baseline lesions >= {SITE_COUNT_CUT}"}
    return points, sources


def _total(points: dict, parts: tuple[str, ...]) -> "pd.Series | None":
    if any(points[p] is None for p in parts):
        return None
    return sum(points[p] for p in parts)  # NaN when a part is missing


def _indicator(name: str, kind: str, definition: str, term: str, values: pd.Series) -> Covariate:
    return Covariate(name, kind, definition, values.astype(float).to_frame(term))


def prognostic_covariates(data: pd.DataFrame, lesions: pd.DataFrame) -> tuple[list[Covariate], dict, dict]:
    """(covariates, the ``prognostic_scores`` block, per-patient columns) for the patient table ``data``.

    Covariates, in order: one per organ site (sorted), organ sites >= 3, RMH 2-3, GRIm 2-3 (the scores only when
    their clinical parts are columns of the table). Index of the terms: patient_id.
    """
    indexed = data.set_index("patient_id")
    sites = organ_sites(lesions, indexed.index)
    points, sources = score_parts(indexed, sites["n_organ_sites"])
    covs = []
    all_sites = sorted({s for v in sites["organ_sites"] for s in v.split(";") if s})
    for site in all_sites:
        involved = sites["organ_sites"].map(lambda v, site=site: site in v.split(";"))
        covs.append(_indicator(f"site_{site}", "organ_site", f"{site} involved (a baseline lesion there)",
                               f"site {site}", involved))
    covs.append(_indicator("n_organ_sites", "organ_sites", f"organ sites >= {SITE_COUNT_CUT} (vs fewer)",
                           f"organ sites >= {SITE_COUNT_CUT}", points["organ_sites"]))
    columns = {"organ_sites": sites["organ_sites"], "n_organ_sites": sites["n_organ_sites"]}
    block = {"organ_sites": {"n_patients_by_count": {str(k): int(v) for k, v in
                                                     sites["n_organ_sites"].value_counts().sort_index().items()},
                             "n_patients_by_site": {s: int(sites["organ_sites"].map(
                                 lambda v, s=s: s in v.split(";")).sum()) for s in all_sites}},
             "components": sources}
    for name, label, parts in (("rmh", "Royal Marsden Hospital score", ("albumin", "ldh", "organ_sites")),
                               ("grim", "Gustave Roussy Immune Score", ("nlr", "ldh", "albumin"))):
        total = _total(points, parts)
        if total is None:
            missing = [p for p in parts if points[p] is None]
            block[name] = {"available": False, "note": f"{label}: no covariate column for {', '.join(missing)}"}
            continue
        high = (total >= HIGH_SCORE_FROM).astype(float).where(total.notna())
        definition = f"{label} {HIGH_SCORE_FROM}-3 vs 0-{HIGH_SCORE_FROM - 1} (one point each: " + \
            "; ".join(sources[p] for p in parts) + ")"
        covs.append(_indicator(f"{name}_score", "prognostic_score", definition,
                               f"{name.upper() if name == 'rmh' else 'GRIm'} 2-3", high))
        counts = total.value_counts().sort_index()
        block[name] = {"available": True, "definition": definition,
                       "n_patients_by_score": {str(int(k)): int(v) for k, v in counts.items()},
                       "n_missing": int(total.isna().sum())}
        columns[f"{name}_score"] = total
    columns = {k: v.reindex(indexed.index).set_axis(data.index) for k, v in columns.items()}
    return covs, block, columns

