"""``cd8rscore index``: a DICOM folder tree (a media export with a DICOMDIR and a flat archive) becomes the manifest
``batch`` reads, each CT paired with its SEG or RTSTRUCT by the referenced series UID and each patient's studies
ordered into E0 and E1; every file not used is listed with its reason; ``batch`` on that manifest gives the lesion
table of a manifest written by hand; the bad cases give their expected lines."""
from __future__ import annotations

import csv
import datetime
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from CD8RScoreLib.cli import main
from CD8RScoreLib.dicom_demo_data import DemoLesion, new_study, write_ct_series, write_rtstruct, write_seg
from CD8RScoreLib.dicom_demo_tree import demo_tree_patients, write_dicom_tree
from CD8RScoreLib.dicom_series_list import read_series_list


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def manifest_files(manifest: Path, image: str) -> list[Path]:
    """The CT files a manifest's image names: the folder's files, or the series list's."""
    path = manifest.parent / image
    if path.is_dir():
        return sorted(p.resolve() for p in path.iterdir())
    return sorted(Path(p).resolve() for p in read_series_list(path))


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict:
    """The demo's tree (three patients, two studies each: SEG and RTSTRUCT in a DICOMDIR export, SEG in a flat
    archive, a localizer and a dose report in every study), indexed once by the command line."""
    root = tmp_path_factory.mktemp("export")
    written = write_dicom_tree(root / "dicom", demo_tree_patients())
    out = root / "index" / "manifest.csv"
    assert main(["index", "--dicom-root", root / "dicom", "--out", out]) == 0
    return {"root": root / "dicom", "written": written, "manifest": out,
            "unused": out.parent / "manifest_unused.csv"}


def test_index_pairs_each_ct_with_its_segmentation_and_orders_the_studies(tree):
    rows = read_rows(tree["manifest"])
    assert [(r["patient_id"], r["timepoint"]) for r in rows] == [
        (p, tp) for p in ("SYNTHETIC-101", "SYNTHETIC-102", "SYNTHETIC-103") for tp in ("E0", "E1")]
    for row, truth in zip(rows, tree["written"]):  # the writer's studies, patient by patient in date order
        assert row["patient_id"] == truth.patient_id and row["study_date"] == truth.study_date
        assert manifest_files(tree["manifest"], row["image"]) == [p.resolve() for p in truth.ct_files]
        assert (tree["manifest"].parent / row["segmentation"]).resolve() == truth.segmentation.resolve()
        assert row["header_kvp"] == "120" and row["kvp"] == ""  # batch reads the tag itself (kvp_source dicom)
    # the DICOMDIR export holds one series per folder: folders; the flat archive mixes them: series lists
    assert [row["image"].endswith(".txt") for row in rows] == [False] * 4 + [True] * 2


def test_every_file_is_used_or_listed_with_its_reason(tree):
    unused = read_rows(tree["unused"])
    used = set()
    for row in read_rows(tree["manifest"]):
        used |= set(manifest_files(tree["manifest"], row["image"]))
        used.add((tree["manifest"].parent / row["segmentation"]).resolve())
    listed = {(tree["root"] / r["file"]).resolve(): r["reason"] for r in unused}
    every = {Path(folder, name).resolve() for folder, _, names in os.walk(tree["root"]) for name in names}
    assert used | set(listed) == every and not used & set(listed)
    reasons = sorted(listed.values())
    assert reasons == ["dicomdir"] + ["dose_report"] * 6 + ["localizer"] * 6
    assert all(not r["file"] or r["patient_id"] for r in unused if r["reason"] != "dicomdir")


