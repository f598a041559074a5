"""The MRML adapter on a real scene (slicer-core): a CT and a segmentation of three lesions (one too small) give a
lesion table node with the §5 columns, risk colours ordered by score, grey for the small lesion, a colour legend,
the least-infiltrated lesion in the summary, tags that survive .seg.nrrd, and lesion response from a follow-up."""
from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

slicer = pytest.importorskip("slicer")
import vtk  # noqa: E402

from CD8RScoreLib import mrml  # noqa: E402
from CD8RScoreLib.cohort_file import add_rows  # noqa: E402
from CD8RScoreLib.errors import InputError  # noqa: E402
from CD8RScoreLib.lesion_table import COLUMN_INFO, lesion_columns  # noqa: E402
from CD8RScoreLib.patient import PATIENT_COLUMNS  # noqa: E402
from CD8RScoreLib.scene_scoring import cohort_export_rows, scan_acquisition, score_patient_in_scene  # noqa: E402
from CD8RScoreLib.scoring import KvpInfo, ScoringCancelled  # noqa: E402
from CD8RScoreLib.signature import default_signature_path, load_signature  # noqa: E402
from CD8RScoreLib.synthetic import follow_up, make_patient  # noqa: E402

SIGNATURE = load_signature(default_signature_path())
NAMES = {1: "liver 1", 2: "LN 2", 3: "sc 3"}


