"""The bad-input matrix: every input a user can get wrong, with the outcome the CLI promises for it.

Each case runs one ``cd8rscore`` command in-process on small synthetic inputs and states the exit code (0 with a
flagged row, 2 with one line on stderr naming the file/field, 130 when interrupted) and the words the message or
the row must hold. For every case, no file outside the command's output changes (SHA-256 before and after), and
no traceback or numpy repr reaches the user.
"""
from __future__ import annotations

import csv
import errno
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pytest
import SimpleITK as sitk

from CD8RScoreLib.cli import main
from CD8RScoreLib.signature import default_signature_path

SPACING = (1.0, 1.0, 2.0)
# Cells a spreadsheet would run as formulas (OWASP, CSV injection)
FORMULAS = ('=HYPERLINK("http://example.org/?x","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)")
SHAPE_ZYX = (16, 48, 48)
CENTRE_MM = (24.0, 24.0, 16.0)
RADIUS_MM = 6.0


def _write(image: sitk.Image, path: Path) -> Path:
    sitk.WriteImage(image, str(path), True)
    return path


def _image(array: np.ndarray, like: "sitk.Image | None" = None) -> sitk.Image:
    image = sitk.GetImageFromArray(array)
    if like is not None:
        image.CopyInformation(like)
    elif array.ndim == 3:
        image.SetSpacing(SPACING)
    return image


def _sphere(centre_mm, radius_mm) -> np.ndarray:
    z, y, x = np.ogrid[:SHAPE_ZYX[0], :SHAPE_ZYX[1], :SHAPE_ZYX[2]]
    return ((x * SPACING[0] - centre_mm[0]) ** 2 + (y * SPACING[1] - centre_mm[1]) ** 2
            + (z * SPACING[2] - centre_mm[2]) ** 2) <= radius_mm ** 2


def _lesion_csv(path: Path, patient: str, timepoint: str, diameters: dict[str, float]) -> Path:
    columns = ["patient_id", "timepoint", "lesion_id", "volume_ml", "longest_axial_diameter_mm", "score",
               "computable", "signature_name", "signature_status"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for lesion, diameter in diameters.items():
            writer.writerow([patient, timepoint, lesion, 1.5, diameter, 2.1, 1, "cd8rscore-demonstration",
                             "demonstration"])
    return path


def _write_dicom_series(image: sitk.Image, folder: Path, modality: str) -> None:
    """A DICOM series of ``image`` (int16) with the given Modality (0008,0060)."""
    from CD8RScoreLib.imageio import keep_locale

    folder.mkdir()
    image = sitk.Cast(image, sitk.sitkInt16)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    with keep_locale():  # GDCM sets the C locale
        for z in range(image.GetDepth()):
            slice_ = image[:, :, z]
            position = image.TransformIndexToPhysicalPoint((0, 0, z))
            tags = {"0008|0060": modality, "0020|000e": "1.2.826.0.1.3680043.2.1125.9.1",
                    "0020|000d": "1.2.826.0.1.3680043.2.1125.9.2", "0020|0013": str(z + 1),
                    "0020|0032": "\\".join(f"{p:.4f}" for p in position), "0020|0037": "1\\0\\0\\0\\1\\0",
                    "0008|0018": f"1.2.826.0.1.3680043.2.1125.9.3.{z + 1}"}
            for tag, value in tags.items():
                slice_.SetMetaData(tag, value)
            writer.SetFileName(str(folder / f"slice{z:03d}.dcm"))
            writer.Execute(slice_)


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> Path:
    """Every input of the matrix, written once: a small CT in HU (air slab, soft tissue, one textured lesion of
    6 mm radius) and its variants, label maps, CSV tables, signatures and a small simulated cohort."""
    d = tmp_path_factory.mktemp("bad_inputs")
    rng = np.random.default_rng(10)
    from scipy import ndimage

    def texture(sigma):
        noise = ndimage.gaussian_filter(rng.standard_normal(SHAPE_ZYX), sigma)
        return noise / noise.std()

    lesion = _sphere(CENTRE_MM, RADIUS_MM)
    hu = 40.0 + 12.0 * texture(1.5)
    hu[lesion] = (60.0 + 25.0 * texture(1.0))[lesion]
    hu[:, :, :2] = -1000.0  # air at the side of the field of view, outside the lesion's crop
    hu = np.round(hu).astype(np.float32)
    ct = _image(hu)
    _write(ct, d / "ct.nrrd")
    labels = lesion.astype(np.uint16)
    _write(_image(labels, ct), d / "labels.nrrd")

    # --- CT variants
    nan = hu.copy()
    nan[8, 24, 24] = np.nan  # in the lesion's core
    _write(_image(nan, ct), d / "ct_nan_in_voi.nrrd")
    nan_inf = nan.copy()
    nan_inf[8, 24, 26] = np.inf
    _write(_image(nan_inf, ct), d / "ct_nan_inf_in_voi.nrrd")
    nan_out = hu.copy()
    nan_out[1, 45, 45] = np.nan  # far from the lesion
    _write(_image(nan_out, ct), d / "ct_nan_outside.nrrd")
    _write(_image(np.full(SHAPE_ZYX, np.nan, np.float32), ct), d / "ct_all_nan.nrrd")
    mr = np.clip((hu + 1000.0) * 2.0, 0, 4000).astype(np.float32)  # values 0..4000, no negative value
    _write(_image(mr, ct), d / "ct_mr_like.nrrd")
    _write(_image(np.full(SHAPE_ZYX, 40.0, np.float32), ct), d / "ct_constant.nrrd")
    flat_voi = hu.copy()
    flat_voi[:, 10:40, 10:40] = 40.0  # lesion and its ring one value; the air slab stays
    _write(_image(flat_voi, ct), d / "ct_constant_voi.nrrd")
    no_air = hu.copy()
    no_air[:, :, :2] = -80.0  # fat at most: no air or lung
    _write(_image(no_air, ct), d / "ct_no_air.nrrd")
    _write(_image(hu * 1e6, ct), d / "ct_not_hu.nrrd")
    _write(_image(hu[8], None), d / "ct_2d.nrrd")
    _write(sitk.JoinSeries([ct, ct]), d / "ct_4d.nrrd")
    _write_dicom_series(ct, d / "dicom_mr", modality="MR")
    (d / "not_an_image.nrrd").write_text("lesion,location\n1,liver\n")
    whole = (d / "ct.nrrd").read_bytes()
    (d / "ct_truncated.nrrd").write_bytes(whole[: len(whole) // 2])

    # --- segmentation variants
    for name, spacing in (("labels_spacing.nrrd", (1.0, 1.0, 3.0)),):
        img = _image(labels, ct)
        img.SetSpacing(spacing)
        _write(img, d / name)
    shifted = _image(labels, ct)
    shifted.SetOrigin((0.5, 0.0, 0.0))
    _write(shifted, d / "labels_origin.nrrd")
    turned = _image(labels, ct)
    turned.SetDirection((0, 1, 0, 1, 0, 0, 0, 0, 1))
    _write(turned, d / "labels_direction.nrrd")
    larger = np.zeros((SHAPE_ZYX[0] + 4,) + SHAPE_ZYX[1:], np.uint16)
    larger[:SHAPE_ZYX[0]] = labels
    _write(_image(larger), d / "labels_extent.nrrd")
    _write(_image(np.zeros(SHAPE_ZYX, np.uint16), ct), d / "labels_empty.nrrd")
    one_voxel = labels.copy()
    one_voxel[2, 4, 40] = 2
    _write(_image(one_voxel, ct), d / "labels_one_voxel.nrrd")
    edge = labels.copy()
    edge[_sphere((45.0, 24.0, 16.0), 4.0)] = 3  # reaches the image's last column
    _write(_image(edge, ct), d / "labels_edge.nrrd")
    _write(_image(labels.astype(np.float32) * 0.5, ct), d / "labels_fractional.nrrd")
    negative = labels.astype(np.int16)
    negative[2, 4, 40] = -1
    _write(_image(negative, ct), d / "labels_negative.nrrd")
    _write(_image(labels[8], None), d / "labels_2d.nrrd")

    # --- locations tables
    (d / "loc_latin1.csv").write_bytes("lesion,location\n1,liver\nlésion-foie,liver\n".encode("latin-1"))
    (d / "loc_bom.csv").write_bytes("lesion,location\n1,liver\n".encode("utf-8-sig"))
    (d / "loc_utf16.csv").write_bytes("lesion,location\n1,liver\n".encode("utf-16"))
    (d / "loc_binary.csv").write_bytes(bytes(range(256)) * 4)
    (d / "cohort_latin1.csv").write_bytes("patient_id,timepoint,lesion_id,segment_name\nP9,E0,1,lésion\n"
                                          .encode("latin-1"))
    (d / "loc_unknown.csv").write_text("lesion,location\n1,pancreatic-ish\n")
    (d / "loc_no_column.csv").write_text("lesion,site\n1,liver\n")

    # --- signatures
    signature = json.loads(default_signature_path().read_text())
    incomplete = json.loads(json.dumps(signature))
    del incomplete["features"][0]["coefficient"]
    (d / "sig_incomplete.json").write_text(json.dumps(incomplete))
    (d / "sig_not_json.json").write_text("{ this is not json")
    (d / "sig_list.json").write_text("[1, 2]")
    # a training set for fit-signature whose target does not vary
    from CD8RScoreLib.feature_table import radiomic_candidates

    values = np.random.default_rng(24).standard_normal((24, 6))
    with open(d / "fit_features.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "lesion_id", "location", "kvp", "reason"] + radiomic_candidates()[:6])
        writer.writerows([f"P{i}", "1", "liver", 120, ""] + [f"{v:.6g}" for v in row] for i, row in enumerate(values))
    (d / "fit_target_constant.csv").write_text("patient_id,lesion_id,target\n"
                                               + "".join(f"P{i},1,2.5\n" for i in range(24)))

    # --- lesion tables of one patient, for patient and response
    _lesion_csv(d / "p1_E0.csv", "P1", "E0", {"1": 20.0, "2": 15.0})
    _lesion_csv(d / "p1_E1.csv", "P1", "E1", {"1": 12.0, "2": 16.0})
    _lesion_csv(d / "p2_E1.csv", "P2", "E1", {"1": 12.0})
    _lesion_csv(d / "p1_E1_other_ids.csv", "P1", "E1", {"A": 12.0, "B": 16.0})
    (d / "link_to_p1_E0.csv").symlink_to(d / "p1_E0.csv")
    os.link(d / "p1_E0.csv", d / "hardlink_p1_E0.csv")

    # --- a small simulated cohort and its variants
    from CD8RScoreCohortLib.simulate import write_simulated_cohort

    lesions_csv, clinical_csv = write_simulated_cohort(d / "cohort", n_patients=30, seed=5)
    with open(clinical_csv, newline="") as handle:
        clinical = list(csv.DictReader(handle))
    with open(lesions_csv, newline="") as handle:
        lesion_rows = list(csv.DictReader(handle))

    def write_rows(path: Path, rows: list[dict], encoding: str = "utf-8") -> None:
        with open(path, "w", newline="", encoding=encoding) as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    write_rows(d / "clin_time0.csv", [dict(r, os_time="0", pfs_time="0") for r in clinical])
    write_rows(d / "clin_latin1.csv", [dict(r, presentation=f"{r['presentation']} é") for r in clinical], "latin-1")
    (d / "clin_binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    write_rows(d / "clin_separating.csv", [dict(r, follow=r["os_time"]) for r in clinical])
    write_rows(d / "clin_no_event.csv", [dict(r, os_event="0") for r in clinical])
    write_rows(d / "clin_bad_time.csv", [dict(r, os_time="soon") if i == 3 else r for i, r in enumerate(clinical)])
    write_rows(d / "clin_event_2.csv", [dict(r, os_event="2") if i == 4 else r for i, r in enumerate(clinical)])
    write_rows(d / "clin_duplicate.csv", clinical + [clinical[0]])
    write_rows(d / "clin_no_column.csv", [{k: v for k, v in r.items() if k != "pfs_time"} for r in clinical])
    three = {r["patient_id"] for r in clinical[:3]}
    write_rows(d / "clin_three.csv", clinical[:3])
    write_rows(d / "clin_days.csv", [dict(r, os_time=f"{float(r['os_time']) * 30.44:.0f}",
                                          pfs_time=f"{float(r['pfs_time']) * 30.44:.0f}") for r in clinical])
    write_rows(d / "clin_dollar.csv", [dict(r, presentation=f"${r['presentation']} $x^2") for r in clinical])
    write_rows(d / "lesions_dollar.csv", [dict(r, location="liver" if r["location"] == "other" else r["location"],
                                               signature_name=r["signature_name"] + " $v_1$ $")
                                          for r in lesion_rows])
    hostile = {r["patient_id"]: FORMULAS[i % len(FORMULAS)] + r["patient_id"] for i, r in enumerate(clinical)}
    write_rows(d / "clin_formulas.csv", [dict(r, patient_id=hostile[r["patient_id"]],
                                              presentation="-2+3" if i % 2 else r["presentation"])
                                         for i, r in enumerate(clinical)])
    write_rows(d / "lesions_formulas.csv", [dict(r, patient_id=hostile[r["patient_id"]],
                                                 segment_name="@SUM(1+1)*cmd|' /C calc'!A0")
                                            for r in lesion_rows])
    write_rows(d / "lesions_three.csv", [r for r in lesion_rows if r["patient_id"] in three])
    (d / "manifest_one.csv").write_text("patient_id,timepoint,image,segmentation\nP1,E0,ct.nrrd,seg.nrrd\n")
    (d / "old_analysis").mkdir()
    (d / "old_analysis" / "results.json").write_text('{"counts": {"patients_analysed": 1}}\n')
    (d / "old_analysis" / "report.html").write_text("<html>an earlier report</html>\n")
    (d / "a_folder").mkdir()
    (d / "existing_file.txt").write_text("keep me\n")
    _odd_inputs(d, hu, labels)
    return d


def _odd_inputs(d: Path, hu: np.ndarray, labels: np.ndarray) -> None:
    """Inputs that are valid files but odd or hostile: storage precision, storage order, huge labels, control
    characters, formula-like text."""
    # a CT whose extent is a whole number of 1 mm voxels at 0.8 mm (50 x 0.8 = 40 mm): NIfTI stores 0.8 in float32
    ct08 = _image(np.pad(hu, ((0, 0), (0, 2), (0, 2)), mode="edge"))
    ct08.SetSpacing((0.8, 0.8, 2.0))
    labels08 = _image(np.pad(labels, ((0, 0), (0, 2), (0, 2))), ct08)
    for ext in ("nrrd", "nii.gz"):
        _write(ct08, d / f"ct08.{ext}")
        _write(labels08, d / f"labels08.{ext}")
    for image in (ct08, labels08):
        image.SetSpacing((0.8 + 1.5e-8, 0.8 + 1.5e-8, 2.0))
    _write(ct08, d / "ct08_nudged.nrrd")
    _write(labels08, d / "labels08_nudged.nrrd")
    # 5 mm slices, stored plainly, with permuted axes, and permuted and flipped (same voxels in the patient)
    thick = _image(hu)
    thick.SetSpacing((1.0, 1.0, 5.0))
    thick_labels = _image(labels, thick)
    for name, change in (("plain", lambda im: im), ("permuted", lambda im: sitk.PermuteAxes(im, (2, 0, 1))),
                         ("flipped", lambda im: sitk.Flip(sitk.PermuteAxes(im, (1, 2, 0)), (True, False, True)))):
        _write(change(thick), d / f"ct_thick_{name}.nrrd")
        _write(change(thick_labels), d / f"labels_thick_{name}.nrrd")
    # lesion tables with odd scores and diameters
    for name, value in (("inf", "inf"), ("empty", ""), ("comma", "1,7"), ("huge", "1e308"), ("tiny", "1e-320")):
        path = _lesion_csv(d / f"p1_score_{name}.csv", "P1", "E0", {"1": 20.0, "2": 15.0})
        text = path.read_text().splitlines()
        text[1] = text[1].replace(",2.1,", f',"{value}",')
        path.write_text("\n".join(text) + "\n")
    path = _lesion_csv(d / "p1_E0_units.csv", "P1", "E0", {"1": 20.0})
    path.write_text(path.read_text().replace(",20.0,", ",12 mm,"))
    # a path that is not UTF-8 text (a byte 0xff): Python keeps it as a surrogate
    os.link(d / "ct.nrrd", os.fsencode(d) + b"/ct\xff.nrrd")
    # labels beyond uint32 (wrapped onto lesion 1 by a cast) and as float64
    huge = labels.astype(np.uint64)
    huge[2, 4, 40] = 2 ** 32 + 1
    _write(_image(huge, _image(hu)), d / "labels_uint64.nrrd")
    _write(_image(huge.astype(np.float64), _image(hu)), d / "labels_float64_huge.nrrd")


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass
class Case:
    """One row of the matrix: the command (``{in}`` = inputs folder, ``{out}`` = this case's output folder)."""

    name: str
    argv: list[str]
    exit_code: int
    message: list[str] = field(default_factory=list)  # fragments of the one stderr line (exit 2 / 130)
    rows: dict = field(default_factory=dict)  # lesion_id -> {column: fragment} in the output CSV (exit 0)
    fault: "str | None" = None  # an OS failure injected while writing
    copies: dict = field(default_factory=dict)  # input file -> name in the output folder, for files a command edits
    check: "Callable[[Path, Path], None] | None" = None  # more assertions on (output folder, inputs folder)
    links: dict = field(default_factory=dict)  # symbolic link -> its target, both in the output folder


def _same_table_as(*reference_argv: str) -> Callable[[Path, Path], None]:
    """The lesion table equals byte for byte the one ``score`` writes from ``reference_argv`` (inputs folder)."""
    def check(out: Path, inputs: Path) -> None:
        reference = out / "reference.csv"
        assert main(["score", *[a.replace("{in}", str(inputs)) for a in reference_argv], "--out", reference]) == 0
        assert (out / "lesions.csv").read_bytes() == reference.read_bytes()
    return check


def _same_columns_as(columns: Sequence[str], *reference_argv: str) -> Callable[[Path, Path], None]:
    """The lesion table's ``columns`` equal those ``score`` writes from ``reference_argv``."""
    def check(out: Path, inputs: Path) -> None:
        reference = out / "reference.csv"
        assert main(["score", *[a.replace("{in}", str(inputs)) for a in reference_argv], "--out", reference]) == 0
        got, expected = _read_rows(out / "lesions.csv"), _read_rows(reference)
        assert {k: [r[c] for c in columns] for k, r in got.items()} == \
            {k: [r[c] for c in columns] for k, r in expected.items()}
    return check


def _one_line_per_row(expected_rows: int, patient_id: str) -> Callable[[Path, Path], None]:
    """The lesion table has a header and ``expected_rows`` lines, no CR, and every row names ``patient_id``."""
    def check(out: Path, inputs: Path) -> None:
        data = (out / "lesions.csv").read_bytes()
        assert b"\r" not in data and len(data.splitlines()) == 1 + expected_rows
        assert {r["patient_id"] for r in _read_rows(out / "lesions.csv").values()} == {patient_id}
    return check


def _no_live_formula(value: str) -> Callable[[Path, Path], None]:
    """No cell of any CSV written starts a formula, and the project's reader reads ``value`` back unchanged."""
    def check(out: Path, inputs: Path) -> None:
        from CD8RScoreLib.csv_cells import _NUMBER
        from CD8RScoreLib.lesion_table import read_csv

        tables = sorted(out.rglob("*.csv"))
        assert tables
        for table in tables:
            with open(table, newline="", encoding="utf-8") as handle:
                for cells in csv.reader(handle):
                    assert not any(c[:1] in "=+-@\t\r" and c and not _NUMBER.match(c) for c in cells), (table, cells)
        texts = [cell for table in tables for row in read_csv(table)[1] for cell in row.values()]
        assert value in texts
    return check


def _written_through_link(link: str, target: str) -> Callable[[Path, Path], None]:
    """``link`` is still a link to ``target``, which holds the added rows, and the lock is beside ``target``."""
    def check(out: Path, inputs: Path) -> None:
        assert (out / link).is_symlink() and (out / link).resolve() == (out / target).resolve()
        assert "P1,E0,1" in (out / target).read_text(encoding="utf-8")
        assert (out / target).with_name(f".{Path(target).name}.lock").exists()
        assert not (out / f".{link}.lock").exists()
    return check


def _resume_rescores_a_corrected_segmentation(out: Path, inputs: Path) -> None:
    """The segmentation is corrected in place (same path, a second lesion added); ``batch --resume`` scores the
    case again instead of keeping the journal's stale record."""
    assert set(_read_rows(out / "lesions.csv")) == {"1"}
    (out / "seg.nrrd").write_bytes((inputs / "labels_one_voxel.nrrd").read_bytes())
    assert main(["batch", "--manifest", out / "manifest.csv", "--out", out / "lesions.csv", "--workers", "1",
                 "--resume"]) == 0
    assert set(_read_rows(out / "lesions.csv")) == {"1", "2"}


def _folder_holds(folder: str, **texts: str) -> Callable[[Path, Path], None]:
    """``folder`` holds exactly the files given (name -> text fragment; "" = absent)."""
    def check(out: Path, inputs: Path) -> None:
        for name, fragment in texts.items():
            path = out / folder / name.replace("_dot_", ".")
            assert path.is_file() == bool(fragment), path
            if fragment:
                assert fragment in path.read_text(encoding="utf-8"), path
    return check


def _results_say(*path_and_fragment) -> Callable[[Path, Path], None]:
    """results.json holds ``fragment`` at ``path`` (keys), and report.html shows it."""
    *keys, fragment = path_and_fragment

    def check(out: Path, inputs: Path) -> None:
        value = json.loads((out / "analysis" / "results.json").read_text())
        for key in keys:
            value = value[key]
        assert fragment in json.dumps(value), value
        assert fragment in (out / "analysis" / "report.html").read_text(encoding="utf-8")
    return check


def _patient_row(column: str, fragment: str) -> Callable[[Path, Path], None]:
    def check(out: Path, inputs: Path) -> None:
        with open(out / "patients.csv", newline="", encoding="utf-8") as handle:
            row = next(csv.DictReader(handle))
        assert fragment == row[column], row
    return check


def _runs_with_mplbackend(name: str) -> Callable[[Path, Path], None]:
    """A new process with MPLBACKEND=``name`` runs the command and then imports the plotting module."""
    def check(out: Path, inputs: Path) -> None:
        import subprocess
        import sys

        root = Path(__file__).resolve().parents[3]
        env = dict(os.environ, MPLBACKEND=name, PYTHONPATH=os.pathsep.join(
            [str(root / "CD8RScore"), str(root / "CD8RScoreCohort"), str(root)]))
        code = ("import sys; from CD8RScoreLib.cli import main; code = main(sys.argv[1:]); "
                "import CD8RScoreCohortLib.plots; sys.exit(code)")
        done = subprocess.run([sys.executable, "-c", code, "cutpoint", "--data", str(inputs / "cohort/clinical.csv"),
                               "--time", "os_time", "--event", "os_event", "--variable", "age"], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return check


def patient(table: str) -> list[str]:
    return ["patient", "--lesions", f"{{in}}/{table}", "--out", "{out}/patients.csv"]


def score(image="ct.nrrd", seg="labels.nrrd", *extra) -> list[str]:
    return ["score", "--image", f"{{in}}/{image}", "--segmentation", f"{{in}}/{seg}", *extra,
            "--out", "{out}/lesions.csv"]


def cohort(lesions="cohort/lesions.csv", clinical="cohort/clinical.csv", *extra, out="{out}/analysis") -> list[str]:
    return ["cohort", "--lesions", f"{{in}}/{lesions}", "--clinical", f"{{in}}/{clinical}", "--out", out,
            "--reference-cutoff", "1.0", *extra]


def response(baseline, followup, out="{out}/response.csv") -> list[str]:
    return ["response", "--baseline", f"{{in}}/{baseline}", "--followup", f"{{in}}/{followup}", "--out", out]


CASES = [
    # what behaves: a plain CT scores
    Case("CT in HU scores", score(), 0, rows={"1": {"computable": "1", "warnings": "kVp unknown"}}),
    # 1. non-finite voxels
    Case("NaN voxel in the VOI", score("ct_nan_in_voi.nrrd"), 0,
         rows={"1": {"computable": "0", "score": "", "reason": "non-finite voxel", "warnings": "non-finite"}}),
    Case("NaN and inf in the VOI", score("ct_nan_inf_in_voi.nrrd"), 0,
         rows={"1": {"computable": "0", "reason": "non-finite voxel"}}),
    Case("NaN voxel outside the VOI", score("ct_nan_outside.nrrd"), 0,
         rows={"1": {"computable": "1", "warnings": "1 non-finite voxel(s)"}}),
    Case("every voxel NaN", score("ct_all_nan.nrrd"), 2, ["ct_all_nan.nrrd", "--image", "no finite voxel"]),
    # 2. the scan must look like CT in HU
    Case("MR-like image 0..4000", score("ct_mr_like.nrrd"), 2, ["ct_mr_like.nrrd", "--image", "no value below 0 HU"]),
    Case("DICOM Modality MR", score("dicom_mr"), 2, ["dicom_mr", "--image", "Modality (0008,0060) is MR"]),
    Case("image of one value", score("ct_constant.nrrd"), 2, ["ct_constant.nrrd", "--image", "one value"]),
    Case("values beyond any HU range", score("ct_not_hu.nrrd"), 2, ["ct_not_hu.nrrd", "--image", "are not HU"]),
    Case("constant VOI", score("ct_constant_voi.nrrd"), 0,
         rows={"1": {"computable": "0", "reason": "VOI is constant"}}),
    Case("no air or lung", score("ct_no_air.nrrd"), 0, rows={"1": {"computable": "1", "warnings": "no air or lung"}}),
    # 3. labels
    Case("negative label", score(seg="labels_negative.nrrd"), 2,
         ["labels_negative.nrrd", "--segmentation", "negative values"]),
    Case("float labels", score(seg="labels_fractional.nrrd"), 2, ["labels_fractional.nrrd", "non-integer"]),
    # 4. kVp
    Case("kVp 80 below the training range", score("ct.nrrd", "labels.nrrd", "--kvp", "80"), 0,
         rows={"1": {"computable": "1", "kvp": "80", "warnings": "kVp 80 kV outside the signature's training"}}),
    Case("kVp 140 above the training range", score("ct.nrrd", "labels.nrrd", "--kvp", "140"), 0,
         rows={"1": {"computable": "1", "warnings": "kVp 140 kV outside"}}),
    Case("kVp not a tube voltage", score("ct.nrrd", "labels.nrrd", "--kvp", "20"), 2, ["--kvp", "20 kV"]),
    Case("kVp NaN", score("ct.nrrd", "labels.nrrd", "--kvp", "nan"), 2, ["--kvp", "not a CT tube voltage"]),
    # 5. response
    Case("response files swapped", response("p1_E1.csv", "p1_E0.csv"), 2, ["p1_E1.csv", "timepoint", "swapped"]),
    Case("response of another patient", response("p1_E0.csv", "p2_E1.csv"), 2,
         ["p2_E1.csv", "patient_id", "no patient in common"]),
    Case("response with no lesion id in common", response("p1_E0.csv", "p1_E1_other_ids.csv"), 0,
         message=["0 of 2 baseline lesion(s) matched", "lesion ids"]),
    Case("response matches", response("p1_E0.csv", "p1_E1.csv"), 0, message=["2 of 2 baseline lesion(s) matched"]),
    # 6. cohort without follow-up time
    Case("cohort with every time 0", cohort(clinical="clin_time0.csv"), 2, ["clin_time0.csv", "os_time", "is 0"]),
    # 7. an output naming an input
    Case("score --out the CT", score()[:-1] + ["{in}/ct.nrrd"], 2, ["ct.nrrd", "--out", "same file", "--image"]),
    Case("patient --out its lesion table", ["patient", "--lesions", "{in}/p1_E0.csv", "--out", "{in}/p1_E0.csv"], 2,
         ["p1_E0.csv", "--out", "--lesions"]),
    Case("response --out the baseline", response("p1_E0.csv", "p1_E1.csv", out="{in}/p1_E0.csv"), 2,
         ["--out", "--baseline"]),
    Case("response --out a symlink to the baseline", response("p1_E0.csv", "p1_E1.csv", out="{in}/link_to_p1_E0.csv"),
         2, ["link_to_p1_E0.csv", "--baseline"]),
    Case("response --out a hard link to the baseline",
         response("p1_E0.csv", "p1_E1.csv", out="{in}/hardlink_p1_E0.csv"), 2, ["hardlink_p1_E0.csv", "--baseline"]),
    Case("cohort-add --lesions is the cohort", ["cohort-add", "--lesions", "{in}/p1_E0.csv", "--cohort",
                                                "{in}/p1_E0.csv"], 2, ["p1_E0.csv", "already holds"]),
    # 8. encodings
    Case("locations in Latin-1", score("ct.nrrd", "labels.nrrd", "--locations", "{in}/loc_latin1.csv"), 0,
         rows={"1": {"location": "liver"}, "lésion-foie": {"computable": "0", "reason": "not in the segmentation"}}),
    Case("locations in UTF-8 with BOM", score("ct.nrrd", "labels.nrrd", "--locations", "{in}/loc_bom.csv"), 0,
         rows={"1": {"location": "liver"}}),
    Case("locations in UTF-16", score("ct.nrrd", "labels.nrrd", "--locations", "{in}/loc_utf16.csv"), 2,
         ["loc_utf16.csv", "UTF-16"]),
    Case("locations binary", score("ct.nrrd", "labels.nrrd", "--locations", "{in}/loc_binary.csv"), 2,
         ["loc_binary.csv", "not a text file"]),
    Case("locations unknown site", score("ct.nrrd", "labels.nrrd", "--locations", "{in}/loc_unknown.csv"), 2,
         ["loc_unknown.csv", "row 2", "pancreatic-ish"]),
    Case("locations without its column", score("ct.nrrd", "labels.nrrd", "--locations", "{in}/loc_no_column.csv"),
         2, ["loc_no_column.csv", "missing column(s) location"]),
    Case("clinical table binary", cohort(clinical="clin_binary.csv"), 2, ["clin_binary.csv", "not a text file"]),
    # 9. where results are written
    Case("cohort --out an existing file", cohort(out="{in}/existing_file.txt"), 2,
         ["existing_file.txt", "--out", "is a file"]),
    Case("cohort-add --cohort a folder", ["cohort-add", "--lesions", "{in}/p1_E0.csv", "--cohort", "{in}/a_folder"],
         2, ["a_folder", "--cohort", "is a folder"]),
    Case("cohort file in an unwritable folder", ["cohort-add", "--lesions", "{in}/p1_E0.csv", "--cohort",
                                                 "{out}/cohort.csv"], 2, ["Permission denied"], fault="EACCES"),
    Case("lesion table on a read-only file system", score(), 2, ["Read-only file system"], fault="EROFS"),
    Case("cohort file on a full disk", ["cohort-add", "--lesions", "{in}/p1_E0.csv", "--cohort", "{out}/cohort.csv"],
         2, ["No space left on device"], fault="ENOSPC"),
    Case("interrupted write", score(), 130, ["interrupted", "nothing was written"], fault="interrupt"),
    # 10. cohort statistics on small or degenerate data
    Case("cohort of three patients", cohort("lesions_three.csv", "clin_three.csv"), 0),
    Case("covariate that separates the outcome", cohort("cohort/lesions.csv", "clin_separating.csv", "--covariates",
                                                        "follow"), 0),
    Case("--min-volume-ml above every lesion", cohort("cohort/lesions.csv", "cohort/clinical.csv",
                                                      "--min-volume-ml", "100000"), 2,
         ["--min-volume-ml", "larger than 100000 mL"]),
    Case("clinical table in Latin-1", ["cutpoint", "--data", "{in}/clin_latin1.csv", "--time", "os_time", "--event",
                                       "os_event", "--variable", "age"], 0),
    Case("cohort file in Latin-1", ["cohort-add", "--lesions", "{in}/p1_E0.csv", "--cohort", "{out}/cohort.csv"], 0,
         copies={"cohort_latin1.csv": "cohort.csv"}),
    Case("clinical table without events", cohort(clinical="clin_no_event.csv"), 2, ["clin_no_event.csv", "os_event"]),
    Case("clinical time not a number", cohort(clinical="clin_bad_time.csv"), 2,
         ["clin_bad_time.csv", "row 5, column os_time", "'soon'"]),
    Case("clinical event 2", cohort(clinical="clin_event_2.csv"), 2, ["clin_event_2.csv", "row 6", "1 or 0"]),
    Case("clinical patient twice", cohort(clinical="clin_duplicate.csv"), 2, ["clin_duplicate.csv", "patient_id"]),
    Case("clinical table without pfs_time", cohort(clinical="clin_no_column.csv"), 2,
         ["clin_no_column.csv", "pfs_event without pfs_time", "or neither"]),
    # 11. geometry, with plain numbers
    Case("segmentation spacing differs", score(seg="labels_spacing.nrrd"), 2,
         ["labels_spacing.nrrd", "geometry mismatch", "spacing"]),
    Case("segmentation origin between voxels", score(seg="labels_origin.nrrd"), 2,
         ["labels_origin.nrrd", "origin falls between voxels (continuous index (0.5, 0.0, 0.0))"]),
    Case("segmentation direction differs", score(seg="labels_direction.nrrd"), 2,
         ["labels_direction.nrrd", "direction cosines differ"]),
    Case("segmentation extent beyond the CT", score(seg="labels_extent.nrrd"), 2,
         ["labels_extent.nrrd", "extent (0, 0, 0)..(48, 48, 20) is outside the image (48, 48, 16)"]),
    # what already behaved
    Case("image missing", score("nowhere.nrrd"), 2, ["nowhere.nrrd", "--image", "not found"]),
    Case("image not an image", score("not_an_image.nrrd"), 2, ["not_an_image.nrrd", "cannot read the image"]),
    Case("image truncated", score("ct_truncated.nrrd"), 2, ["ct_truncated.nrrd", "cannot read the image"]),
    Case("2D image", score("ct_2d.nrrd"), 2, ["ct_2d.nrrd", "expected a 3D scalar CT, got 2D"]),
    Case("4D image", score("ct_4d.nrrd"), 2, ["ct_4d.nrrd", "expected a 3D scalar CT, got 4D"]),
    Case("2D segmentation", score(seg="labels_2d.nrrd"), 2, ["labels_2d.nrrd", "2D segmentation"]),
    Case("segmentation missing", score(seg="nowhere.nrrd"), 2, ["nowhere.nrrd", "--segmentation", "not found"]),
    Case("empty segmentation", score(seg="labels_empty.nrrd"), 2, ["labels_empty.nrrd", "no lesion"]),
    Case("one-voxel lesion", score(seg="labels_one_voxel.nrrd"), 0,
         rows={"1": {"computable": "1"}, "2": {"computable": "0", "reason": "core has"}}),
    Case("lesion at the image edge", score(seg="labels_edge.nrrd"), 0,
         rows={"3": {"warnings": "touches the image edge"}}),
    Case("signature missing a coefficient", score("ct.nrrd", "labels.nrrd", "--signature", "{in}/sig_incomplete.json"),
         2, ["sig_incomplete.json", "features[0].coefficient"]),
    Case("signature not JSON", score("ct.nrrd", "labels.nrrd", "--signature", "{in}/sig_not_json.json"), 2,
         ["sig_not_json.json", "not valid JSON"]),
    Case("signature not an object", score("ct.nrrd", "labels.nrrd", "--signature", "{in}/sig_list.json"), 2,
         ["sig_list.json", "JSON object"]),
    Case("signature missing", score("ct.nrrd", "labels.nrrd", "--signature", "{in}/nowhere.json"), 2,
         ["nowhere.json", "not found"]),
    Case("signature fit on a constant target",
         ["fit-signature", "--features", "{in}/fit_features.csv", "--target", "{in}/fit_target_constant.csv",
          "--out", "{out}/fitted.json"], 2,
         ["fit_target_constant.csv: column target: the target does not vary", "different target values"]),
    # 12. silent wrong results: storage precision, storage order, label range
    Case("CT saved as NIfTI (spacing in float32)", score("ct08.nii.gz", "labels08.nii.gz", "--patient-id", "P1"), 0,
         rows={"1": {"computable": "1"}},
         check=_same_table_as("--image", "{in}/ct08.nrrd", "--segmentation", "{in}/labels08.nrrd", "--patient-id",
                              "P1")),
    Case("NRRD spacing off by 1.5e-8 mm", score("ct08_nudged.nrrd", "labels08_nudged.nrrd"), 0,
         rows={"1": {"computable": "1"}},
         check=_same_columns_as(("core_voxels", "ring_voxels", "score_class"), "--image", "{in}/ct08.nrrd",
                                "--segmentation", "{in}/labels08.nrrd")),
    Case("CT stored with permuted axes", score("ct_thick_permuted.nrrd", "labels_thick_permuted.nrrd"), 0,
         rows={"1": {"computable": "1", "warnings": "slice thickness 5 mm"}},
         check=_same_columns_as(("longest_axial_diameter_mm", "volume_ml", "warnings"), "--image",
                                "{in}/ct_thick_plain.nrrd", "--segmentation", "{in}/labels_thick_plain.nrrd")),
    Case("CT stored permuted and flipped", score("ct_thick_flipped.nrrd", "labels_thick_flipped.nrrd"), 0,
         rows={"1": {"computable": "1", "warnings": "slice thickness 5 mm"}},
         check=_same_columns_as(("longest_axial_diameter_mm", "volume_ml", "warnings"), "--image",
                                "{in}/ct_thick_plain.nrrd", "--segmentation", "{in}/labels_thick_plain.nrrd")),
    Case("uint64 label beyond 2^32-1", score(seg="labels_uint64.nrrd"), 2,
         ["labels_uint64.nrrd", "--segmentation", "4294967297, above the largest label"]),
    Case("float64 label beyond 2^32-1", score(seg="labels_float64_huge.nrrd"), 2,
         ["labels_float64_huge.nrrd", "--segmentation", "4294967297, above the largest label"]),
    # 13. control characters and formulas in identifiers
    Case("patient ID ending in CR", score("ct.nrrd", "labels.nrrd", "--patient-id", "P1\r"), 0,
         rows={"1": {"patient_id": "P1"}}, check=_one_line_per_row(1, "P1")),
    Case("patient ID with a line feed inside", score("ct.nrrd", "labels.nrrd", "--patient-id", "P\n1"), 0,
         rows={"1": {"patient_id": "P 1"}}, check=_one_line_per_row(1, "P 1")),
    Case("patient ID a HYPERLINK formula", score("ct.nrrd", "labels.nrrd", f"--patient-id={FORMULAS[0]}"), 0,
         rows={"1": {"patient_id": "'" + FORMULAS[0]}}, check=_no_live_formula(FORMULAS[0])),
    Case("patient ID a command formula", score("ct.nrrd", "labels.nrrd", f"--patient-id={FORMULAS[1]}"), 0,
         rows={"1": {"patient_id": "'" + FORMULAS[1]}}, check=_no_live_formula(FORMULAS[1])),
    # 14. shared files and resumed work
    Case("cohort-add through a symbolic link", ["cohort-add", "--lesions", "{in}/p1_E0.csv", "--cohort",
                                                "{out}/link.csv"], 0,
         copies={"cohort_latin1.csv": "shared/cohort.csv"}, links={"link.csv": "shared/cohort.csv"},
         check=_written_through_link("link.csv", "shared/cohort.csv")),
    Case("cohort-add while another name's writer holds the lock",
         ["cohort-add", "--lesions", "{in}/p1_E0.csv", "--cohort", "{out}/link.csv"], 2,
         ["shared/cohort.csv", "held the lock"], fault="cohort lock held",
         copies={"cohort_latin1.csv": "shared/cohort.csv"}, links={"link.csv": "shared/cohort.csv"}),
    Case("batch --resume after a segmentation corrected in place",
         ["batch", "--manifest", "{out}/manifest.csv", "--out", "{out}/lesions.csv", "--workers", "1"], 0,
         rows={"1": {"computable": "1"}}, copies={"manifest_one.csv": "manifest.csv", "ct.nrrd": "ct.nrrd",
                                                  "labels.nrrd": "seg.nrrd"},
         check=_resume_rescores_a_corrected_segmentation),
    Case("cohort failing half-way keeps the earlier output folder", cohort(), 2, ["No space left on device"],
         fault="full disk at results.json",
         copies={"old_analysis/results.json": "analysis/results.json", "old_analysis/report.html":
                 "analysis/report.html"},
         check=_folder_holds("analysis", results_dot_json="patients_analysed\": 1", report_dot_html="earlier report",
                             patient_metrics_dot_csv="")),
    Case("cohort replaces an earlier output folder whole", cohort(), 0,
         copies={"old_analysis/results.json": "analysis/results.json", "old_analysis/report.html":
                 "analysis/report.html", "existing_file.txt": "analysis/stale_table.csv"},
         check=_folder_holds("analysis", stale_table_dot_csv="", report_dot_html="<html",
                             patient_metrics_dot_csv="patient_id")),
    Case("cohort --out a folder of other files", cohort(), 2, ["analysis", "--out", "not results of this command"],
         copies={"existing_file.txt": "analysis/notes.txt"}, check=_folder_holds("analysis", notes_dot_txt="keep me")),
    # 15. numbers that are not what they seem
    Case("patient: computable lesion with score inf", patient("p1_score_inf.csv"), 2,
         ["p1_score_inf.csv", "row 2, column score", "marked computable", "'inf'"]),
    Case("patient: computable lesion with an empty score", patient("p1_score_empty.csv"), 2,
         ["p1_score_empty.csv", "row 2, column score", "marked computable"]),
    Case("patient: score with a decimal comma", patient("p1_score_comma.csv"), 2,
         ["p1_score_comma.csv", "row 2, column score", "'1,7' is not a number"]),
    Case("patient: score 1e308", patient("p1_score_huge.csv"), 2, ["p1_score_huge.csv", "not a finite score within"]),
    Case("patient: score 1e-320 (subnormal)", patient("p1_score_tiny.csv"), 0,
         check=_patient_row("least_infiltrated_lesion_id", "1")),
    Case("response: diameter with a unit", response("p1_E0_units.csv", "p1_E1.csv"), 2,
         ["p1_E0_units.csv", "row 2, column longest_axial_diameter_mm", "'12 mm' is not a number"]),
    Case("cohort: survival times in days", cohort(clinical="clin_days.csv"), 0,
         message=["warning: os_time looks like days"],
         check=_results_say("plausibility_warnings", "pfs_time looks like days")),
    Case("cohort: a Cox step that does not converge", cohort(), 0, fault="Cox does not converge",
         check=_results_say("patient_level", "multivariate_selection", "os", "note", "did not converge at step 1")),
    # 16. crashes
    Case("score --seed -1", score("ct.nrrd", "labels.nrrd", "--perturbations", "2", "--seed", "-1"), 2,
         ["--seed", "-1 is negative"]),
    Case("cohort --seed -1", cohort("cohort/lesions.csv", "cohort/clinical.csv", "--seed", "-1"), 2,
         ["--seed", "-1 is negative"]),
    Case("MPLBACKEND naming no backend", ["cutpoint", "--data", "{in}/cohort/clinical.csv", "--time", "os_time",
                                          "--event", "os_event", "--variable", "age"], 0,
         check=_runs_with_mplbackend("no-such-backend")),
    Case("cutpoint with stdout closed", ["cutpoint", "--data", "{in}/cohort/clinical.csv", "--time", "os_time",
                                         "--event", "os_event", "--variable", "age"], 2,
         ["stdout", "standard output is closed"], fault="stdout closed"),
    Case("cutpoint on a constant variable", ["cutpoint", "--data", "{in}/cohort/clinical.csv", "--time", "os_time",
                                             "--event", "os_event", "--variable", "simulated"], 2,
         ["clinical.csv", "simulated", "same value (1)"]),
    Case("image path with a byte that is not UTF-8", score(os.fsdecode(b"ct\xff.nrrd")), 2,
         ["--image", "not UTF-8 text"]),
    Case("VOI too large for the memory left", score(), 0, fault="little memory",
         rows={"1": {"computable": "0", "reason": "GB are available"}}),
    Case("batch --workers far above the cores",
         ["batch", "--manifest", "{out}/manifest.csv", "--out", "{out}/lesions.csv", "--workers", "100000"], 0,
         message=["--workers 100000 is more than the", "core(s)"], rows={"1": {"computable": "1"}},
         copies={"manifest_one.csv": "manifest.csv", "ct.nrrd": "ct.nrrd", "labels.nrrd": "seg.nrrd"}),
    Case("$ in a signature name and a covariate (plot labels)", cohort("lesions_dollar.csv", "clin_dollar.csv"), 0,
         check=_results_say("signature_name", "$v_1$ $")),
    Case("formulas in a cohort's ids, names and covariates", cohort("lesions_formulas.csv", "clin_formulas.csv"), 0,
         check=_no_live_formula("-2+3")),
]


def _inject(monkeypatch, fault: "str | None") -> None:
    """Make the atomic writer fail the way the system would."""
    if fault is None or fault == "cohort lock held":
        return
    import tempfile

    if fault in ("EACCES", "EROFS"):
        def refuse(*args, dir=None, **kwargs):
            raise OSError(getattr(errno, fault), os.strerror(getattr(errno, fault)), dir)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    elif fault == "ENOSPC":
        def full(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "fsync", full)
    elif fault == "full disk at results.json":  # after the CSVs and figures of a cohort were written
        import CD8RScoreCohortLib.analysis as analysis

        def full_at_results(path, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

        monkeypatch.setattr(analysis, "atomic_write_text", full_at_results)
    elif fault == "little memory":  # the system has 10 kB left for this process
        import CD8RScoreLib.memory_budget as memory_budget

        monkeypatch.setattr(memory_budget, "available_bytes", lambda: 1e4)
    elif fault == "stdout closed":  # started with >&-
        monkeypatch.setattr("sys.stdout", None)
    elif fault == "Cox does not converge":  # as lifelines with too many terms for the events
        import CD8RScoreCohortLib.multivariate as multivariate
        from lifelines.exceptions import ConvergenceError

        def diverge(*args, **kwargs):
            raise ConvergenceError("Convergence halted due to matrix inversion problems")

        monkeypatch.setattr(multivariate, "_drop_one_p", diverge)
    elif fault == "interrupt":
        def interrupt(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "replace", interrupt)


def _read_rows(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {r["lesion_id"]: r for r in csv.DictReader(handle)}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_matrix(case: Case, inputs: Path, tmp_path: Path, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.replace("{in}", str(inputs)).replace("{out}", str(out)) for a in case.argv]
    for source, name in case.copies.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes((inputs / source).read_bytes())
    for link, target in case.links.items():
        (out / link).symlink_to(out / target)
    held = None
    if case.fault == "cohort lock held":  # another writer holds the lock of the real cohort file
        from filelock import FileLock

        import CD8RScoreLib.cohort_file as cohort_file

        monkeypatch.setattr(cohort_file, "LOCK_TIMEOUT_S", 0.2)
        held = FileLock(str(out / "shared" / ".cohort.csv.lock"))
        held.acquire()
    before = _hashes(inputs)
    _inject(monkeypatch, case.fault)
    code = main(argv)
    monkeypatch.undo()
    if held is not None:
        held.release()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == case.exit_code, err
    assert "Traceback" not in err and "np." not in err, err
    after = _hashes(inputs)
    assert {k: after.get(k) for k in before} == before, "an input file changed"
    if case.check is not None:
        case.check(out, inputs)
    assert all(k.endswith(".lock") for k in set(after) - set(before)), "a file appeared beside the inputs"
    if code != 0:
        assert len(lines) == 1, err
        for fragment in case.message:
            assert fragment in lines[0], (fragment, lines[0])
        left = [p for p in out.rglob("*") if p.is_file() and not p.name.endswith(".lock")  # cohort-add's lock
                and str(p.relative_to(out)) not in set(case.copies.values()) | set(case.links)]
        assert not left, f"a failed command left files behind: {left}"
        return
    for fragment in case.message:
        assert fragment in err, (fragment, err)
    if case.rows:
        rows = _read_rows(out / "lesions.csv")
        for lesion_id, expected in case.rows.items():
            assert lesion_id in rows, sorted(rows)
            for column, fragment in expected.items():
                value = rows[lesion_id][column]
                assert (value == fragment) if fragment in ("", "0", "1") else (fragment in value), \
                    (lesion_id, column, value)
        for row in rows.values():  # a score only where the row says computable
            assert (row["score"] != "") == (row["computable"] == "1"), row
    if argv[0] == "cohort":
        results = json.loads((out / "analysis" / "results.json").read_text())
        assert results["counts"]["patients_analysed"] > 0
    if argv[0] == "cohort-add" and case.copies:  # the edited file keeps its rows and gains the new ones
        text = (out / next(iter(case.copies.values()))).read_text(encoding="utf-8")
        assert "P9,E0,1,lésion" in text and "P1,E0,1" in text


def test_matrix_covers_every_class_of_bad_input():
    """docs/reliability.md states this count: keep them in step."""
    page = (Path(__file__).resolve().parents[3] / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert f"bad-input matrix holds {len(CASES)} cases" in page
