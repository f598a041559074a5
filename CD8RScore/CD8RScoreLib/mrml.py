"""The MRML adapter: the scene in (CT volume, lesion segmentation), the results out (lesion and patient tables,
risk colours with a colour legend, tags on the segments, views centred on a lesion).

The one module of the core that imports ``slicer``. It takes the scene as an argument and uses MRML classes only
(no qt, no application), so it runs in Slicer and under pytest on the PyPI package slicer-core alike.

Coordinates: MRML works in RAS, SimpleITK (and the rest of the core) in LPS: x and y change sign.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
import SimpleITK as sitk
import vtk
from vtk.util import numpy_support

import slicer

from .errors import InputError
from .lesion_table import COLUMN_INFO, format_value
from .locations import SITE_CATEGORY, guess_site
from .risk_colours import DIRECTION, NOT_COMPUTABLE_OPACITY_3D, NOT_COMPUTABLE_RGB, legend_lines, risk_rgb
from .signature import Signature

if TYPE_CHECKING:  # scoring needs scipy and pyradiomics, which the Slicer module installs when it first scores
    from .scoring import LesionInput

LOCATION_TAG = "CD8RScore.location"
"""Segment tag holding the lesion's fine site (the CLI reads it from a .seg.nrrd too)."""
SCORE_TAGS = {"score": "CD8RScore.score", "score_class": "CD8RScore.score_class",
              "signature_name": "CD8RScore.signature", "signature_status": "CD8RScore.signature_status",
              "reason": "CD8RScore.reason"}
"""Lesion-table column -> segment tag written after scoring."""
RESULT_TABLE_ATTRIBUTE = "CD8RScore.table"
"""Table node attribute naming which result table it is: "lesions E0", "lesions E1" or "patient"."""
PATIENT_ATTRIBUTE = "CD8RScore.patient"
"""Table node attribute holding the patient ID of a result table."""
LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0])

RISK_COLOURS = 256
RISK_COLOUR_NODE_NAME = "CD8RScore risk"
LEGEND_ROUNDING = 0.1
"""The legend's range is the patient's scores and the cut-off, rounded outward to this step (score units)."""


# --- scene in ----------------------------------------------------------------------------------------------


def _refuse_transformed(node, what: str) -> None:
    """Scoring happens in the node's own coordinates; a parent transform would silently move the lesions."""
    transform = node.GetParentTransformNode()
    if transform is not None:
        raise InputError(f"is under the transform {transform.GetName()!r}; harden the transform "
                         "(Data module: right-click > Harden transform) or remove it, then score again",
                         node.GetName(), what)


