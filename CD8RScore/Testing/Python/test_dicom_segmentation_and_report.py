"""DICOM in and out: a DICOM SEG, an RTSTRUCT and a label map of the same lesions give the same lesion table; the
DICOM SR (TID 1500) reads back with highdicom to the table's numbers; bad DICOM input is refused with exit 2 and
one line naming the file and what is wrong. Data: a small synthetic patient written as a DICOM CT series."""
from __future__ import annotations

import copy
import csv
import math
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from CD8RScoreLib.cli import main, score_case
from CD8RScoreLib.dicom_codes import PRIVATE_SCHEME, site_code
from CD8RScoreLib.dicom_demo_data import DemoLesion, write_ct_series, write_rtstruct, write_seg
from CD8RScoreLib.dicom_sr import report_evidence, write_structured_report
from CD8RScoreLib.imageio import read_image, read_segmentation
from CD8RScoreLib.patient import patient_summary
from CD8RScoreLib.signature import load_signature
from CD8RScoreLib.synthetic import make_patient
from tid1500_reading import assert_tid1500reader_reads

SITES = ("liver", "node", "lung")


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> dict:
    """A 3-lesion synthetic CT as a DICOM series, with its label map, locations CSV, SEG and RTSTRUCT."""
    folder = tmp_path_factory.mktemp("dicom_case")
    patient = make_patient(n_lesions=3, seed=11, field_mm=(96.0, 96.0, 64.0), radius_range_mm=(6.0, 10.0),
                           sites=SITES)
    ct = write_ct_series(patient.image, folder / "ct", "SYN-DICOM")
    lesions = [DemoLesion(lesion.label, f"{lesion.site}_{lesion.label}", lesion.site) for lesion in patient.lesions]
    labels = folder / "labels.nrrd"
    sitk.WriteImage(patient.labels, str(labels), True)
    locations = folder / "locations.csv"
    locations.write_text("lesion,location\n" + "".join(f"{l.label},{l.site}\n" for l in lesions))
    write_seg(ct, patient.labels, lesions, folder / "seg.dcm")
    write_rtstruct(ct, patient.labels, lesions, folder / "rtstruct.dcm")
    return {"folder": folder, "ct_dir": folder / "ct", "ct": ct, "labels_image": patient.labels, "labels": labels,
            "locations": locations, "lesions": lesions, "seg": folder / "seg.dcm", "rtstruct": folder / "rtstruct.dcm"}


@pytest.fixture(scope="module")
def tables(case) -> dict:
    """Lesion rows of the same CT scored from the label map (with locations CSV), the SEG and the RTSTRUCT."""
    signature = load_signature()
    return {
        "labels": score_case(case["ct_dir"], case["labels"], case["locations"], None, signature),
        "seg": score_case(case["ct_dir"], case["seg"], None, None, signature),
        "rtstruct": score_case(case["ct_dir"], case["rtstruct"], None, None, signature),
    }


def full_mask(mask: sitk.Image, grid: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.Resample(mask, grid, sitk.Transform(), sitk.sitkNearestNeighbor, 0,
                                                sitk.sitkUInt8))


def error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_seg_gives_the_label_maps_lesion_table_exactly(tables, case):
    # Every column, floats compared exactly, but the segment name (the label map has none: "label 1").
    # The location comes from the SEG's anatomic region codes, the label map's from the locations CSV.
    assert len(tables["seg"]) == len(case["lesions"])
    for from_labels, from_seg, lesion in zip(tables["labels"], tables["seg"], case["lesions"]):
        assert from_seg["segment_name"] == lesion.name and from_seg["location"] == lesion.site
        assert from_seg["computable"] and math.isfinite(from_seg["score"])
        assert {k: v for k, v in from_seg.items() if k != "segment_name"} == \
               {k: v for k, v in from_labels.items() if k != "segment_name"}


