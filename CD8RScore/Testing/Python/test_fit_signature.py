"""``cd8rscore fit-signature`` on a simulated training set with a known answer: 300 lesions, 80 correlated
candidates, target = a sparse linear function of five normalised candidates + noise (SD 10 % of the signal's).
The fit keeps the five with coefficients within 20 % of the truth, the rest carries < 10 % of the weight, the five
come back with another seed, the same seed gives the same file, and bad targets are refused."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from CD8RScoreLib.feature_table import radiomic_candidates
from CD8RScoreLib.signature import load_signature
from CD8RScoreLib.signature_fit import fit_signature

N_LESIONS, N_CANDIDATES = 300, 80
CANDIDATES = radiomic_candidates()[:N_CANDIDATES]
TRUTH = {CANDIDATES[3]: 1.0, CANDIDATES[17]: -0.8, CANDIDATES[29]: 0.6, CANDIDATES[44]: 0.9, CANDIDATES[61]: -0.7}


def write_training_set(folder: Path, seed: int = 0, n: int = N_LESIONS, constant_column: bool = False) -> None:
    """Candidates sharing 8 latent factors (pairwise |r| up to ~0.8), on arbitrary scales and offsets."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 8))
    x = latent @ rng.normal(0.0, 1.0, (8, N_CANDIDATES)) * 0.6 + rng.standard_normal((n, N_CANDIDATES))
    x = x * rng.uniform(1.0, 100.0, N_CANDIDATES) + rng.uniform(-50.0, 50.0, N_CANDIDATES)
    if constant_column:
        x[:, 70] = 42.0
    normalised = (x - x.min(axis=0)) / np.where(np.ptp(x, axis=0) > 0, np.ptp(x, axis=0), 1.0)
    signal = sum(normalised[:, CANDIDATES.index(k)] * v for k, v in TRUTH.items())
    target = 2.0 + signal + rng.normal(0.0, 0.1 * signal.std(), n)
    with open(folder / "features.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "lesion_id", "location", "kvp", "reason"] + CANDIDATES)
        for i in range(n):
            writer.writerow([f"P{i // 4:03d}", str(i % 4 + 1), "liver", 120, ""] + [f"{v:.10g}" for v in x[i]])
    with open(folder / "target.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "lesion_id", "target"])
        for i in range(n):
            writer.writerow([f"P{i // 4:03d}", str(i % 4 + 1), f"{target[i]:.10g}"])


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "CD8RScoreLib", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def training(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fit")
    write_training_set(folder)
    return folder


@pytest.mark.parametrize("seed", [1, 7])
def test_fit_recovers_the_five_true_features(training, seed):
    document = fit_signature(training / "features.csv", training / "target.csv", seed=seed)
    retained = document["training"]["retained"]
    for name, truth in TRUTH.items():
        assert name in retained, f"seed {seed}: {name} not retained"
        assert retained[name] == pytest.approx(truth, rel=0.20), name
    total = sum(abs(v) for v in retained.values())
    spurious = sum(abs(v) for k, v in retained.items() if k not in TRUTH)
    assert spurious / total < 0.10
    assert document["status"] == "custom"
    assert document["training"]["penalty_choice"].startswith("one-standard-error")
    assert document["provenance"]["seed"] == seed
    assert "numba" in document["provenance"]["package_versions"]


def test_cli_writes_a_loadable_custom_signature_deterministically(training, tmp_path):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    for out in outs:
        result = run_cli("fit-signature", "--features", training / "features.csv", "--target",
                         training / "target.csv", "--seed", 3, "--out", out)
        assert result.returncode == 0, result.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    grid = tmp_path / "grid.json"
    result = run_cli("fit-signature", "--features", training / "features.csv", "--target", training / "target.csv",
                     "--alpha-grid", 0.01, 0.001, 0.0001, "--l1-ratio-grid", 0.5, 1, "--out", grid)
    assert result.returncode == 0, result.stderr
    chosen = json.loads(grid.read_text())["training"]
    assert chosen["alpha"] in (0.01, 0.001, 0.0001) and chosen["l1_ratio"] in (0.5, 1.0)
    assert chosen["alpha_grid"]["n"] == 3
    signature = load_signature(outs[0])
    assert signature.status == "custom" and len(signature.features) >= 5
    document = json.loads(outs[0].read_text())
    hashes = document["provenance"]["inputs"]
    assert len(hashes["features"]["sha256"]) == 64 and hashes["target"]["file"] == "target.csv"
    assert document["training"]["n_lesions"] == N_LESIONS
    assert document["cutoffs"]["reference"]["source"].startswith("median score")


def test_mismatched_ids_and_too_few_rows_are_refused(training, tmp_path):
    wrong = tmp_path / "wrong_ids.csv"
    lines = (training / "target.csv").read_text().splitlines()
    wrong.write_text("\n".join([lines[0]] + [line.replace("P0", "X0", 1) for line in lines[1:]]) + "\n")
    result = run_cli("fit-signature", "--features", training / "features.csv", "--target", wrong,
                     "--out", tmp_path / "s.json")
    assert result.returncode == 2
    assert "not in" in result.stderr and "patient_id, lesion_id" in result.stderr and str(wrong) in result.stderr
    few = tmp_path / "few.csv"
    few.write_text("\n".join(lines[:20]) + "\n")  # header + 19 rows
    result = run_cli("fit-signature", "--features", training / "features.csv", "--target", few,
                     "--out", tmp_path / "s.json")
    assert result.returncode == 2 and "19 target row(s)" in result.stderr and "at least 20" in result.stderr
    assert not (tmp_path / "s.json").exists()


def test_constant_column_is_reported_and_dropped_with_the_count(tmp_path):
    write_training_set(tmp_path, constant_column=True)
    result = run_cli("fit-signature", "--features", tmp_path / "features.csv", "--target", tmp_path / "target.csv",
                     "--out", tmp_path / "s.json")
    assert result.returncode == 0, result.stderr
    assert f"1 constant feature column(s) dropped: {CANDIDATES[70]}" in result.stderr
    # every lesion is in the liver at 120 kV: the five location indicators and kVp are constant too
    assert "6 location/kVp candidate(s) constant" in result.stderr
    document = json.loads((tmp_path / "s.json").read_text())
    assert document["training"]["constant_candidates_dropped"] == 7
    assert CANDIDATES[70] in document["training"]["constant_candidate_names"]
    assert CANDIDATES[70] not in document["training"]["retained"]
    assert document["kvp"] == {"encoding": "indicator", "equals_kv": 120.0, "coefficient": 0.0, "assumed_kv": 120.0}


def test_ctrl_c_while_fitting_exits_130_and_writes_nothing(training, tmp_path, monkeypatch, capsys):
    from CD8RScoreLib import glmnet_path
    from CD8RScoreLib.cli import main

    fit_path, calls = glmnet_path.fit_path, []

    def interrupted_after_three(*args, **kwargs):  # Ctrl-C arrives while the fourth path is fitted
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return fit_path(*args, **kwargs)

    monkeypatch.setattr(glmnet_path, "fit_path", interrupted_after_three)
    out = tmp_path / "s.json"
    assert main(["fit-signature", "--features", training / "features.csv", "--target", training / "target.csv",
                 "--out", out]) == 130
    assert "interrupted; nothing was written" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("varying", [0, 1], ids=["constant", "constant-but-one"])
def test_constant_target_is_refused_naming_the_file_and_column(training, tmp_path, capsys, varying):
    """A target with no variance, or with one lesion different (then a fold's training lesions are constant):
    one line naming the target file and column, exit 2, nothing written."""
    from CD8RScoreLib.cli import main

    lines = (training / "target.csv").read_text().splitlines()
    target = tmp_path / "flat_target.csv"
    rows = [",".join(line.split(",")[:2] + ["1.5"]) for line in lines[1:]]
    rows[:varying] = [",".join(r.split(",")[:2] + ["2.5"]) for r in rows[:varying]]
    target.write_text("\n".join([lines[0]] + rows) + "\n")
    out = tmp_path / "s.json"
    assert main(["fit-signature", "--features", training / "features.csv", "--target", target, "--out", out]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and f"{target}: column target: the target does not vary" in err[0], err
    assert "give lesions with different target values" in err[0]
    assert not out.exists()
