"""Scoring lesions with a signature (DESIGN §2 steps 1-6): one lesion-table row per lesion, never dropped.

Per lesion: VOIs (voi.py) -> features (features.py) -> normalisation and linear score (signature.py),
plus volume (mL), longest axial diameter and short axis (mm, RECIST 1.1), kVp and its source, the CT's slice
thickness and pixel spacing (mm), and acquisition warnings.
"""
from __future__ import annotations

import logging
import math
from concurrent.futures import BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass
from typing import Callable, Sequence

import SimpleITK as sitk

from .diameter import axial_diameters_mm
from .imageio import AcquisitionInfo
from .input_checks import kvp_warnings, voi_value_problem
from .lesion_table import lesion_columns
from .locations import signature_category
from .patient import DEFAULT_MIN_VOLUME_ML, considered_lesions, least_infiltrated
from .patient_axes import in_plane_spacing_mm, slice_spacing_mm
from .perturbation import Perturbation, perturbation_work, perturbed_scores, row_robustness
from .signature import Signature
from .voi import build_vois, lesion_volume_ml

logger = logging.getLogger(__name__)

KVP_SOURCES = ("dicom", "user", "assumed")
# Validated acquisition (PAPER_FACTS, melanoma study method): contrast-enhanced CT, slice thickness < 5 mm,
# soft or standard kernel.
MAX_VALIDATED_SLICE_THICKNESS_MM = 5.0
# While perturbations run in worker processes, cancellation is checked this often (s).
CANCEL_POLL_S = 0.1


class ScoringCancelled(Exception):
    """The user cancelled scoring; nothing was written."""


def check_cancel(should_cancel: "Callable[[], bool] | None", message: str) -> None:
    """Raise ScoringCancelled(``message``) when ``should_cancel()`` returns True."""
    if should_cancel is not None and should_cancel():
        raise ScoringCancelled(message)


@dataclass
class LesionInput:
    """One lesion to score: a binary uint8 mask on (a sub-grid of) the CT grid; ``mask`` None if absent."""

    lesion_id: str
    segment_name: str
    mask: "sitk.Image | None"
    location: str  # fine site (locations.SITE_CATEGORY key)
    location_given: bool = True
    warnings: Sequence[str] = ()  # how the segmentation was read (e.g. a SEG's differing Frame of Reference)


@dataclass
class KvpInfo:
    """The scan's peak kilovoltage (kV) and where it came from: "dicom", "user" or "assumed"."""

    kvp: "float | None"
    source: str


def resolve_kvp(signature: Signature, from_dicom: "float | None", from_user: "float | None") -> KvpInfo:
    """The user's value wins, then the DICOM tag (0018,0060), else the signature's assumed kVp."""
    if from_user is not None:
        return KvpInfo(float(from_user), "user")
    if from_dicom is not None:
        return KvpInfo(float(from_dicom), "dicom")
    return KvpInfo(signature.kvp.assumed_kv, "assumed")


def acquisition_warnings(acquisition: "AcquisitionInfo | None", kvp: KvpInfo) -> list[str]:
    """Warnings that apply to every lesion of the scan."""
    warnings = []
    if acquisition is not None:
        if acquisition.modality and acquisition.modality.upper() != "CT":
            warnings.append(f"modality {acquisition.modality} is not CT; the signature is validated on CT only")
        thickness = acquisition.slice_thickness_mm
        if thickness is not None and thickness >= MAX_VALIDATED_SLICE_THICKNESS_MM - 1e-6:
            warnings.append(f"slice thickness {thickness:g} mm is outside the validated range "
                            f"(< {MAX_VALIDATED_SLICE_THICKNESS_MM:g} mm)")
        if not acquisition.kernel:
            warnings.append("reconstruction kernel unknown (validated on soft or standard kernels)")
        warnings.extend(acquisition.value_warnings)
    if kvp.source == "assumed":
        warnings.append(f"kVp unknown, {kvp.kvp:g} kV assumed")
    return warnings