def three_lesion_ct() -> tuple[sitk.Image, sitk.Image]:
    """A 0.8 x 0.8 x 1.5 mm CT (oblique origin, LPS) with lesions of radius 9 and 7 mm and a 1 mm speck."""
    rng = np.random.default_rng(7)
    spacing = (0.8, 0.8, 1.5)
    shape = (40, 90, 110)  # z, y, x
    z, y, x = np.indices(shape).astype(float)
    z, y, x = z * spacing[2], y * spacing[1], x * spacing[0]
    image = 40 + 10 * rng.standard_normal(shape)
    labels = np.zeros(shape, np.uint16)
    for value, (cx, cy, cz, r, hu, sd) in {1: (25, 30, 30, 9, 60, 35), 2: (62, 40, 28, 7, 20, 12),
                                           3: (75, 15, 30, 1.0, 50, 5)}.items():
        inside = (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= r ** 2
        ring = ((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= (r + 5) ** 2) & ~inside
        image[ring] = -80 + 20 * rng.standard_normal(ring.sum())
        image[inside] = hu + sd * rng.standard_normal(inside.sum())
        labels[inside] = value
    ct = sitk.GetImageFromArray(np.round(image).astype(np.float32))
    ct.SetSpacing(spacing)
    ct.SetOrigin((-40.0, 20.0, 100.0))
    seg = sitk.GetImageFromArray(labels)
    seg.CopyInformation(ct)
    return ct, seg


@pytest.fixture()
def scene_with_lesions():
    scene = slicer.vtkMRMLScene()
    ct, labels = three_lesion_ct()
    volume = mrml.image_to_volume_node(scene, ct, "CT")
    segmentation = mrml.label_image_to_segmentation(scene, labels, volume, NAMES)
    return scene, volume, segmentation, ct, labels


def test_volume_and_segments_come_back_on_the_ct_grid_in_lps(scene_with_lesions):
    scene, volume, segmentation, ct, labels = scene_with_lesions
    image = mrml.volume_to_image(volume)
    assert image.GetSize() == ct.GetSize()
    assert np.allclose(image.GetOrigin(), ct.GetOrigin()) and np.allclose(image.GetSpacing(), ct.GetSpacing())
    assert np.array_equal(sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(ct))
    lesions = {lesion.lesion_id: lesion for lesion in mrml.lesion_inputs(segmentation, volume)}
    assert sorted(lesions) == sorted(NAMES.values())
    for value, name in NAMES.items():
        mask = lesions[name].mask
        expected = sitk.GetArrayFromImage(labels) == value
        # the crop sits on the CT grid: paste it back and compare voxel by voxel
        start = ct.TransformPhysicalPointToIndex(mask.GetOrigin())
        pasted = np.zeros_like(expected)
        sx, sy, sz = mask.GetSize()
        pasted[start[2]:start[2] + sz, start[1]:start[1] + sy, start[0]:start[0] + sx] = \
            sitk.GetArrayFromImage(mask).astype(bool)
        assert np.array_equal(pasted, expected), name
    assert {n: (l.location, l.location_given) for n, l in lesions.items()} == {
        "liver 1": ("liver", True), "LN 2": ("node", True), "sc 3": ("subcutaneous", True)}


def test_three_lesions_give_table_colours_legend_summary_and_tags(scene_with_lesions, tmp_path):
    scene, volume, segmentation, _, _ = scene_with_lesions
    seen = []
    result = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "SYN-3", KvpInfo(120.0, "user"),
                                    min_volume_ml=0.5, progress=lambda d, n, name: seen.append((d, n)))
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)

    table = result.lesion_table
    columns = [table.GetTable().GetColumn(c).GetName() for c in range(table.GetNumberOfColumns())]
    assert columns == lesion_columns(SIGNATURE.feature_keys)
    assert table.GetNumberOfRows() == 3
    assert table.GetColumnUnitLabel("volume_ml") == "mL"
    assert table.GetColumnUnitLabel("longest_axial_diameter_mm") == "mm"
    assert table.GetColumnDescription("score") == COLUMN_INFO["score"][1]
    names, rows = mrml.table_node_rows(table)
    for column in ("short_axis_mm", "slice_thickness_mm", "pixel_spacing_mm"):
        assert table.GetColumnUnitLabel(column) == "mm"
    spacing = volume.GetSpacing()
    assert {(float(r["slice_thickness_mm"]), float(r["pixel_spacing_mm"])) for r in rows} == {(spacing[2], spacing[0])}
    assert all(0 < float(r["short_axis_mm"]) <= float(r["longest_axial_diameter_mm"]) for r in rows)
    assert [r["lesion_id"] for r in rows] == ["liver 1", "LN 2", "sc 3"]
    assert [r["computable"] for r in rows] == ["1", "1", "0"]
    assert "core has" in rows[2]["reason"] and rows[2]["score"] == ""
    assert all(r["signature_status"] == "demonstration" for r in rows)

    # colours: the computable lesions' colours are the risk map's colours at their scores, in score order
    seg = segmentation.GetSegmentation()
    colour = {n: seg.GetSegment(mrml.segment_id_by_name(segmentation, n)).GetColor() for n in NAMES.values()}
    scored = sorted((r for r in result.rows_e0 if r["computable"]), key=lambda r: r["score"])
    assert len(scored) == 2 and scored[0]["score"] < scored[1]["score"]
    indices = [result.scale.index(r["score"]) for r in scored]
    assert indices[0] < indices[1]
    for row in scored:
        assert np.allclose(colour[row["lesion_id"]], result.scale.rgb(row["score"]))
    low, high = (colour[r["lesion_id"]] for r in scored)
    assert low[0] - low[2] > high[0] - high[2]  # the lower score is the redder
    assert np.allclose(colour["sc 3"], mrml.NOT_COMPUTABLE_RGB)
    # a lesion without a score is drawn differently in kind: outline without fill, faint in 3D
    display = segmentation.GetDisplayNode()
    for name in NAMES.values():
        segment_id = mrml.segment_id_by_name(segmentation, name)
        scored_lesion = name != "sc 3"
        assert display.GetSegmentVisibility2DFill(segment_id) == scored_lesion
        assert display.GetSegmentVisibility2DOutline(segment_id)
        assert (display.GetSegmentOpacity3D(segment_id) == 1.0) == scored_lesion
    assert result.scale.low <= scored[0]["score"] and result.scale.high >= scored[1]["score"]
    assert result.scale.low <= SIGNATURE.reference_cutoff <= result.scale.high

    # the legend: a colour legend display node on the segmentation, showing the risk colour node
    legend = slicer.vtkSlicerColorLogic.GetColorLegendDisplayNode(segmentation)
    assert legend is not None and legend.GetID() == result.legend.GetID()
    assert legend.GetPrimaryDisplayNode().GetColorNodeID() == result.scale.colour_node.GetID()
    assert "DEMONSTRATION" in legend.GetTitleText()
    assert f"cut-off {SIGNATURE.reference_cutoff:.2f}" in legend.GetTitleText()
    assert "low score = few CD8 cells = high risk" in legend.GetTitleText()
    assert "dark grey outline, no fill: not computable" in legend.GetTitleText()
    assert tuple(legend.GetPrimaryDisplayNode().GetScalarRange()) == (result.scale.low, result.scale.high)

    # the summary: the least-infiltrated lesion is the lowest score among those considered
    assert result.summary["least_infiltrated_lesion_id"] == scored[0]["lesion_id"] == result.candidate
    _, patient_rows = mrml.table_node_rows(result.patient_table)
    assert list(patient_rows[0]) == list(PATIENT_COLUMNS)
    assert patient_rows[0]["least_infiltrated_lesion_id"] == scored[0]["lesion_id"]
    assert patient_rows[0]["n_not_computable"] == "1"

    # tags are written on the segments and survive writing and reading the .seg.nrrd
    path = str(tmp_path / "lesions.seg.nrrd")
    writer = slicer.vtkMRMLSegmentationStorageNode()
    writer.SetFileName(path)
    assert writer.WriteData(segmentation)
    other_scene = slicer.vtkMRMLScene()
    reread = other_scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    reader = slicer.vtkMRMLSegmentationStorageNode()
    reader.SetFileName(path)
    assert reader.ReadData(reread)
    for row in result.rows_e0:
        segment = reread.GetSegmentation().GetSegment(mrml.segment_id_by_name(reread, row["lesion_id"]))
        for column, tag in mrml.SCORE_TAGS.items():
            value = vtk.mutable("")
            assert segment.GetTag(tag, value), tag
            expected = row[column]
            if column == "score" and expected is not None:
                assert float(str(value)) == pytest.approx(expected, rel=1e-9)
            else:
                assert str(value) == ("" if expected is None else str(expected))
        assert mrml.segment_location(reread, mrml.segment_id_by_name(reread, row["lesion_id"]))[1] == "tag"

    # a second run updates the same nodes
    again = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "SYN-3", KvpInfo(120.0, "user"),
                                   previous=result)
    assert again.lesion_table is result.lesion_table
    assert scene.GetNodesByClass("vtkMRMLTableNode").GetNumberOfItems() == 2


