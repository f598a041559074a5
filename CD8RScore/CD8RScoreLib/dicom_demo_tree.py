"""A synthetic PACS export: a DICOM folder tree of several patients, each with a baseline and a follow-up study.

Used by ``cd8rscore demo``, the tests of ``cd8rscore index`` and its benchmark. Each study holds a localizer, the
CT series, its lesion segmentation (DICOM SEG or RTSTRUCT) and a radiation dose report (X-Ray Radiation Dose SR),
as a scanner and a reading workstation send them. Two layouts, as archives write them: a media export with a
DICOMDIR (pydicom's FileSet: one folder per series, PS3.10 file names), and a flat export with every series of a
study in one folder. Every object says SYNTHETIC in its series description.
"""
from __future__ import annotations

import datetime
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import SimpleITK as sitk
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import generate_uid

from .dicom_demo_data import (CT_IMAGE_STORAGE, MANUFACTURER, DemoLesion, _new_instance, new_study,
                              write_ct_series, write_rtstruct, write_seg)

XRAY_RADIATION_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"
LOCALIZER_SERIES_NUMBER = 101
DOSE_REPORT_SERIES_NUMBER = 997


@dataclass
class DemoStudy:
    """One study to write: the CT (HU), its label map (on the CT grid), the lesions, the date and kVp."""

    image: sitk.Image
    labels: sitk.Image
    lesions: Sequence[DemoLesion]
    when: datetime.datetime
    kvp_kv: float = 120.0


@dataclass
class DemoPatient:
    """A patient of the tree: its studies, the segmentation type and the export layout."""

    patient_id: str
    studies: Sequence[DemoStudy]
    segmentation: str = "SEG"  # or "RTSTRUCT"
    layout: str = "dicomdir"  # or "flat"


@dataclass
class WrittenStudy:
    """Where a study's CT slices and segmentation ended up (what a manifest written by hand would name)."""

    patient_id: str
    study_date: str
    ct_files: list[Path]
    segmentation: Path


def _single_instance_series(sop_class_uid: str, study: Dataset, modality: str, number: int, what: str) -> Dataset:
    """The one instance of a new series of ``study``, described as "SYNTHETIC <what> (cd8rscore demo)"."""
    ds = _new_instance(sop_class_uid, study)
    ds.Modality = modality
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = number
    ds.SeriesDescription = f"SYNTHETIC {what} (cd8rscore demo)"
    ds.InstanceNumber = 1
    ds.Manufacturer = MANUFACTURER
    return ds


def write_localizer(image: sitk.Image, study: Dataset, path: Path) -> Dataset:
    """A coronal localizer (scout) of ``image``: its mean along the patient's y axis, as one CT Image instance with
    Image Type LOCALIZER, in its own series."""
    array = sitk.GetArrayFromImage(image).astype(np.float32)  # z, y, x
    projection = np.clip(np.round(array.mean(axis=1)[::-1]), -32768, 32767).astype(np.int16)  # head at the top
    spacing = image.GetSpacing()
    top = image.TransformIndexToPhysicalPoint((0, image.GetSize()[1] // 2, image.GetSize()[2] - 1))
    ds = _single_instance_series(CT_IMAGE_STORAGE, study, "CT", LOCALIZER_SERIES_NUMBER, "topogram")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    ds.PatientPosition = "HFS"
    ds.ImagePositionPatient = [f"{v:.6f}" for v in top]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "0", "-1"]
    ds.PixelSpacing = [f"{spacing[2]:.6f}", f"{spacing[0]:.6f}"]  # row (z), column (x)
    ds.KVP = "120"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = projection.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = "0", "1"
    ds.PixelData = projection.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return ds


def _code(value: str, meaning: str, scheme: str = "DCM") -> Dataset:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, scheme, meaning
    return code


def write_dose_report(study: Dataset, path: Path, dlp_mgy_cm: float) -> Dataset:
    """An X-Ray Radiation Dose SR (TID 10011, CT Radiation Dose) holding the study's total dose-length product
    (mGy.cm), as CT scanners send with every study."""
    ds = _single_instance_series(XRAY_RADIATION_DOSE_SR, study, "SR", DOSE_REPORT_SERIES_NUMBER, "dose report")
    ds.ContentDate, ds.ContentTime = study.StudyDate, study.StudyTime
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code("113701", "X-Ray Radiation Dose Report")]
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource, template.TemplateIdentifier = "DCMR", "10011"
    ds.ContentTemplateSequence = [template]
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    total = Dataset()
    total.RelationshipType, total.ValueType = "CONTAINS", "NUM"
    total.ConceptNameCodeSequence = [_code("113813", "CT Dose Length Product Total")]
    measured = Dataset()
    measured.NumericValue = f"{dlp_mgy_cm:g}"
    measured.MeasurementUnitsCodeSequence = [_code("mGy.cm", "mGy.cm", "UCUM")]
    total.MeasuredValueSequence = [measured]
    accumulated = Dataset()
    accumulated.RelationshipType, accumulated.ValueType = "CONTAINS", "CONTAINER"
    accumulated.ConceptNameCodeSequence = [_code("113811", "CT Accumulated Dose Data")]
    accumulated.ContinuityOfContent = "SEPARATE"
    accumulated.ContentSequence = DicomSequence([total])
    ds.ContentSequence = DicomSequence([accumulated])
    ds.save_as(path, enforce_file_format=True)
    return ds


