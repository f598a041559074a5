"""DICOM as hospitals send it: every case gives the label map's lesion table exactly, the table with a warning on
each row, or a one-line refusal (exit 2) naming the right file and the cause.

Data: data/dicom/ (README there), a crop of the sample CT lung1 written by independent tools (dcmtk, dcmqi,
pydicom-seg, rt-utils, highdicom, pydicom + OpenJPEG) by data/dicom/make_cases.sh; the cases this file makes itself
(character sets, geometry faults, localizers, dose reports, CD exports) are the stored series changed by pydicom.
"""
from __future__ import annotations

import copy
import csv
import json
import math
import shutil
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.uid import generate_uid

from CD8RScoreLib.cli import main, score_case
from CD8RScoreLib.imageio import read_image, read_segmentation
from CD8RScoreLib.signature import load_signature
from tid1500_reading import assert_tid1500reader_reads

DATA = Path(__file__).parent / "data" / "dicom"
CT = DATA / "ct"
LOSSLESS = ["ct_jpeg_lossless", "ct_jpegls_lossless", "ct_rle", "ct_implicit_vr", "ct_big_endian", "ct_deflated",
            "enhanced_ct.dcm"]
LOSSY = ["ct_jpeg12_lossy", "ct_j2k_lossy"]


@pytest.fixture(scope="module")
def signature():
    return load_signature()


@pytest.fixture(scope="module")
def reference(signature) -> list[dict]:
    """The label map's lesion table on the original series."""
    return score_case(CT, DATA / "label.nrrd", None, None, signature)


@pytest.fixture(scope="module")
def seg_reference(signature) -> list[dict]:
    """The lesion table of dcmqi's SEG on the original series (segment "lung_1", site Lung from its codes)."""
    return score_case(CT, DATA / "seg_dcmqi.dcm", None, None, signature)


def slices(folder: Path = CT) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]