def test_location_from_terminology_tag_and_user_choice(scene_with_lesions):
    scene, volume, segmentation, _, _ = scene_with_lesions
    segment_id = mrml.segment_id_by_name(segmentation, "sc 3")
    segment = segmentation.GetSegmentation().GetSegment(segment_id)
    segment.SetName("lesion A")
    assert mrml.segment_location(segmentation, segment_id) == (None, "")
    segment.SetTerminology("Segmentation category and type - 3D Slicer General Anatomy list~SCT^123037004^"
                           "Anatomical Structure~SCT^10200004^Liver~^^~Anatomic codes - DICOM master list~^^~^^")
    assert mrml.segment_location(segmentation, segment_id) == ("liver", "terminology")
    mrml.set_segment_location(segmentation, segment_id, "adrenal")
    assert mrml.segment_location(segmentation, segment_id) == ("adrenal", "tag")
    with pytest.raises(InputError, match="unknown site"):
        mrml.set_segment_location(segmentation, segment_id, "elbow")


def test_follow_up_matches_segments_by_name_and_classifies_response(tmp_path):
    scene = slicer.vtkMRMLScene()
    baseline = make_patient(n_lesions=3, seed=11, radius_range_mm=(8.0, 12.0), sites=("liver", "node", "lung"))
    later = follow_up(baseline, {1: 1.35, 2: 0.6, 3: 0.0}, seed=12)
    names = {1: "liver 1", 2: "node 2", 3: "lung 3"}
    v0 = mrml.image_to_volume_node(scene, baseline.image, "E0")
    s0 = mrml.label_image_to_segmentation(scene, baseline.labels, v0, names, "E0 lesions")
    v1 = mrml.image_to_volume_node(scene, later.image, "E1")
    s1 = mrml.label_image_to_segmentation(scene, later.labels, v1, names, "E1 lesions")
    # lesion 3 disappeared: its segment is kept empty in the follow-up segmentation, as a reader would
    s1.GetSegmentation().AddEmptySegment("lung 3-id", "lung 3")
    result = score_patient_in_scene(scene, v0, s0, SIGNATURE, "SYN-FU", KvpInfo(120.0, "user"),
                                    followup_volume_node=v1, followup_segmentation_node=s1,
                                    followup_kvp=KvpInfo(120.0, "user"))
    responses = {r["lesion_id"]: r["response"] for r in result.response_rows}
    assert responses == {"liver 1": "progression", "node 2": "response", "lung 3": "complete_response"}
    _, rows = mrml.table_node_rows(result.lesion_table)
    assert [r["response"] for r in rows] == ["progression", "response", "complete_response"]
    change = {r["lesion_id"]: float(r["diameter_change_pct"]) for r in rows}
    assert change["liver 1"] >= 20 and change["node 2"] <= -30 and change["lung 3"] == -100
    assert result.lesion_table.GetColumnUnitLabel("diameter_change_pct") == "%"
    assert result.followup_table.GetNumberOfRows() == 3
    # the cohort export holds E0 and E1 rows in the lesion-table columns
    columns, export = cohort_export_rows(result.lesion_table, result.followup_table)
    assert columns == lesion_columns(SIGNATURE.feature_keys)
    assert [r["timepoint"] for r in export] == ["E0"] * 3 + ["E1"] * 3
    added = add_rows(tmp_path / "cohort.csv", columns, export)
    assert added.total == 6 and added.cases == (("SYN-FU", "E0"), ("SYN-FU", "E1"))


