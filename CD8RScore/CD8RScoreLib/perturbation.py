"""Robustness of each lesion's score by image perturbation (Zwanenburg et al., Sci Rep 2019;9:614): the SD of the
perturbed scores (score units), their mean shift from the score (a bias the SD does not show) and the share of
perturbed scores in the unperturbed class, per lesion; the perturbed scores themselves, from which
patient.candidate_agreement gives the share of perturbations in which the least-infiltrated lesion stays the lowest.

Each perturbation combines the paper's kinds, drawn from one seed so that the same N and seed give the same numbers:
- a sub-voxel translation of the 1 mm grid: a fraction in [0, 1) of a voxel along x, y and z;
- a rotation of the sampled points about the axial (z) axis through the lesion, by an angle in
  [-MAX_ROTATION_DEG, MAX_ROTATION_DEG] degrees;
- Gaussian noise added to the original CT voxels at the image's own noise level (HU), estimated in the lesion's
  neighbourhood;
- contour randomisation of up to one voxel: a smooth random field moves the contour out by one voxel (in-plane
  dilation) where it is positive and in by one voxel (in-plane erosion) where it is negative.
Only the lesion's neighbourhood is perturbed and resampled, never the whole CT.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
from scipy import ndimage

from .features import FAMILIES
from .lesion_table import UNSTABLE_CLASS_WARNING
from .locations import signature_category
from .mask_box import grown_box
from .signature import Signature
from .voi import GridShift, LesionRegion, LesionVOIs, lesion_region, vois_from_region

# Rotation range (degrees): small rotations about the axial axis, as the paper's rotation perturbation; the bound
# is this software's choice (a few degrees of patient positioning).
MAX_ROTATION_DEG = 10.0
# Smoothness (in-plane, original voxels) of the random field that decides where the contour moves out or in:
# stretches of a few voxels move together, as a redrawn contour would.
CONTOUR_FIELD_SIGMA_VOXELS = 2.0
# The field's Gaussian is cut at this many sigmas (scipy's default).
FIELD_TRUNCATE = 4.0
# Donoho's robust estimator of Gaussian noise SD from the finest diagonal Haar wavelet coefficients:
# sigma = median(|HH|) / 0.6745 (Donoho & Johnstone, Biometrika 1994; used by Chang et al., IEEE TIP 2000).
MAD_TO_SD = 0.6745
# A lesion whose perturbed scores fall in its unperturbed class less often than this is flagged as unstable.
STABLE_CLASS_AGREEMENT = 0.9
# What a worker process scoring perturbations imports before its first task (worker_processes.worker_pool).
WORKER_MODULES = (__name__,) + tuple(f"radiomics.{family}" for family in FAMILIES)


@dataclass(frozen=True)
class Perturbation:
    """One perturbation: grid translation (fractions of a voxel, x, y, z), rotation (degrees), and the seed of its
    noise and contour fields (combined with each lesion's id, so that a lesion's draws do not depend on others)."""

    index: int
    translation_voxels: tuple[float, float, float]
    rotation_deg: float
    seed: int


def draw_perturbations(n: int, seed: int) -> list[Perturbation]:
    """``n`` perturbations drawn from ``seed`` (reproducible)."""
    if n < 0:
        raise ValueError("the number of perturbations must be >= 0")
    rng = np.random.default_rng(seed)
    draws = []
    for index in range(n):
        translation = tuple(float(t) for t in rng.uniform(0.0, 1.0, 3))
        rotation = float(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
        draws.append(Perturbation(index, translation, rotation, int(rng.integers(0, 2 ** 31 - 1))))
    return draws


def noise_sd_hu(image_zyx: np.ndarray) -> float:
    """Noise SD (HU) of a CT region: Donoho's median absolute deviation of the in-plane diagonal Haar detail.

    Written out because it is three lines of numpy; the wavelet libraries would add a dependency for one filter.
    """
    ny, nx = (image_zyx.shape[1] // 2) * 2, (image_zyx.shape[2] // 2) * 2
    a = np.asarray(image_zyx[:, :ny, :nx], dtype=np.float64)
    detail = (a[:, 0::2, 0::2] - a[:, 0::2, 1::2] - a[:, 1::2, 0::2] + a[:, 1::2, 1::2]) / 2.0
    if detail.size == 0:
        return 0.0
    return float(np.median(np.abs(detail)) / MAD_TO_SD)


def randomise_contour(mask_zyx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The mask with its contour moved out by one voxel where a smooth random field is positive and in by one voxel
    where it is negative (in-plane, 4-connected; uint8). An erosion that would empty the mask is not applied."""
    mask = mask_zyx.astype(bool)
    if not mask.any():
        return mask.astype(np.uint8)
    # Only the mask's box grown by one voxel in-plane can change; the field there reads white noise up to the
    # Gaussian's radius further, so the noise is drawn, and filtered, on that larger box only.
    sigma = (0.0, CONTOUR_FIELD_SIGMA_VOXELS, CONTOUR_FIELD_SIGMA_VOXELS)
    radius = int(FIELD_TRUNCATE * CONTOUR_FIELD_SIGMA_VOXELS + 0.5)
    box = grown_box(mask, [0, 1, 1])
    read = (box[0],) + tuple(slice(max(b.start - radius, 0), min(b.stop + radius, n))
                             for b, n in zip(box[1:], mask.shape[1:]))
    inner = (slice(None),) + tuple(slice(b.start - r.start, b.stop - r.start) for b, r in zip(box[1:], read[1:]))
    noise = rng.standard_normal(tuple(r.stop - r.start for r in read))
    field = ndimage.gaussian_filter(noise, sigma, truncate=FIELD_TRUNCATE)[inner]
    in_plane = np.zeros((3, 3, 3), dtype=bool)
    in_plane[1] = ndimage.generate_binary_structure(2, 1)
    part = mask[box]
    grown = ndimage.binary_dilation(part, in_plane) & (field > 0)
    shrunk = part & ~(~ndimage.binary_erosion(part, in_plane, border_value=1) & (field < 0))
    result = np.zeros_like(mask)
    result[box] = shrunk | grown
    return (result if result.any() else mask).astype(np.uint8)