def write(datasets, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for k, ds in enumerate(datasets):
        ds.save_as(folder / f"IM{k + 1:04d}.dcm", enforce_file_format=True)
    return folder


def without(row: dict, *columns: str) -> dict:
    return {k: v for k, v in row.items() if k not in columns}


def error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- transfer syntaxes and lossy compression ------------------------------------------------------------------


@pytest.mark.parametrize("name", LOSSLESS)
def test_lossless_and_uncompressed_transfer_syntaxes_give_the_label_maps_table_exactly(name, signature, reference):
    # dcmtk's JPEG lossless, JPEG-LS, RLE, implicit VR, big endian and deflated copies of the series, and highdicom's
    # multi-frame (Legacy Converted Enhanced) CT of it: the same voxels, so the same table, every column
    assert score_case(DATA / name, DATA / "label.nrrd", None, None, signature) == reference


@pytest.mark.parametrize("name", LOSSY)
def test_lossy_ct_is_flagged_on_every_row_and_in_the_sr_and_codecs_stay_quiet(name, reference, tmp_path, capfd):
    # 12-bit lossy JPEG (dcmtk) makes GDCM print "Unsupported JPEG data precision 12" once per slice on the process's
    # stderr; irreversible JPEG 2000 (OpenJPEG). None of it reaches the terminal; each row says lossy.
    out, sr = tmp_path / "lesions.csv", tmp_path / "sr.dcm"
    assert main(["score", "--image", DATA / name, "--segmentation", DATA / "seg_dcmqi.dcm", "--out", out,
                 "--sr", sr]) == 0
    assert capfd.readouterr().err == ""  # the summary goes to stdout; nothing of the codecs reaches stderr
    rows = read_rows(out)
    assert rows and all("lossy-compressed CT" in row["warnings"] for row in rows)
    expected = "JPEG Extended (12-bit)" if name == "ct_jpeg12_lossy" else "JPEG 2000"
    assert expected in rows[0]["warnings"] and "Lossy Image Compression 01" in rows[0]["warnings"]
    assert float(rows[0]["volume_ml"]) == pytest.approx(reference[0]["volume_ml"], rel=1e-6)
    assert float(rows[0]["score"]) != pytest.approx(reference[0]["score"], abs=1e-6)  # lossy moved the texture
    assert_tid1500reader_reads(sr)
    report = hd.sr.srread(sr)
    group = report.content.get_volumetric_roi_measurement_groups()[0]
    lossy = [q for q in group.get_qualitative_evaluations() if q.name.value == "CD8RS-LOSSY"]
    assert [q.value.meaning for q in lossy] == ["Yes"]


def test_the_original_series_is_not_flagged_lossy(reference):
    assert "lossy" not in reference[0]["warnings"]


# --- character sets -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("charset, patient_id, patient_name", [
    ("ISO_IR 100", "MÜLLER-É01", "Müller^Renée"),  # Latin-1, as European sites send
    ("ISO_IR 192", "ŁÓDŹ-Ż01", "Żółć^Łucja"),  # UTF-8
    (["ISO 2022 IR 6", "ISO 2022 IR 87"], "山田-01", "Yamada^Tarou=山田^太郎=やまだ^たろう"),  # multi-valued, JIS
])
def test_names_and_ids_are_decoded_with_the_series_character_set_and_written_as_utf8(
        charset, patient_id, patient_name, tmp_path, capsys):
    series = slices()
    for ds in series:
        ds.SpecificCharacterSet = charset
        ds.PatientID, ds.PatientName = patient_id, patient_name
    folder = write(series, tmp_path / "ct")
    stored = (folder / "IM0001.dcm").read_bytes()
    assert patient_id.encode("utf-8") not in stored or charset == "ISO_IR 192"  # really written in that set
    out, sr = tmp_path / "lesions.csv", tmp_path / "sr.dcm"
    assert main(["score", "--image", folder, "--segmentation", DATA / "seg_dcmqi.dcm", "--out", out,
                 "--sr", sr]) == 0
    assert [row["patient_id"] for row in read_rows(out)] == [patient_id]  # read back as UTF-8
    assert_tid1500reader_reads(sr)
    report = pydicom.dcmread(sr)
    assert report.SpecificCharacterSet == "ISO_IR 192"
    assert (report.PatientID, str(report.PatientName)) == (patient_id, patient_name)


# --- which series: the one read, whatever else is in the folder --------------------------------------------------


def _dose_report(ct: pydicom.Dataset) -> pydicom.Dataset:
    """An X-Ray Radiation Dose SR of the same study, as scanners put beside the CT (its own series)."""
    ds = pydicom.Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.67"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "StudyDate", "StudyTime"):
        setattr(ds, keyword, getattr(ct, keyword))
    ds.Modality, ds.SeriesInstanceUID, ds.SeriesNumber = "SR", generate_uid(), 999
    ds.SeriesDescription = "Dose Report"
    return ds


def _thumbnail(ct: pydicom.Dataset) -> pydicom.Dataset:
    """A secondary-capture thumbnail of another series (no position in the patient)."""
    ds = copy.deepcopy(ct)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID, ds.Modality = generate_uid(), "OT"
    for keyword in ("ImagePositionPatient", "ImageOrientationPatient"):
        delattr(ds, keyword)
    return ds


