"""The lesion table as a DICOM Structured Report: TID 1500 Measurement Report (highdicom), mL, mm and HU.

One measurement group per lesion, referencing the CT series and the segmentation (the SEG's segment for a DICOM
SEG, TID 1411; the RTSTRUCT as evidence, TID 1501): tracking identifier "lesion <id>: <segment name>", finding
site (SNOMED CT), the score (a numeric measurement whose concept and algorithm identification name the
signature and its status), volume (mL) and longest axial diameter (mm), the raw values of the core and ring
features the signature uses, the score class, the signature's status and whether the lesion is the
least-infiltrated one (lowest score among lesions > 1 mL, as the patient summary), and whether the CT was lossy
compressed. The title is CID 7021's "Imaging Measurement Report"; a demonstration signature puts DEMONSTRATION in
the series description, each tracking identifier and each group's status. Text (patient name, lesion names) is
written as UTF-8 (Specific Character Set ISO_IR 192) whatever character set the CT came in. Numbers are written as
DICOM decimal strings (16 characters: at least 11 significant digits).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from . import __version__
from .dicom_codes import LESION, private_code, private_coding_scheme, site_code
from .dicom_file_format import save_in_file_format
from .dicom_seg_input import RT_STRUCTURE_SET_STORAGE, SEGMENTATION_STORAGE
from .dicom_series import CtSeries, find_ct_series, is_dicom_file, lossy_compression
from .errors import InputError
from .features import FEATURES
from .lesion_table import atomic_write_bytes
from .signature import Signature

if TYPE_CHECKING:
    from pydicom import Dataset

FIELD = "--sr"
NO_UNITS = Code("1", "UCUM", "no units")
MILLILITRE = Code("ml", "UCUM", "milliliter")
HOUNSFIELD = Code("[hnsf'U]", "UCUM", "Hounsfield unit")
HOUNSFIELD_SQUARED = Code("[hnsf'U]2", "UCUM", "Hounsfield unit squared")
# First-order features in HU or HU^2; every other feature (texture on grey levels, entropy, shape ratios) has none.
_HU_FEATURES = {"10Percentile", "90Percentile", "InterquartileRange", "Maximum", "Mean", "MeanAbsoluteDeviation",
                "Median", "Minimum", "Range", "RobustMeanAbsoluteDeviation", "RootMeanSquared"}
_HU2_FEATURES = {"Variance", "Energy"}

SCORE = "CD8RS-SCORE"
LEAST_INFILTRATED = private_code("CD8RS-LEAST", "Least-infiltrated lesion (lowest score, lesions > 1 mL)")
SCORE_CLASS = private_code("CD8RS-CLASS", "CD8 radiomics score class (reference cut-off)")
COMPUTABLE = private_code("CD8RS-COMPUTABLE", "CD8 radiomics score computable")
SIGNATURE_STATUS = private_code("CD8RS-STATUS", "Signature status")
YES, NO = codes.SCT.Yes, codes.SCT.No


def score_concept(signature: Signature) -> Code:
    """The score's concept: its meaning names the signature and its status, e.g. "CD8 radiomics score
    [DEMONSTRATION] cd8rscore-demonstration"."""
    return private_code(SCORE, f"CD8 radiomics score [{signature.status.upper()}] {signature.name}")


def feature_concept(voi: str, feature_key: str) -> Code:
    """Concept of a core or ring feature: value "<voi>-<IBSI id>", meaning "<voi> <IBSI name>"."""
    info = FEATURES[feature_key]
    return private_code(f"{voi}-{info.ibsi_id}", f"{voi} {info.ibsi_name}")


def feature_unit(feature_key: str) -> Code:
    family, name = feature_key.split("_", 1)
    if family == "firstorder" and name in _HU_FEATURES:
        return HOUNSFIELD
    if family == "firstorder" and name in _HU2_FEATURES:
        return HOUNSFIELD_SQUARED
    return NO_UNITS


# The report's title, from CID 7021 "Measurement Report Document Titles" (what TID 1500 readers match on); the
# signature's status is said in the series description, the tracking identifiers and each group's evaluations.
REPORT_TITLE = Code("126000", "DCM", "Imaging Measurement Report")
LOSSY = private_code("CD8RS-LOSSY", "CT images lossy compressed")