def test_cancel_leaves_the_scene_without_results(scene_with_lesions):
    scene, volume, segmentation, _, _ = scene_with_lesions
    calls = []
    with pytest.raises(ScoringCancelled):
        score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "SYN-3", KvpInfo(120.0, "user"),
                               should_cancel=lambda: calls.append(1) or len(calls) > 1)
    assert scene.GetNodesByClass("vtkMRMLTableNode").GetNumberOfItems() == 0


def test_views_centre_on_the_candidate_and_transformed_inputs_are_refused(scene_with_lesions):
    scene, volume, segmentation, ct, labels = scene_with_lesions
    red = scene.AddNewNodeByClass("vtkMRMLSliceNode")
    red.SetLayoutName("Red")
    red.SetOrientationToAxial()
    centre = mrml.centre_views_on_segment(scene, segmentation, "liver 1")
    # lesion 1 is centred at (25, 30, 30) mm from the LPS origin (-40, 20, 100): RAS (15, -50, 130)
    assert np.allclose(centre, (15.0, -50.0, 130.0), atol=0.5)
    assert np.allclose([red.GetSliceToRAS().GetElement(i, 3) for i in range(3)], centre, atol=1e-6)
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", "shift")
    volume.SetAndObserveTransformNodeID(transform.GetID())
    with pytest.raises(InputError, match="Harden transform"):
        mrml.volume_to_image(volume)


