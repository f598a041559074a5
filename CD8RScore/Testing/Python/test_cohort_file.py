"""``cd8rscore cohort-add``: concurrent writers lose no row, a duplicate patient/timepoint is refused and leaves the
file as it was, --replace swaps the rows, and the cohort's earlier rows and columns are always kept."""
from __future__ import annotations

import csv
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from CD8RScoreLib.cohort_file import DuplicateCaseError, add_lesion_file, add_rows
from CD8RScoreLib.errors import InputError
from CD8RScoreLib.lesion_table import lesion_columns, write_csv
from CD8RScoreLib.signature import default_signature_path, load_signature

SIGNATURE = load_signature(default_signature_path())
COLUMNS = lesion_columns([f.key for f in SIGNATURE.features])


def lesion_rows(patient: str, timepoint: str, n: int = 3, score: float = 1.5) -> list[dict]:
    return [{"patient_id": patient, "timepoint": timepoint, "lesion_id": str(i), "segment_name": f"lesion {i}",
             "location": "liver", "volume_ml": 2.0 + i, "score": score + i / 10, "computable": 1,
             "signature_name": SIGNATURE.name, "signature_status": SIGNATURE.status} for i in range(1, n + 1)]


def write_lesions(path: Path, rows: list[dict]) -> Path:
    write_csv(path, rows, COLUMNS)
    return path


def read(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "CD8RScoreLib", *map(str, args)], capture_output=True, text=True)


def _add_after_barrier(barrier, lesions: str, cohort: str) -> None:
    barrier.wait()
    add_lesion_file(lesions, cohort)


def test_eight_processes_adding_at_once_lose_no_row_and_write_the_header_once(tmp_path):
    cohort = tmp_path / "cohort.csv"
    files = [write_lesions(tmp_path / f"p{k}.csv", lesion_rows(f"P{k:02d}", "E0", n=5)) for k in range(8)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(8)
    workers = [context.Process(target=_add_after_barrier, args=(barrier, str(f), str(cohort))) for f in files]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0] * 8
    text = cohort.read_text()
    assert text.count("patient_id,timepoint,lesion_id") == 1
    columns, rows = read(cohort)
    assert columns == COLUMNS
    assert len(rows) == 40
    assert sorted({r["patient_id"] for r in rows}) == [f"P{k:02d}" for k in range(8)]
    assert not list(tmp_path.glob(".cohort.csv.*.tmp"))


def test_same_patient_and_timepoint_is_refused_with_exit_2_and_the_file_unchanged(tmp_path):
    cohort = tmp_path / "cohort.csv"
    first = write_lesions(tmp_path / "a.csv", lesion_rows("P1", "E0") + lesion_rows("P1", "E1"))
    assert run_cli("cohort-add", "--lesions", first, "--cohort", cohort).returncode == 0
    before = cohort.read_bytes()
    again = write_lesions(tmp_path / "b.csv", lesion_rows("P1", "E1", n=2, score=9.0))
    result = run_cli("cohort-add", "--lesions", again, "--cohort", cohort)
    assert result.returncode == 2
    assert "P1 E1" in result.stderr and "--replace" in result.stderr and str(cohort) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cohort.read_bytes() == before


def test_replace_swaps_only_that_patient_and_timepoint(tmp_path):
    cohort = tmp_path / "cohort.csv"
    add_lesion_file(write_lesions(tmp_path / "a.csv", lesion_rows("P1", "E0") + lesion_rows("P1", "E1")), cohort)
    add_lesion_file(write_lesions(tmp_path / "b.csv", lesion_rows("P2", "E0")), cohort)
    result = run_cli("cohort-add", "--lesions", write_lesions(tmp_path / "c.csv", lesion_rows("P1", "E1", n=2,
                                                                                              score=9.0)),
                     "--cohort", cohort, "--replace")
    assert result.returncode == 0, result.stderr
    assert "replacing 3" in result.stdout
    _, rows = read(cohort)
    assert [(r["patient_id"], r["timepoint"]) for r in rows].count(("P1", "E1")) == 2
    assert [(r["patient_id"], r["timepoint"]) for r in rows].count(("P1", "E0")) == 3
    assert [(r["patient_id"], r["timepoint"]) for r in rows].count(("P2", "E0")) == 3
    assert {r["score"] for r in rows if r["timepoint"] == "E1"} == {"9.1", "9.2"}


def test_existing_columns_and_rows_are_kept_when_new_columns_arrive(tmp_path):
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("patient_id,timepoint,lesion_id,site_note\nOLD,E0,1,kept\n")
    add_rows(cohort, ["patient_id", "timepoint", "lesion_id", "score"],
             [{"patient_id": "NEW", "timepoint": "E0", "lesion_id": "1", "score": "1.2"}])
    columns, rows = read(cohort)
    assert columns == ["patient_id", "timepoint", "lesion_id", "site_note", "score"]
    assert rows[0] == {"patient_id": "OLD", "timepoint": "E0", "lesion_id": "1", "site_note": "kept", "score": ""}
    assert rows[1]["score"] == "1.2"


def test_bad_rows_and_another_signature_are_refused_naming_the_field(tmp_path):
    cohort = tmp_path / "cohort.csv"
    with pytest.raises(InputError, match="row 2, timepoint"):
        add_rows(cohort, COLUMNS, [dict(lesion_rows("P1", "E0")[0], timepoint="")])
    with pytest.raises(InputError, match="appears twice"):
        add_rows(cohort, COLUMNS, lesion_rows("P1", "E0")[:1] * 2)
    assert not cohort.exists()
    add_rows(cohort, COLUMNS, lesion_rows("P1", "E0"))
    before = cohort.read_bytes()
    other = [dict(r, signature_name="centre-refit") for r in lesion_rows("P2", "E0")]
    with pytest.raises(InputError, match="signature_name"):
        add_rows(cohort, COLUMNS, other)
    with pytest.raises(DuplicateCaseError) as refused:
        add_rows(cohort, COLUMNS, lesion_rows("P1", "E0"))
    assert refused.value.cases == [("P1", "E0")]
    assert cohort.read_bytes() == before