def test_rtstruct_gives_the_label_maps_lesion_table(tables, case):
    # The contours are the 0.5 iso-lines of each slice's mask: they cross half-way between voxel centres in and out
    # of the lesion, so point in polygon at voxel centres gives back every voxel (rasterisation difference 0
    # voxels here) and the tables agree exactly; the location is guessed from the ROI name ("liver_1").
    image, _ = read_image(case["ct_dir"])
    by_label = {m.lesion_id: m for m in read_segmentation(case["labels"], image)}
    for roi in read_segmentation(case["rtstruct"], image):
        assert np.array_equal(full_mask(roi.mask, image), full_mask(by_label[roi.lesion_id].mask, image))
    for from_labels, from_rt in zip(tables["labels"], tables["rtstruct"]):
        assert {k: v for k, v in from_rt.items() if k != "segment_name"} == \
               {k: v for k, v in from_labels.items() if k != "segment_name"}


def test_rtstruct_rule_is_point_in_polygon_at_voxel_centres_with_even_odd_holes(case, tmp_path):
    # One slice, two concentric 72-gons inscribed in circles of 7 and 3 mm: the ROI is the annulus. A voxel centre
    # at distance d from the centre is in when 3 < d < 7 mm, apart from the thin slivers between the chords and
    # the circles (d within R(1 - cos(pi/72)) of a radius: 0.003 mm inside 3 mm, 0.007 mm inside 7 mm), where the
    # polygon, not the circle, decides.
    image, _ = read_image(case["ct_dir"])
    ds = pydicom.dcmread(case["rtstruct"])
    z = 5
    centre = np.array(image.TransformContinuousIndexToPhysicalPoint((40.3, 50.6, z)))
    contours = []
    for radius in (7.0, 3.0):
        angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        points = np.column_stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles),
                                  np.full(72, centre[2])])
        contour = copy.deepcopy(ds.ROIContourSequence[0].ContourSequence[0])
        contour.NumberOfContourPoints = 72
        contour.ContourData = [f"{v:.4f}" for v in points.ravel()]
        contours.append(contour)
    ds.ROIContourSequence[0].ContourSequence = contours
    path = tmp_path / "annulus.dcm"
    ds.save_as(path)
    roi = read_segmentation(path, image)[0]
    got = full_mask(roi.mask, image)
    zz, yy, xx = np.indices(got.shape)
    points = np.stack([xx, yy], axis=-1) * np.array(image.GetSpacing()[:2])
    distance = np.linalg.norm(points - (centre[:2] - np.array(image.GetOrigin()[:2])), axis=-1)
    expected = (zz == z) & (distance > 3.0) & (distance < 7.0)
    sliver = (zz == z) & (((distance > 3.0 * np.cos(np.pi / 72)) & (distance <= 3.0))
                          | ((distance > 7.0 * np.cos(np.pi / 72)) & (distance <= 7.0)))
    assert got.sum() > 100 and sliver.sum() < 5
    assert np.array_equal(got.astype(bool) & ~sliver, expected & ~sliver)
    # the slivers follow the polygons: outside the hole's 72-gon is in, outside the outer 72-gon is out
    assert got[sliver & (distance <= 3.0)].all() and not got[sliver & (distance > 3.5)].any()


def test_fractional_seg_keeps_voxels_at_half_the_maximum_or_more(case, tmp_path):
    image, _ = read_image(case["ct_dir"])
    fractions = np.zeros(sitk.GetArrayViewFromImage(case["labels_image"]).shape, dtype=np.float32)
    fractions[10, 20:30, 20:30] = 0.55  # stored as 140/255 = 0.549: in
    fractions[10, 40:50, 20:30] = 0.45  # stored as 115/255 = 0.451: out
    fractions[11, 20:30, 20:30] = 1.0
    ct = case["ct"]
    seg = hd.seg.Segmentation(
        source_images=ct, pixel_array=fractions, segmentation_type="FRACTIONAL",
        segment_descriptions=[hd.seg.SegmentDescription(
            1, "liver_1", hd.sr.CodedConcept("49755003", "SCT", "Morphologically Abnormal Structure"),
            hd.sr.CodedConcept("52988006", "SCT", "Lesion"), "MANUAL")],
        series_instance_uid=hd.UID(), series_number=9, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer="test", manufacturer_model_name="test", software_versions="0", device_serial_number="0")
    seg.save_as(tmp_path / "fractional.dcm")
    mask = full_mask(read_segmentation(tmp_path / "fractional.dcm", image)[0].mask, image)
    expected = np.zeros_like(mask)
    expected[10:12, 20:30, 20:30] = 1
    assert np.array_equal(mask, expected)