def score_one_lesion(image: sitk.Image, lesion: LesionInput, signature: Signature, kvp: KvpInfo,
                     scan_warnings: Sequence[str]) -> dict:
    """The lesion-table row of one lesion (DESIGN §5 columns; patient_id/timepoint filled by the caller)."""
    pre = signature.preprocessing
    row: dict = {
        "lesion_id": lesion.lesion_id, "segment_name": lesion.segment_name, "location": lesion.location,
        "signature_location": signature_category(lesion.location), "kvp": kvp.kvp, "kvp_source": kvp.source,
        "signature_name": signature.name, "signature_status": signature.status,
        "score": None, "score_class": "NA", "computable": False, "reason": "",
    }
    warnings = list(scan_warnings) + list(lesion.warnings)
    if not lesion.location_given:
        warnings.append("location not given, 'other' assumed")

    def finish(reason: str = "") -> dict:
        row["reason"] = reason
        row["warnings"] = "; ".join(warnings)
        return row

    if lesion.mask is None:
        row.update(volume_ml=0.0, longest_axial_diameter_mm=0.0, short_axis_mm=0.0, core_voxels=0, ring_voxels=0)
        return finish(f"lesion {lesion.lesion_id!r} is not in the segmentation (volume 0: disappeared "
                      "if this is a follow-up)")
    row["volume_ml"] = lesion_volume_ml(lesion.mask)
    row["longest_axial_diameter_mm"], row["short_axis_mm"] = axial_diameters_mm(lesion.mask)
    vois = build_vois(image, lesion.mask, pre.spacing_mm, pre.ring_outer_mm, pre.ring_inner_mm)
    row["core_voxels"], row["ring_voxels"] = vois.core_voxels, vois.ring_voxels
    if vois.touches_image_edge:
        warnings.append("lesion touches the image edge: the ring is cut at the edge")
    if row["core_voxels"] < pre.min_core_voxels:
        return finish(f"core has {row['core_voxels']} voxels at {pre.spacing_mm[0]:g} mm; the signature needs "
                      f"at least {pre.min_core_voxels}")
    if row["ring_voxels"] < pre.min_ring_voxels:
        return finish(f"ring has {row['ring_voxels']} voxels at {pre.spacing_mm[0]:g} mm; the signature needs "
                      f"at least {pre.min_ring_voxels}")
    problem = voi_value_problem(vois.image, {"core": vois.core, "ring": vois.ring}, pre.discretisation)
    if problem:
        return finish(problem)

    features = {f.key: f for f in signature.features}
    normalised: dict[str, float] = {}
    for key, value in signature.raw_feature_values(vois.image, {"core": vois.core, "ring": vois.ring}).items():
        row[key] = value
        if not math.isfinite(value):
            return finish(f"{key} is not finite in this VOI")
        normalised[key] = row[f"{key}_norm"] = features[key].normalise(value)
        if not -1e-9 <= normalised[key] <= 1 + 1e-9:
            warnings.append(f"{key} outside the signature's normalisation range")
    score = signature.linear_score(normalised, row["signature_location"], kvp.kvp)
    row.update(score=score, score_class=signature.classify(score), computable=True)
    return finish()


def ct_geometry(image: sitk.Image, acquisition: "AcquisitionInfo | None" = None) -> dict[str, float]:
    """The lesion-table columns of the CT: slice thickness (mm) and pixel spacing (in-plane, mm).

    The slice thickness is the acquisition's, the number the slice-thickness warning uses: DICOM SliceThickness
    (0018,0050) when the CT has it (5 mm slices reconstructed every 2.5 mm are 5 mm thick), else the spacing
    along the head-foot axis."""
    thickness = acquisition.slice_thickness_mm if acquisition is not None else None
    return {"slice_thickness_mm": slice_spacing_mm(image) if thickness is None else thickness,
            "pixel_spacing_mm": in_plane_spacing_mm(image)}