def test_sr_references_the_ct_read_with_a_dose_report_thumbnail_and_seg_in_the_folder(seg_reference, tmp_path):
    # the dose report sorts first in the folder; the SR's evidence, image library and every group's source series
    # are the seven CT slices read
    folder = tmp_path / "export"
    shutil.copytree(CT, folder)
    ct = slices()
    _dose_report(ct[0]).save_as(folder / "000_dose_report.dcm", enforce_file_format=True)
    _thumbnail(ct[0]).save_as(folder / "001_thumbnail.dcm", enforce_file_format=True)
    shutil.copy(DATA / "seg_dcmqi.dcm", folder / "002_seg.dcm")
    out, sr = tmp_path / "lesions.csv", tmp_path / "sr.dcm"
    assert main(["score", "--image", folder, "--segmentation", DATA / "seg_dcmqi.dcm", "--out", out,
                 "--sr", sr]) == 0
    assert score_case(folder, DATA / "seg_dcmqi.dcm", None, None, load_signature()) == seg_reference
    assert_tid1500reader_reads(sr)
    report = hd.sr.srread(sr)
    series_uid = ct[0].SeriesInstanceUID
    evidence = {item.SeriesInstanceUID: {ref.ReferencedSOPInstanceUID for ref in item.ReferencedSOPSequence}
                for study in report.CurrentRequestedProcedureEvidenceSequence
                for item in study.ReferencedSeriesSequence}
    seg_header = pydicom.dcmread(DATA / "seg_dcmqi.dcm", stop_before_pixels=True)
    assert evidence == {series_uid: {ds.SOPInstanceUID for ds in ct},
                        seg_header.SeriesInstanceUID: {seg_header.SOPInstanceUID}}
    for group in report.content.get_volumetric_roi_measurement_groups():
        assert group.referenced_segment.source_series_for_segmentation.value == series_uid


def test_cd_export_root_with_dicomdir_is_read_quietly(reference, tmp_path, capfd):
    # a CD/DVD export: DICOMDIR at the root, the images in nested folders with extension-less names
    from pydicom.fileset import FileSet

    fileset = FileSet()
    for path in sorted(CT.glob("*.dcm")):
        fileset.add(path)
    fileset.write(tmp_path / "cd")
    assert (tmp_path / "cd" / "DICOMDIR").is_file()
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", tmp_path / "cd", "--segmentation", DATA / "label.nrrd", "--out", out]) == 0
    assert capfd.readouterr().err == ""  # no warning of ITK's about the folder
    assert score_case(tmp_path / "cd", DATA / "label.nrrd", None, None, load_signature()) == reference


def test_several_image_series_are_listed_and_one_file_picks_its_series(reference, tmp_path, capsys):
    folder = tmp_path / "two"
    other = slices()
    series_uid = generate_uid()
    for ds in other:
        ds.SeriesInstanceUID, ds.SeriesNumber, ds.SeriesDescription = series_uid, 7, "Lung 5mm copy"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    write(other, folder / "b")
    shutil.copytree(CT, folder / "a")
    assert main(["score", "--image", folder, "--segmentation", DATA / "label.nrrd", "--out", tmp_path / "o.csv"]) == 2
    line = error_line(capsys)
    assert str(folder) in line and "--image" in line and "2 image series" in line and "'Lung 5mm copy'" in line
    assert score_case(folder / "a" / "CT0003.dcm", DATA / "label.nrrd", None, None, load_signature()) == reference


def test_a_folder_without_images_says_what_it_holds(tmp_path, capsys):
    _dose_report(slices()[0]).save_as(tmp_path / "dose.dcm", enforce_file_format=True)
    assert main(["score", "--image", tmp_path, "--segmentation", DATA / "label.nrrd", "--out", tmp_path / "o.csv"]) == 2
    line = error_line(capsys)
    assert "no CT image series in this folder or its subfolders (1 SR)" in line and str(tmp_path) in line


# --- geometry, decided from the headers ---------------------------------------------------------------------------


def _tilted(series, degrees: float = 15.0):
    """A gantry-tilted acquisition: the image planes tilted about the x axis, the slices still stepping along z."""
    angle = math.radians(degrees)
    for ds in series:
        ds.ImageOrientationPatient = [1, 0, 0, 0, f"{math.cos(angle):.6f}", f"{-math.sin(angle):.6f}"]
        ds.GantryDetectorTilt = f"{degrees:g}"
    return series


def _missing(series):
    return series[:3] + series[4:]


def _duplicate(series):
    extra = copy.deepcopy(series[3])
    extra.SOPInstanceUID = extra.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    return series + [extra]