def test_batch_on_the_index_manifest_gives_the_table_of_a_hand_written_manifest(tree, tmp_path):
    lines = ["patient_id,timepoint,image,segmentation"]
    for truth, timepoint in zip(tree["written"], ["E0", "E1"] * 3):
        folder = truth.ct_files[0].parent
        if set(folder.iterdir()) == set(truth.ct_files):
            image = folder
        else:  # the flat archive: the CT's files listed by hand, in any order
            image = tmp_path / f"{truth.patient_id}_{timepoint}.txt"
            image.write_text("\n".join(str(p) for p in reversed(truth.ct_files)) + "\n")
        lines.append(f"{truth.patient_id},{timepoint},{image},{truth.segmentation}")
    hand = tmp_path / "hand.csv"
    hand.write_text("\n".join(lines) + "\n")
    tables = []
    for manifest, out in ((hand, tmp_path / "hand_lesions.csv"), (tree["manifest"], tmp_path / "index_lesions.csv")):
        result = subprocess.run([sys.executable, "-m", "CD8RScoreLib", "batch", "--manifest", str(manifest),
                                 "--out", str(out), "--workers", "2"], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        tables.append(out.read_text())
    assert tables[0] == tables[1]
    rows = read_rows(tmp_path / "index_lesions.csv")
    assert len(rows) == 12 and all(r["computable"] == "1" and r["kvp_source"] == "dicom" for r in rows)


# ---------------------------------------------------------------------------------------------- bad cases

WHEN = datetime.datetime(2022, 5, 3, 10, 0, 0)
LESION = [DemoLesion(1, "liver_1", "liver")]


def tiny_ct(seed: int) -> tuple[sitk.Image, sitk.Image]:
    """A 12 x 12 x 3 CT (HU: soft tissue, air in its first rows) with one 4 x 4 x 1 lesion labelled 1."""
    rng = np.random.default_rng(seed)
    array = rng.normal(40, 10, (3, 12, 12)).astype(np.int16)
    array[:, :2] = -1000
    image = sitk.GetImageFromArray(array)
    labels = np.zeros((3, 12, 12), dtype=np.uint8)
    labels[1, 4:8, 4:8] = 1
    return image, sitk.GetImageFromArray(labels)


def write_study(folder: Path, patient_id: str, days: int, seed: int) -> tuple[list, sitk.Image]:
    image, labels = tiny_ct(seed)
    ct = write_ct_series(image, folder / "CT", patient_id, study=new_study(patient_id, WHEN + datetime.timedelta(days)))
    return ct, labels


def test_bad_cases_are_listed_with_their_expected_lines(tmp_path):
    root = tmp_path / "dicom"
    # P1: two studies; the follow-up CT has a SEG and a newer RTSTRUCT
    ct, labels = write_study(root / "P1" / "A", "P1", 0, 1)
    write_seg(ct, labels, LESION, root / "P1" / "A" / "seg.dcm")
    ct1, labels1 = write_study(root / "P1" / "B", "P1", 90, 2)
    seg = write_seg(ct1, labels1, LESION, root / "P1" / "B" / "seg.dcm")
    rtstruct_path = root / "P1" / "B" / "rtstruct.dcm"
    write_rtstruct(ct1, labels1, LESION, rtstruct_path)
    rtstruct = pydicom.dcmread(rtstruct_path)
    rtstruct.StructureSetDate, rtstruct.StructureSetTime = "20300101", "120000"  # newer than the SEG
    rtstruct.save_as(rtstruct_path)
    # P2: a SEG whose CT series is not in the tree
    ct2, labels2 = write_study(root / "P2", "P2", 0, 3)
    write_seg(ct2, labels2, LESION, root / "P2" / "seg.dcm")
    for path in (root / "P2" / "CT").iterdir():
        path.unlink()
    # P3: one study only
    ct3, labels3 = write_study(root / "P3", "P3", 7, 4)
    write_seg(ct3, labels3, LESION, root / "P3" / "seg.dcm")

    out = tmp_path / "manifest.csv"
    assert main(["index", "--dicom-root", root, "--out", out]) == 0
    manifest = read_rows(out)
    assert [(r["patient_id"], r["timepoint"], r["image"], r["segmentation"]) for r in manifest] == [
        ("P1", "E0", "dicom/P1/A/CT", "dicom/P1/A/seg.dcm"),
        ("P1", "E1", "dicom/P1/B/CT", "dicom/P1/B/rtstruct.dcm"),
        ("P3", "E0", "dicom/P3/CT", "dicom/P3/seg.dcm")]
    seg_made = f"{seg.ContentDate} {seg.ContentTime}"
    assert (out.parent / "manifest_unused.csv").read_text().splitlines() == [
        "file,patient_id,study_date,series_uid,reason,detail",
        f"P1/B/seg.dcm,P1,20220801,{seg.SeriesInstanceUID},second_segmentation,\"SEG made {seg_made} of series 1 "
        "'SYNTHETIC CT (cd8rscore demo)' (3 file(s)), which has 2 segmentations; taken: P1/B/rtstruct.dcm "
        "(RTSTRUCT made 20300101 120000): it is the newest; edit the manifest's segmentation to use this one\"",
        f"P2/seg.dcm,P2,20220503,{read_seg_series(root / 'P2' / 'seg.dcm')},segmentation_series_absent,\"SEG of series "
        f"{ct2[0].SeriesInstanceUID}, which is not in the tree; export that CT series with it\"",
        ',P3,20220510,,single_study,"only one study with a segmented CT: E0 only, no E1 row"']


def read_seg_series(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)


def test_a_tree_without_a_segmented_ct_is_refused_and_says_why(tmp_path, capsys):
    write_study(tmp_path / "dicom" / "P1", "P1", 0, 1)
    (tmp_path / "dicom" / "notes.txt").write_text("not DICOM\n")
    out = tmp_path / "manifest.csv"
    assert main(["index", "--dicom-root", tmp_path / "dicom", "--out", out]) == 2
    assert "no CT series with its SEG or RTSTRUCT" in capsys.readouterr().err
    assert not out.exists()
    reasons = [(r["file"], r["reason"]) for r in read_rows(tmp_path / "manifest_unused.csv")]
    assert reasons == [("P1/CT/CT0001.dcm", "series_without_segmentation"),
                       ("P1/CT/CT0002.dcm", "series_without_segmentation"),
                       ("P1/CT/CT0003.dcm", "series_without_segmentation"), ("notes.txt", "not_dicom")]


def test_an_existing_manifest_is_kept_without_replace(tmp_path, capsys):
    out = tmp_path / "manifest.csv"
    out.write_text("edited by hand\n")
    (tmp_path / "dicom").mkdir()
    assert main(["index", "--dicom-root", tmp_path / "dicom", "--out", out]) == 2
    assert "--replace" in capsys.readouterr().err and out.read_text() == "edited by hand\n"


def test_a_series_list_in_any_order_reads_the_image_of_its_folder(tmp_path):
    from CD8RScoreLib.imageio import read_image

    write_study(tmp_path, "P1", 0, 1)
    files = sorted((tmp_path / "CT").iterdir())
    listed = tmp_path / "ct.txt"
    listed.write_text("# slices\n" + "\n".join(f"CT/{p.name}" for p in (files[1], files[2], files[0])) + "\n\n")
    (image, info), (expected, expected_info) = read_image(listed), read_image(tmp_path / "CT")
    assert np.array_equal(sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(expected))
    assert (image.GetOrigin(), image.GetSpacing(), image.GetDirection()) == \
           (expected.GetOrigin(), expected.GetSpacing(), expected.GetDirection())
    assert info == expected_info and image.GetMetaData("0020|000e") == expected.GetMetaData("0020|000e")


def test_a_series_list_of_two_series_or_a_missing_file_is_refused_by_line(tmp_path, capsys):
    write_study(tmp_path / "a", "P1", 0, 1)
    write_study(tmp_path / "b", "P1", 0, 2)
    seg = tmp_path / "seg.nrrd"
    sitk.WriteImage(tiny_ct(1)[1], str(seg))
    listed = tmp_path / "ct.txt"
    listed.write_text("a/CT/CT0001.dcm\nb/CT/CT0002.dcm\n")
    assert main(["score", "--image", listed, "--segmentation", seg, "--out", tmp_path / "out.csv"]) == 2
    assert f"{listed}: --image: 2 image series here" in capsys.readouterr().err
    listed.write_text("a/CT/CT0001.dcm\na/CT/CT0009.dcm\n")
    assert main(["score", "--image", listed, "--segmentation", seg, "--out", tmp_path / "out.csv"]) == 2
    assert f"{listed}: --image: line 2: a/CT/CT0009.dcm not found" in capsys.readouterr().err


def test_the_quick_header_scan_reads_what_pydicom_reads(tree):
    """Every file pydicom ships for its own tests (transfer syntaxes, character sets, damaged and odd files) and
    every file of the demo's tree gives the same header through the quick scan as through pydicom."""
    import warnings
    from dataclasses import asdict

    from pydicom.data import get_testdata_file

    from CD8RScoreLib.dicom_header_scan import scan_header
    from CD8RScoreLib.dicom_tree_headers import HEADER_BYTES, LAST_TAG, _scanned_tags, read_header

    shipped = Path(get_testdata_file("CT_small.dcm")).parent
    files = sorted(str(p) for p in shipped.rglob("*") if p.is_file())
    files += sorted(str(p) for p in tree["root"].rglob("*") if p.is_file())
    scanned = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's warnings about its deliberately odd test files
        for path in files:
            assert asdict(read_header(path)) == asdict(read_header(path, scan=False)), path
            with open(path, "rb") as handle:
                start = handle.read(HEADER_BYTES)
            scanned += scan_header(start, _scanned_tags(), LAST_TAG, len(start) < HEADER_BYTES) is not None
    assert len(files) > 300 and scanned > 0.8 * len(files)


def test_ctrl_c_stops_the_index_writes_nothing_and_leaves_no_worker(tmp_path):
    import signal
    import time

    import psutil

    write_study(tmp_path / "one", "P1", 0, 1)
    slice_bytes = (tmp_path / "one" / "CT" / "CT0001.dcm").read_bytes()
    for folder in range(40):  # 20,000 copies: seconds of reading, whatever the machine's load
        (tmp_path / "dicom" / f"{folder:02d}").mkdir(parents=True)
        for number in range(500):
            (tmp_path / "dicom" / f"{folder:02d}" / f"IM{number}").write_bytes(slice_bytes)
    process = subprocess.Popen([sys.executable, "-m", "CD8RScoreLib", "index", "--dicom-root", str(tmp_path / "dicom"),
                                "--out", str(tmp_path / "manifest.csv")], stderr=subprocess.PIPE, text=True)
    from CD8RScoreLib.worker_processes import available_cores

    pool = available_cores() if available_cores() > 1 else 0  # one worker per core; none on one core
    deadline = time.monotonic() + 60
    time.sleep(0.5)
    while len(psutil.Process(process.pid).children()) < pool and time.monotonic() < deadline:  # reading has begun
        time.sleep(0.05)
    workers = psutil.Process(process.pid).children()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "interrupted; nothing was written" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dicom", "one"]
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]


