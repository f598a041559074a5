"""A simulated cohort the size and shape of the melanoma study, with a known effect of the minimum score.

Shape from the study (PAPER_FACTS, Sun et al., J Immunother Cancer 2022): 136 patients, ~8.2 baseline lesions
each (1,120), 127 with an E1 CT; the E0 location mix; lesion volume lognormal with median 0.77 mL and IQR
0.26-2.84 mL; scores with median 2.19 and IQR 1.98-2.41; about 3 % of lesions too small for a score. Known
effects: patients whose minimum score (computable lesions > 1 mL) is low have OS HR 0.35 and PFS HR 0.48 for
high vs low; low-score lesions progress more often; albumin < 35 g/L doubles the hazard of death.
Every row is labelled simulated: patient ids "SIM-001"..., the demonstration signature's name and status, and
the clinical column ``simulated`` = 1. Deterministic for a seed.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from CD8RScoreLib.lesion_table import lesion_columns, write_csv
from CD8RScoreLib.locations import SITE_CATEGORY

N_PATIENTS = 136
FRACTION_WITH_E1 = 127 / 136
MEAN_LESIONS_PER_PATIENT = 1120 / 136
LOCATION_COUNTS: dict[str, int] = {  # E0 lesion locations of the melanoma study
    "node": 442, "lung": 222, "liver": 184, "subcutaneous": 149, "peritoneum": 43, "other": 18, "adrenal": 14,
    "bone": 13, "brain": 12, "spleen": 9, "kidney": 8, "thyroid": 3, "breast": 2, "head_and_neck": 1,
}
VOLUME_MEDIAN_ML = 0.77
VOLUME_LOG_SD = math.log(2.84 / 0.26) / (2 * 0.6744897501960817)  # IQR 0.26-2.84 mL of a lognormal
DIAMETER_ELONGATION = 1.18
"""Longest axial diameter / equivalent-sphere diameter: gives the study's median diameter, 13.4 mm."""
SCORE_MEDIAN = 2.19
SCORE_PATIENT_SD = 0.15
SCORE_LESION_SD = math.sqrt((0.43 / 1.349) ** 2 - SCORE_PATIENT_SD ** 2)  # total IQR 2.41 - 1.98 = 0.43
SIMULATION_REFERENCE_CUTOFF = 1.72
"""Cut-off the simulated score_class uses: about 7 % of lesions low, as in the study (7.2 %)."""
MIN_CORE_VOXELS = 30
"""Lesions with fewer 1-mm voxels have no score (about 3 % of lesions with this volume distribution)."""
LOW_MIN_PROGRESSION_LOGIT = 1.5
"""Extra log-odds of lesion progression in patients with a low minimum score (their disease progresses)."""
HR_OS_HIGH_VS_LOW = 0.35
HR_PFS_HIGH_VS_LOW = 0.48
HR_OS_LOW_ALBUMIN = 2.0
MEDIAN_OS_HIGH_MONTHS = 62.0
MEDIAN_PFS_HIGH_MONTHS = 11.5
FOLLOW_UP_MONTHS = (12.0, 60.0)
"""Administrative censoring uniform in this range (months)."""
SIGNATURE_NAME = "cd8rscore-demonstration"
SIGNATURE_STATUS = "demonstration"
KVP = 120


def _ring_voxels(volume_ml: np.ndarray) -> np.ndarray:
    """About 90 % of the analytic +/-2 mm shell around a sphere of the lesion's volume (1 mm voxels)."""
    r = np.cbrt(3 * volume_ml * 1000 / (4 * math.pi))
    return np.round(0.9 * 4 / 3 * math.pi * ((r + 2) ** 3 - np.clip(r - 2, 0, None) ** 3)).astype(int)