def _uneven(series):
    position = [float(v) for v in series[4].ImagePositionPatient]
    series[4].ImagePositionPatient = [position[0], position[1], position[2] + 1.5]
    return series


GEOMETRY = {
    "gantry tilt 15 deg": (_tilted, "sheared by 15.0 deg (gantry tilt, Gantry/Detector Tilt (0018,1120) 15 deg"),
    "missing slice": (_missing, "1 slice(s) missing: 10.000 mm between"),
    "duplicate slice": (_duplicate, "two images at the same slice position"),
    "uneven spacing": (_uneven, "uneven slice spacing: 6.500 mm between"),
}


@pytest.mark.parametrize("segmentation", ["label.nrrd", "seg_dcmqi.dcm"])
@pytest.mark.parametrize("fault", list(GEOMETRY))
def test_irregular_series_are_refused_naming_the_ct_and_the_cause(fault, segmentation, tmp_path, capsys):
    # Before: a tilted series scored +3.5 % volume, a missing slice +1.7 %, silently; with a SEG the refusal blamed
    # the SEG. Now the CT's headers decide before any pixel is read, for the label map and the SEG alike.
    change, cause = GEOMETRY[fault]
    folder = write(change(slices()), tmp_path / "ct")
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", folder, "--segmentation", DATA / segmentation, "--out", out]) == 2
    line = error_line(capsys)
    assert line.startswith(f"cd8rscore score: error: {folder}: --image: ") and cause in line, line
    assert not out.exists()


def test_a_localizer_in_the_series_is_left_out_and_named_on_every_row(reference, tmp_path):
    series = slices()
    scout = copy.deepcopy(series[0])
    scout.SOPInstanceUID = scout.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    scout.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    scout.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]  # coronal
    folder = write([scout] + series, tmp_path / "ct")
    rows = score_case(folder, DATA / "label.nrrd", None, None, load_signature())
    assert [without(r, "warnings") for r in rows] == [without(r, "warnings") for r in reference]
    assert rows[0]["warnings"].startswith(reference[0]["warnings"].split("; location")[0])
    assert "1 localizer image(s) of the CT series left out (IM0001.dcm)" in rows[0]["warnings"]


# --- SEG and RTSTRUCT of other writers ---------------------------------------------------------------------------


def test_dcmqi_seg_gives_the_label_maps_table(reference, seg_reference, tmp_path, signature):
    locations = tmp_path / "locations.csv"
    locations.write_text("lesion,location\n1,lung\n")
    with_site = score_case(CT, DATA / "label.nrrd", locations, None, signature)
    assert [without(r, "segment_name") for r in seg_reference] == [without(r, "segment_name") for r in with_site]
    assert seg_reference[0]["segment_name"] == "lung_1"


def test_rtutils_rtstruct_gives_back_its_mask_and_the_segs_table(seg_reference, signature):
    # rt-utils traces OpenCV contours through the centres of the lesion's boundary voxels. "Centre inside the
    # polygon" alone kept 750 of the 837 voxels (-10 %); a centre on the contour counts as inside: all 837, exactly.
    image, _ = read_image(CT)
    label = read_segmentation(DATA / "label.nrrd", image)[0].mask
    roi = read_segmentation(DATA / "rtstruct_rtutils.dcm", image)[0]
    grid = lambda m: sitk.GetArrayFromImage(sitk.Resample(m, image, sitk.Transform(), sitk.sitkNearestNeighbor))
    assert np.array_equal(grid(roi.mask), grid(label)) and int(grid(label).sum()) == 837
    assert score_case(CT, DATA / "rtstruct_rtutils.dcm", None, None, signature) == seg_reference


def test_pydicom_seg_with_its_own_frame_of_reference_is_read_with_a_row_warning(seg_reference, signature):
    header = pydicom.dcmread(DATA / "seg_pydicom_seg.dcm", stop_before_pixels=True)
    assert header.FrameOfReferenceUID != slices()[0].FrameOfReferenceUID
    rows = score_case(CT, DATA / "seg_pydicom_seg.dcm", None, None, signature)
    assert [without(r, "warnings") for r in rows] == [without(r, "warnings") for r in seg_reference]
    assert "the SEG's Frame of Reference UID differs from the CT's" in rows[0]["warnings"]


