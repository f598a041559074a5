"""The ``cohort`` and ``cutpoint`` subcommands: JSON on stdout, outputs on disk, exit 2 and one stderr line on
bad input (through the main CLI, ``CD8RScoreLib.cli.main``, which calls ``register``)."""
import argparse
import json
from pathlib import Path

import pytest

from CD8RScoreLib.cli import main
from CD8RScoreCohortLib import cli_commands
from CD8RScoreCohortLib.simulate import write_simulated_cohort

R_DATASETS = Path(__file__).resolve().parent / "data" / "r_datasets"  # source and licences: README.md there


def test_register_adds_both_subcommands():
    parser = argparse.ArgumentParser()
    cli_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["cutpoint", "--data", "x.csv", "--time", "t", "--event", "e", "--variable", "v"])
    assert args.func is cli_commands.cmd_cutpoint and args.minprop == 0.1
    args = parser.parse_args(["cohort", "--lesions", "l.csv", "--clinical", "c.csv", "--out", "d"])
    assert args.func is cli_commands.cmd_cohort and args.min_volume_ml == 1.0 and args.reference_cutoff is None


def test_cutpoint_prints_maxstat_json(capsys):
    # maxstat.test(Surv(time, cens) ~ MGE, data = DLBCL, smethod = "LogRank", pmethod = "Lau92"):
    # estimate 0.1860526316, M 3.177222463, p 0.03547624855; pmethod = "Lau94": p 0.02386832202
    code = main(["cutpoint", "--data", str(R_DATASETS / "maxstat_DLBCL.csv"), "--time", "time", "--event", "cens",
                 "--variable", "MGE"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"cutpoint", "statistic", "p_value_lausen_schumacher", "n_low", "n_high",
                        "p_value_lausen_schumacher_1994"}
    assert out["cutpoint"] == pytest.approx(0.1860526316, abs=1e-9)
    assert out["statistic"] == pytest.approx(3.177222463, rel=1e-8)
    assert out["p_value_lausen_schumacher"] == pytest.approx(0.03547624855, rel=1e-8)
    assert out["p_value_lausen_schumacher_1994"] == pytest.approx(0.02386832202, rel=1e-8)
    assert (out["n_low"], out["n_high"], out["n_missing"]) == (33, 7, 2)


@pytest.mark.parametrize("argv_tail, message", [
    (["--variable", "GEG"], "row 2, column GEG: 'GC B-Like' is not a number"),
    (["--variable", "nope"], "missing column(s) nope"),
    (["--variable", "MGE", "--minprop", "0.7"], "--minprop"),
])
def test_cutpoint_bad_input_exits_2_with_one_line(capsys, argv_tail, message):
    code = main(["cutpoint", "--data", str(R_DATASETS / "maxstat_DLBCL.csv"), "--time", "time", "--event", "cens",
                 *argv_tail])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err


def test_cohort_command_writes_outputs(tmp_path, capsys):
    lesions, clinical = write_simulated_cohort(tmp_path, n_patients=50, seed=2)
    code = main(["cohort", "--lesions", str(lesions), "--clinical", str(clinical), "--out", str(tmp_path / "out"),
                 "--seed", "4", "--reference-cutoff", "1.72"])
    assert code == 0
    assert "report.html" in capsys.readouterr().out
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["settings"]["seed"] == 4 and results["settings"]["reference_cutoff"] == 1.72


def test_cohort_bad_input_exits_2_with_one_line(tmp_path, capsys):
    lesions, clinical = write_simulated_cohort(tmp_path, n_patients=20, seed=2)
    text = clinical.read_text().splitlines()
    text[3] = text[3].replace(text[3].split(",")[1], "-1", 1)
    clinical.write_text("\n".join(text) + "\n")
    code = main(["cohort", "--lesions", str(lesions), "--clinical", str(clinical), "--out", str(tmp_path / "out"),
                 "--reference-cutoff", "1.72"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "clinical.csv" in err and "row 4, column os_time" in err and "negative" in err
    assert not (tmp_path / "out").exists()


def test_python_dash_m_entry_point_exit_code(tmp_path):
    import os
    import subprocess
    import sys


    repo = Path(__file__).resolve().parents[3]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo / "CD8RScore"), str(repo / "CD8RScoreCohort")]))
    bad = tmp_path / "data.csv"
    bad.write_text("t,e,x\n1,1,0.5\n2,0,abc\n")
    proc = subprocess.run([sys.executable, "-m", "CD8RScoreLib", "cutpoint", "--data", str(bad), "--time", "t",
                           "--event", "e", "--variable", "x"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "row 3, column x: 'abc' is not a number" in proc.stderr