def simulate_cohort(n_patients: int = N_PATIENTS, seed: int = 1) -> tuple[list[dict], list[dict]]:
    """(lesion rows, clinical rows) of a simulated cohort; times in months, volumes in mL, diameters in mm."""
    rng = np.random.default_rng(seed)
    width = max(3, len(str(n_patients)))
    pids = [f"SIM-{i + 1:0{width}d}" for i in range(n_patients)]
    n_les = 1 + rng.negative_binomial(2, 2 / (2 + MEAN_LESIONS_PER_PATIENT - 1), n_patients)
    has_e1 = rng.random(n_patients) < FRACTION_WITH_E1
    patient_score = rng.normal(SCORE_MEDIAN, SCORE_PATIENT_SD, n_patients)
    patient_prog = rng.normal(0.0, 1.0, n_patients)
    locations = list(LOCATION_COUNTS)
    loc_p = np.array([LOCATION_COUNTS[k] for k in locations], dtype=float)
    loc_p /= loc_p.sum()

    owner = np.repeat(np.arange(n_patients), n_les)
    total = owner.size
    loc = rng.choice(len(locations), size=total, p=loc_p)
    volume = np.exp(rng.normal(math.log(VOLUME_MEDIAN_ML), VOLUME_LOG_SD, total))
    diameter = 10 * np.cbrt(6 * volume / math.pi) * DIAMETER_ELONGATION
    core = np.round(volume * 1000).astype(int)
    computable = core >= MIN_CORE_VOXELS
    score = patient_score[owner] + rng.normal(0, SCORE_LESION_SD, total)
    # patients at risk: low minimum score of the computable baseline lesions > 1 mL (drives OS, PFS, PD)
    considered = computable & (volume > 1.0)
    min_score = np.full(n_patients, np.inf)
    np.minimum.at(min_score, owner[considered], score[considered])
    low = min_score < SIMULATION_REFERENCE_CUTOFF
    # lesion progression at E1: more likely for low scores and for some patients
    logit = -1.4 + patient_prog[owner] + LOW_MIN_PROGRESSION_LOGIT * low[owner] - 2.0 * (score - SCORE_MEDIAN)
    progresses = rng.random(total) < 1 / (1 + np.exp(-logit))
    disappears = ~progresses & (rng.random(total) < 0.08)
    change = np.where(progresses, rng.uniform(0.20, 0.80, total), rng.uniform(-0.70, 0.19, total))
    diameter_e1 = np.where(disappears, 0.0, diameter * (1 + change))
    volume_e1 = np.where(disappears, 0.0, volume * (1 + change) ** 3)
    score_e1 = score + rng.normal(0.10, 0.15, total)

    lesion_rows: list[dict] = []
    counters = np.zeros(n_patients, dtype=int)
    for i in range(total):
        p = owner[i]
        counters[p] += 1
        lid = f"L{counters[p]:02d}"
        site = locations[loc[i]]
        base = {"patient_id": pids[p], "lesion_id": lid, "segment_name": f"{lid}_{site}", "location": site,
                "signature_location": SITE_CATEGORY.get(site, "other"), "kvp": KVP, "kvp_source": "dicom",
                "signature_name": SIGNATURE_NAME, "signature_status": SIGNATURE_STATUS, "warnings": ""}
        lesion_rows.append(_lesion_row(base, "E0", volume[i], diameter[i], core[i], computable[i], score[i]))
        if has_e1[p]:
            core1 = int(round(volume_e1[i] * 1000))
            comp1 = bool(core1 >= MIN_CORE_VOXELS)
            lesion_rows.append(_lesion_row(base, "E1", volume_e1[i], diameter_e1[i], core1, comp1, score_e1[i],
                                           disappeared=bool(disappears[i])))
    # a new lesion at E1 for some patients (RECIST progressive disease)
    new_lesion = has_e1 & (rng.random(n_patients) < 0.1)
    for p in np.flatnonzero(new_lesion):
        v = float(np.exp(rng.normal(math.log(VOLUME_MEDIAN_ML), VOLUME_LOG_SD)))
        site = locations[int(rng.choice(len(locations), p=loc_p))]
        base = {"patient_id": pids[p], "lesion_id": "N01", "segment_name": f"N01_{site}", "location": site,
                "signature_location": SITE_CATEGORY.get(site, "other"), "kvp": KVP, "kvp_source": "dicom",
                "signature_name": SIGNATURE_NAME, "signature_status": SIGNATURE_STATUS, "warnings": ""}
        c = int(round(v * 1000))
        lesion_rows.append(_lesion_row(base, "E1", v, 10 * (6 * v / math.pi) ** (1 / 3) * DIAMETER_ELONGATION, c,
                                       c >= MIN_CORE_VOXELS, patient_score[p] + rng.normal(0, SCORE_LESION_SD)))

    sex = np.where(rng.random(n_patients) < 0.6, "M", "F")
    age = np.round(rng.normal(62, 13, n_patients)).clip(20, 95)
    albumin = np.round(rng.normal(39, 5, n_patients), 1)
    ldh = np.round(np.exp(rng.normal(math.log(0.9), 0.5, n_patients)), 2)
    presentation = np.where(rng.random(n_patients) < 0.2, "adjuvant", "metastatic")
    lam_os = math.log(2) / MEDIAN_OS_HIGH_MONTHS * np.where(low, 1 / HR_OS_HIGH_VS_LOW, 1.0) \
        * np.where(albumin < 35, HR_OS_LOW_ALBUMIN, 1.0)
    lam_pfs = math.log(2) / MEDIAN_PFS_HIGH_MONTHS * np.where(low, 1 / HR_PFS_HIGH_VS_LOW, 1.0)
    death = rng.exponential(1 / lam_os)
    progression = rng.exponential(1 / lam_pfs)
    censor = rng.uniform(*FOLLOW_UP_MONTHS, n_patients)
    os_time = np.minimum(death, censor)
    os_event = (death <= censor).astype(int)
    pfs_raw = np.minimum(progression, death)
    pfs_time = np.minimum(pfs_raw, censor)
    pfs_event = (pfs_raw <= censor).astype(int)
    clinical_rows = [{
        "patient_id": pids[p], "os_time": round(float(os_time[p]), 2), "os_event": int(os_event[p]),
        "pfs_time": round(float(pfs_time[p]), 2), "pfs_event": int(pfs_event[p]), "sex": sex[p],
        "age": int(age[p]), "albumin_g_l": float(albumin[p]), "ldh_uln": float(ldh[p]),
        "presentation": presentation[p], "simulated": 1,
    } for p in range(n_patients)]
    return lesion_rows, clinical_rows


