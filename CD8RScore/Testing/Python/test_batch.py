"""``cd8rscore batch``: a cohort scored on real dask LocalClusters gives the table of ``cd8rscore score`` case by
case, in manifest order, whatever the number of workers; an interrupted batch resumes with each case once; a
failed case becomes rows with its reason while the others complete; a bad manifest is refused with exit 2."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import SimpleITK as sitk

from CD8RScoreLib.batch import (BatchInterrupted, Case, Journal, execute, journal_folder, open_client,
                                read_manifest, signature_digest)
from CD8RScoreLib.cli import main
from CD8RScoreLib.errors import InputError
from CD8RScoreLib.lesion_table import lesion_columns
from CD8RScoreLib.signature import default_signature_path, load_signature
from CD8RScoreLib.synthetic import follow_up, make_patient

SMALL_FIELD_MM = (70.0, 70.0, 50.0)
SPACING_MM = (1.0, 1.0, 2.0)
INTERRUPTED_EXIT = 128 + signal.SIGTERM
CHILD_EXIT_WAIT_S = 15.0


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def run_batch_cli(*args, cwd: "Path | None" = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "CD8RScoreLib", "batch", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def write_case(folder: Path, name: str, patient) -> tuple[str, str]:
    """CT and label map as NRRD under ``folder``; paths relative to the cohort root (``folder``'s parent)."""
    sitk.WriteImage(patient.image, str(folder / f"{name}.nrrd"))
    sitk.WriteImage(patient.labels, str(folder / f"{name}_seg.nrrd"))
    return f"{folder.name}/{name}.nrrd", f"{folder.name}/{name}_seg.nrrd"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> dict:
    """Six cases in a folder: a heavy first case (4 lesions, locations, kVp) and its follow-up with one lesion
    gone, then four small patients. Returns the manifest path, the manifest rows and lesions per case."""
    root = tmp_path_factory.mktemp("cohort")
    ct = root / "ct"
    ct.mkdir()
    rows = []
    lesions_per_case = []
    p1 = make_patient(n_lesions=4, seed=101, spacing_mm=SPACING_MM, field_mm=(110.0, 110.0, 70.0),
                      radius_range_mm=(7.0, 12.0), sites=("liver", "node", "lung", "adrenal"))
    image, seg = write_case(ct, "p01_e0", p1)
    (root / "p01_locations.csv").write_text("lesion,location\n1,liver\n2,LN\n3,lung\n4,adrenal\n")
    rows.append(["P01", "E0", image, seg, "p01_locations.csv", "100"])
    lesions_per_case.append(4)
    p1_e1 = follow_up(p1, {1: 0.6, 2: 1.3, 3: 0.0, 4: 1.0}, seed=7)
    image, seg = write_case(ct, "p01_e1", p1_e1)
    rows.append(["P01", "E1", image, seg, "p01_locations.csv", "100"])
    lesions_per_case.append(4)  # lesion 3 disappeared: kept from the locations table, volume 0
    for number, n_lesions in zip(range(2, 6), (2, 2, 1, 2)):
        patient = make_patient(n_lesions=n_lesions, seed=number, spacing_mm=SPACING_MM, field_mm=SMALL_FIELD_MM,
                               radius_range_mm=(5.0, 8.0))
        image, seg = write_case(ct, f"p0{number}_e0", patient)
        rows.append([f"P0{number}", "E0", image, seg, "", "120" if number == 3 else ""])
        lesions_per_case.append(n_lesions)
    manifest = root / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "timepoint", "image", "segmentation", "locations", "kvp"])
        writer.writerows(rows)
    return {"root": root, "manifest": manifest, "rows": rows, "lesions_per_case": lesions_per_case}


@pytest.fixture(scope="module")
def reference(cohort, tmp_path_factory) -> Path:
    """The table of a 1-worker run (run from another folder: manifest paths are relative to the manifest)."""
    out = tmp_path_factory.mktemp("reference") / "lesions.csv"
    result = run_batch_cli("--manifest", cohort["manifest"], "--out", out, "--workers", 1,
                           cwd=tmp_path_factory.mktemp("elsewhere"))
    assert result.returncode == 0, result.stderr
    assert "6 case(s) (0 from the journal), 15 lesion(s)" in result.stderr
    return out


def case_keys(rows: list[dict]) -> list[tuple[str, str]]:
    """(patient_id, timepoint) of each run of rows, in table order."""
    keys: list[tuple[str, str]] = []
    for row in rows:
        key = (row["patient_id"], row["timepoint"])
        if not keys or keys[-1] != key:
            keys.append(key)
    return keys