def perturbation_region(image, mask, signature: Signature) -> LesionRegion:
    """The lesion's neighbourhood with room for any rotation: what every perturbation of the lesion starts from."""
    pre = signature.preprocessing
    return lesion_region(image, mask, pre.spacing_mm, pre.ring_outer_mm + max(pre.spacing_mm),
                         room_for_rotation=True)


def perturbed_vois(region: LesionRegion, lesion_id: str, signature: Signature, perturbation: Perturbation,
                   noise_sd: float) -> LesionVOIs:
    """The lesion's core and ring under one perturbation (``noise_sd`` in HU); ``region`` is left unchanged."""
    # the contour's and the noise's draws come from two streams of the perturbation's and the lesion's seed, so that
    # each is drawn only where it is read: the field on the contour's neighbourhood, the noise on the block of
    # original voxels that the samples around the core and ring read
    contour_seed, noise_seed = np.random.SeedSequence([perturbation.seed,
                                                       zlib.crc32(lesion_id.encode("utf-8"))]).spawn(2)
    mask = randomise_contour(region.mask, np.random.default_rng(contour_seed))
    noise_rng = np.random.default_rng(noise_seed)
    shift = GridShift(perturbation.translation_voxels, perturbation.rotation_deg)
    pre = signature.preprocessing
    # the score reads the image only within the core and ring
    return vois_from_region(replace(region, mask=mask), pre.ring_outer_mm, pre.ring_inner_mm, shift,
                            crop_to_vois=True, image_noise=lambda shape: noise_rng.normal(0.0, noise_sd, shape))


def score_of_vois(vois: LesionVOIs, signature: Signature, location: str, kvp_kv: float) -> float:
    """The signature's score of a lesion's VOIs; NaN when a VOI is below the signature's minimum or a feature is not
    finite."""
    pre = signature.preprocessing
    if vois.core_voxels < pre.min_core_voxels or vois.ring_voxels < pre.min_ring_voxels:
        return math.nan
    values = signature.raw_feature_values(vois.image, {"core": vois.core, "ring": vois.ring})
    if not all(math.isfinite(value) for value in values.values()):
        return math.nan
    normalised = {f.key: f.normalise(values[f.key]) for f in signature.features}
    return signature.linear_score(normalised, signature_category(location), kvp_kv)