def test_seg_of_another_series_is_refused(case, tmp_path, capsys):
    other = write_ct_series(sitk.ReadImage([str(p) for p in sorted(case["ct_dir"].glob("*.dcm"))]),
                            tmp_path / "other_ct", "SYN-OTHER")
    assert other[0].SeriesInstanceUID != case["ct"][0].SeriesInstanceUID
    code = main(["score", "--image", tmp_path / "other_ct", "--segmentation", case["seg"],
                 "--out", tmp_path / "out.csv"])
    assert code == 2
    line = error_line(capsys)
    assert str(case["seg"]) in line and "--segmentation" in line and "not the CT series" in line
    assert not (tmp_path / "out.csv").exists()


def test_rtstruct_with_an_open_contour_is_refused(case, tmp_path, capsys):
    ds = pydicom.dcmread(case["rtstruct"])
    ds.ROIContourSequence[1].ContourSequence[0].ContourGeometricType = "OPEN_PLANAR"
    path = tmp_path / "open.dcm"
    ds.save_as(path)
    assert main(["score", "--image", case["ct_dir"], "--segmentation", path, "--out", tmp_path / "out.csv"]) == 2
    line = error_line(capsys)
    assert str(path) in line and "ROI 2 'node_2', contour 1 is OPEN_PLANAR" in line


def test_empty_segment_and_empty_roi_stay_as_not_computable_rows(case, tmp_path):
    signature = load_signature()
    extra = [*case["lesions"], DemoLesion(4, "liver_4", "liver")]  # label 4 is not in the label map: empty
    write_seg(case["ct"], case["labels_image"], extra, tmp_path / "seg_empty.dcm")
    write_rtstruct(case["ct"], case["labels_image"], extra, tmp_path / "rt_empty.dcm")
    for name in ("seg_empty.dcm", "rt_empty.dcm"):
        rows = score_case(case["ct_dir"], tmp_path / name, None, None, signature)
        assert [r["lesion_id"] for r in rows] == ["1", "2", "3", "4"]
        empty = rows[3]
        assert empty["segment_name"] == "liver_4" and empty["location"] == "liver"
        assert not empty["computable"] and empty["score"] is None and empty["volume_ml"] == 0.0
        assert "is not in the segmentation" in empty["reason"]
        assert all(r["computable"] for r in rows[:3])


def test_seg_off_the_ct_grid_is_refused_with_the_reason(case, tmp_path, capsys):
    # SEGs are not resampled: frames with another pixel spacing, or shifted by 0.4 mm, are refused.
    for name, change in (("spacing", lambda ds: setattr(ds, "PixelSpacing", ["1.0", "1.0"])),
                         ("shift", lambda ds: setattr(ds, "ImagePositionPatient",
                                                      [float(ds.ImagePositionPatient[0]) + 0.4,
                                                       *ds.ImagePositionPatient[1:]]))):
        moved = [copy.deepcopy(ds) for ds in case["ct"]]
        for ds in moved:
            change(ds)
        write_seg(moved, case["labels_image"], case["lesions"], tmp_path / f"{name}.dcm")
        assert main(["score", "--image", case["ct_dir"], "--segmentation", tmp_path / f"{name}.dcm",
                     "--out", tmp_path / "out.csv"]) == 2
        line = error_line(capsys)
        assert str(tmp_path / f"{name}.dcm") in line
        assert ("not on the CT's voxel grid" if name == "spacing" else "fall between the CT's voxels") in line


def test_dicom_segmentation_needs_the_dicom_ct_series(case, tmp_path, capsys):
    image = sitk.ReadImage([str(p) for p in sorted(case["ct_dir"].glob("*.dcm"))])
    sitk.WriteImage(image, str(tmp_path / "ct.nrrd"))
    assert main(["score", "--image", tmp_path / "ct.nrrd", "--segmentation", case["seg"],
                 "--out", tmp_path / "out.csv"]) == 2
    assert "give that CT as its DICOM series folder" in error_line(capsys)