def test_two_workers_give_the_table_of_one_worker_in_manifest_order(cohort, reference, tmp_path):
    out = tmp_path / "lesions.csv"
    result = run_batch_cli("--manifest", cohort["manifest"], "--out", out, "--workers", 2)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == reference.read_bytes()  # same rows, same values, same order
    columns, rows = read_rows(out)
    assert columns == lesion_columns(load_signature().feature_keys)
    assert case_keys(rows) == [(r[0], r[1]) for r in cohort["rows"]]  # each case once, in manifest order
    per_case = [sum(1 for r in rows if (r["patient_id"], r["timepoint"]) == (m[0], m[1])) for m in cohort["rows"]]
    assert per_case == cohort["lesions_per_case"]
    by_case = {(r["patient_id"], r["timepoint"], r["lesion_id"]): r for r in rows}
    assert by_case[("P01", "E1", "3")]["computable"] == "0"
    assert "not in the segmentation" in by_case[("P01", "E1", "3")]["reason"]
    assert by_case[("P01", "E0", "2")]["location"] == "node"  # from the case's locations CSV ("LN")
    assert {r["kvp_source"] for r in rows if r["patient_id"] == "P03"} == {"user"}
    assert sum(r["computable"] == "1" for r in rows) == 14
    # the CT's geometry on every row, the short axis within (0, longest diameter] for every lesion present
    assert {(float(r["slice_thickness_mm"]), float(r["pixel_spacing_mm"])) for r in rows} == {(SPACING_MM[2],
                                                                                               SPACING_MM[0])}
    present = [r for r in rows if float(r["volume_ml"]) > 0]
    assert all(0 < float(r["short_axis_mm"]) <= float(r["longest_axial_diameter_mm"]) for r in present)


def test_batch_rows_are_those_of_cd8rscore_score_for_the_same_case(cohort, reference, tmp_path):
    _, batch_rows = read_rows(reference)
    root = cohort["root"]
    for patient_id, timepoint, image, seg, locations, kvp in cohort["rows"][:3]:
        out = tmp_path / f"{patient_id}_{timepoint}.csv"
        args = ["score", "--image", root / image, "--segmentation", root / seg, "--patient-id", patient_id,
                "--timepoint", timepoint, "--out", out]
        if locations:
            args += ["--locations", root / locations]
        if kvp:
            args += ["--kvp", kvp]
        assert main(args) == 0
        _, score_rows = read_rows(out)
        assert score_rows == [r for r in batch_rows if (r["patient_id"], r["timepoint"]) == (patient_id, timepoint)]


def children_alive(processes: list[psutil.Process]) -> list[int]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_sigterm_leaves_whole_records_and_resume_completes_each_case_once(cohort, reference, tmp_path):
    out = tmp_path / "lesions.csv"
    journal = journal_folder(out)
    process = subprocess.Popen([sys.executable, "-m", "CD8RScoreLib", "batch", "--manifest", str(cohort["manifest"]),
                                "--out", str(out), "--workers", "1"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (journal.is_dir() and list(journal.glob("*.csv"))):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "no case recorded in 120 s"
        time.sleep(0.01)
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "the local cluster runs its worker in a child process"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == INTERRUPTED_EXIT, stderr
    assert "interrupted by SIGTERM" in stderr and "--resume" in stderr and "Traceback" not in stderr
    deadline = time.monotonic() + CHILD_EXIT_WAIT_S
    while children_alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert children_alive(children) == []  # the cluster was shut down with the CLI
    assert not out.exists()
    names = sorted(p.name for p in journal.iterdir())
    assert not [n for n in names if n.endswith(".tmp")]  # no half-written record
    recorded = sorted(journal.glob("*.csv"))
    assert 1 <= len(recorded) < len(cohort["rows"]), names
    columns = lesion_columns(load_signature().feature_keys)
    for path in recorded:  # each record is whole: header and every lesion of its case
        record_columns, record_rows = read_rows(path)
        assert record_columns == columns
        key = (record_rows[0]["patient_id"], record_rows[0]["timepoint"])
        assert len(record_rows) == cohort["lesions_per_case"][[(r[0], r[1]) for r in cohort["rows"]].index(key)]
    inodes = {p.name: p.stat().st_ino for p in recorded}

    result = run_batch_cli("--manifest", cohort["manifest"], "--out", out, "--workers", 2, "--resume")
    assert result.returncode == 0, result.stderr
    assert f"6 case(s) ({len(recorded)} from the journal)" in result.stderr
    assert {p.name: p.stat().st_ino for p in recorded} == inodes  # recorded cases were not scored again
    assert out.read_bytes() == reference.read_bytes()  # no duplicate, no missing case, manifest order
    _, rows = read_rows(out)
    assert case_keys(rows) == [(r[0], r[1]) for r in cohort["rows"]]


def corrupt_cohort(cohort, tmp_path: Path) -> tuple[Path, list[list[str]]]:
    """A copy of the cohort where P02's CT is not an image, P04's segmentation is missing and P05's locations
    CSV names an unknown site."""
    root = tmp_path / "cohort"
    shutil.copytree(cohort["root"], root)
    rows = [list(r) for r in cohort["rows"]]
    (root / rows[2][2]).write_bytes(b"NRRD0004\ntype: short\ndimension: 3\nsizes: 9 9\n\x00\x01garbage")
    rows[4][3] = "ct/nowhere_seg.nrrd"
    (root / "p05_locations.csv").write_text("lesion,location\n1,spleenish\n")
    rows[5][4] = "p05_locations.csv"
    manifest = root / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "timepoint", "image", "segmentation", "locations", "kvp"])
        writer.writerows(rows)
    return manifest, rows