def _matrix(vtk_matrix: vtk.vtkMatrix4x4) -> np.ndarray:
    return np.array([[vtk_matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def _sitk_from_array(array_zyx: np.ndarray, ijk_to_ras: np.ndarray, start_ijk: Sequence[int]) -> sitk.Image:
    """A SimpleITK image (LPS) of a voxel array whose first voxel is ``start_ijk`` of the grid ``ijk_to_ras``."""
    image = sitk.GetImageFromArray(array_zyx)
    linear = ijk_to_ras[:3, :3]
    spacing = np.linalg.norm(linear, axis=0)
    direction_lps = LPS_FROM_RAS @ (linear / spacing)
    origin_ras = ijk_to_ras @ np.array([*start_ijk, 1.0])
    image.SetSpacing([float(s) for s in spacing])
    image.SetDirection([float(d) for d in direction_lps.ravel()])
    image.SetOrigin([float(o) for o in LPS_FROM_RAS @ origin_ras[:3]])
    return image


def volume_to_image(volume_node) -> sitk.Image:
    """The CT of a scalar volume node as a float32 SimpleITK image in LPS (HU)."""
    if volume_node is None or volume_node.GetImageData() is None:
        raise InputError("no CT volume; load a CT and select it as the input volume", None, "input volume")
    _refuse_transformed(volume_node, "input volume")
    image_data = volume_node.GetImageData()
    if image_data.GetNumberOfScalarComponents() != 1:
        raise InputError("is not a scalar volume (several components per voxel); select the CT",
                         volume_node.GetName(), "input volume")
    nx, ny, nz = image_data.GetDimensions()
    scalars = numpy_support.vtk_to_numpy(image_data.GetPointData().GetScalars())
    array = scalars.reshape(nz, ny, nx).astype(np.float32)
    matrix = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(matrix)
    return _sitk_from_array(array, _matrix(matrix), (0, 0, 0))


def image_to_volume_node(scene, image: sitk.Image, name: str, labelmap: bool = False):
    """A scalar (or label map) volume node holding a SimpleITK image (LPS); used to load files into the scene."""
    node = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode" if labelmap else "vtkMRMLScalarVolumeNode",
                                   scene.GenerateUniqueName(name))
    array = sitk.GetArrayFromImage(image)
    array = array.astype(np.int16 if not labelmap and np.all(np.mod(array, 1) == 0) else array.dtype)
    image_data = vtk.vtkImageData()
    image_data.SetDimensions(*image.GetSize())
    image_data.GetPointData().SetScalars(numpy_support.numpy_to_vtk(
        array.ravel(), deep=True, array_type=numpy_support.get_vtk_array_type(array.dtype)))
    node.SetAndObserveImageData(image_data)
    direction_ras = LPS_FROM_RAS @ np.array(image.GetDirection()).reshape(3, 3)
    ijk_to_ras = np.eye(4)
    ijk_to_ras[:3, :3] = direction_ras * np.array(image.GetSpacing())
    ijk_to_ras[:3, 3] = LPS_FROM_RAS @ np.array(image.GetOrigin())
    matrix = vtk.vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            matrix.SetElement(r, c, ijk_to_ras[r, c])
    node.SetIJKToRASMatrix(matrix)
    node.CreateDefaultDisplayNodes()
    return node


def label_image_to_segmentation(scene, labels: sitk.Image, reference_volume_node, names: "dict[int, str]",
                                name: str = "Lesions"):
    """A segmentation node with one segment per label value of ``labels``, named by ``names[value]``."""
    labelmap = image_to_volume_node(scene, sitk.Cast(labels, sitk.sitkUInt16), f"{name} labels", labelmap=True)
    segmentation_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", scene.GenerateUniqueName(name))
    segmentation_node.CreateDefaultDisplayNodes()
    segmentation_node.SetReferenceImageGeometryParameterFromVolumeNode(reference_volume_node)
    if not slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(labelmap, segmentation_node):
        raise InputError("cannot import the label map", name, "segmentation")
    segmentation = segmentation_node.GetSegmentation()
    for segment_id in segment_ids(segmentation_node):
        segment = segmentation.GetSegment(segment_id)
        value = segment.GetLabelValue()
        if value in names:
            segment.SetName(names[value])
    scene.RemoveNode(labelmap)
    return segmentation_node


def first_ct_volume(scene):
    """The first scalar volume node of the scene that is not a label map (None if there is none)."""
    nodes = scene.GetNodesByClass("vtkMRMLScalarVolumeNode")
    for i in range(nodes.GetNumberOfItems()):
        node = nodes.GetItemAsObject(i)
        if not node.IsA("vtkMRMLLabelMapVolumeNode"):
            return node
    return None


def segment_ids(segmentation_node) -> list[str]:
    """The segment IDs in display order."""
    segmentation = segmentation_node.GetSegmentation()
    return [segmentation.GetNthSegmentID(i) for i in range(segmentation.GetNumberOfSegments())]


def _check_unique_names(segmentation_node) -> None:
    seen: set[str] = set()
    for segment_id in segment_ids(segmentation_node):
        name = segmentation_node.GetSegmentation().GetSegment(segment_id).GetName()
        if name in seen:
            raise InputError(f"two segments are named {name!r}; lesions are matched by name between baseline "
                             "and follow-up, so rename one", segmentation_node.GetName(), "segment name")
        seen.add(name)


def _segment_mask(segmentation_node, segment_id: str, ct_ijk_to_ras: vtk.vtkMatrix4x4,
                  ct_dimensions: Sequence[int]) -> "sitk.Image | None":
    """The segment's binary mask on the CT's voxel grid, cropped to the segment; None if empty or outside."""
    segment = segmentation_node.GetSegmentation().GetSegment(segment_id)
    layer = slicer.vtkOrientedImageData()
    slicer.vtkSlicerSegmentationsModuleLogic.GetSegmentBinaryLabelmapRepresentation(
        segmentation_node, segment_id, layer)
    if layer.GetPointData().GetScalars() is None:
        return None
    # A layer may hold several segments (shared labelmap): keep this segment's label value only.
    threshold = vtk.vtkImageThreshold()
    threshold.SetInputData(layer)
    threshold.ThresholdBetween(segment.GetLabelValue(), segment.GetLabelValue())
    threshold.SetInValue(1)
    threshold.SetOutValue(0)
    threshold.SetOutputScalarTypeToUnsignedChar()
    threshold.Update()
    binary = slicer.vtkOrientedImageData()
    binary.ShallowCopy(threshold.GetOutput())
    binary.CopyDirections(layer)
    # Nearest-neighbour onto the CT grid (a plain copy when the segmentation was made on this CT).
    on_ct = slicer.vtkOrientedImageData()
    slicer.vtkOrientedImageDataResample.ResampleOrientedImageToReferenceGeometry(binary, ct_ijk_to_ras, on_ct, False)
    extent = [0, -1, 0, -1, 0, -1]
    slicer.vtkOrientedImageDataResample.CalculateEffectiveExtent(on_ct, extent, 0)
    # keep what lies inside the CT
    for axis in range(3):
        extent[2 * axis] = max(extent[2 * axis], 0)
        extent[2 * axis + 1] = min(extent[2 * axis + 1], ct_dimensions[axis] - 1)
    if any(extent[2 * a] > extent[2 * a + 1] for a in range(3)):
        return None
    full = on_ct.GetExtent()
    dims = [full[1] - full[0] + 1, full[3] - full[2] + 1, full[5] - full[4] + 1]
    array = numpy_support.vtk_to_numpy(on_ct.GetPointData().GetScalars()).reshape(dims[2], dims[1], dims[0])
    crop = array[extent[4] - full[4]:extent[5] - full[4] + 1, extent[2] - full[2]:extent[3] - full[2] + 1,
                 extent[0] - full[0]:extent[1] - full[0] + 1]
    if not crop.any():
        return None
    return _sitk_from_array(np.ascontiguousarray(crop, dtype=np.uint8), _matrix(ct_ijk_to_ras),
                            (extent[0], extent[2], extent[4]))


def segment_location(segmentation_node, segment_id: str) -> "tuple[str | None, str]":
    """(fine site, where it came from): the segment's tag, else a guess from its name, else from its terminology.

    Sources: "tag", "name", "terminology", or "" when nothing is known (site None).
    """
    segment = segmentation_node.GetSegmentation().GetSegment(segment_id)
    value = vtk.mutable("")
    if segment.GetTag(LOCATION_TAG, value) and str(value) in SITE_CATEGORY:
        return str(value), "tag"
    site = guess_site(segment.GetName())
    if site:
        return site, "name"
    # read as the segment's terminology tag: vtkSegment.GetTerminology/HasTerminology exist only from Slicer 5.10
    entry = vtk.mutable("")
    terminology = str(entry) if segment.GetTag(slicer.vtkSegment.GetTerminologyEntryTagName(), entry) else ""
    # Terminology entry: "context~category~type~type modifier~region context~region~region modifier", each coded
    # concept "scheme^code^meaning": the type and region meanings (e.g. "Liver", "Lymph node") name the site.
    fields = terminology.split("~")
    for index in (2, 5):
        if index < len(fields):
            parts = fields[index].split("^")
            site = guess_site(parts[2]) if len(parts) >= 3 else None
            if site:
                return site, "terminology"
    return None, ""


def set_segment_location(segmentation_node, segment_id: str, site: str) -> None:
    """Store a fine site on the segment (tag ``CD8RScore.location``; saved in .seg.nrrd and the scene)."""
    if site not in SITE_CATEGORY:
        raise InputError(f"unknown site {site!r}; choose one of {', '.join(SITE_CATEGORY)}",
                         segmentation_node.GetName(), "location")
    segmentation_node.GetSegmentation().GetSegment(segment_id).SetTag(LOCATION_TAG, site)


def lesion_inputs(segmentation_node, volume_node, should_cancel=None) -> list[LesionInput]:
    """One LesionInput per segment (lesion_id = segment name), masks on the CT grid, location from
    :func:`segment_location` ("other" when unknown, flagged as not given). ``should_cancel()`` returning True
    raises scoring.ScoringCancelled between segments."""
    from .scoring import LesionInput, check_cancel

    if segmentation_node is None or segmentation_node.GetSegmentation().GetNumberOfSegments() == 0:
        raise InputError("no lesion segments; segment the lesions (one segment per lesion) and select the "
                         "segmentation", None, "segmentation")
    _refuse_transformed(segmentation_node, "segmentation")
    _check_unique_names(segmentation_node)
    segmentation = segmentation_node.GetSegmentation()
    binary_name = slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName()
    if not segmentation.ContainsRepresentation(binary_name):
        segmentation_node.SetReferenceImageGeometryParameterFromVolumeNode(volume_node)
        if not segmentation_node.CreateBinaryLabelmapRepresentation():
            raise InputError("cannot make a labelmap of the segments", segmentation_node.GetName(), "segmentation")
    matrix = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(matrix)
    dims = volume_node.GetImageData().GetDimensions()
    lesions = []
    for segment_id in segment_ids(segmentation_node):
        check_cancel(should_cancel, f"cancelled while reading the masks of {segmentation_node.GetName()}")
        name = segmentation.GetSegment(segment_id).GetName()
        site, _source = segment_location(segmentation_node, segment_id)
        lesions.append(LesionInput(lesion_id=name, segment_name=name,
                                   mask=_segment_mask(segmentation_node, segment_id, matrix, dims),
                                   location=site or "other", location_given=site is not None))
    return lesions


def segment_id_by_name(segmentation_node, name: str) -> "str | None":
    """The ID of the segment called ``name`` (lesion ids are segment names), else None."""
    segment_id = segmentation_node.GetSegmentation().GetSegmentIdBySegmentName(name)
    return segment_id or None


@dataclass
class DicomAcquisition:
    """What the DICOM files of a volume loaded from DICOM say of its acquisition; None where unknown."""

    kvp: "float | None"
    patient_id: "str | None"
    modality: "str | None" = None
    slice_thickness_mm: "float | None" = None  # (0018,0050): 5 mm slices every 2.5 mm are 5 mm thick
    kernel: "str | None" = None


def _positive_number(text: str) -> "float | None":
    """The first value of a DICOM decimal string if it is a number > 0, else None."""
    try:
        value = float(text.split("\\")[0]) if text else None
    except ValueError:
        return None
    return value if value and value > 0 else None


def dicom_acquisition(volume_node, database) -> DicomAcquisition:
    """kVp (0018,0060), Patient ID (0010,0020), Modality (0008,0060), Slice Thickness (0018,0050) and Convolution
    Kernel (0018,1210) of a volume loaded from DICOM, read from its first file.

    ``database`` is Slicer's DICOM database (``slicer.dicomDatabase``): ``fileForInstance(uid)`` and
    ``fileValue(file, "gggg,eeee")``. Volumes not loaded from DICOM give None for every field.
    """
    uids = dicom_instance_uids(volume_node)
    if not uids or database is None:
        return DicomAcquisition(None, None)
    path = database.fileForInstance(uids[0])
    if not path:
        return DicomAcquisition(None, None)

    def text(tag: str) -> str:
        return (database.fileValue(path, tag) or "").strip()

    return DicomAcquisition(_positive_number(text("0018,0060")), text("0010,0020") or None,
                            modality=text("0008,0060") or None,
                            slice_thickness_mm=_positive_number(text("0018,0050")),
                            kernel=text("0018,1210") or None)


SUBJECT_HIERARCHY_INSTANCE_UID = "DICOMInstanceUID"
"""vtkMRMLSubjectHierarchyConstants::GetDICOMInstanceUIDName(): the subject-hierarchy item UID under which SlicerRT
keeps the SOP Instance UID of an RT object it loaded (an RTSTRUCT's segmentation: SlicerRT
vtkSlicerDicomRtImportExportModuleLogic.cxx, InsertSeriesInSubjectHierarchy)."""


def dicom_instance_uids(node) -> list[str]:
    """The SOP Instance UIDs of the DICOM files a node was loaded from: its ``DICOM.instanceUIDs`` attribute (set
    by Slicer's DICOM plugins: scalar volumes, DICOM SEG), else its subject-hierarchy item's ``DICOMInstanceUID``
    (set by SlicerRT for an RTSTRUCT); [] for a node not loaded from DICOM."""
    if node is None:
        return []
    uids = (node.GetAttribute("DICOM.instanceUIDs") or "").split()
    if uids or node.GetScene() is None:
        return uids
    hierarchy = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(node.GetScene())
    item = hierarchy.GetItemByDataNode(node) if hierarchy is not None else 0
    if not item:  # INVALID_ITEM_ID: the node has no subject-hierarchy item
        return []
    return hierarchy.GetItemUID(item, SUBJECT_HIERARCHY_INSTANCE_UID).split()


def dicom_files(node, database) -> list[str]:
    """The DICOM files a node was loaded from (:func:`dicom_instance_uids` through Slicer's DICOM database);
    [] for a node not loaded from DICOM or a file no longer in the database."""
    uids = dicom_instance_uids(node)
    if not uids or database is None:
        return []
    files = [database.fileForInstance(uid) for uid in uids]
    return files if all(files) else []


# --- results out -------------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _column_info(name: str, signature: "Signature | None") -> tuple[str, str]:
    """(unit, description) of a lesion-table column, features included."""
    if name in COLUMN_INFO:
        return COLUMN_INFO[name]
    extra = {"diameter_change_pct": ("%", "Change of the longest axial diameter from E0 to E1"),
             "response": ("", "Lesion response, RECIST 1.1 thresholds: response <= -30 %, progression >= +20 %")}
    if name in extra:
        return extra[name]
    if signature is not None:
        for feature in signature.features:
            if name == feature.key:
                return "", f"{feature.ibsi_name} of the {feature.voi} VOI (LIFEx {feature.lifex_name})"
            if name == f"{feature.key}_norm":
                return "", f"{feature.key} min-max normalised with the signature's training range"
    return "", ""


def rows_to_table_node(scene, rows: Sequence[dict], columns: Sequence[str], name: str,
                       signature: "Signature | None" = None, table_node=None,
                       attributes: "dict[str, str] | None" = None):
    """A vtkMRMLTableNode with one row per lesion: numeric columns as doubles (empty = NaN), the others as text;
    each column's unit and description set (they reach the CSV schema when the table is saved). ``attributes``
    are set before a new node enters the scene (so node selectors filtering on them list it at once)."""
    if table_node is None:
        table_node = slicer.vtkMRMLTableNode()
        table_node.SetName(scene.GenerateUniqueName(name))
        for key, value in (attributes or {}).items():
            table_node.SetAttribute(key, value)
        scene.AddNode(table_node)
    else:
        for key, value in (attributes or {}).items():
            table_node.SetAttribute(key, value)
    table = vtk.vtkTable()
    for column in columns:
        values = [row.get(column) for row in rows]
        if values and all(v is None or _is_number(v) for v in values) and any(v is not None for v in values):
            array = vtk.vtkDoubleArray()
            for v in values:
                array.InsertNextValue(float(v) if v is not None else math.nan)
        else:
            array = vtk.vtkStringArray()
            for v in values:
                array.InsertNextValue(format_value(v))
        array.SetName(column)
        table.AddColumn(array)
    table_node.SetAndObserveTable(table)
    table_node.SetUseColumnTitleAsColumnHeader(True)
    for column in columns:
        unit, description = _column_info(column, signature)
        if unit:
            table_node.SetColumnUnitLabel(column, unit)
        if description:
            table_node.SetColumnDescription(column, description)
    return table_node


def result_table_attributes(kind: str, patient_id: str, provenance: "dict[str, str]") -> dict[str, str]:
    """Node attributes marking this module's ``kind`` table ("lesions E0", "lesions E1", "patient") of a patient,
    with the software that computed it (``CD8RScore.*``, saved with the scene)."""
    return {RESULT_TABLE_ATTRIBUTE: kind, PATIENT_ATTRIBUTE: patient_id,
            **{f"CD8RScore.{key}": str(value) for key, value in provenance.items()}}


def is_result_table(table_node, kind: str, patient_id: str) -> bool:
    """The node is this module's ``kind`` table of this patient (so a new run may update it in place)."""
    return (table_node is not None and table_node.GetAttribute(RESULT_TABLE_ATTRIBUTE) == kind
            and table_node.GetAttribute(PATIENT_ATTRIBUTE) == patient_id)


def table_node_rows(table_node) -> tuple[list[str], list[dict]]:
    """(columns, rows as dicts of CSV strings) of a table node written by :func:`rows_to_table_node`."""
    table = table_node.GetTable()
    columns = [table.GetColumn(c).GetName() for c in range(table.GetNumberOfColumns())]
    rows = []
    for r in range(table.GetNumberOfRows()):
        row = {}
        for c, column in enumerate(columns):
            array = table.GetColumn(c)
            value = array.GetValue(r)
            row[column] = format_value(float(value)) if isinstance(array, vtk.vtkDataArray) else str(value)
        rows.append(row)
    return columns, rows


def _rounded_range(values: Iterable[float]) -> tuple[float, float]:
    values = list(values)
    low = math.floor(min(values) / LEGEND_ROUNDING) * LEGEND_ROUNDING
    high = math.ceil(max(values) / LEGEND_ROUNDING) * LEGEND_ROUNDING
    if high - low < LEGEND_ROUNDING:
        low, high = low - LEGEND_ROUNDING, high + LEGEND_ROUNDING
    return round(low, 6), round(high, 6)


@dataclass
class RiskScale:
    """The risk colour map of one result: a 256-colour table node over [low, high] score units."""

    colour_node: object
    low: float
    high: float
    cutoff: float

    def index(self, score: float) -> int:
        """Colour-table index of a score (clamped to the range)."""
        t = (min(max(score, self.low), self.high) - self.low) / (self.high - self.low)
        return int(round(t * (RISK_COLOURS - 1)))

    def rgb(self, score: float) -> tuple[float, float, float]:
        """The segment's colour for a score: the map's colour on the side of the cut-off the score's class is on
        (the table's nearest entry could lie across the cut-off)."""
        return risk_rgb(score, self.low, self.high, self.cutoff)


def risk_scale(scene, scores: Sequence[float], cutoff: float) -> RiskScale:
    """The risk colour table node (reused if present) spanning the scores and the cut-off."""
    low, high = _rounded_range([*scores, cutoff])
    node = scene.GetFirstNodeByName(RISK_COLOUR_NODE_NAME)
    if node is None or not node.IsA("vtkMRMLColorTableNode"):
        node = scene.AddNewNodeByClass("vtkMRMLColorTableNode", RISK_COLOUR_NODE_NAME)
    node.SetTypeToUser()
    node.SetNumberOfColors(RISK_COLOURS)
    node.SetNamesInitialised(True)
    node.SetDescription(f"CD8 radiomics score: warm (red to pale orange) below the reference cut-off, {DIRECTION}; "
                        "cool (pale to dark blue) from the cut-off up")
    for i in range(RISK_COLOURS):
        score = low + (high - low) * i / (RISK_COLOURS - 1)
        node.SetColor(i, "", *risk_rgb(score, low, high, cutoff), 1.0)
    return RiskScale(node, low, high, cutoff)


def _segments_of_rows(segmentation_node, rows: Sequence[dict]):
    """(row, vtkSegment) for each lesion row whose segment (named by lesion_id) is in the segmentation."""
    segmentation = segmentation_node.GetSegmentation()
    for row in rows:
        segment_id = segment_id_by_name(segmentation_node, str(row["lesion_id"]))
        if segment_id is not None:
            yield row, segmentation.GetSegment(segment_id)


def colour_segments_by_score(scene, segmentation_node, rows: Sequence[dict], signature: Signature):
    """Recolour each lesion's segment by its score on the risk map; a lesion without a score is drawn differently
    in kind: a dark grey outline without fill in 2D and a faint grey surface in 3D. Show the map as a colour legend on
    the segmentation, titled with the cut-off, the direction and the not-computable style. Returns (RiskScale or
    None, legend display node or None)."""
    scored = [r for r in rows if r.get("computable") and r.get("score") is not None]
    scale = risk_scale(scene, [float(r["score"]) for r in scored], signature.reference_cutoff) if scored else None
    segmentation_node.CreateDefaultDisplayNodes()
    display = segmentation_node.GetDisplayNode()
    for row, segment in _segments_of_rows(segmentation_node, rows):
        segment_id = segmentation_node.GetSegmentation().GetSegmentIdBySegment(segment)
        computable = scale is not None and row.get("computable") and row.get("score") is not None
        segment.SetColor(*(scale.rgb(float(row["score"])) if computable else NOT_COMPUTABLE_RGB))
        display.SetSegmentVisibility2DFill(segment_id, bool(computable))
        display.SetSegmentVisibility2DOutline(segment_id, True)
        display.SetSegmentOpacity3D(segment_id, 1.0 if computable else NOT_COMPUTABLE_OPACITY_3D)
    if scale is None:
        return None, None
    # The legend shows the colour node and scalar range of its primary display node; segments keep their own
    # colours, so setting these on the segmentation's display node changes nothing else.
    display.SetAndObserveColorNodeID(scale.colour_node.GetID())
    display.SetScalarRangeFlag(slicer.vtkMRMLDisplayNode.UseManualScalarRange)
    display.SetScalarRange(scale.low, scale.high)
    # static methods of the Colors module logic: they work on the node's own scene, where the Colors module has
    # registered the legend node class (register it where no module did, as with slicer-core alone)
    if not scene.IsNodeClassRegistered("vtkMRMLColorLegendDisplayNode"):
        scene.RegisterNodeClass(slicer.vtkMRMLColorLegendDisplayNode())
    legend = slicer.vtkSlicerColorLogic.GetColorLegendDisplayNode(segmentation_node)
    if legend is None:
        legend = slicer.vtkSlicerColorLogic.AddDefaultColorLegendDisplayNode(segmentation_node)
    legend.SetTitleText("\n".join(legend_lines(signature.reference_cutoff, [float(r["score"]) for r in scored],
                                                signature.status)))
    legend.SetLabelFormat("%.2f")
    legend.SetUseColorNamesForLabels(False)
    legend.SetNumberOfLabels(5)
    legend.SetVisibility(True)
    return scale, legend


def write_score_tags(segmentation_node, rows: Sequence[dict]) -> None:
    """Score, class, signature and reason on each lesion's segment as tags (saved in .seg.nrrd and the scene)."""
    for row, segment in _segments_of_rows(segmentation_node, rows):
        for column, tag in SCORE_TAGS.items():
            segment.SetTag(tag, format_value(row.get(column)))
        segment.SetTag(LOCATION_TAG, str(row.get("location") or "other"))


def centre_views_on_segment(scene, segmentation_node, segment_name: str) -> tuple[float, float, float]:
    """Centre every slice view on the named segment; returns its centre (RAS, mm)."""
    segment_id = segment_id_by_name(segmentation_node, segment_name)
    if segment_id is None:
        raise InputError(f"no segment named {segment_name!r}", segmentation_node.GetName(), "segment name")
    centre = segmentation_node.GetSegmentCenterRAS(segment_id)
    if centre is None:
        raise InputError(f"segment {segment_name!r} is empty", segmentation_node.GetName(), "segment name")
    slicer.vtkMRMLSliceNode.JumpAllSlices(scene, *centre, slicer.vtkMRMLSliceNode.CenteredJumpSlice)
    return tuple(float(c) for c in centre)