def test_pydicom_seg_off_the_ct_grid_is_refused_naming_the_workaround(tmp_path, capsys):
    ds = pydicom.dcmread(DATA / "seg_pydicom_seg.dcm")
    for frame in ds.PerFrameFunctionalGroupsSequence:
        position = frame.PlanePositionSequence[0]
        position.ImagePositionPatient = [float(position.ImagePositionPatient[0]) + 0.3,
                                         *position.ImagePositionPatient[1:]]
    ds.save_as(tmp_path / "moved.dcm")
    assert main(["score", "--image", CT, "--segmentation", tmp_path / "moved.dcm", "--out", tmp_path / "o.csv"]) == 2
    line = error_line(capsys)
    assert str(tmp_path / "moved.dcm") in line and "--segmentation" in line
    assert "Frame of Reference UID also differs from the CT's (pydicom-seg writes a new one)" in line


def test_rtstruct_centres_on_the_contour_count_as_inside_and_holes_keep_their_rim(tmp_path):
    # One slice: a 9 x 9 square contour through voxel centres with a 3 x 3 square hole through voxel centres, as
    # OpenCV traces an object with a hole (the hole's contour runs through the object's voxels around it).
    image, _ = read_image(CT)
    ds = pydicom.dcmread(DATA / "rtstruct_rtutils.dcm")
    z = 3
    template = ds.ROIContourSequence[0].ContourSequence[0]
    contours = []
    for lo, hi in ((10, 18), (13, 15)):
        corners = [(lo, lo), (hi, lo), (hi, hi), (lo, hi)]
        contour = copy.deepcopy(template)
        points = [image.TransformIndexToPhysicalPoint((c, r, z)) for c, r in corners]
        contour.NumberOfContourPoints = 4
        contour.ContourData = [f"{v:.6f}" for point in points for v in point]
        contours.append(contour)
    ds.ROIContourSequence[0].ContourSequence = contours
    ds.save_as(tmp_path / "square.dcm")
    mask = read_segmentation(tmp_path / "square.dcm", image)[0].mask
    got = sitk.GetArrayFromImage(sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor))
    expected = np.zeros_like(got)
    expected[z, 10:19, 10:19] = 1
    expected[z, 14, 14] = 0  # the hole's inside: its one centre strictly within the 3 x 3 contour
    assert np.array_equal(got, expected)


# --- the SR as dcmqi's tid1500reader reads it ---------------------------------------------------------------------


