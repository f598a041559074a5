"""A synthetic patient as DICOM: a CT series (HU, int16 slices), a DICOM SEG and an RTSTRUCT of its lesions.

Used by ``cd8rscore demo`` and the tests. Every object says SYNTHETIC in its series description. The CT is
written with pydicom, the SEG with highdicom; the RTSTRUCT with pydicom, because highdicom has no RTSTRUCT
writer and rt-utils needs OpenCV (its contours run through the boundary voxels' centres). The RTSTRUCT's contours
are the 0.5 iso-lines of each slice's mask (contourpy, matplotlib's contouring engine): they pass half-way between
voxel centres inside and outside the lesion, as a contour drawn on the CT would.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from . import __version__
from .dicom_codes import (LESION, MORPHOLOGICALLY_ABNORMAL_STRUCTURE, private_code, private_coding_scheme,
                          site_code)
from .dicom_file_format import save_in_file_format

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
MANUFACTURER = "CD8RScore"


@dataclass
class DemoLesion:
    """One lesion to write: its label value in the label map (= segment / ROI number), name and fine site."""

    label: int
    name: str
    site: str


def _new_instance(sop_class_uid: str, source: Dataset) -> Dataset:
    """A new instance of ``sop_class_uid`` (a new SOP instance UID, explicit little endian) with the patient,
    study and frame of reference of ``source``."""
    uid = generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class_uid
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class_uid, uid
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                    "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName", "FrameOfReferenceUID"):
        setattr(ds, keyword, getattr(source, keyword))
    return ds


def new_study(patient_id: str, when: "datetime.datetime | None" = None) -> Dataset:
    """The patient and study identity of a new synthetic study at ``when`` (default now), with a new frame of
    reference: what every instance of the study copies (see _new_instance)."""
    when = when or datetime.datetime.now()
    study = Dataset()
    study.PatientName = f"SYNTHETIC^{patient_id}"
    study.PatientID = patient_id
    study.PatientBirthDate = ""
    study.PatientSex = "O"
    study.StudyInstanceUID = generate_uid()
    study.StudyDate = when.strftime("%Y%m%d")
    study.StudyTime = when.strftime("%H%M%S")
    study.StudyID = "1"
    study.AccessionNumber = ""
    study.ReferringPhysicianName = ""
    study.FrameOfReferenceUID = generate_uid()
    return study


def write_ct_series(image: sitk.Image, folder: Path, patient_id: str, kvp_kv: float = 120.0,
                    study: "Dataset | None" = None) -> list[Dataset]:
    """Write ``image`` (HU, any pixel type, rounded to int16) as one CT series of axial slices into ``folder``.

    ``study``: the patient and study it belongs to (new_study; default a new study of ``patient_id`` today).
    Returns the slices' datasets in slice order (what SEG and RTSTRUCT reference).
    """
    folder.mkdir(parents=True, exist_ok=True)
    direction = np.array(image.GetDirection()).reshape(3, 3)
    array = np.clip(np.round(sitk.GetArrayFromImage(image)), -32768, 32767).astype(np.int16)
    study = study if study is not None else new_study(patient_id)
    series_uid = generate_uid()
    slices = []
    for z in range(array.shape[0]):
        ds = _new_instance(CT_IMAGE_STORAGE, study)
        ds.Modality = "CT"
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = 1
        ds.SeriesDescription = "SYNTHETIC CT (cd8rscore demo)"
        ds.InstanceNumber = z + 1
        ds.Manufacturer = MANUFACTURER
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        ds.PositionReferenceIndicator = ""
        ds.PatientPosition = "HFS"
        ds.Laterality = ""  # not a paired organ
        ds.AcquisitionNumber = 1
        ds.ImagePositionPatient = [f"{v:.6f}" for v in image.TransformIndexToPhysicalPoint((0, 0, z))]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in (*direction[:, 0], *direction[:, 1])]
        ds.PixelSpacing = [f"{image.GetSpacing()[1]:.6f}", f"{image.GetSpacing()[0]:.6f}"]  # row, column
        ds.SliceThickness = f"{image.GetSpacing()[2]:.6f}"
        ds.SliceLocation = ds.ImagePositionPatient[2]
        ds.KVP = f"{kvp_kv:g}"
        ds.ConvolutionKernel = "STANDARD"
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = array.shape[1], array.shape[2]
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "0", "1", "HU"
        ds.PixelData = array[z].tobytes()
        save_in_file_format(ds, folder / f"CT{z + 1:04d}.dcm")
        slices.append(ds)
    return slices


def write_seg(ct: Sequence[Dataset], labels: sitk.Image, lesions: Sequence[DemoLesion], path: Path,
              fractional: bool = False) -> Dataset:
    """Write the lesions of ``labels`` (on the CT's grid) as a DICOM SEG, one segment per lesion, numbered by label.

    Each segment is a Lesion (Morphologically Abnormal Structure) with the lesion's site as anatomic region.
    ``fractional``: a FRACTIONAL (probability) SEG holding the binary masks as 0 and the maximum value.
    """
    import highdicom as hd

    values = sitk.GetArrayViewFromImage(labels)
    pixels = np.stack([values == lesion.label for lesion in lesions], axis=-1)
    algorithm = hd.AlgorithmIdentificationSequence(
        name="cd8rscore synthetic patient", version=__version__,
        family=private_code("SYNTHETIC", "Synthetic lesion generator"))
    descriptions = []
    for number, lesion in enumerate(lesions, start=1):
        if number != lesion.label:
            raise ValueError("DICOM SEG segments are numbered 1..N: give the lesions in label order from 1")
        region = site_code(lesion.site)
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=number, segment_label=lesion.name,
            segmented_property_category=MORPHOLOGICALLY_ABNORMAL_STRUCTURE, segmented_property_type=LESION,
            algorithm_type="AUTOMATIC", algorithm_identification=algorithm,
            anatomic_regions=[region] if region is not None else None))
    seg = hd.seg.Segmentation(
        source_images=list(ct), pixel_array=pixels.astype(np.uint8 if not fractional else np.float32),
        segmentation_type="FRACTIONAL" if fractional else "BINARY", segment_descriptions=descriptions,
        series_instance_uid=generate_uid(), series_number=2, sop_instance_uid=generate_uid(), instance_number=1,
        manufacturer=MANUFACTURER, manufacturer_model_name="cd8rscore", software_versions=__version__,
        device_serial_number="0", series_description="SYNTHETIC lesion segmentation (cd8rscore demo)",
        coding_schemes=[private_coding_scheme()])
    seg.save_as(path)
    return seg


def slice_contours(mask2d: np.ndarray) -> list[np.ndarray]:
    """Closed 0.5 iso-lines of a binary slice, each an (n, 2) array of (column, row) continuous indices."""
    import contourpy

    padded = np.pad(mask2d.astype(np.float64), 1)  # zero border: every line closes
    generator = contourpy.contour_generator(z=padded, line_type=contourpy.LineType.Separate)
    contours = []
    for line in generator.lines(0.5):
        if np.allclose(line[0], line[-1]):
            line = line[:-1]  # DICOM closed contours do not repeat their first point
        contours.append(line - 1.0)  # undo the padding
    return contours


def write_rtstruct(ct: Sequence[Dataset], labels: sitk.Image, lesions: Sequence[DemoLesion], path: Path) -> Dataset:
    """Write the lesions of ``labels`` (on the CT's grid) as an RTSTRUCT, one ROI per lesion numbered by label."""
    first = ct[0]
    ds = _new_instance(RT_STRUCTURE_SET_STORAGE, first)
    ds.PositionReferenceIndicator = ""
    now = datetime.datetime.now()
    ds.Modality = "RTSTRUCT"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 3
    ds.SeriesDescription = "SYNTHETIC lesion contours (cd8rscore demo)"
    ds.InstanceNumber = 1
    ds.Manufacturer = MANUFACTURER
    ds.OperatorsName = ""
    ds.StructureSetLabel = "SYNTHETIC"
    ds.StructureSetDate, ds.StructureSetTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")

    series = Dataset()
    series.SeriesInstanceUID = first.SeriesInstanceUID
    series.ContourImageSequence = [_image_ref(s) for s in ct]
    study = Dataset()
    study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"  # Detached Study Management (retired), as RT tools write
    study.ReferencedSOPInstanceUID = first.StudyInstanceUID
    study.RTReferencedSeriesSequence = [series]
    frame = Dataset()
    frame.FrameOfReferenceUID = first.FrameOfReferenceUID
    frame.RTReferencedStudySequence = [study]
    ds.ReferencedFrameOfReferenceSequence = [frame]

    values = sitk.GetArrayViewFromImage(labels)
    grid = sitk.Image(labels)
    rois, roi_contours, observations = [], [], []
    for lesion in lesions:
        roi = Dataset()
        roi.ROINumber = lesion.label
        roi.ReferencedFrameOfReferenceUID = first.FrameOfReferenceUID
        roi.ROIName = lesion.name
        roi.ROIGenerationAlgorithm = "AUTOMATIC"
        rois.append(roi)
        item = Dataset()
        item.ReferencedROINumber = lesion.label
        item.ROIDisplayColor = [255, 0, 0]
        contours = []
        for z in np.flatnonzero((values == lesion.label).any(axis=(1, 2))):
            for line in slice_contours(values[z] == lesion.label):
                points = [grid.TransformContinuousIndexToPhysicalPoint((float(c), float(r), float(z)))
                          for c, r in line]
                contour = Dataset()
                contour.ContourImageSequence = [_image_ref(ct[int(z)])]
                contour.ContourGeometricType = "CLOSED_PLANAR"
                contour.NumberOfContourPoints = len(points)
                contour.ContourData = [f"{v:.4f}" for point in points for v in point]
                contours.append(contour)
        if contours:
            item.ContourSequence = contours
        roi_contours.append(item)
        observation = Dataset()
        observation.ObservationNumber = lesion.label
        observation.ReferencedROINumber = lesion.label
        observation.RTROIInterpretedType = "GTV"
        observation.ROIInterpreter = ""
        observations.append(observation)
    ds.StructureSetROISequence = rois
    ds.ROIContourSequence = roi_contours
    ds.RTROIObservationsSequence = observations
    save_in_file_format(ds, path)
    return ds


def _image_ref(image: Dataset) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = image.SOPClassUID
    ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    return ref


def write_dicom_case(folder: Path, image: sitk.Image, labels: sitk.Image, sites: dict[int, str],
                     patient_id: str) -> dict[str, Path]:
    """Write a CT (HU) and its label map (on the CT grid; lesion label -> fine site in ``sites``) as a DICOM CT
    series folder, a DICOM SEG and an RTSTRUCT of the same lesions, named "<site>_<label>"; return their paths."""
    lesions = [DemoLesion(label, f"{sites[label]}_{label}", sites[label]) for label in sorted(sites)]
    paths = {"ct": folder / "CT", "seg": folder / "lesions_SEG.dcm", "rtstruct": folder / "lesions_RTSTRUCT.dcm"}
    ct = write_ct_series(image, paths["ct"], patient_id)
    write_seg(ct, labels, lesions, paths["seg"])
    write_rtstruct(ct, labels, lesions, paths["rtstruct"])
    return paths