def test_score_sr_when_the_ct_is_not_dicom_says_why(case, tmp_path, capsys):
    image = sitk.ReadImage([str(p) for p in sorted(case["ct_dir"].glob("*.dcm"))])
    sitk.WriteImage(image, str(tmp_path / "ct.nrrd"))
    assert main(["score", "--image", tmp_path / "ct.nrrd", "--segmentation", case["labels"],
                 "--out", tmp_path / "out.csv", "--sr", tmp_path / "report.dcm"]) == 2
    line = error_line(capsys)
    assert "--sr" in line and "no DICOM SR can be written" in line and "not a DICOM series folder" in line
    assert not (tmp_path / "report.dcm").exists()


def _groups(report) -> list:
    content = report.content
    return content.get_volumetric_roi_measurement_groups() + content.get_image_measurement_groups()


def _measurement(group, meaning: str):
    found = [m for m in group.get_measurements() if m.name.meaning == meaning]
    assert len(found) == 1, meaning
    return found[0]


def _evaluation(group, value: str) -> str:
    found = [q for q in group.get_qualitative_evaluations() if q.name.value == value]
    assert len(found) == 1, value
    return found[0].value.meaning


@pytest.mark.parametrize("source", ["seg", "rtstruct"])
def test_sr_reads_back_to_the_lesion_table(case, tables, tmp_path, source):
    signature = load_signature()
    rows = tables[source]
    out = tmp_path / "report.dcm"
    assert main(["score", "--image", case["ct_dir"], "--segmentation", case[source], "--out", tmp_path / "l.csv",
                 "--sr", out]) == 0
    with open(tmp_path / "l.csv", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert_tid1500reader_reads(out)
    report = hd.sr.srread(out)
    # references: the CT series and the segmentation instance are the SR's evidence
    evidence = {item.SeriesInstanceUID: {ref.ReferencedSOPInstanceUID for ref in item.ReferencedSOPSequence}
                for study in report.CurrentRequestedProcedureEvidenceSequence
                for item in study.ReferencedSeriesSequence}
    segmentation = pydicom.dcmread(case[source], stop_before_pixels=True)
    assert evidence[case["ct"][0].SeriesInstanceUID] == {ds.SOPInstanceUID for ds in case["ct"]}
    assert evidence[segmentation.SeriesInstanceUID] == {segmentation.SOPInstanceUID}
    assert report.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    # the title from CID 7021, as TID 1500 readers match it; DEMONSTRATION in the series description and groups
    title = report.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator, title.CodeMeaning) == \
        ("126000", "DCM", "Imaging Measurement Report")
    assert "DEMONSTRATION" in report.SeriesDescription

    groups = _groups(report)
    assert len(groups) == len(rows)
    least = patient_summary(rows)["least_infiltrated_lesion_id"]
    for group, row, csv_row in zip(groups, rows, csv_rows):
        assert group.tracking_identifier == f"lesion {row['lesion_id']}: {row['segment_name']} (DEMONSTRATION)"
        site = site_code(row["location"])
        assert [(s.value.value, s.value.scheme_designator) for s in group.finding_sites] == [(site.value, "SCT")]
        score = _measurement(group, f"CD8 radiomics score [DEMONSTRATION] {signature.name}")
        assert score.value == row["score"] and score.unit.value == "1"  # exact: the SR keeps the double
        assert float(score.value) == pytest.approx(float(csv_row["score"]), rel=1e-9)  # the CSV's 10 digits
        volume, diameter = _measurement(group, "Volume"), _measurement(group, "Long axis")
        assert (volume.value, volume.unit.value) == (row["volume_ml"], "ml")
        assert (diameter.value, diameter.unit.value) == (row["longest_axial_diameter_mm"], "mm")
        for feature in signature.features:
            measured = [m for m in group.get_measurements() if m.name.scheme_designator == PRIVATE_SCHEME
                        and m.name.value.startswith(f"{feature.voi}-")
                        and m.name.meaning.endswith(feature.ibsi_name)]
            assert len(measured) == 1 and measured[0].value == row[feature.key]
        assert _evaluation(group, "CD8RS-STATUS").startswith("DEMONSTRATION")
        assert _evaluation(group, "CD8RS-LEAST") == ("Yes" if row["lesion_id"] == least else "No")
        assert _evaluation(group, "CD8RS-CLASS").startswith(row["score_class"])
        assert _evaluation(group, "CD8RS-LOSSY") == "No"
        if source == "seg":
            segment = group.referenced_segment
            assert segment.referenced_segment_numbers == [int(row["lesion_id"])]
            assert segment[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == segmentation.SOPInstanceUID
            assert segment.source_series_for_segmentation.value == case["ct"][0].SeriesInstanceUID
    assert sum(_evaluation(g, "CD8RS-LEAST") == "Yes" for g in groups) == 1


def test_sr_of_a_not_computable_lesion_keeps_its_group_without_a_score(case, tables, tmp_path):
    signature = load_signature()
    rows = [dict(r) for r in tables["seg"]]
    rows[1].update(score=None, score_class="NA", computable=False, reason="core has 3 voxels")
    write_structured_report(tmp_path / "r.dcm", rows, signature, report_evidence(case["ct_dir"], case["seg"]))
    assert_tid1500reader_reads(tmp_path / "r.dcm")
    groups = _groups(hd.sr.srread(tmp_path / "r.dcm"))
    assert len(groups) == len(rows)
    meanings = [m.name.meaning for m in groups[1].get_measurements()]
    assert not any(m.startswith("CD8 radiomics score") for m in meanings) and "Volume" in meanings
    assert _evaluation(groups[1], "CD8RS-COMPUTABLE") == "No"


def test_sr_from_the_panels_table_node_and_dicom_database_files(case, tables, tmp_path):
    # The panel's "Export DICOM SR": the CT's and the SEG's files found through the nodes' DICOM.instanceUIDs in
    # Slicer's DICOM database, the rows read back from the lesion table node (text), the same library call.
    slicer = pytest.importorskip("slicer")
    from CD8RScoreLib import mrml
    from CD8RScoreLib.lesion_table import lesion_columns

    files = {ds.SOPInstanceUID: str(case["ct_dir"] / f"CT{ds.InstanceNumber:04d}.dcm") for ds in case["ct"]}
    seg_uid = pydicom.dcmread(case["seg"], stop_before_pixels=True).SOPInstanceUID
    files[seg_uid] = str(case["seg"])
    database = type("Database", (), {"fileForInstance": lambda self, uid: files.get(uid, "")})()
    scene = slicer.vtkMRMLScene()
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode")
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    assert mrml.dicom_files(volume, database) == []  # not loaded from DICOM
    volume.SetAttribute("DICOM.instanceUIDs", " ".join(ds.SOPInstanceUID for ds in case["ct"]))
    segmentation.SetAttribute("DICOM.instanceUIDs", seg_uid)
    signature = load_signature()
    table = mrml.rows_to_table_node(scene, tables["seg"], lesion_columns(signature.feature_keys), "lesions")
    _, rows = mrml.table_node_rows(table)
    evidence = report_evidence(mrml.dicom_files(volume, database), mrml.dicom_files(segmentation, database)[0])
    write_structured_report(tmp_path / "panel.dcm", rows, signature, evidence)
    assert_tid1500reader_reads(tmp_path / "panel.dcm")
    groups = _groups(hd.sr.srread(tmp_path / "panel.dcm"))
    for group, row in zip(groups, tables["seg"]):
        score = _measurement(group, f"CD8 radiomics score [DEMONSTRATION] {signature.name}")
        assert float(score.value) == pytest.approx(row["score"], rel=1e-9)
        assert group.referenced_segment.referenced_segment_numbers == [int(row["lesion_id"])]


def test_sr_from_a_segmentation_slicerrt_loaded_from_rtstruct(case, tables, tmp_path):
    # SlicerRT keeps an RTSTRUCT's SOP Instance UID as the subject-hierarchy item UID "DICOMInstanceUID" of the
    # segmentation, with its Series Instance UID as "DICOMUID", and sets no DICOM.instanceUIDs attribute
    # (SlicerRT DicomRtImportExport/Logic/vtkSlicerDicomRtImportExportModuleLogic.cxx: LoadRtStructureSet,
    # InsertSeriesInSubjectHierarchy): the panel's export finds the RTSTRUCT file through it.
    slicer = pytest.importorskip("slicer")
    from CD8RScoreLib import mrml
    from CD8RScoreLib.lesion_table import lesion_columns

    rtstruct = pydicom.dcmread(case["rtstruct"], stop_before_pixels=True)
    files = {ds.SOPInstanceUID: str(case["ct_dir"] / f"CT{ds.InstanceNumber:04d}.dcm") for ds in case["ct"]}
    files[rtstruct.SOPInstanceUID] = str(case["rtstruct"])
    database = type("Database", (), {"fileForInstance": lambda self, uid: files.get(uid, "")})()
    scene = slicer.vtkMRMLScene()
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode")
    volume.SetAttribute("DICOM.instanceUIDs", " ".join(ds.SOPInstanceUID for ds in case["ct"]))
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    assert mrml.dicom_files(segmentation, database) == []  # no subject-hierarchy item: not loaded from DICOM
    hierarchy = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    item = hierarchy.CreateItem(hierarchy.GetSceneItemID(), segmentation)
    hierarchy.SetItemUID(item, slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMUIDName(), rtstruct.SeriesInstanceUID)
    assert mrml.dicom_files(segmentation, database) == []  # a series UID alone names no file
    hierarchy.SetItemUID(item, slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMInstanceUIDName(),
                         rtstruct.SOPInstanceUID)
    assert mrml.dicom_files(segmentation, database) == [str(case["rtstruct"])]

    signature = load_signature()
    table = mrml.rows_to_table_node(scene, tables["rtstruct"], lesion_columns(signature.feature_keys), "lesions")
    _, rows = mrml.table_node_rows(table)
    evidence = report_evidence(mrml.dicom_files(volume, database), mrml.dicom_files(segmentation, database)[0])
    write_structured_report(tmp_path / "rtstruct.dcm", rows, signature, evidence)
    report = hd.sr.srread(tmp_path / "rtstruct.dcm")
    referenced = {item.SeriesInstanceUID: {ref.ReferencedSOPInstanceUID for ref in item.ReferencedSOPSequence}
                  for study in report.CurrentRequestedProcedureEvidenceSequence
                  for item in study.ReferencedSeriesSequence}
    assert referenced[rtstruct.SeriesInstanceUID] == {rtstruct.SOPInstanceUID}
    assert len(_groups(report)) == len(tables["rtstruct"])


def test_batch_manifest_takes_dicom_segmentations_and_keeps_a_failed_cases_lesions(case, tables, tmp_path):
    other = tmp_path / "other_ct"
    write_ct_series(sitk.ReadImage([str(p) for p in sorted(case["ct_dir"].glob("*.dcm"))]), other, "SYN-OTHER")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("patient_id,timepoint,image,segmentation\n"
                        f"P1,E0,{case['ct_dir']},{case['rtstruct']}\n"
                        f"P2,E0,{other},{case['seg']}\n")
    assert main(["batch", "--manifest", manifest, "--out", tmp_path / "batch.csv", "--workers", 1]) == 1
    with open(tmp_path / "batch.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    scored = [r for r in rows if r["patient_id"] == "P1"]
    assert [float(r["score"]) for r in scored] == pytest.approx([r["score"] for r in tables["rtstruct"]], rel=1e-9)
    failed = [r for r in rows if r["patient_id"] == "P2"]
    assert [(r["lesion_id"], r["segment_name"]) for r in failed] == [(str(l.label), l.name) for l in case["lesions"]]
    assert all(r["computable"] == "0" and "not the CT series" in r["reason"] for r in failed)