def _lesion_row(base: dict, timepoint: str, volume_ml: float, diameter_mm: float, core_voxels: int,
                computable: bool, score: float, disappeared: bool = False) -> dict:
    row = dict(base)
    row.update({"timepoint": timepoint, "volume_ml": round(float(volume_ml), 4),
                "longest_axial_diameter_mm": round(float(diameter_mm), 1), "core_voxels": int(core_voxels),
                "ring_voxels": int(_ring_voxels(np.array([volume_ml]))[0]) if core_voxels else 0})
    if computable:
        row.update({"score": round(float(score), 4), "computable": 1, "reason": "",
                    "score_class": "high" if score >= SIMULATION_REFERENCE_CUTOFF else "low"})
    else:
        reason = "lesion disappeared" if disappeared else (
            f"core VOI has {core_voxels} voxels at 1 mm; the signature needs at least {MIN_CORE_VOXELS}")
        row.update({"score": None, "computable": 0, "reason": reason, "score_class": "NA"})
    return row


SIMULATED_COVARIATES = ["sex", "age", "albumin_g_l", "ldh_uln", "presentation"]
"""The simulated clinical table's covariates (``cohort --covariates``; presentation is not a recognised name)."""
CLINICAL_COLUMNS = ["patient_id", "os_time", "os_event", "pfs_time", "pfs_event", *SIMULATED_COVARIATES, "simulated"]


def write_simulated_cohort(out_dir, n_patients: int = N_PATIENTS, seed: int = 1) -> tuple[Path, Path]:
    """Write DIR/lesions.csv and DIR/clinical.csv of a simulated cohort; returns their paths."""
    out_dir = Path(out_dir)
    lesion_rows, clinical_rows = simulate_cohort(n_patients, seed)
    lesions_path, clinical_path = out_dir / "lesions.csv", out_dir / "clinical.csv"
    write_csv(lesions_path, lesion_rows, lesion_columns([]))
    write_csv(clinical_path, clinical_rows, CLINICAL_COLUMNS)
    return lesions_path, clinical_path