def _ct_datasets(ct: "CtSeries | str | Path | Sequence[str | Path]") -> list:
    """Headers of the CT slices the SR references: the image series chosen in a folder, exactly as the CT is read
    for scoring (dicom_series.find_ct_series: not the first file of the folder, which may be a dose report), or the
    given files; refused when the CT is not DICOM."""
    import pydicom

    why = ("no DICOM SR can be written: the SR references the CT by its DICOM UIDs, and this CT is not a DICOM "
           "series folder; give --image as the DICOM series folder")
    if isinstance(ct, CtSeries):
        return ct.headers
    if isinstance(ct, (str, Path)):
        ct_path = Path(ct)
        if not (ct_path.is_dir() or is_dicom_file(ct_path)):
            raise InputError(why, ct_path, FIELD)
        return find_ct_series(ct_path).headers
    slices = [pydicom.dcmread(f, stop_before_pixels=True) for f in ct if is_dicom_file(f)]
    slices = [ds for ds in slices if "SeriesInstanceUID" in ds and "SOPInstanceUID" in ds]
    if not slices:
        raise InputError(why, None, FIELD)
    return slices


def _segmentation_dataset(segmentation_path: Path):
    import pydicom

    why = ("no DICOM SR can be written: the SR references the segmentation, and this one is not a DICOM SEG or "
           "RTSTRUCT; give --segmentation as the DICOM SEG or RTSTRUCT of the CT")
    if not is_dicom_file(segmentation_path):
        raise InputError(why, segmentation_path, FIELD)
    ds = pydicom.dcmread(segmentation_path, stop_before_pixels=True)
    if str(ds.get("SOPClassUID", "")) not in (SEGMENTATION_STORAGE, RT_STRUCTURE_SET_STORAGE):
        raise InputError(why, segmentation_path, FIELD)
    return ds


def _number(value) -> "float | None":
    if value is None or value == "":
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _lesion_group(row: dict, signature: Signature, least_id: "str | None", segmentation, segment_numbers: set[int],
                  ct_series_uid: str, lossy: bool):
    """The measurement group of one lesion-table row."""
    import highdicom as hd
    from pydicom.uid import generate_uid

    demonstration = signature.status == "demonstration"
    status = signature.status.upper()
    identifier = f"lesion {row['lesion_id']}: {row['segment_name']}" + (" (DEMONSTRATION)" if demonstration else "")
    measurements = []
    score = _number(row.get("score"))
    computable = str(row.get("computable")) in ("1", "True", "true")
    if computable and score is not None:
        measurements.append(hd.sr.Measurement(
            name=score_concept(signature), value=score, unit=NO_UNITS,
            algorithm_id=hd.sr.AlgorithmIdentification(name=signature.name, version=__version__,
                                                       parameters=[f"status={signature.status}"])))
    for name, key, unit in ((codes.SCT.Volume, "volume_ml", MILLILITRE),
                            (codes.SCT.LongAxis, "longest_axial_diameter_mm", codes.UCUM.Millimeter)):
        value = _number(row.get(key))
        if value is not None:
            measurements.append(hd.sr.Measurement(name=name, value=value, unit=unit))
    for feature in signature.features:
        value = _number(row.get(feature.key))
        if value is not None:
            measurements.append(hd.sr.Measurement(name=feature_concept(feature.voi, feature.feature), value=value,
                                                  unit=feature_unit(feature.feature)))
    status_meaning = f"{status} signature" + (": not the published CD8-Rscore" if demonstration else "")
    evaluations = [
        hd.sr.QualitativeEvaluation(SIGNATURE_STATUS, private_code(status, status_meaning)),
        hd.sr.QualitativeEvaluation(COMPUTABLE, YES if computable else NO),
        hd.sr.QualitativeEvaluation(LEAST_INFILTRATED, YES if least_id == str(row["lesion_id"]) else NO),
        hd.sr.QualitativeEvaluation(LOSSY, YES if lossy else NO),
    ]
    if row.get("score_class") in ("high", "low"):
        evaluations.append(hd.sr.QualitativeEvaluation(
            SCORE_CLASS, private_code(row["score_class"].upper(), f"{row['score_class']} (reference cut-off)")))
    site = site_code(str(row.get("location") or "other"))
    common = dict(tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=identifier),
                  finding_type=LESION, finding_sites=[hd.sr.FindingSite(site)] if site is not None else None,
                  measurements=measurements, qualitative_evaluations=evaluations)
    lesion_id = str(row["lesion_id"])
    if segmentation.SOPClassUID == SEGMENTATION_STORAGE and lesion_id.isdigit() and int(lesion_id) in segment_numbers:
        segment = hd.sr.ReferencedSegment(
            sop_class_uid=segmentation.SOPClassUID, sop_instance_uid=segmentation.SOPInstanceUID,
            segment_number=int(lesion_id), source_series=hd.sr.SourceSeriesForSegmentation(ct_series_uid))
        return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(referenced_segment=segment, **common)
    return hd.sr.MeasurementsAndQualitativeEvaluations(**common)