def test_a_manifest_written_inside_the_tree_is_not_indexed_the_next_time(tmp_path):
    ct, labels = write_study(tmp_path, "P1", 0, 1)
    write_seg(ct, labels, LESION, tmp_path / "CT" / "seg.dcm")  # in the CT's folder: the CT is given as a list
    out = tmp_path / "manifest.csv"
    assert main(["index", "--dicom-root", tmp_path, "--out", out]) == 0
    first = out.read_text()
    assert main(["index", "--dicom-root", tmp_path, "--out", out, "--replace"]) == 0
    assert out.read_text() == first and read_rows(out)[0]["image"].startswith("manifest_series/")
    assert [r["reason"] for r in read_rows(tmp_path / "manifest_unused.csv")] == ["single_study"]


def test_every_rule_of_the_pairing_on_headers(tmp_path):
    """build_index on headers alone: three studies (the third left out), two segmented series in one study, a
    localizer inside the CT series, a copy of a slice, a SEG of a localizer, a SEG of another patient's CT, slices
    without kVp or with two kVp, two studies at the same date and time."""
    from CD8RScoreLib.dicom_index import build_index
    from CD8RScoreLib.dicom_tree_headers import CT_IMAGE_STORAGE, SEGMENTATION_STORAGE, Header

    def ct(path, patient, study, date, series, number=2, instance=None, kvp="120", kind="AXIAL"):
        return Header(str(tmp_path / path), sop_class=CT_IMAGE_STORAGE, sop_instance=instance or path,
                      modality="CT", patient_id=patient, study_uid=study, study_date=date, study_time="100000",
                      series_uid=series, series_number=number, image_type=("ORIGINAL", "PRIMARY", kind),
                      kvp=kvp, has_position=True)

    def seg(path, patient, study, date, series, made="20240101 120000"):
        return Header(str(tmp_path / path), sop_class=SEGMENTATION_STORAGE, sop_instance=path, modality="SEG",
                      patient_id=patient, study_uid=study, study_date=date, series_uid=path + ".s",
                      content_datetime=made, referenced_series=(series,))

    headers = [
        ct("a/1", "A", "st1", "20200101", "ct1"), ct("a/2", "A", "st1", "20200101", "ct1"),
        ct("a/loc", "A", "st1", "20200101", "ct1", kind="LOCALIZER"),
        ct("a/copy", "A", "st1", "20200101", "ct1", instance="a/1"), seg("a/seg", "A", "st1", "20200101", "ct1"),
        ct("a/r1", "A", "st1", "20200101", "ct1b", number=3), seg("a/segb", "A", "st1", "20200101", "ct1b"),
        ct("b/1", "A", "st2", "20200401", "ct2", kvp=""), seg("b/seg", "A", "st2", "20200401", "ct2"),
        ct("c/1", "A", "st3", "20200701", "ct3"), seg("c/seg", "A", "st3", "20200701", "ct3"),
        ct("d/1", "B", "st4", "20210101", "ct4"), ct("d/2", "B", "st4", "20210101", "ct4", kvp="100"),
        seg("d/seg", "B", "st4", "20210101", "ct4"), seg("d/segloc", "B", "st4", "20210101", "loc4"),
        ct("d/loc", "B", "st4", "20210101", "loc4", kind="LOCALIZER"),
        ct("e/1", "B", "st5", "20210101", "ct5"), seg("e/seg", "B", "st5", "20210101", "ct5"),
        seg("e/other", "C", "st9", "20210101", "ct5"),
    ]
    index = build_index(headers, tmp_path)
    assert [(c.patient_id, c.timepoint, [Path(f).name for f in c.ct_files], Path(c.segmentation).name, c.header_kvp)
            for c in index.cases] == [("A", "E0", ["1", "2"], "seg", "120"), ("A", "E1", ["1"], "seg", ""),
                                      ("B", "E0", ["1", "2"], "seg", "100\\120"), ("B", "E1", ["1"], "seg", "120")]
    assert [(r["file"], r["patient_id"], r["reason"]) for r in index.unused] == [
        ("a/copy", "A", "duplicate"), ("a/loc", "A", "localizer"),
        ("a/r1", "A", "second_segmented_series"), ("a/segb", "A", "second_segmented_series"),
        ("c/1", "A", "later_study"), ("c/seg", "A", "later_study"),
        ("d/loc", "B", "localizer"), ("d/segloc", "B", "segmentation_not_on_ct"),
        ("e/other", "C", "patient_mismatch"),
        ("", "A", "no_kvp"), ("", "B", "kvp_varies"), ("", "B", "same_study_time")]
    detail = {r["file"] or r["reason"]: r["detail"] for r in index.unused}
    assert detail["a/r1"] == ("another segmented CT series of the study of 20200101; taken: series 2 (2 file(s)) "
                              "(lowest series number); edit the manifest to use this one")
    assert detail["d/segloc"] == "SEG of series 2 (1 file(s)), which is not a CT series"
