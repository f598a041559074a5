"""``validate-signature`` and ``compare-signatures``: a signature fitted on 300 simulated lesions, validated on 100
held-out ones, gives the correlations, CIs, tertile AUC and calibration a user reads, with a one-page report; two
signatures are compared by Spearman, Bland-Altman and reclassification."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from test_fit_signature import write_training_set

from CD8RScoreLib.feature_table import read_feature_table, score_rows
from CD8RScoreLib.signature import load_signature
from CD8RScoreLib.signature_fit import fit_signature, write_signature
from CD8RScoreLib.signature_validation import correlation_ci


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "CD8RScoreLib", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def split(tmp_path_factory) -> Path:
    """400 simulated lesions: targets of the first 300 for fitting, of the last 100 for validation."""
    folder = tmp_path_factory.mktemp("validate")
    write_training_set(folder, n=400)
    with open(folder / "target.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    for name, part in (("train.csv", rows[1:301]), ("test.csv", rows[301:]), ("train_small.csv", rows[1:61])):
        with open(folder / name, "w", newline="") as handle:
            csv.writer(handle).writerows([rows[0]] + part)
    write_signature(folder / "sig1.json", fit_signature(folder / "features.csv", folder / "train.csv", name="fit-1"))
    write_signature(folder / "sig_small.json",
                    fit_signature(folder / "features.csv", folder / "train_small.csv", name="fit-small"))
    return folder


def test_validation_on_held_out_lesions(split, tmp_path):
    out = tmp_path / "validation"
    result = run_cli("validate-signature", "--signature", split / "sig1.json", "--features", split / "features.csv",
                     "--target", split / "test.csv", "--out", out)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "validation.json").read_text())
    assert report["n_lesions"] == 100 and report["signature"] == {"name": "fit-1", "status": "custom"}
    # the numbers are those of the scores and targets themselves
    table = read_feature_table(split / "features.csv")
    scores = dict(zip((table.key(r) for r in table.rows), score_rows(load_signature(split / "sig1.json"), table)))
    with open(split / "test.csv", newline="") as handle:
        pairs = [(scores[(r["patient_id"], r["lesion_id"])], float(r["target"])) for r in csv.DictReader(handle)]
    x, y = np.array(pairs).T
    assert report["spearman"]["rho"] == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
    assert report["pearson"]["r"] == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    low, high = report["spearman"]["ci95"]
    assert low < report["spearman"]["rho"] < high and report["spearman"]["rho"] > 0.9
    assert report["tertile_auc"]["auc"] > 0.95 and report["tertile_auc"]["n_high"] == 34
    assert report["calibration"]["slope"] == pytest.approx(1.0, abs=0.1)
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "For research use only" in html and "fit-1" in html
    assert (out / "calibration.png").read_bytes()[:4] == b"\x89PNG"


def test_correlation_ci_is_fisher_z():
    # r = 0.5, n = 28: z = atanh(0.5) = 0.54931, SE = 1/5 -> tanh(0.54931 -/+ 1.95996 x 0.2) = 0.15603, 0.73582
    low, high = correlation_ci(0.5, 28)
    assert low == pytest.approx(0.15603, abs=1e-5) and high == pytest.approx(0.73582, abs=1e-5)


def test_compare_two_fits_and_a_signature_with_itself(split, tmp_path):
    result = run_cli("compare-signatures", split / "sig1.json", split / "sig1.json", "--features",
                     split / "features.csv", "--out", tmp_path / "same")
    assert result.returncode == 0, result.stderr
    same = json.loads(result.stdout)
    assert same["spearman"]["rho"] == pytest.approx(1.0)
    assert same["bland_altman"]["bias_b_minus_a"] == pytest.approx(0.0, abs=1e-12)
    assert same["reclassification"]["agreement"] == 1.0 and same["reclassification"]["cohen_kappa"] == 1.0
    # a fit on 60 lesions vs one on 300: close, not identical
    result = run_cli("compare-signatures", split / "sig1.json", split / "sig_small.json", "--features",
                     split / "features.csv", "--out", tmp_path / "sizes")
    assert result.returncode == 0, result.stderr
    sizes = json.loads((tmp_path / "sizes" / "comparison.json").read_text())
    assert sizes["n_lesions"] == 400 and 0.8 < sizes["spearman"]["rho"] < 1.0
    counts = sizes["reclassification"]
    assert counts["high_high"] + counts["high_low"] + counts["low_high"] + counts["low_low"] == 400
    assert sizes["reclassification"]["agreement"] == (counts["high_high"] + counts["low_low"]) / 400
    bias, sd = sizes["bland_altman"]["bias_b_minus_a"], sizes["bland_altman"]["sd"]
    assert sizes["bland_altman"]["limits_of_agreement"] == pytest.approx([bias - 1.96 * sd, bias + 1.96 * sd])
    assert sd > 0 and (tmp_path / "sizes" / "bland_altman.png").is_file()


def test_a_signature_needing_absent_features_is_refused(split, tmp_path):
    result = run_cli("validate-signature", "--signature", load_signature().path, "--features",
                     split / "features.csv", "--target", split / "test.csv", "--out", tmp_path / "v")
    assert result.returncode == 2
    assert "has no column" in result.stderr and "cd8rscore extract" in result.stderr