def _write_study(folder: Path, patient: DemoPatient, demo: DemoStudy) -> tuple[dict[str, Path], list[str], str]:
    """Every object of one study into ``folder`` (one folder: a flat export). Returns the files by SOP Instance
    UID, the CT slices' UIDs and the segmentation's UID."""
    study = new_study(patient.patient_id, demo.when)
    ct = write_ct_series(demo.image, folder, patient.patient_id, demo.kvp_kv, study)
    files = {str(ds.SOPInstanceUID): folder / f"CT{ds.InstanceNumber:04d}.dcm" for ds in ct}
    localizer = write_localizer(demo.image, study, folder / "LOCALIZER.dcm")
    dose = write_dose_report(study, folder / "DOSE_REPORT.dcm", dlp_mgy_cm=412.0)
    path = folder / f"lesions_{patient.segmentation}.dcm"
    seg = (write_seg if patient.segmentation == "SEG" else write_rtstruct)(ct, demo.labels, demo.lesions, path)
    files.update({str(localizer.SOPInstanceUID): folder / "LOCALIZER.dcm",
                  str(dose.SOPInstanceUID): folder / "DOSE_REPORT.dcm", str(seg.SOPInstanceUID): path})
    return files, [str(ds.SOPInstanceUID) for ds in ct], str(seg.SOPInstanceUID)


def write_dicom_tree(root: Path, patients: Sequence[DemoPatient]) -> list[WrittenStudy]:
    """Write ``patients`` under ``root``: the "dicomdir" ones as a media export with a DICOMDIR in root/CD_EXPORT,
    the "flat" ones in root/ARCHIVE/<patient>/<study date>/. Returns where each study's CT slices and
    segmentation are, patient by patient, in study order."""
    from pydicom.fileset import FileSet

    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    where: dict[str, Path] = {}
    studies = []  # (patient id, study date, CT slice UIDs, segmentation UID)
    with tempfile.TemporaryDirectory() as staging:
        fileset = FileSet()
        for n, patient in enumerate(patients):
            for demo in patient.studies:
                date = demo.when.strftime("%Y%m%d")
                if patient.layout == "flat":
                    folder = root / "ARCHIVE" / patient.patient_id / date
                else:
                    folder = Path(staging) / f"{n}_{date}"
                files, ct_uids, seg_uid = _write_study(folder, patient, demo)
                if patient.layout == "flat":
                    where.update(files)
                else:
                    for path in files.values():
                        fileset.add(path)
                studies.append((patient.patient_id, date, ct_uids, seg_uid))
        if len(fileset):
            export = root / "CD_EXPORT"
            if export.exists():
                shutil.rmtree(export)
            fileset.write(export)
            where.update({instance.SOPInstanceUID: Path(instance.path) for instance in fileset})
    return [WrittenStudy(patient_id, date, sorted(where[uid] for uid in ct_uids), where[seg_uid])
            for patient_id, date, ct_uids, seg_uid in studies]


def demo_tree_patients() -> list[DemoPatient]:
    """The demo's three patients (SYNTHETIC-101..103), each with a baseline and a 12-week follow-up of two
    lesions (one grows, one shrinks): a SEG and an RTSTRUCT in the DICOMDIR export, a SEG in the flat archive.
    Small CTs (70 x 70 x 50 mm), so that the demo stays quick."""
    from .synthetic import follow_up, make_patient

    patients = []
    for k, (segmentation, layout) in enumerate((("SEG", "dicomdir"), ("RTSTRUCT", "dicomdir"), ("SEG", "flat"))):
        e0 = make_patient(n_lesions=2, seed=101 + k, spacing_mm=(1.0, 1.0, 2.0), field_mm=(70.0, 70.0, 50.0),
                          radius_range_mm=(5.0, 8.0))
        e1 = follow_up(e0, {1: 1.3, 2: 0.7}, seed=201 + k)
        lesions = [DemoLesion(lesion.label, f"{lesion.site}_{lesion.label}", lesion.site) for lesion in e0.lesions]
        baseline = datetime.datetime(2021, 3, 1 + k, 9, 30)
        studies = [DemoStudy(e0.image, e0.labels, lesions, baseline),
                   DemoStudy(e1.image, e1.labels, lesions, baseline + datetime.timedelta(weeks=12))]
        patients.append(DemoPatient(f"SYNTHETIC-{101 + k}", studies, segmentation, layout))
    return patients
