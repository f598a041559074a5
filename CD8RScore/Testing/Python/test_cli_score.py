"""``cd8rscore score``: the lesion table of DESIGN §5 on real sample CTs, lesions kept with their reason, kVp from
DICOM, and bad input refused with exit 2 and one line naming the file and field."""
from __future__ import annotations

import csv
import json
import locale
import math
import subprocess
import sys
from pathlib import Path

import pytest
import SimpleITK as sitk

from CD8RScoreLib.cli import main
from CD8RScoreLib.imageio import keep_locale
from CD8RScoreLib.lesion_table import GEOMETRY_COLUMNS, HEAD_COLUMNS, TAIL_COLUMNS, lesion_columns
from CD8RScoreLib.signature import default_signature_path, load_signature

SAMPLES = Path(__file__).resolve().parents[2] / "Resources" / "SampleData"
LUNG2_IMAGE = SAMPLES / "lung2_crop_image.nrrd"
LUNG2_LABEL = SAMPLES / "lung2_crop_label.nrrd"


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "CD8RScoreLib", *map(str, args)], capture_output=True, text=True)


def test_lung2_sample_gives_one_complete_row_with_thick_slice_warning(tmp_path):
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", LUNG2_IMAGE, "--segmentation", LUNG2_LABEL, "--patient-id", "LUNG2",
                 "--out", out]) == 0
    columns, rows = read_rows(out)
    signature = load_signature()
    for column in list(HEAD_COLUMNS) + list(TAIL_COLUMNS):
        assert column in columns
    for key in signature.feature_keys:
        assert key in columns and f"{key}_norm" in columns
    assert len(rows) == 1
    row = rows[0]
    assert row["computable"] == "1" and math.isfinite(float(row["score"]))
    assert row["score_class"] in ("high", "low")
    assert row["signature_name"] == signature.name and row["signature_status"] == "demonstration"
    assert "slice thickness 5 mm is outside the validated range" in row["warnings"]
    assert row["kvp_source"] == "assumed" and "kVp unknown" in row["warnings"]
    # pyradiomics' sample notes: lung2's lesion is about 48 mL
    assert float(row["volume_ml"]) == pytest.approx(48.4, abs=0.5)
    assert 40 < float(row["longest_axial_diameter_mm"]) < 80
    assert int(row["core_voxels"]) == pytest.approx(48400, rel=0.05)


def test_lesion_table_gives_the_cts_geometry_and_the_short_axis_after_the_earlier_columns(tmp_path):
    """Slice thickness and pixel spacing are the CT's (lung2: 5 mm slices of 0.627 mm pixels); the short axis is
    positive and at most the longest axial diameter; the three columns come after every earlier column, in order."""
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", LUNG2_IMAGE, "--segmentation", LUNG2_LABEL, "--out", out]) == 0
    columns, rows = read_rows(out)
    assert columns[-len(GEOMETRY_COLUMNS):] == list(GEOMETRY_COLUMNS)
    assert columns[:-len(GEOMETRY_COLUMNS)] == [c for c in lesion_columns(load_signature().feature_keys)
                                                 if c not in GEOMETRY_COLUMNS]
    spacing = sitk.ReadImage(str(LUNG2_IMAGE)).GetSpacing()
    assert float(rows[0]["slice_thickness_mm"]) == pytest.approx(spacing[2]) == pytest.approx(5.0)
    assert float(rows[0]["pixel_spacing_mm"]) == pytest.approx(spacing[0]) == pytest.approx(0.627, abs=1e-3)
    assert 10 < float(rows[0]["short_axis_mm"]) <= float(rows[0]["longest_axial_diameter_mm"])


def test_absent_and_tiny_lesions_stay_in_the_table_with_their_reason(tmp_path):
    labels = sitk.ReadImage(str(LUNG2_LABEL))
    array = sitk.GetArrayFromImage(labels)
    array[2, 5, 5:8] = 2  # a 3-voxel lesion far from lesion 1
    tiny = sitk.GetImageFromArray(array)
    tiny.CopyInformation(labels)
    seg = tmp_path / "labels.nrrd"
    sitk.WriteImage(tiny, str(seg))
    locations = tmp_path / "locations.csv"
    locations.write_text("lesion,location\n1,lung\n2,LN\n7,liver\n")
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", LUNG2_IMAGE, "--segmentation", seg, "--locations", locations, "--kvp", "120",
                 "--out", out]) == 0
    _, rows = read_rows(out)
    by_id = {r["lesion_id"]: r for r in rows}
    assert sorted(by_id) == ["1", "2", "7"]
    assert by_id["1"]["computable"] == "1" and by_id["1"]["kvp_source"] == "user"
    assert by_id["2"]["computable"] == "0" and "core has" in by_id["2"]["reason"]
    assert by_id["2"]["location"] == "node" and by_id["2"]["signature_location"] == "adenopathy"
    assert by_id["7"]["computable"] == "0" and "not in the segmentation" in by_id["7"]["reason"]
    for lesion_id in ("2", "7"):
        assert by_id[lesion_id]["score"] == "" and by_id[lesion_id]["score_class"] == "NA"
        assert float(by_id[lesion_id]["slice_thickness_mm"]) == pytest.approx(5.0)  # the CT's, lesion or not
        assert by_id[lesion_id]["signature_status"] == "demonstration"
    assert float(by_id["7"]["short_axis_mm"]) == 0.0 == float(by_id["7"]["longest_axial_diameter_mm"])


