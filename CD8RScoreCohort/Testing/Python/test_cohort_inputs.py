"""Bad cohort input is refused with a message naming file, row and field; usable-but-incomplete input is
reported as exclusions with counts, never dropped silently."""
import csv
from pathlib import Path

import pytest

from CD8RScoreLib.errors import InputError
from CD8RScoreCohortLib.analysis import resolve_reference_cutoff, run_cohort
from CD8RScoreCohortLib.inputs import read_clinical, read_lesions
from CD8RScoreCohortLib.simulate import CLINICAL_COLUMNS, simulate_cohort
from CD8RScoreLib.lesion_table import lesion_columns


def write(path: Path, rows: list[dict], columns: list[str]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow(r)
    return path


@pytest.fixture(scope="module")
def small_cohort():
    """60 simulated patients (enough events for every model), as row dicts."""
    return simulate_cohort(60, seed=7)


def tables(tmp_path, lesions, clinical, lesion_cols=None, clinical_cols=None):
    return (write(tmp_path / "lesions.csv", lesions, lesion_cols or lesion_columns([])),
            write(tmp_path / "clinical.csv", clinical, clinical_cols or CLINICAL_COLUMNS))


def expect_error(func, *args, match: str, field: str):
    with pytest.raises(InputError, match=match) as info:
        func(*args)
    assert info.value.field is not None and field in info.value.field
    return info.value


def test_missing_clinical_column_names_the_column(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    _, c = tables(tmp_path, lesions, clinical, clinical_cols=[x for x in CLINICAL_COLUMNS if x != "os_event"])
    err = expect_error(read_clinical, c, match="missing column.*os_event", field="header")
    assert str(c) in str(err)


def test_non_numeric_and_negative_times_are_refused_with_row(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    bad = [dict(r) for r in clinical]
    bad[4]["os_time"] = "twelve"
    _, c = tables(tmp_path, lesions, bad)
    expect_error(read_clinical, c, match="'twelve' is not a number", field="row 6, column os_time")
    bad[4]["os_time"] = "-3"
    _, c = tables(tmp_path, lesions, bad)
    expect_error(read_clinical, c, match="negative", field="row 6, column os_time")
    bad[4]["os_time"] = ""
    _, c = tables(tmp_path, lesions, bad)
    expect_error(read_clinical, c, match="missing value", field="row 6, column os_time")


def test_event_must_be_one_or_zero(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    bad = [dict(r) for r in clinical]
    bad[0]["pfs_event"] = "2"
    _, c = tables(tmp_path, lesions, bad)
    expect_error(read_clinical, c, match="must be 1 or 0", field="row 2, column pfs_event")


def test_duplicate_patient_ids_are_refused(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    bad = [dict(r) for r in clinical] + [dict(clinical[3])]
    _, c = tables(tmp_path, lesions, bad)
    err = expect_error(read_clinical, c, match="also on row 5", field=f"row {len(bad) + 1}, column patient_id")
    assert clinical[3]["patient_id"] in str(err)


def test_no_events_at_all_is_refused(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    bad = [dict(r, os_event=0) for r in clinical]
    _, c = tables(tmp_path, lesions, bad)
    expect_error(read_clinical, c, match="no deaths", field="os_event")


def test_lesion_table_errors_name_row_and_field(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    cases = [
        ({"timepoint": "E2"}, "must be E0 or E1", "column timepoint"),
        ({"volume_ml": "big"}, "'big' is not a number", "column volume_ml"),
        ({"longest_axial_diameter_mm": "-4"}, "negative", "column longest_axial_diameter_mm"),
        ({"computable": "yes"}, "must be 1 or 0", "column computable"),
        ({"computable": 1, "score": ""}, "missing value", "column score"),
        ({"patient_id": ""}, "empty patient_id", "column patient_id"),
    ]
    for change, message, field in cases:
        bad = [dict(r) for r in lesions]
        bad[2].update(change)
        l, _ = tables(tmp_path, bad, clinical)
        expect_error(read_lesions, l, match=message, field=f"row 4, {field}")
    bad = [dict(r) for r in lesions] + [dict(lesions[0])]
    l, _ = tables(tmp_path, bad, clinical)
    expect_error(read_lesions, l, match="also on row 2", field="column lesion_id")
    bad = [dict(r) for r in lesions]
    bad[5]["signature_name"] = "another-signature"
    l, _ = tables(tmp_path, bad, clinical)
    expect_error(read_lesions, l, match="different signatures", field="signature_name")
    l, _ = tables(tmp_path, lesions, clinical, lesion_cols=[c for c in lesion_columns([]) if c != "score"])
    expect_error(read_lesions, l, match="missing column.*score", field="header")


def test_unknown_signature_requires_reference_cutoff(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    bad = [dict(r, signature_name="no-such-signature") for r in lesions]
    l, c = tables(tmp_path, bad, clinical)
    with pytest.raises(InputError, match="no-such-signature.*give --reference-cutoff"):
        run_cohort(l, c, tmp_path / "out", make_figures=False)
    assert not (tmp_path / "out" / "results.json").exists()


def test_reference_cutoff_defaults_to_the_signature_file(monkeypatch, small_cohort):
    import pandas as pd

    import CD8RScoreLib.signature as signature

    class Sig:
        reference_cutoff = 1.8
        reference_cutoff_source = "a test signature"

    monkeypatch.setattr(signature, "find_signature", lambda name: Path(f"/signatures/{name}.json"))
    monkeypatch.setattr(signature, "load_signature", lambda path: Sig())
    frame = pd.DataFrame({"signature_name": ["cd8rscore-demonstration"]})
    assert resolve_reference_cutoff(frame, None, "lesions.csv") == (
        1.8, "signature cd8rscore-demonstration: a test signature")
    assert resolve_reference_cutoff(frame, 2.0, "lesions.csv") == (2.0, "given by the user (--reference-cutoff)")


def test_mismatched_patients_are_reported_as_exclusions(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    clinical = [dict(r) for r in clinical] + [dict(clinical[0], patient_id="SIM-NOLESIONS")]
    dropped = clinical[1]["patient_id"]
    clinical = [r for r in clinical if r["patient_id"] != dropped]
    e1_only = clinical[2]["patient_id"]
    lesions = [r for r in lesions if not (r["patient_id"] == e1_only and r["timepoint"] == "E0")]
    l, c = tables(tmp_path, lesions, clinical)
    res = run_cohort(l, c, tmp_path / "out", reference_cutoff=1.72, make_figures=False)
    by_reason = {e["reason"]: e for e in res["exclusions"]}
    no_lesions = [e for r, e in by_reason.items() if r.startswith("patient not in the lesion table")][0]
    assert no_lesions["count"] == 1 and no_lesions["ids"] == ["SIM-NOLESIONS"]
    no_clinical = [e for r, e in by_reason.items() if r.startswith("patient not in the clinical table")][0]
    assert no_clinical["count"] == 1 and no_clinical["ids"] == [dropped]
    no_e0 = [e for r, e in by_reason.items() if r.startswith("patient has E1 rows but no E0")][0]
    assert no_e0["ids"] == [e1_only]
    assert res["counts"]["patients_analysed"] == len(clinical) - 2
    text = (tmp_path / "out" / "report.html").read_text()
    assert "SIM-NOLESIONS" in text and "patient not in the lesion table" in text


def test_not_computable_lesions_are_counted_not_dropped(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    l, c = tables(tmp_path, lesions, clinical)
    res = run_cohort(l, c, tmp_path / "out", reference_cutoff=1.72, make_figures=False)
    n_nc = sum(1 for r in lesions if r["timepoint"] == "E0" and r["computable"] == 0)
    counted = sum(e["count"] for e in res["exclusions"] if e["reason"].startswith("baseline score not computable"))
    assert n_nc > 0 and counted == n_nc
    assert res["lesion_level"]["n_lesions_e0"] == sum(1 for r in lesions if r["timepoint"] == "E0")


def test_lesions_flagged_class_unstable_are_counted_in_the_report(tmp_path, small_cohort):
    lesions, clinical = small_cohort
    lesions = [dict(r) for r in lesions]
    flagged = [r for r in lesions if r["timepoint"] == "E0" and r["computable"] == 1][:3]
    for r in flagged:
        r["warnings"] = "class unstable: high in only 60% of perturbations (below 90%)"
    l, c = tables(tmp_path, lesions, clinical)
    res = run_cohort(l, c, tmp_path / "out", reference_cutoff=1.72, make_figures=False)
    assert res["counts"]["lesions_class_unstable_under_perturbation"] == 3
    text = (tmp_path / "out" / "report.html").read_text()
    assert "Lesions whose class changes under perturbation</td><td class='n'>3<" in text
