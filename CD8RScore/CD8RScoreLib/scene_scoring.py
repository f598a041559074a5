"""Scoring a patient in the viewer: what the module's Logic runs, in one place, testable on a bare MRML scene.

Baseline (E0) CT and segmentation -> lesion rows (scoring.score_lesions) -> lesion table node, patient summary
table node, risk colours and legend, tags on the segments. With a follow-up (E1) CT and segmentation, lesions are
matched by segment name and the E0 table gains the diameter change and the lesion response (RECIST 1.1
thresholds, response.lesion_response). The scene goes through the MRML adapter (``mrml``); nothing here imports
slicer or qt. For research use only, not for clinical decisions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from . import __version__, mrml
from .errors import InputError
from .imageio import AcquisitionInfo
from .lesion_table import lesion_columns
from .patient import DEFAULT_MIN_VOLUME_ML, PATIENT_COLUMNS, patient_summary
from .perturbation import draw_perturbations
from .python_packages import radiomics_provenance
from .response import lesion_response
from .scoring import KvpInfo, check_cancel, resolve_kvp, score_lesions
from .signature import Signature

RESPONSE_TABLE_COLUMNS = ("diameter_change_pct", "response")
"""Columns the E0 lesion table gains from a follow-up."""

Progress = Callable[[int, int, str], None]


@dataclass
class SceneResult:
    """Rows and nodes of one scoring run. Rows hold numbers (score, volume_ml, ...) as the lesion CSV does."""

    patient_id: str
    signature: Signature
    rows_e0: list[dict]
    summary: dict
    lesion_table: object
    patient_table: object
    scale: "mrml.RiskScale | None"
    legend: object
    rows_e1: list[dict] = field(default_factory=list)
    response_rows: list[dict] = field(default_factory=list)
    followup_table: object = None
    perturbations: int = 0

    @property
    def candidate(self) -> "str | None":
        """Segment name of the least-infiltrated lesion (lowest score among those considered), if any."""
        return self.summary.get("least_infiltrated_segment_name")

    @property
    def candidate_agreement_text(self) -> str:
        """"94 % of 10 perturbations": how often the candidate stayed the lowest; "" without perturbations."""
        agreement = self.summary.get("candidate_agreement")
        if not self.perturbations or agreement is None or not math.isfinite(agreement):
            return ""
        return f"{agreement:.0%} of {self.perturbations} perturbations".replace("%", " %")


def _staged(progress: "Progress | None", offset: int, total: int, stage: str) -> "Progress | None":
    """A progress callback for one stage of several: counts continue from ``offset`` out of ``total``."""
    if progress is None:
        return None
    return lambda done, _n, name: progress(offset + done, total, f"{stage}: {name}" if name else stage)


def scan_kvp(volume_node, typed_kv: float, signature: Signature, dicom_database=None) -> KvpInfo:
    """kVp of one scan: the value typed for this scan (kV) if > 0, else the DICOM tag (0018,0060) of this volume,
    else the signature's assumed value; the source is recorded in every row. Scans never share a typed value."""
    dicom_kv = mrml.dicom_acquisition(volume_node, dicom_database).kvp
    return resolve_kvp(signature, dicom_kv, typed_kv if typed_kv and typed_kv > 0 else None)


def scan_acquisition(volume_node, dicom_database=None) -> "AcquisitionInfo | None":
    """What the DICOM files of ``volume_node`` say of its acquisition (modality, slice thickness, kernel), for the
    same acquisition warnings and slice-thickness column as the command line gives a DICOM series; None for a
    volume not loaded from DICOM (the column is then the head-foot spacing)."""
    found = mrml.dicom_acquisition(volume_node, dicom_database)
    if found.modality is None and found.slice_thickness_mm is None and found.kernel is None:
        return None
    return AcquisitionInfo(modality=found.modality, kvp=found.kvp, slice_thickness_mm=found.slice_thickness_mm,
                           kernel=found.kernel, patient_id=found.patient_id)


def _with_scan_warnings(lesions: list, volume_node, dicom_database) -> list:
    """``lesions`` (scoring.LesionInput) each carrying what the DICOM files of ``volume_node`` say of the scan."""
    files = mrml.dicom_files(volume_node, dicom_database)
    if files:
        from .dicom_series import dicom_files_warnings

        warnings = dicom_files_warnings(files)
        for lesion in lesions:
            lesion.warnings = [*lesion.warnings, *warnings]
    return lesions


