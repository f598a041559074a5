"""Write the random cohort that the cohort statistics are checked on against R (random_cohort.R).

SIMULATED data, seeded, small: 160 patients with 1-7 baseline lesions each, scores with two decimals (so tied
lesion scores and tied patient metrics occur: equal SDs of shifted pairs, equal kurtoses), survival and
progression-free times in whole months (tied times), censoring, missing albumin and LDH values, a CRP that
follows albumin without an effect of its own (so that backward selection removes it), and a three-level
covariate; and, drawn from a second generator (``add_study_columns``), the NLR, each scan's kVp, slice thickness
and pixel spacing, the short axis of nodes, lesions that disappear at E1 (all of some patients') and new lesions at
E1; and, from a third generator, the best overall response a clinical table gives (supplementary table S3).
Also writes the training/test split that ``cd8rscore cohort --seed 1`` draws
(random_cohort_split.csv), which R reads because R cannot draw numpy's random numbers.

    python random_cohort.py      (in this folder; rewrites random_cohort_*.csv)
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261130
N_PATIENTS = 160
SPLIT_SEED = 1
LESION_COLUMNS = ["patient_id", "timepoint", "lesion_id", "location", "volume_ml", "longest_axial_diameter_mm",
                  "short_axis_mm", "kvp", "slice_thickness_mm", "pixel_spacing_mm", "score", "score_class",
                  "computable", "signature_name", "signature_status"]
CLINICAL_COLUMNS = ["patient_id", "os_time", "os_event", "pfs_time", "pfs_event", "sex", "age", "albumin_g_l",
                    "ldh_uln", "crp_mg_l", "m_stage", "nlr", "simulated", "best_overall_response"]
STUDY_SEED = SEED + 1
"""Seed of the columns the study items need (drawn after the others, which they leave as they were)."""
RESPONSE_SEED = SEED + 2
"""Seed of the clinicians' best overall response (drawn last, from a third generator)."""
REFERENCE_CUTOFF = 2.0
LOCATIONS = ["node", "lung", "liver", "subcutaneous", "adrenal", "bone"]


def simulate(seed: int = SEED, n: int = N_PATIENTS) -> tuple[list[dict], list[dict]]:
    """(lesion rows, clinical rows); volumes mL, diameters mm, times months."""
    rng = np.random.default_rng(seed)
    lesions, clinical = [], []
    for p in range(n):
        pid = f"RND-{p + 1:03d}"
        n_les = int(min(7, 1 + rng.poisson(2.2)))
        centre = rng.normal(2.2, 0.25)
        has_e1 = rng.random() < 0.9
        scores, volumes = [], []
        for k in range(n_les):
            volume = float(np.exp(rng.normal(math.log(2.0), 0.9)))
            score = round(float(centre + rng.normal(0, 0.15)), 2)
            computable = rng.random() > 0.05
            diameter = 10 * (6 * volume / math.pi) ** (1 / 3) * 1.15
            lid = f"L{k + 1}"
            site = LOCATIONS[int(rng.integers(len(LOCATIONS)))]
            lesions.append(_row(pid, "E0", lid, site, volume, diameter, score if computable else None))
            if computable and volume > 1.0:
                scores.append(score)
            volumes.append(volume)
            if has_e1:
                change = rng.uniform(-0.6, 0.5) + (0.25 if score < 2.1 else 0.0)
                lesions.append(_row(pid, "E1", lid, site, volume * (1 + change) ** 3, diameter * (1 + change),
                                    round(score + float(rng.normal(0.05, 0.1)), 2) if computable else None))
        low_min = bool(scores) and min(scores) < 2.05
        sex = "M" if rng.random() < 0.6 else "F"
        age = int(np.clip(round(rng.normal(63, 12)), 25, 90))
        albumin = round(float(rng.normal(39, 5)), 1)
        ldh = round(float(np.exp(rng.normal(math.log(0.95), 0.45))), 2)
        stage = ["M1a", "M1b", "M1c"][int(rng.choice(3, p=[0.3, 0.25, 0.45]))]
        crp = round(float(np.exp(rng.normal(math.log(5.0) + (1.6 if albumin < 35 else 0.0), 0.5))), 1)
        rate = (math.log(2) / 30.0) * (2.5 if low_min else 1.0) * (2.5 if albumin < 35 else 1.0) \
            * {"M1a": 0.5, "M1b": 1.0, "M1c": 2.0}[stage]
        death = rng.exponential(1 / rate)
        progression = min(death, rng.exponential(1 / (rate * 2.5)))
        censor = rng.uniform(6, 48)
        os_time, os_event = math.ceil(min(death, censor)), int(death <= censor)
        pfs_time, pfs_event = math.ceil(min(progression, censor)), int(progression <= censor)
        clinical.append({"patient_id": pid, "os_time": os_time, "os_event": os_event, "pfs_time": pfs_time,
                         "pfs_event": pfs_event, "sex": sex, "age": age,
                         "albumin_g_l": "" if rng.random() < 0.1 else albumin,
                         "ldh_uln": "" if rng.random() < 0.08 else ldh, "crp_mg_l": crp, "m_stage": stage,
                         "simulated": 1})
    return lesions, clinical