def score_lesions(image: sitk.Image, lesions: Sequence[LesionInput], signature: Signature, kvp: KvpInfo,
                  patient_id: str, timepoint: str, acquisition: "AcquisitionInfo | None" = None,
                  progress: "Callable[[int, int, str], None] | None" = None,
                  should_cancel: "Callable[[], bool] | None" = None,
                  perturbations: "Sequence[Perturbation]" = (), executor: "Executor | None" = None,
                  min_volume_ml: float = DEFAULT_MIN_VOLUME_ML) -> list[dict]:
    """Score every lesion; one row each in input order. A lesion that cannot be scored keeps its row and reason.
    ``least_infiltrated`` marks the lesion with the lowest score among the computable ones > ``min_volume_ml`` (mL).

    ``progress(done, total, lesion_name)`` is called before each lesion (and each of its perturbations) and once at
    the end, ``done`` counting the lesions finished; ``should_cancel()`` returning True raises
    :class:`ScoringCancelled`. With ``perturbations`` (perturbation.draw_perturbations) every scored lesion gets the
    robustness columns. ``executor`` (worker_processes.worker_pool): the perturbations are scored there, one task
    each, while the next lesions are scored here; the numbers are the same as without it, and if a worker process
    dies (e.g. out of memory) the perturbations not yet scored are scored here.
    """
    if kvp.source not in KVP_SOURCES:
        raise ValueError(f"kVp source must be one of {KVP_SOURCES}")
    scan_warnings = acquisition_warnings(acquisition, kvp) + kvp_warnings(signature, kvp.kvp)
    grid_warning = signature.grid_warning()
    if grid_warning:
        scan_warnings.append(grid_warning)
    columns = lesion_columns(signature.feature_keys)
    geometry = ct_geometry(image, acquisition)
    rows: list[dict] = []
    submitted: list[tuple[int, str, dict, tuple, list[Future]]] = []  # perturbations running in the executor

    def step_of(index: int, name: str) -> Callable[[int], None]:
        """The callback before perturbation k of lesion ``index``: cancellation, then progress."""
        def step(k: int) -> None:
            check_cancel(should_cancel, f"cancelled during the perturbations of lesion {index + 1} of {len(lesions)}")
            if progress is not None:
                progress(index, len(lesions), f"{name}: perturbation {k + 1}/{len(perturbations)}")
        return step

    for index, lesion in enumerate(lesions):
        check_cancel(should_cancel, f"cancelled after {index} of {len(lesions)} lesions")
        if progress is not None:  # with an executor no lesion is finished before its perturbations are gathered
            progress(index if executor is None else 0, len(lesions), lesion.segment_name)
        try:
            row = score_one_lesion(image, lesion, signature, kvp, scan_warnings)
        except (ValueError, RuntimeError) as exc:  # keep the lesion, with the reason
            logger.warning("lesion %s not scored: %s", lesion.lesion_id, exc)
            row = {"lesion_id": lesion.lesion_id, "segment_name": lesion.segment_name, "location": lesion.location,
                   "signature_location": signature_category(lesion.location), "kvp": kvp.kvp,
                   "kvp_source": kvp.source, "score_class": "NA", "computable": False,
                   "reason": f"could not compute: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}",
                   "signature_name": signature.name, "signature_status": signature.status,
                   "warnings": "; ".join(scan_warnings)}
        if perturbations and row.get("computable"):
            work = perturbation_work(image, lesion.mask, row, signature)
            if executor is None:
                scores = perturbed_scores(*work, perturbations, step_of(index, lesion.segment_name))
                row.update(row_robustness(row, scores, signature))
            else:
                submitted.append((index, lesion.segment_name, row, work, _submitted(executor, work, perturbations)))
        row.update(patient_id=patient_id, timepoint=timepoint, **geometry)
        rows.append(row)
    for index, name, row, work, futures in submitted:
        try:
            scores = _results_in_order(futures, step_of(index, name), should_cancel)
        except ScoringCancelled:
            for _, _, _, _, pending in submitted:
                for future in pending:
                    future.cancel()
            raise
        except BrokenExecutor:  # a worker process died: the same perturbations, scored here
            logger.warning("a worker process ended unexpectedly (out of memory?); the perturbations of %s are "
                           "scored in this process", name)
            scores = perturbed_scores(*work, perturbations, step_of(index, name))
        row.update(row_robustness(row, scores, signature))
    if progress is not None:
        progress(len(lesions), len(lesions), "")
    least = least_infiltrated(considered_lesions(rows, min_volume_ml))
    for row in rows:
        row["least_infiltrated"] = row is least
    return [{column: row.get(column) for column in columns} for row in rows]


def _submitted(executor: Executor, work: tuple, perturbations: "Sequence[Perturbation]") -> list[Future]:
    """One task per perturbation (``work``: perturbation.perturbation_work) in ``executor``. When its worker
    processes have died, one future holding that error: the caller scores the perturbations in this process."""
    try:
        return [executor.submit(perturbed_scores, *work, [perturbation]) for perturbation in perturbations]
    except BrokenExecutor as exc:
        broken: Future = Future()
        broken.set_exception(exc)
        return [broken]


def _results_in_order(futures: Sequence[Future], step: Callable[[int], None],
                      should_cancel: "Callable[[], bool] | None") -> list[float]:
    """The scores of a lesion's perturbations (one future each), in perturbation order; ``step(k)`` (cancellation,
    progress) before waiting for perturbation k, and cancellation checked every CANCEL_POLL_S while waiting."""
    for k, future in enumerate(futures):
        step(k)
        while not wait([future], timeout=CANCEL_POLL_S).done:
            check_cancel(should_cancel, f"cancelled during perturbation {k + 1} of {len(futures)}")
    return [score for future in futures for score in future.result()]