def score_patient_in_scene(scene, volume_node, segmentation_node, signature: Signature, patient_id: str,
                           kvp: KvpInfo, min_volume_ml: float = DEFAULT_MIN_VOLUME_ML,
                           followup_volume_node=None, followup_segmentation_node=None,
                           followup_kvp: "KvpInfo | None" = None,
                           progress: "Progress | None" = None,
                           should_cancel: "Callable[[], bool] | None" = None,
                           previous: "Optional[SceneResult]" = None, perturbations: int = 0,
                           seed: int = 0, dicom_database=None) -> SceneResult:
    """Score every lesion of the baseline (and follow-up) and put the results into the scene.

    ``kvp`` and ``followup_kvp`` are each scan's own (see :func:`scan_kvp`); a follow-up needs ``followup_kvp``.
    ``previous``: the result of an earlier run; its table nodes are updated in place when they are this patient's
    tables, else new nodes named after the patient are made.
    ``perturbations``, ``seed``: robustness of each score under that many image perturbations (perturbation.py).
    ``dicom_database`` (Slicer's): a volume loaded from DICOM gets on every row what its files say of it (lossy
    compression).
    Raises scoring.ScoringCancelled if ``should_cancel()`` becomes true (checked while reading the images, for each
    lesion and before the scene is changed); the scene is then left unchanged.
    """
    patient_id = patient_id.strip()
    if not patient_id:
        raise InputError("empty patient ID; type the patient's identifier", None, "patient ID")
    followup = followup_volume_node is not None and followup_segmentation_node is not None
    if followup and followup_kvp is None:
        raise ValueError("a follow-up needs its own kVp (scan_kvp of the follow-up volume)")
    image = mrml.volume_to_image(volume_node)
    check_cancel(should_cancel, "cancelled while reading the CT")
    lesions = _with_scan_warnings(mrml.lesion_inputs(segmentation_node, volume_node, should_cancel=should_cancel),
                                  volume_node, dicom_database)
    if followup:
        image_e1 = mrml.volume_to_image(followup_volume_node)
        check_cancel(should_cancel, "cancelled while reading the follow-up CT")
        lesions_e1 = _with_scan_warnings(mrml.lesion_inputs(followup_segmentation_node, followup_volume_node,
                                                            should_cancel=should_cancel),
                                         followup_volume_node, dicom_database)
        # the follow-up lesion keeps the baseline's site when its segment has none of its own
        sites = {lesion.lesion_id: (lesion.location, lesion.location_given) for lesion in lesions}
        for lesion in lesions_e1:
            if not lesion.location_given and lesion.lesion_id in sites:
                lesion.location, lesion.location_given = sites[lesion.lesion_id]
    total = len(lesions) + (len(lesions_e1) if followup else 0)
    draws = draw_perturbations(perturbations, seed)
    rows_e0 = score_lesions(image, lesions, signature, kvp, patient_id, "E0",
                            acquisition=scan_acquisition(volume_node, dicom_database),
                            progress=_staged(progress, 0, total, "baseline"), should_cancel=should_cancel,
                            perturbations=draws, min_volume_ml=min_volume_ml)
    rows_e1: list[dict] = []
    if followup:
        del image
        rows_e1 = score_lesions(image_e1, lesions_e1, signature, followup_kvp, patient_id, "E1",
                                acquisition=scan_acquisition(followup_volume_node, dicom_database),
                                progress=_staged(progress, len(lesions), total, "follow-up"),
                                should_cancel=should_cancel, perturbations=draws, min_volume_ml=min_volume_ml)
    summary = patient_summary(rows_e0, min_volume_ml)

    columns = lesion_columns(signature.feature_keys)
    response_rows: list[dict] = []
    table_rows = rows_e0
    if followup:
        response_rows = lesion_response(rows_e0, rows_e1)
        by_lesion = {r["lesion_id"]: r for r in response_rows}
        table_rows = [dict(row, **{c: by_lesion.get(row["lesion_id"], {}).get(c) for c in RESPONSE_TABLE_COLUMNS})
                      for row in rows_e0]
        columns = columns + list(RESPONSE_TABLE_COLUMNS)

    # from here on the scene changes: no more cancel
    check_cancel(should_cancel, "cancelled while about to update the scene")
    if progress is not None:
        progress(total, total, "updating the scene")
    provenance = {"version": __version__, **radiomics_provenance(), "signature": signature.label}

    def put_table(kind: str, rows: list, table_columns: Sequence[str], previous_node):
        """This patient's ``kind`` table: the earlier run's node updated in place when it is this module's table
        of this same patient (any other node, e.g. another patient's table, is left intact), else a new node."""
        reused = previous_node if mrml.is_result_table(previous_node, kind, patient_id) else None
        return mrml.rows_to_table_node(scene, rows, table_columns, f"{patient_id} CD8RScore {kind}", signature,
                                       reused, mrml.result_table_attributes(kind, patient_id, provenance))

    lesion_table = put_table("lesions E0", table_rows, columns, previous.lesion_table if previous else None)
    patient_table = put_table("patient", [summary], PATIENT_COLUMNS, previous.patient_table if previous else None)
    followup_table = None
    if followup:
        followup_table = put_table("lesions E1", rows_e1, lesion_columns(signature.feature_keys),
                                   previous.followup_table if previous else None)
        mrml.colour_segments_by_score(scene, followup_segmentation_node, rows_e1, signature)
        mrml.write_score_tags(followup_segmentation_node, rows_e1)
    scale, legend = mrml.colour_segments_by_score(scene, segmentation_node, rows_e0, signature)
    mrml.write_score_tags(segmentation_node, rows_e0)
    return SceneResult(patient_id=patient_id, signature=signature, rows_e0=rows_e0, summary=summary,
                       lesion_table=lesion_table, patient_table=patient_table, scale=scale, legend=legend,
                       rows_e1=rows_e1, response_rows=response_rows, followup_table=followup_table,
                       perturbations=perturbations)


def cohort_export_rows(lesion_table, followup_table=None) -> tuple[list[str], list[dict]]:
    """The lesion rows of the E0 (and E1) table nodes as CSV strings, for cohort_file.add_rows.

    Read from the table nodes, so a scene saved and loaded again exports the same rows. The columns the E0 table
    gained from the follow-up (diameter change, response) are left out: the cohort analysis derives them.
    """
    columns, rows = mrml.table_node_rows(lesion_table)
    if followup_table is not None:
        _, rows_e1 = mrml.table_node_rows(followup_table)
        rows = rows + rows_e1
    columns = [c for c in columns if c not in RESPONSE_TABLE_COLUMNS]
    return columns, [{c: row.get(c, "") for c in columns} for row in rows]