def test_score_names_each_lesion_its_warnings_and_the_least_infiltrated_lesion_with_its_rule(tmp_path, capsys):
    labels = sitk.ReadImage(str(LUNG2_LABEL))
    array = sitk.GetArrayFromImage(labels)
    array[2, 5, 5:8] = 2  # a 3-voxel lesion far from lesion 1, which cannot be scored
    tiny = sitk.GetImageFromArray(array)
    tiny.CopyInformation(labels)
    seg = tmp_path / "labels.nrrd"
    sitk.WriteImage(tiny, str(seg))
    locations = tmp_path / "locations.csv"
    locations.write_text("lesion,location\n1,lung\n")  # lesion 2's site is not given
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", LUNG2_IMAGE, "--segmentation", seg, "--locations", locations,
                 "--patient-id", "LUNG2", "--out", out]) == 0
    said = capsys.readouterr().out.splitlines()
    _, rows = read_rows(out)
    by_id = {r["lesion_id"]: r for r in rows}
    score = float(by_id["1"]["score"])
    assert said[0].startswith("LUNG2 E0: 2 lesion(s), 1 scored with cd8rscore-demonstration (DEMONSTRATION")
    # kVp is assumed for the whole scan: said once, for every lesion
    assert "  every lesion: kVp unknown, 100 kV assumed" in said
    lesion_1 = next(line for line in said if line.split()[:3] == ["1", "label", "1"])
    assert lesion_1.split()[3:] == ["lung", f"{float(by_id['1']['volume_ml']):.2f}", "mL", f"{score:.3f}",
                                    by_id["1"]["score_class"]]
    lesion_2 = said.index(next(line for line in said if line.split()[:3] == ["2", "label", "2"]))
    notes = said[lesion_2 + 1:lesion_2 + 3]
    assert notes[0].split("! ")[1] == f"not computable: {by_id['2']['reason']}"
    assert notes[1].endswith("! location not given, 'other' assumed")
    assert said[-2] == (f"Least-infiltrated lesion: 1 'label 1' (lung, score {score:.3f}, {by_id['1']['score_class']}): "
                        "the lowest score among computable lesions > 1 mL")
    assert said[-1].startswith(f"Wrote the lesion table {out}.")
    assert by_id["1"]["least_infiltrated"] == "1" and by_id["2"]["least_infiltrated"] == "0"
    # `patient` says the same lesion and what it wrote
    summary = tmp_path / "patients.csv"
    assert main(["patient", "--lesions", out, "--out", summary]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"LUNG2 E0: 1 of 2 lesion(s) considered (computable, > 1 mL); least-infiltrated lesion 1 'label 1' "
        f"(score {score:.3f}, {by_id['1']['score_class']}), the lowest score among computable lesions > 1 mL",
        f"Wrote the patient summary (1 row(s): metrics and least-infiltrated lesion) {summary}"]


def test_least_infiltrated_needs_a_lesion_over_the_minimum_volume(tmp_path, capsys):
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", LUNG2_IMAGE, "--segmentation", LUNG2_LABEL, "--kvp", "120",
                 "--min-volume-ml", "100", "--out", out]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-2] == ("Least-infiltrated lesion: none (no lesion qualifies; the rule is the lowest score among "
                        "computable lesions > 100 mL)")
    assert [row["least_infiltrated"] for row in read_rows(out)[1]] == ["0"]


def write_dicom_series(image: sitk.Image, folder: Path, kvp: str) -> None:
    """A CT series with the tags the scoring reads (kVp 0018,0060; modality; slice thickness; kernel)."""
    with keep_locale():  # GDCM sets the C locale
        _write_dicom_series(image, folder, kvp)


def _write_dicom_series(image: sitk.Image, folder: Path, kvp: str) -> None:
    folder.mkdir()
    image = sitk.Cast(image, sitk.sitkInt16)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series_uid = "1.2.826.0.1.3680043.2.1125.1.1"
    for z in range(image.GetDepth()):
        slice_ = image[:, :, z]
        position = image.TransformIndexToPhysicalPoint((0, 0, z))
        tags = {"0008|0060": "CT", "0018|0060": kvp, "0018|0050": f"{image.GetSpacing()[2]:g}",
                "0018|1210": "STANDARD", "0010|0020": "DICOMPAT", "0020|000e": series_uid,
                "0020|000d": "1.2.826.0.1.3680043.2.1125.1.2", "0020|0013": str(z + 1),
                "0020|0032": "\\".join(f"{p:.4f}" for p in position),
                "0020|0037": "1\\0\\0\\0\\1\\0", "0008|0018": f"1.2.826.0.1.3680043.2.1125.1.3.{z + 1}",
                "0028|0030": f"{image.GetSpacing()[1]:g}\\{image.GetSpacing()[0]:g}"}
        for tag, value in tags.items():
            slice_.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"slice{z:03d}.dcm"))
        writer.Execute(slice_)