def add_study_columns(lesions: list[dict], clinical: list[dict], seed: int = STUDY_SEED) -> list[dict]:
    """What the study items need, from a second generator: the NLR (for the GRIm score); each scan's kVp, slice
    thickness and pixel spacing (mm); the short axis of nodes (mm); lesions that disappear at E1 (some patients'
    all, so that complete responses occur) and new lesions at E1. Returns the lesion rows (new ones added)."""
    rng = np.random.default_rng(seed)
    for row in clinical:
        row["nlr"] = "" if rng.random() < 0.05 else round(float(np.exp(rng.normal(math.log(3.0), 0.6))), 2)
    scans = {}
    with_e1 = sorted({r["patient_id"] for r in lesions if r["timepoint"] == "E1"})
    all_gone = {p for p in with_e1 if rng.random() < 0.04}
    ratio = {}
    for row in lesions:
        scan = scans.setdefault((row["patient_id"], row["timepoint"]), (
            int(rng.choice([100, 120, 120, 120, 140])), float(rng.choice([1.0, 1.25, 1.25, 2.5])),
            round(float(rng.uniform(0.6, 0.95)), 3)))
        row["kvp"], row["slice_thickness_mm"], row["pixel_spacing_mm"] = scan
        key = (row["patient_id"], row["lesion_id"])
        if row["location"] == "node":
            ratio.setdefault(key, float(rng.uniform(0.45, 0.9)))
        if row["timepoint"] == "E1" and (row["patient_id"] in all_gone or rng.random() < 0.04):
            row.update(volume_ml=0.0, longest_axial_diameter_mm=0.0, score="", score_class="NA", computable=0)
        row["short_axis_mm"] = round(row["longest_axial_diameter_mm"] * ratio[key], 1) if key in ratio else ""
    for pid in with_e1:
        if pid not in all_gone and rng.random() < 0.08:
            site = LOCATIONS[int(rng.integers(len(LOCATIONS)))]
            new = _row(pid, "E1", "N1", site, float(np.exp(rng.normal(0.0, 0.6))), 0.0, None)
            new["longest_axial_diameter_mm"] = round(float(rng.uniform(6, 20)), 1)
            new.update(kvp=scans[(pid, "E1")][0], slice_thickness_mm=scans[(pid, "E1")][1],
                       pixel_spacing_mm=scans[(pid, "E1")][2],
                       short_axis_mm=round(new["longest_axial_diameter_mm"] * 0.6, 1) if site == "node" else "")
            lesions.append(new)
    return lesions


def add_best_overall_response(clinical: list[dict], seed: int = RESPONSE_SEED) -> None:
    """The best overall response over the whole follow-up as a clinical table gives it (supplementary table S3):
    CR, PR, SD, PD or NE, some unknown; drawn independently of the lesions, so that some patients with PD at E1
    respond later (response after initial progression)."""
    rng = np.random.default_rng(seed)
    for row in clinical:
        row["best_overall_response"] = "" if rng.random() < 0.06 else str(
            rng.choice(["CR", "PR", "SD", "PD", "NE"], p=[0.25, 0.2, 0.17, 0.35, 0.03]))


def _row(pid: str, timepoint: str, lid: str, site: str, volume: float, diameter: float, score) -> dict:
    computable = score is not None
    return {"patient_id": pid, "timepoint": timepoint, "lesion_id": lid, "location": site,
            "volume_ml": round(volume, 3), "longest_axial_diameter_mm": round(diameter, 1),
            "score": score if computable else "",
            "score_class": ("high" if score >= REFERENCE_CUTOFF else "low") if computable else "NA",
            "computable": int(computable), "signature_name": "random-check", "signature_status": "demonstration"}


def _write(path: Path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    lesions, clinical = simulate()
    lesions = add_study_columns(lesions, clinical)
    add_best_overall_response(clinical)
    _write(HERE / "random_cohort_lesions.csv", lesions, LESION_COLUMNS)
    _write(HERE / "random_cohort_clinical.csv", clinical, CLINICAL_COLUMNS)
    from CD8RScoreCohortLib.analysis import run_cohort
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run_cohort(HERE / "random_cohort_lesions.csv", HERE / "random_cohort_clinical.csv", tmp, seed=SPLIT_SEED,
                   reference_cutoff=REFERENCE_CUTOFF, make_figures=False)
        with open(Path(tmp) / "patient_metrics.csv", newline="") as handle:
            split = [{"patient_id": r["patient_id"], "split": r["split"]} for r in csv.DictReader(handle)]
    _write(HERE / "random_cohort_split.csv", split, ["patient_id", "split"])


if __name__ == "__main__":
    main()