class _FolderDatabase:
    """Slicer's DICOM database interface (fileForInstance, fileValue) over one written DICOM file."""

    def __init__(self, path: str, uid: str):
        self.path, self.uid = path, uid

    def fileForInstance(self, uid: str) -> str:
        return self.path if uid == self.uid else ""

    def fileValue(self, path: str, tag: str) -> str:
        reader = sitk.ImageFileReader()
        reader.SetFileName(path)
        reader.ReadImageInformation()
        key = tag.replace(",", "|").lower()
        return reader.GetMetaData(key) if reader.HasMetaDataKey(key) else ""


def test_kvp_and_patient_id_come_from_the_dicom_of_the_volume(tmp_path, scene_with_lesions):
    from CD8RScoreLib.imageio import keep_locale

    scene, volume, _, _, _ = scene_with_lesions
    image = sitk.GetImageFromArray(np.zeros((8, 8), np.int16))
    for key, value in (("0018|0060", "100"), ("0010|0020", "PAT-7"), ("0008|0060", "CT")):
        image.SetMetaData(key, value)
    path = str(tmp_path / "slice.dcm")
    with keep_locale():
        sitk.WriteImage(image, path)
    assert mrml.dicom_acquisition(volume, _FolderDatabase(path, "1.2.3")).kvp is None  # not from DICOM
    volume.SetAttribute("DICOM.instanceUIDs", "1.2.3 1.2.4")
    found = mrml.dicom_acquisition(volume, _FolderDatabase(path, "1.2.3"))
    assert found.kvp == 100.0 and found.patient_id == "PAT-7"


def test_a_dicom_volume_gets_its_slice_thickness_and_acquisition_warnings_as_on_the_command_line(
        tmp_path, scene_with_lesions):
    """A volume loaded from DICOM whose slices are 5 mm thick (0018,0050) on a finer grid: the lesion table says
    5 mm and warns as the command line does for the same series, and names the unknown kernel; a volume not from
    DICOM keeps the head-foot spacing and no acquisition warning."""
    from CD8RScoreLib.imageio import keep_locale
    from CD8RScoreLib.scoring import acquisition_warnings

    scene, volume, segmentation, _, _ = scene_with_lesions
    plain = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "PAT-A", KvpInfo(120.0, "user"))
    spacing = volume.GetSpacing()[2]
    rows = mrml.table_node_rows(plain.lesion_table)[1]
    assert [float(r["slice_thickness_mm"]) for r in rows] == pytest.approx([spacing] * len(rows))
    assert not any("slice thickness" in r["warnings"] or "kernel" in r["warnings"] for r in rows)

    image = sitk.GetImageFromArray(np.zeros((8, 8), np.int16))
    for key, value in (("0018|0060", "120"), ("0010|0020", "PAT-7"), ("0008|0060", "CT"), ("0018|0050", "5")):
        image.SetMetaData(key, value)
    path = str(tmp_path / "slice.dcm")
    with keep_locale():
        sitk.WriteImage(image, path)
    volume.SetAttribute("DICOM.instanceUIDs", "1.2.3")
    database = _FolderDatabase(path, "1.2.3")
    acquisition = scan_acquisition(volume, database)
    assert acquisition.slice_thickness_mm == 5.0 and acquisition.modality == "CT" and acquisition.kernel is None
    result = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "PAT-B", KvpInfo(120.0, "user"),
                                    dicom_database=database)
    rows = mrml.table_node_rows(result.lesion_table)[1]
    assert spacing != 5.0 and {float(r["slice_thickness_mm"]) for r in rows} == {5.0}
    expected = acquisition_warnings(acquisition, KvpInfo(120.0, "user"))
    assert any("slice thickness 5 mm" in w for w in expected) and any("kernel unknown" in w for w in expected)
    for row in rows:
        assert all(w in row["warnings"] for w in expected)


