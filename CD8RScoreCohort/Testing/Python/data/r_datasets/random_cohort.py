"""Write the random cohort that the cohort statistics are checked on against R (random_cohort.R).

SIMULATED data, seeded, small: 160 patients with 1-7 baseline lesions each, scores with two decimals (so tied
lesion scores and tied patient metrics occur: equal SDs of shifted pairs, equal kurtoses), survival and
progression-free times in whole months (tied times), censoring, missing albumin and LDH values, a CRP that
follows albumin without an effect of its own (so that backward selection removes it), and a three-level
covariate. Also writes the training/test split that ``cd8rscore cohort --seed 1`` draws
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
                  "score", "score_class", "computable", "signature_name", "signature_status"]
CLINICAL_COLUMNS = ["patient_id", "os_time", "os_event", "pfs_time", "pfs_event", "sex", "age", "albumin_g_l",
                    "ldh_uln", "crp_mg_l", "m_stage", "simulated"]
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