def test_failed_cases_become_rows_with_their_reason_and_the_others_complete(cohort, reference, tmp_path):
    manifest, rows = corrupt_cohort(cohort, tmp_path)
    out = tmp_path / "lesions.csv"
    result = run_batch_cli("--manifest", manifest, "--out", out, "--workers", 2)
    assert result.returncode == 1, result.stderr
    assert "3 case(s) failed (P02/E0, P04/E0, P05/E0)" in result.stderr
    _, table = read_rows(out)
    _, expected = read_rows(reference)
    good = {("P01", "E0"), ("P01", "E1"), ("P03", "E0")}
    assert [r for r in table if (r["patient_id"], r["timepoint"]) in good] == \
        [r for r in expected if (r["patient_id"], r["timepoint"]) in good]
    assert case_keys(table) == [(r[0], r[1]) for r in rows]
    by_patient = {p: [r for r in table if r["patient_id"] == p] for p in ("P02", "P04", "P05")}
    # P02: the CT is unreadable, its 2 lesions are known from the segmentation
    assert [r["lesion_id"] for r in by_patient["P02"]] == ["1", "2"]
    assert all("cannot read the image" in r["reason"] and "p02_e0.nrrd" in r["reason"] for r in by_patient["P02"])
    # P04: no segmentation, so its lesions are unknown: one row for the case
    assert len(by_patient["P04"]) == 1 and by_patient["P04"][0]["lesion_id"] == ""
    assert "segmentation not found" in by_patient["P04"][0]["reason"]
    # P05: the locations CSV is refused; both lesions of the segmentation carry the reason
    assert len(by_patient["P05"]) == 2
    assert all("unknown location 'spleenish'" in r["reason"] for r in by_patient["P05"])
    for row in sum(by_patient.values(), []):
        assert row["computable"] == "0" and row["score"] == "" and row["score_class"] == "NA"
        assert row["signature_status"] == "demonstration"

    # repaired inputs: --resume scores the failed cases again and keeps the scored ones
    journal = journal_folder(out)
    scored = {p.name: p.stat().st_ino for p in journal.glob("*.csv") if not p.name.endswith(".failed.csv")}
    assert len(scored) == 3 and len(list(journal.glob("*.failed.csv"))) == 3
    shutil.copy(cohort["root"] / rows[2][2], manifest.parent / rows[2][2])
    (manifest.parent / "p05_locations.csv").write_text("lesion,location\n1,liver\n")
    result = run_batch_cli("--manifest", manifest, "--out", out, "--workers", 1, "--resume")
    assert result.returncode == 1, result.stderr
    assert "1 case(s) failed (P04/E0)" in result.stderr and "(3 from the journal)" in result.stderr
    assert {p: journal.joinpath(p).stat().st_ino for p in scored} == scored
    assert len(list(journal.glob("*.failed.csv"))) == 1  # a retried case keeps one record
    _, table = read_rows(out)
    assert [r for r in table if r["patient_id"] == "P02"] == [r for r in expected if r["patient_id"] == "P02"]
    p05 = [r for r in table if r["patient_id"] == "P05"]
    assert [r["location"] for r in p05] == ["liver", "other"] and all(r["computable"] == "1" for r in p05)