def test_a_second_patient_gets_new_tables_and_leaves_the_first_patients_intact(scene_with_lesions):
    """Scoring patient B after patient A (the panel passes A's tables as the previous result) makes B's own table
    nodes; A's keep their rows, names and patient; a table that is not this module's is never written into."""
    scene, volume, segmentation, _, _ = scene_with_lesions
    first = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "PAT-A", KvpInfo(120.0, "user"))
    _, rows_a = mrml.table_node_rows(first.lesion_table)
    second = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "PAT-B", KvpInfo(100.0, "user"),
                                    previous=first)
    assert second.lesion_table is not first.lesion_table and second.patient_table is not first.patient_table
    assert scene.GetNodesByClass("vtkMRMLTableNode").GetNumberOfItems() == 4
    assert first.lesion_table.GetName() == "PAT-A CD8RScore lesions E0"
    assert second.lesion_table.GetName() == "PAT-B CD8RScore lesions E0"
    assert mrml.table_node_rows(first.lesion_table)[1] == rows_a  # untouched
    assert {r["patient_id"] for r in mrml.table_node_rows(first.lesion_table)[1]} == {"PAT-A"}
    assert {r["kvp"] for r in mrml.table_node_rows(second.lesion_table)[1]} == {"100"}
    for result, patient in ((first, "PAT-A"), (second, "PAT-B")):
        for table, kind in ((result.lesion_table, "lesions E0"), (result.patient_table, "patient")):
            assert mrml.is_result_table(table, kind, patient)
            assert table.GetAttribute(mrml.PATIENT_ATTRIBUTE) == patient
    # the same patient again: its own tables are updated in place
    again = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "PAT-B", KvpInfo(100.0, "user"),
                                   previous=second)
    assert again.lesion_table is second.lesion_table
    # a user's table selected as "previous" is not this module's: left intact, a new node is made
    users = scene.AddNewNodeByClass("vtkMRMLTableNode", "my notes")
    from types import SimpleNamespace

    third = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "PAT-B", KvpInfo(100.0, "user"),
                                   previous=SimpleNamespace(lesion_table=users, patient_table=None,
                                                            followup_table=None))
    assert third.lesion_table is not users and users.GetNumberOfColumns() == 0


def test_result_tables_record_the_pyradiomics_that_computed_them(scene_with_lesions):
    import radiomics

    scene, volume, segmentation, _, _ = scene_with_lesions
    result = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "SYN-3", KvpInfo(120.0, "user"))
    for table in (result.lesion_table, result.patient_table):
        assert table.GetAttribute("CD8RScore.radiomics_version") == radiomics.__version__
        assert table.GetAttribute("CD8RScore.radiomics_location") == str(
            __import__("pathlib").Path(radiomics.__file__).resolve().parent)
        assert table.GetAttribute("CD8RScore.signature") == SIGNATURE.label


class _OnlyCertifiedNames:
    """A stand-in for an MRML or segmentation object of the oldest supported Slicer: it answers only the method
    names the API table certifies for that version (a newer method, e.g. vtkSegment.HasTerminology of 5.10,
    raises AttributeError as it would there)."""

    def __init__(self, wrapped, allowed: set):
        self._wrapped, self._allowed = wrapped, allowed

    def __getattr__(self, name):
        if name not in self._allowed:
            raise AttributeError(f"{name}: not in the API table for the oldest supported Slicer")
        value = getattr(self._wrapped, name)
        if name in ("GetSegmentation", "GetSegment"):
            return lambda *args: _OnlyCertifiedNames(value(*args), self._allowed)
        return value


