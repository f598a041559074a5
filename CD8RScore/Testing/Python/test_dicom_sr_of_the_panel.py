"""The panel's Export DICOM SR with the library calls only (no command line, no DICOM SEG reader), so that it also
runs in the Slicer Python environments of `make test-slicer-python`: pydicom 2.4.4 with highdicom 0.22.0 (Slicer
5.8, 5.10) and pydicom 3.0.2 with highdicom 0.27.0 (Slicer 5.12). A CT series and an RTSTRUCT written with pydicom,
lesions scored from the label map, the SR written and read back with pydicom."""
from __future__ import annotations

import pydicom
import pytest
import SimpleITK as sitk

from CD8RScoreLib.dicom_demo_data import DemoLesion, write_ct_series, write_rtstruct
from CD8RScoreLib.dicom_sr import report_evidence, write_structured_report
from CD8RScoreLib.scoring import KvpInfo, LesionInput, score_lesions
from CD8RScoreLib.signature import load_signature
from CD8RScoreLib.synthetic import make_patient

COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"


def content_items(dataset) -> list:
    """Every content item of an SR, depth first."""
    out = []
    for item in getattr(dataset, "ContentSequence", []):
        out.append(item)
        out += content_items(item)
    return out


def test_sr_of_an_rtstruct_case_references_it_and_keeps_every_score(tmp_path):
    patient = make_patient(n_lesions=3, seed=11, field_mm=(96.0, 96.0, 64.0), radius_range_mm=(6.0, 10.0),
                           sites=("liver", "lung", "node"))
    ct = write_ct_series(patient.image, tmp_path / "ct", "SYN-SR")
    lesions = [DemoLesion(lesion.label, f"{lesion.site}_{lesion.label}", lesion.site) for lesion in patient.lesions]
    write_rtstruct(ct, patient.labels, lesions, tmp_path / "rtstruct.dcm")
    signature = load_signature()
    rows = score_lesions(patient.image, [
        LesionInput(str(lesion.label), lesion.name, sitk.Cast(patient.labels == lesion.label, sitk.sitkUInt8),
                    lesion.site) for lesion in lesions], signature, KvpInfo(120.0, "user"), "SYN-SR", "E0")
    assert all(row["computable"] for row in rows)

    out = write_structured_report(tmp_path / "sr.dcm", rows, signature,
                                  report_evidence(tmp_path / "ct", tmp_path / "rtstruct.dcm"))
    report = pydicom.dcmread(out)
    assert report.file_meta.MediaStorageSOPClassUID == COMPREHENSIVE_3D_SR  # a DICOM file, with its meta header
    rtstruct = pydicom.dcmread(tmp_path / "rtstruct.dcm", stop_before_pixels=True)
    # highdicom 0.22 lists the evidence as pertinent other evidence, later releases as the requested procedure's
    evidence = {item.SeriesInstanceUID: {ref.ReferencedSOPInstanceUID for ref in item.ReferencedSOPSequence}
                for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence")
                for study in report.get(keyword, []) for item in study.ReferencedSeriesSequence}
    assert evidence == {ct[0].SeriesInstanceUID: {ds.SOPInstanceUID for ds in ct},
                        rtstruct.SeriesInstanceUID: {rtstruct.SOPInstanceUID}}
    scores = [float(item.MeasuredValueSequence[0].NumericValue) for item in content_items(report)
              if item.ValueType == "NUM"
              and item.ConceptNameCodeSequence[0].CodeMeaning.startswith("CD8 radiomics score")]
    assert scores == pytest.approx([row["score"] for row in rows], rel=1e-9)  # DS keeps 16 characters