@pytest.mark.parametrize("content, message", [
    ("patient_id,timepoint,image\nP1,E0,a.nrrd\n", "missing column(s) segmentation"),
    ("patient_id,timepoint,image,segmentation\nP1,E0,a.nrrd,a_seg.nrrd\nP1,E0,b.nrrd,b_seg.nrrd\n",
     "row 3: patient 'P1' at E0 is listed twice (rows 2 and 3)"),
    ("patient_id,timepoint,image,segmentation\nP1,E2,a.nrrd,a_seg.nrrd\n", "row 2, column 'timepoint'"),
    ("patient_id,timepoint,image,segmentation,kvp\nP1,E0,a.nrrd,a_seg.nrrd,high\n", "row 2, column 'kvp'"),
    ("patient_id,timepoint,image,segmentation,kvp\nP1,E0,a.nrrd,a_seg.nrrd,12\n", "12 kV is not a CT tube"),
    ("patient_id,timepoint,image,segmentation\n,E0,a.nrrd,a_seg.nrrd\n", "row 2, column 'patient_id'"),
    ("patient_id,timepoint,image,segmentation\n", "lists no case"),
])
def test_bad_manifest_exits_2_with_one_line_naming_row_and_field(tmp_path, capsys, content, message):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(content)
    assert main(["batch", "--manifest", manifest, "--out", tmp_path / "out.csv", "--workers", 1]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(manifest) in err and message in err, err
    assert not (tmp_path / "out.csv").exists() and not journal_folder(tmp_path / "out.csv").exists()


def test_missing_manifest_exits_2(tmp_path, capsys):
    assert main(["batch", "--manifest", tmp_path / "none.csv", "--out", tmp_path / "out.csv"]) == 2
    assert "none.csv: file not found" in capsys.readouterr().err


def test_manifest_paths_are_relative_to_its_folder_and_a_case_name_holds_its_inputs(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    manifest = folder / "manifest.csv"
    manifest.write_text("patient_id,timepoint,image,segmentation,locations,kvp\n"
                        "P 1/x,E0,ct/a.nrrd,../seg/a.nrrd,,80\nP2,E1,/data/b.nrrd,b.nrrd,loc.csv,\n")
    first, second = read_manifest(manifest)
    assert first.image == str(folder / "ct" / "a.nrrd") and first.segmentation == str(tmp_path / "seg" / "a.nrrd")
    assert first.locations is None and first.kvp_kv == 80.0 and first.row == 2
    assert second.image == "/data/b.nrrd" and second.locations == str(folder / "loc.csv") and second.kvp_kv is None
    assert first.stem.startswith("P_1_x_E0-") and "/" not in first.stem
    moved = Case(2, "P 1/x", "E0", "/elsewhere/a.nrrd", first.segmentation, None, 80.0)
    assert moved.stem != first.stem  # a changed manifest row is not taken for the recorded case


def test_resume_refuses_a_journal_of_another_signature(tmp_path, capsys):
    signature = load_signature()
    data = json.loads(default_signature_path().read_text())
    data["intercept"] += 0.5
    other_path = tmp_path / "other.json"
    other_path.write_text(json.dumps(data))
    other = load_signature(other_path)
    assert signature_digest(other) != signature_digest(signature)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("patient_id,timepoint,image,segmentation\nP1,E0,a.nrrd,a_seg.nrrd\n")
    out = tmp_path / "out.csv"
    journal = Journal(journal_folder(out), lesion_columns(signature.feature_keys))
    journal.open(signature, resume=False)
    journal.close()
    assert main(["batch", "--manifest", manifest, "--out", out, "--signature", other_path, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "batch.json" in err and "cd8rscore-demonstration (demonstration)" in err and "--resume" in err


def test_second_batch_on_the_same_journal_is_refused_while_the_first_runs(tmp_path):
    signature = load_signature()
    first = Journal(journal_folder(tmp_path / "out.csv"), lesion_columns(signature.feature_keys))
    first.open(signature, resume=False)
    try:
        second = Journal(journal_folder(tmp_path / "out.csv"), lesion_columns(signature.feature_keys))
        with pytest.raises(InputError, match="another batch is writing this journal"):
            second.open(signature, resume=True)
    finally:
        first.close()


def test_journal_record_replaces_a_failed_record_and_loads_only_its_own_case(tmp_path):
    signature = load_signature()
    columns = lesion_columns(signature.feature_keys)
    journal = Journal(tmp_path / "j", columns)
    journal.open(signature, resume=False)
    try:
        case = Case(2, "P1", "E0", "/a.nrrd", "/a_seg.nrrd")
        journal.record(case, [{"patient_id": "P1", "timepoint": "E0", "lesion_id": "", "computable": False,
                               "reason": "cannot read"}], failed=True)
        assert journal.load(case)[1] is True
        journal.record(case, [{"patient_id": "P1", "timepoint": "E0", "lesion_id": "1", "computable": True,
                               "score": 1.25}], failed=False)
        rows, failed = journal.load(case)
        assert not failed and rows[0]["score"] == "1.25" and rows[0]["computable"] == "1"
        assert sorted(p.name for p in (tmp_path / "j").glob("*.csv")) == [case.stem + ".csv"]
        other = Case(3, "P2", "E0", "/a.nrrd", "/a_seg.nrrd")
        shutil.copy(journal.path(case, False), journal.path(other, False))  # rows of P1 under P2's name
        assert journal.load(other) is None
    finally:
        journal.close()


def test_execute_keeps_at_most_two_cases_per_worker_thread_in_flight(tmp_path):
    cases = [Case(i + 2, f"P{i}", "E0", f"/ct{i}.nrrd", f"/seg{i}.nrrd") for i in range(24)]
    done: list[str] = []
    lost: list[str] = []
    in_flight: list[int] = []
    with open_client(workers=1) as client:
        def on_done(case: Case, outcome) -> None:
            in_flight.append(len(client.futures))
            done.append(outcome)

        execute(client, cases, repr, (), on_done, lambda case, exc: pytest.fail(f"{case.label}: {exc}"))
        assert sorted(done) == sorted(repr(c) for c in cases)
        assert max(in_flight) <= 2  # one worker, one thread: 2 in flight at most
        execute(client, cases[:3], int, (), lambda case, outcome: lost.append(outcome),
                lambda case, exc: f"{case.label}: {type(exc).__name__}")  # int(Case) raises TypeError
        assert sorted(lost) == ["P0/E0: TypeError", "P1/E0: TypeError", "P2/E0: TypeError"]

        # an interrupt during the batch: it reaches the caller (not taken for a failed case), the rest is cancelled
        seen: list[str] = []

        def interrupted(case: Case, outcome) -> None:
            seen.append(outcome)
            if len(seen) == 3:
                raise BatchInterrupted(signal.SIGTERM)

        with pytest.raises(BatchInterrupted, match="interrupted by SIGTERM"):
            execute(client, cases, repr, (), interrupted, lambda case, exc: pytest.fail(f"{case.label}: {exc}"))
        assert len(seen) == 3
        deadline = time.monotonic() + 10
        while client.futures and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.futures  # nothing left submitted


def test_an_interrupt_is_not_an_exception_a_case_handler_could_swallow():
    assert not issubclass(BatchInterrupted, Exception)
    assert str(BatchInterrupted(signal.SIGINT)) == "interrupted by SIGINT"
    assert os.path.basename(str(journal_folder(Path("/x/lesions.csv")))) == "lesions.csv.journal"


def test_scheduler_option_sends_the_cases_to_a_running_cluster(cohort, reference, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_port=0, host="127.0.0.1") as cluster:
        out = tmp_path / "lesions.csv"
        result = run_batch_cli("--manifest", cohort["manifest"], "--out", out, "--scheduler",
                               cluster.scheduler_address)
        assert result.returncode == 0, result.stderr
        assert out.read_bytes() == reference.read_bytes()
        assert len(cluster.scheduler.workers) == 1  # the cluster outlives the batch: only the client closed


def test_unreachable_scheduler_exits_2(tmp_path, capsys, monkeypatch):
    import CD8RScoreLib.batch as batch

    monkeypatch.setattr(batch, "SCHEDULER_TIMEOUT_S", 1)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("patient_id,timepoint,image,segmentation\nP1,E0,a.nrrd,a_seg.nrrd\n")
    assert main(["batch", "--manifest", manifest, "--out", tmp_path / "out.csv", "--scheduler",
                 "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "--scheduler: cannot reach the dask scheduler" in err and len(err.strip().splitlines()) == 1


def test_progress_bar_counts_cases_and_lesions_per_second(cohort, reference, tmp_path, capsys):
    from CD8RScoreLib.batch import run_batch

    summary = run_batch(cohort["manifest"], tmp_path / "lesions.csv", load_signature(), workers=1,
                        show_progress=True)
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert "6/6" in last and "15 lesions" in last and "lesions/s" in last, last
    assert summary.cases == 6 and summary.lesions == 15 and summary.computable == 14 and not summary.failed
    assert (tmp_path / "lesions.csv").read_bytes() == reference.read_bytes()
