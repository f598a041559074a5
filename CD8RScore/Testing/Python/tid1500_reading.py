"""What dcmqi's tid1500reader read from the SRs the project writes, applied to every SR a test writes.

``data/dicom/sr_seg.tid1500reader.json`` and ``sr_rtstruct.tid1500reader.json`` are tid1500reader's (dcmqi 1.5.7)
reading of the SRs ``score --sr`` writes with a SEG (groups of TID 1411) and with an RTSTRUCT (TID 1501); see
data/dicom/make_cases.sh. :func:`assert_tid1500reader_reads` checks that an SR holds only what that reading holds:
the same title, and in each group only measurement concepts (with their units) and qualitative evaluation concepts
that tid1500reader read there. (Run by hand on the 12 SRs the tests write, tid1500reader read every one.)
"""
from __future__ import annotations

import json
from pathlib import Path

import highdicom as hd

DATA = Path(__file__).parent / "data" / "dicom"
TITLE = ("126000", "DCM")


def _stored_kinds(name: str) -> tuple[set, set]:
    """(measurement (concept, scheme, unit), qualitative (concept, scheme)) of every group tid1500reader read."""
    parsed = json.loads((DATA / f"{name}.tid1500reader.json").read_text(encoding="utf-8"))
    measurements, evaluations = set(), set()
    for group in parsed["Measurements"]:
        for item in group["measurementItems"]:
            measurements.add((item["quantity"]["CodeValue"], item["quantity"]["CodingSchemeDesignator"],
                              item["units"]["CodeValue"]))
        for item in group.get("qualitativeEvaluations", []):
            evaluations.add((item["conceptCode"]["CodeValue"], item["conceptCode"]["CodingSchemeDesignator"]))
    return measurements, evaluations


def _group_kinds(group) -> tuple[set, set]:
    measurements = {(m.name.value, m.name.scheme_designator, m.unit.value) for m in group.get_measurements()}
    evaluations = {(q.name.value, q.name.scheme_designator) for q in group.get_qualitative_evaluations()}
    return measurements, evaluations


def assert_tid1500reader_reads(sr_path: "str | Path") -> None:
    """The SR at ``sr_path`` holds only content of the kinds tid1500reader read from the stored SRs."""
    report = hd.sr.srread(sr_path)
    title = report.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator) == TITLE
    assert report.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    content = report.content
    for name, groups in (("sr_seg", content.get_volumetric_roi_measurement_groups()),
                         ("sr_rtstruct", content.get_image_measurement_groups())):
        read_measurements, read_evaluations = _stored_kinds(name)
        for group in groups:
            measurements, evaluations = _group_kinds(group)
            assert measurements <= read_measurements, measurements - read_measurements
            assert evaluations <= read_evaluations, evaluations - read_evaluations