def test_dicom_series_gives_kvp_from_tag_and_patient_id(tmp_path):
    from CD8RScoreLib.synthetic import make_patient

    patient = make_patient(n_lesions=1, seed=5, spacing_mm=(1.0, 1.0, 2.0), field_mm=(60.0, 60.0, 50.0),
                           radius_range_mm=(8.0, 9.0))
    write_dicom_series(patient.image, tmp_path / "dicom", kvp="100")
    seg = tmp_path / "labels.nrrd"
    sitk.WriteImage(patient.labels, str(seg))
    out = tmp_path / "lesions.csv"
    encoding = locale.getpreferredencoding(False)
    assert main(["score", "--image", tmp_path / "dicom", "--segmentation", seg, "--out", out]) == 0
    assert locale.getpreferredencoding(False) == encoding  # GDCM's C locale does not leak into the process
    _, rows = read_rows(out)
    assert rows[0]["kvp"] == "100" and rows[0]["kvp_source"] == "dicom"
    assert rows[0]["patient_id"] == "DICOMPAT"
    assert "slice thickness" not in rows[0]["warnings"] and "kernel" not in rows[0]["warnings"]
    assert rows[0]["computable"] == "1"
    # the typed kVp overrides the tag
    assert main(["score", "--image", tmp_path / "dicom", "--segmentation", seg, "--kvp", "120", "--out", out]) == 0
    assert read_rows(out)[1][0]["kvp_source"] == "user"


@pytest.fixture()
def bad_inputs(tmp_path):
    image = sitk.ReadImage(str(LUNG2_IMAGE))
    labels = sitk.ReadImage(str(LUNG2_LABEL))
    shifted = sitk.Image(labels)
    shifted.SetSpacing((1.0, 1.0, 5.0))
    sitk.WriteImage(shifted, str(tmp_path / "mismatch.nrrd"))
    fractional = sitk.Cast(labels, sitk.sitkFloat32) * 0.5
    sitk.WriteImage(fractional, str(tmp_path / "fractional.nrrd"))
    (tmp_path / "locations.csv").write_text("lesion,location\n1,pancreatic-ish\n")
    signature = json.loads(default_signature_path().read_text())
    del signature["features"][3]["coefficient"]
    (tmp_path / "incomplete.json").write_text(json.dumps(signature))
    assert image.GetSize() == labels.GetSize()
    return tmp_path


@pytest.mark.parametrize("case,extra,expected", [
    ("missing file", ["--image", "nowhere.nrrd"], ["nowhere.nrrd", "--image", "not found"]),
    ("geometry mismatch", ["--segmentation", "{tmp}/mismatch.nrrd"], ["mismatch.nrrd", "geometry mismatch", "spacing"]),
    ("non-integer label map", ["--segmentation", "{tmp}/fractional.nrrd"], ["fractional.nrrd", "non-integer"]),
    ("unknown location", ["--locations", "{tmp}/locations.csv"], ["locations.csv", "row 2", "location",
                                                                   "pancreatic-ish"]),
    ("signature without a coefficient", ["--signature", "{tmp}/incomplete.json"],
     ["incomplete.json", "features[3].coefficient", "missing"]),
])
def test_bad_input_exits_2_with_one_line_naming_file_and_field(bad_inputs, case, extra, expected):
    args = {"--image": str(LUNG2_IMAGE), "--segmentation": str(LUNG2_LABEL), "--out": str(bad_inputs / "o.csv")}
    for flag, value in zip(extra[::2], extra[1::2]):
        args[flag] = value.format(tmp=bad_inputs)
    result = run_cli("score", *[x for pair in args.items() for x in pair])
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in expected:
        assert word in lines[0], (case, lines[0])
    assert not (bad_inputs / "o.csv").exists()


def test_slice_thickness_column_is_the_dicom_thickness_the_warning_uses(tmp_path):
    """Overlapping slices (5 mm thick every 2.5 mm): the column says 5 mm, as the warning does, not the spacing."""
    import pydicom

    from CD8RScoreLib.synthetic import make_patient

    patient = make_patient(n_lesions=1, seed=5, spacing_mm=(1.0, 1.0, 2.5), field_mm=(60.0, 60.0, 50.0),
                           radius_range_mm=(8.0, 9.0))
    write_dicom_series(patient.image, tmp_path / "dicom", kvp="120")
    for file in (tmp_path / "dicom").iterdir():
        ds = pydicom.dcmread(file)
        ds.SliceThickness = "5"
        ds.save_as(file)
    seg = tmp_path / "labels.nrrd"
    sitk.WriteImage(patient.labels, str(seg))
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", tmp_path / "dicom", "--segmentation", seg, "--out", out]) == 0
    row = read_rows(out)[1][0]
    assert "slice thickness 5 mm is outside the validated range" in row["warnings"]
    assert float(row["slice_thickness_mm"]) == 5.0
    assert float(row["pixel_spacing_mm"]) == 1.0
