"""The demonstration signature, rebuilt by the signature tools from a simulated radiogenomic training set.

    python -m CD8RScoreLib.demo_signature [--out FILE]   (default: Resources/Signatures/cd8rscore-demonstration.json)

The training set is built deterministically (seed TRAINING_SEED): TRAINING_LESIONS synthetic lesions of known
texture (synthetic.make_lesion_crop: size, mean HU, texture SD and grain, surrounding tissue of their site), at
kVp 100 or 120, their candidate features extracted by the product's own pipeline (extract.extract_lesion, the
scoring preprocessing), and a simulated CD8 expression: a linear function of five normalised features of the
published signature's kinds (SIMULATED_EFFECTS), two location terms and kVp, plus noise with SD 10 % of the
signal's. ``fit-signature`` (signature_fit.fit_signature, seed FIT_SEED) then builds the signature from all
candidates. Its numbers are therefore a demonstration of the method on simulated data: NOT the published
CD8-Rscore, and without biological meaning.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from .extract import extract_lesion
from .feature_table import table_columns
from .lesion_table import write_csv
from .scoring import LesionInput
from .signature import default_signature_path, load_signature
from .signature_fit import fit_signature, write_signature
from .synthetic import make_lesion_crop

TRAINING_SEED = 2018
FIT_SEED = 2018
TRAINING_LESIONS = 160
KVP_CHOICES_KV = (100.0, 120.0)
SITES = ("node", "lung", "liver", "subcutaneous", "head_and_neck", "adrenal", "node", "liver")
# Simulated CD8 expression (arbitrary units) = intercept + sum(effect x normalised candidate) + location and kVp
# terms + noise. The features are of the kinds the published signature uses (ring minimum HU, ring low grey level
# run emphases, core long run high grey level emphasis, core small zone high grey level emphasis).
SIMULATED_INTERCEPT = 1.6
SIMULATED_EFFECTS: dict[str, float] = {
    "ring_stat_minimum_intensity": 0.35,
    "ring_rlm_low_grey_level_run_emphasis": -0.25,
    "ring_rlm_short_run_low_grey_level_emphasis": -0.2,
    "core_rlm_long_run_high_grey_level_emphasis": 0.6,
    "core_szm_small_zone_high_grey_level_emphasis": 0.45,
}
SIMULATED_LOCATION_EFFECTS = {"head_and_neck": -0.15, "liver": -0.1}
SIMULATED_KVP_EFFECT = 0.1  # x (kVp - 100) / 20
NOISE_FRACTION = 0.10


def simulate_training_set(folder: Path) -> tuple[Path, Path]:
    """Write features.csv and target.csv of the simulated radiogenomic training set; returns their paths."""
    rng = np.random.default_rng(TRAINING_SEED)
    preprocessing = load_signature(default_signature_path()).preprocessing
    rows = []
    for index in range(TRAINING_LESIONS):
        site = SITES[index % len(SITES)]
        image, mask = make_lesion_crop(rng, site, radius_mm=float(rng.uniform(5.0, 12.0)),
                                       mean_hu=float(rng.uniform(0.0, 110.0)), noise_hu=float(rng.uniform(5.0, 45.0)),
                                       grain_vox=float(rng.uniform(0.6, 2.2)))
        lesion = LesionInput(str(index % 4 + 1), f"lesion {index}", mask, site)
        row = extract_lesion(image, lesion, preprocessing)
        row.update(patient_id=f"SIM{index // 4 + 1:03d}", kvp=float(rng.choice(KVP_CHOICES_KV)))
        rows.append(row)
    columns = table_columns()
    # round to 8 significant digits: the files (and so their hashes in the provenance) do not depend on the last
    # bits of floating-point arithmetic
    rows = [{c: (float(f"{v:.8g}") if isinstance(v, float) else v) for c, v in row.items()} for row in rows]
    features_path = folder / "demo_training_features.csv"
    write_csv(features_path, rows, columns)

    def normalised(name: str) -> np.ndarray:
        values = np.array([row[name] for row in rows])
        return (values - values.min()) / (values.max() - values.min())

    signal = sum(effect * normalised(name) for name, effect in SIMULATED_EFFECTS.items())
    signal = signal + np.array([SIMULATED_LOCATION_EFFECTS.get(_category(row["location"]), 0.0) for row in rows])
    signal = signal + SIMULATED_KVP_EFFECT * (np.array([row["kvp"] for row in rows]) - 100.0) / 20.0
    target = SIMULATED_INTERCEPT + signal + rng.normal(0.0, NOISE_FRACTION * signal.std(), len(rows))
    target_path = folder / "demo_training_target.csv"
    write_csv(target_path, [{"patient_id": row["patient_id"], "lesion_id": row["lesion_id"],
                             "target": float(f"{t:.8g}")} for row, t in zip(rows, target)],
              ["patient_id", "lesion_id", "target"])
    return features_path, target_path


def _category(site: str) -> str:
    from .locations import signature_category

    return signature_category(site)


def build_demo_signature() -> dict:
    """The demonstration signature document, rebuilt from scratch (deterministic)."""
    with tempfile.TemporaryDirectory(prefix="cd8rscore-demo-signature-") as tmp:
        features_path, target_path = simulate_training_set(Path(tmp))
        provenance = {
            "published_reference": "Sun R et al. Lancet Oncol 2018;19:1180-91 (the published coefficients are not "
                                   "in this file)",
            "training_set": f"SIMULATED: {TRAINING_LESIONS} synthetic lesions (CD8RScoreLib.demo_signature, seed "
                            f"{TRAINING_SEED}) with a simulated CD8 expression = {SIMULATED_INTERCEPT} + "
                            + " + ".join(f"{v:g} x {k}" for k, v in SIMULATED_EFFECTS.items())
                            + " (normalised) + location terms "
                            + ", ".join(f"{k} {v:g}" for k, v in SIMULATED_LOCATION_EFFECTS.items())
                            + f" + {SIMULATED_KVP_EFFECT:g} x (kVp - 100) / 20 + noise (SD {NOISE_FRACTION:.0%} "
                              "of the signal's)",
        }
        document = fit_signature(features_path, target_path, seed=FIT_SEED, name="cd8rscore-demonstration",
                                 status="demonstration",
                                 description="Demonstration signature of the CD8 radiomics score's kind, fitted on "
                                             "SIMULATED lesions. For demonstrations and software tests only.",
                                 extra_provenance=provenance)
    document["provenance"]["source"] = (
        "Demonstration values, NOT the published CD8-Rscore: rebuilt by `python -m CD8RScoreLib.demo_signature`, "
        "which simulates a radiogenomic training set (synthetic lesions, features from this software's extraction, "
        "a simulated CD8 expression) and fits it with `cd8rscore fit-signature`. " + document["provenance"]["source"]
        + " The numbers carry no biological meaning.")
    return document


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild the demonstration signature from its simulated data.")
    parser.add_argument("--out", default=str(default_signature_path()), help="signature JSON to write")
    args = parser.parse_args(argv)
    document = build_demo_signature()
    write_signature(args.out, document)
    training = document["training"]
    print(f"{args.out}: {len(training['retained'])} retained of {training['n_candidates']} candidates, "
          f"{training['n_lesions']} simulated lesions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