def test_a_segment_without_tag_or_telling_name_is_other_using_only_the_oldest_slicers_api(scene_with_lesions):
    """Slicer's default segment name ("Segment_1"), no location tag, no terminology: the site is unknown, scored as
    'other' and flagged, and finding that out calls only methods the oldest supported Slicer has."""
    from test_slicer_api_versions import API_TABLE, readme_minimum

    minimum = tuple(int(p) for p in readme_minimum().split("."))
    allowed = {name[1:] for name, (version, _) in API_TABLE.items()
               if name.startswith(".") and tuple(int(p) for p in version.split(".")) <= minimum}
    scene, volume, segmentation, _, _ = scene_with_lesions
    segment_id = mrml.segment_id_by_name(segmentation, "sc 3")
    segmentation.GetSegmentation().GetSegment(segment_id).SetName("Segment_1")
    old_slicer_node = _OnlyCertifiedNames(segmentation, allowed)
    assert mrml.segment_location(old_slicer_node, segment_id) == (None, "")
    lesion = {lesion.lesion_id: lesion for lesion in mrml.lesion_inputs(segmentation, volume)}["Segment_1"]
    assert (lesion.location, lesion.location_given) == ("other", False)
    # a terminology entry (stored in the segment's tag, as every Slicer does) still names the site
    segment = segmentation.GetSegmentation().GetSegment(segment_id)
    segment.SetTag(slicer.vtkSegment.GetTerminologyEntryTagName(),
                   "Segmentation category and type - 3D Slicer General Anatomy list~SCT^123037004^Anatomical "
                   "Structure~SCT^10200004^Liver~^^~Anatomic codes - DICOM master list~^^~^^")
    assert mrml.segment_location(old_slicer_node, segment_id) == ("liver", "terminology")


def test_each_scan_keeps_its_own_kvp_source(tmp_path, scene_with_lesions):
    """A kVp typed for the baseline never reaches the follow-up: each scan is typed, else its own DICOM (0018,0060),
    else the signature's assumed value, and its rows say which."""
    from CD8RScoreLib.imageio import keep_locale
    from CD8RScoreLib.scene_scoring import scan_kvp

    scene, volume, segmentation, ct, labels = scene_with_lesions
    image = sitk.GetImageFromArray(np.zeros((8, 8), np.int16))
    image.SetMetaData("0018|0060", "80")
    path = str(tmp_path / "followup.dcm")
    with keep_locale():
        sitk.WriteImage(image, path)
    database = _FolderDatabase(path, "9.9.9")
    followup = mrml.image_to_volume_node(scene, ct, "CT E1")
    followup.SetAttribute("DICOM.instanceUIDs", "9.9.9")
    assert scan_kvp(volume, 120.0, SIGNATURE, database) == KvpInfo(120.0, "user")
    assert scan_kvp(followup, 0.0, SIGNATURE, database) == KvpInfo(80.0, "dicom")
    assert scan_kvp(followup, 140.0, SIGNATURE, database) == KvpInfo(140.0, "user")
    assert scan_kvp(volume, 0.0, SIGNATURE, database) == KvpInfo(SIGNATURE.kvp.assumed_kv, "assumed")
    followup_segmentation = mrml.label_image_to_segmentation(scene, labels, followup, NAMES, "E1 lesions")
    result = score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "SYN-3",
                                    scan_kvp(volume, 120.0, SIGNATURE, database),
                                    followup_volume_node=followup, followup_segmentation_node=followup_segmentation,
                                    followup_kvp=scan_kvp(followup, 0.0, SIGNATURE, database))
    assert {(r["kvp"], r["kvp_source"]) for r in result.rows_e0} == {(120.0, "user")}
    assert {(r["kvp"], r["kvp_source"]) for r in result.rows_e1} == {(80.0, "dicom")}
    with pytest.raises(ValueError, match="own kVp"):
        score_patient_in_scene(scene, volume, segmentation, SIGNATURE, "SYN-3", KvpInfo(120.0, "user"),
                               followup_volume_node=followup, followup_segmentation_node=followup_segmentation)


def test_the_ct_chosen_by_default_is_never_a_label_map():
    scene = slicer.vtkMRMLScene()
    assert mrml.first_ct_volume(scene) is None
    scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "lesion labels")
    assert mrml.first_ct_volume(scene) is None
    ct = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "CT")
    assert mrml.first_ct_volume(scene) is ct