@pytest.mark.parametrize("stored, segmentation", [("sr_seg", "seg_dcmqi.dcm"), ("sr_rtstruct", "rtstruct_rtutils.dcm")])
def test_tid1500reader_reads_the_sr_as_the_lesion_table(stored, segmentation, tmp_path):
    # data/dicom/<stored>.tid1500reader.json: what dcmqi 1.5.7's tid1500reader (as Slicer's QuantitativeReporting
    # reads TID 1500) read from the SR `score --sr` wrote on these inputs (make_cases.sh). The SR written now must
    # be the same report (groups, concepts, units, values), and the values those of the lesion table.
    parsed = json.loads((DATA / f"{stored}.tid1500reader.json").read_text())
    out, sr = tmp_path / "lesions.csv", tmp_path / "sr.dcm"
    assert main(["score", "--image", CT, "--segmentation", DATA / segmentation, "--out", out, "--sr", sr]) == 0
    rows = read_rows(out)
    assert_tid1500reader_reads(sr)
    report = hd.sr.srread(sr)
    groups = report.content.get_volumetric_roi_measurement_groups() + report.content.get_image_measurement_groups()
    assert len(parsed["Measurements"]) == len(groups) == len(rows)
    assert parsed["SeriesDescription"] == report.SeriesDescription
    assert parsed["imageLibrary"][:len(slices())] == [ds.SOPInstanceUID for ds in slices()]
    for item, group, row in zip(parsed["Measurements"], groups, rows):
        assert item["TrackingIdentifier"] == group.tracking_identifier == \
            f"lesion {row['lesion_id']}: {row['segment_name']} (DEMONSTRATION)"
        assert item["FindingSite"]["CodeMeaning"] == "Lung" and row["location"] == "lung"
        if stored == "sr_seg":
            assert item["ReferencedSegment"] == int(row["lesion_id"])
            assert item["SourceSeriesForImageSegmentation"] == slices()[0].SeriesInstanceUID
        written = {(m.name.value, m.name.scheme_designator): m for m in group.get_measurements()}
        assert len(item["measurementItems"]) == len(written)
        for measured in item["measurementItems"]:
            concept = (measured["quantity"]["CodeValue"], measured["quantity"]["CodingSchemeDesignator"])
            now = written[concept]
            assert measured["units"]["CodeValue"] == now.unit.value
            assert float(measured["value"]) == pytest.approx(float(now.value), rel=1e-12)
        values = {m["quantity"]["CodeMeaning"]: float(m["value"]) for m in item["measurementItems"]}
        assert values["Volume"] == pytest.approx(float(row["volume_ml"]), rel=1e-9)
        assert values["Long axis"] == pytest.approx(float(row["longest_axial_diameter_mm"]), rel=1e-9)
        score = [v for k, v in values.items() if k.startswith("CD8 radiomics score")]
        assert score == [pytest.approx(float(row["score"]), rel=1e-9)]
        assert len(item["qualitativeEvaluations"]) == len(group.get_qualitative_evaluations())


# --- the same in the viewer: a CT loaded from Slicer's DICOM database ---------------------------------------------


@pytest.mark.parametrize("name, lossy", [("ct_jpeg12_lossy", True), ("ct_jpeg_lossless", False)])
def test_the_panel_flags_a_lossy_ct_loaded_from_the_dicom_database(name, lossy, signature):
    # the panel's scoring on a real MRML scene (slicer-core); the volume's DICOM.instanceUIDs found through Slicer's
    # DICOM database interface (fileForInstance)
    import slicer

    from CD8RScoreLib import mrml
    from CD8RScoreLib.scene_scoring import score_patient_in_scene
    from CD8RScoreLib.scoring import KvpInfo

    files = sorted((DATA / name).glob("*.dcm"))
    uids = {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID: str(f) for f in files}

    def file_value(self, path: str, tag: str) -> str:  # Slicer's DICOMDatabase.fileValue(file, "gggg,eeee")
        element = pydicom.dcmread(path, stop_before_pixels=True).get(tuple(int(part, 16) for part in tag.split(",")))
        return "" if element is None or element.value is None else str(element.value)

    database = type("Database", (), {"fileForInstance": lambda self, uid: uids.get(uid, ""),
                                     "fileValue": file_value})()
    image, info = read_image(DATA / name)
    scene = slicer.vtkMRMLScene()
    volume = mrml.image_to_volume_node(scene, image, "CT")
    volume.SetAttribute("DICOM.instanceUIDs", " ".join(uids))
    segmentation = mrml.label_image_to_segmentation(scene, sitk.ReadImage(str(DATA / "label.nrrd")), volume,
                                                    {1: "lung_1"})
    result = score_patient_in_scene(scene, volume, segmentation, signature, "P", KvpInfo(120.0, "dicom"),
                                    dicom_database=database)
    assert [("lossy-compressed CT" in row["warnings"]) for row in result.rows_e0] == [lossy]
    # the slice thickness and kernel as the command line reads them from the same series
    assert [row["slice_thickness_mm"] for row in result.rows_e0] == [info.slice_thickness_mm]
    assert [("kernel unknown" in row["warnings"]) for row in result.rows_e0] == [info.kernel is None]