@dataclass(frozen=True)
class ReportEvidence:
    """What an SR references: the headers of the CT series' slices and the DICOM SEG or RTSTRUCT (header, path)."""

    ct: list
    segmentation: "Dataset"
    segmentation_path: Path


def report_evidence(ct: "CtSeries | str | Path | Sequence[str | Path]",
                    segmentation_path: "str | Path") -> ReportEvidence:
    """The evidence of an SR on this CT (the series read for scoring, its DICOM series folder, or its files) and
    segmentation (its DICOM SEG or RTSTRUCT); :class:`InputError` says why when an SR cannot reference them."""
    segmentation_path = Path(segmentation_path)
    return ReportEvidence(_ct_datasets(ct), _segmentation_dataset(segmentation_path), segmentation_path)


def write_structured_report(out: "str | Path", rows: Sequence[dict], signature: Signature,
                            evidence: ReportEvidence) -> Path:
    """Write the lesion rows of one CT as a TID 1500 Comprehensive 3D SR at ``out`` (atomically); return the path.

    ``evidence`` (:func:`report_evidence`): the CT and segmentation the SR references. Row values may be numbers or
    CSV text. A lesion id that is not one of the SEG's segment numbers (a Slicer segment id) gives a group without
    the segment reference (TID 1501); the SEG is still the report's evidence.
    """
    import highdicom as hd
    from pydicom.uid import generate_uid

    from .patient import patient_summary

    out, ct, segmentation = Path(out), evidence.ct, evidence.segmentation
    if not rows:
        raise InputError("no lesion to report", evidence.segmentation_path, FIELD)
    ct_series_uid = str(ct[0].SeriesInstanceUID)
    segment_numbers = {int(item.SegmentNumber) for item in segmentation.get("SegmentSequence", [])}
    least_id = patient_summary(rows).get("least_infiltrated_lesion_id")
    least_id = str(least_id) if least_id is not None else None
    lossy = lossy_compression(ct) is not None
    groups = [_lesion_group(row, signature, least_id, segmentation, segment_numbers, ct_series_uid, lossy)
              for row in rows]
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(), name="cd8rscore", manufacturer_name="CD8RScore", model_name=__version__))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=device),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion, imaging_measurements=groups,
        title=REPORT_TITLE)
    description = "CD8-Rscore " + ("DEMONSTRATION " if signature.status == "demonstration" else "") + \
        "(research use only)"
    sr = hd.sr.Comprehensive3DSR(
        evidence=[*ct, segmentation], content=report, series_instance_uid=generate_uid(), series_number=100,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="CD8RScore",
        series_description=description[:64], coding_schemes=[private_coding_scheme()])
    # UTF-8: any patient's or lesion's name, whatever the CT's set (set here: highdicom 0.22, the release for the
    # pydicom 2.4.4 of Slicer 5.8 and 5.10, has no specific_character_set argument)
    sr.SpecificCharacterSet = "ISO_IR 192"
    buffer = io.BytesIO()
    save_in_file_format(sr, buffer)
    atomic_write_bytes(out, buffer.getvalue())
    return out