def perturbation_work(image, mask, row: dict, signature: Signature) -> tuple:
    """The arguments of :func:`perturbed_scores` before the perturbations, for a scored lesion-table ``row``: the
    lesion's region (what every perturbation starts from), the image's noise SD around it (HU), the lesion's id,
    location and kVp (kV), and the signature."""
    region = perturbation_region(image, mask, signature)
    return region, noise_sd_hu(region.image), str(row["lesion_id"]), row["location"], row["kvp"], signature


def perturbed_scores(region: LesionRegion, noise_sd: float, lesion_id: str, location: str, kvp_kv: float,
                     signature: Signature, perturbations: Sequence[Perturbation],
                     on_step: "Callable[[int], None] | None" = None) -> list[float]:
    """The lesion's score under each perturbation (NaN where not computable). ``on_step(k)`` is called before
    perturbation k (it may raise to cancel). A module-level function of picklable arguments: a worker process
    (worker_processes.py) scores one perturbation of a lesion with it."""
    scores = []
    for perturbation in perturbations:
        if on_step is not None:
            on_step(perturbation.index)
        try:
            vois = perturbed_vois(region, lesion_id, signature, perturbation, noise_sd)
            scores.append(score_of_vois(vois, signature, location, kvp_kv))
        except (ValueError, RuntimeError):  # e.g. an empty VOI
            scores.append(math.nan)
    return scores


def format_scores(scores: Sequence[float]) -> str:
    """The ``perturbed_scores`` cell: scores in perturbation order, space-separated ("nan" where not computable)."""
    return " ".join("nan" if not math.isfinite(s) else f"{s:.10g}" for s in scores)


def robustness_columns(score: float, score_class: str, scores: Sequence[float], signature: Signature) -> dict:
    """``score_perturbation_sd`` (Bessel, over computable perturbed scores), ``score_perturbation_mean_shift`` (their
    mean minus the unperturbed ``score``: perturbed scores that all lie below the score have a small SD but a
    negative shift), ``score_class_agreement`` (share of all perturbations whose class equals the unperturbed one; a
    perturbation that cannot be scored disagrees) and ``perturbed_scores``."""
    finite = np.array([s for s in scores if math.isfinite(s)], dtype=float)
    agreement = sum(1 for s in scores if signature.classify(s) == score_class) / len(scores) if scores else math.nan
    return {
        "score_perturbation_sd": float(finite.std(ddof=1)) if len(finite) >= 2 else math.nan,
        "score_perturbation_mean_shift": float(finite.mean() - score) if len(finite) and math.isfinite(score)
        else math.nan,
        "score_class_agreement": float(agreement),
        "perturbed_scores": format_scores(scores),
    }


def unstable_class_warning(score_class: str, agreement: float) -> "str | None":
    """The lesion-table warning of a lesion whose class changes under perturbation too often."""
    if not math.isfinite(agreement) or agreement >= STABLE_CLASS_AGREEMENT:
        return None
    return (f"{UNSTABLE_CLASS_WARNING}: {score_class} in only {agreement:.0%} of perturbations "
            f"(below {STABLE_CLASS_AGREEMENT:.0%})")


def row_robustness(row: dict, scores: Sequence[float], signature: Signature) -> dict:
    """The robustness columns of a scored lesion-table ``row`` from its perturbed ``scores`` (and its warnings with
    an unstable class)."""
    columns = robustness_columns(row["score"], row["score_class"], scores, signature)
    warning = unstable_class_warning(row["score_class"], columns["score_class_agreement"])
    if warning:
        columns["warnings"] = "; ".join(w for w in (row.get("warnings") or "", warning) if w)
    return columns


def unstable_lesions_note(rows: Sequence[dict]) -> str:
    """One line for the end of a scoring run: the lesions whose class is unstable under perturbation."""
    unstable = [f"{row['segment_name']} ({row['score_class_agreement']:.0%})" for row in rows
                if row.get("computable") and isinstance(row.get("score_class_agreement"), float)
                and row["score_class_agreement"] < STABLE_CLASS_AGREEMENT]
    if not unstable:
        return f"every scored lesion keeps its class in at least {STABLE_CLASS_AGREEMENT:.0%} of perturbations"
    return (f"{len(unstable)} lesion(s) with an unstable class (share of perturbations in the same class): "
            + ", ".join(unstable))
