"""Signatures as data (DESIGN §4): load, validate and apply a CD8 radiomics signature file.

A signature file holds everything a score depends on: preprocessing (spacing, ring, discretisation, minimum
voxels), the features with their normalisation range and coefficient, location terms, the kVp term, the
intercept, cut-offs with their source, a status ("published", "demonstration", "custom") and provenance.

    score = intercept + sum_k coef_k * (x_k - min_k) / (max_k - min_k)
                      + sum_c coef_c * [site category == c] + kVp term
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .errors import InputError
from .features import FEATURES, Discretisation, compute_features
from .locations import SIGNATURE_CATEGORIES

if TYPE_CHECKING:
    import SimpleITK as sitk

STATUSES = ("published", "demonstration", "custom")
VOIS = ("core", "ring")
SIGNATURES_DIR = Path(__file__).resolve().parent.parent / "Resources" / "Signatures"
DEMONSTRATION_NAME = "cd8rscore-demonstration"
# Grid rules of the 1 mm resampling (preprocessing.grid). This software resamples on GRID_RULE; a signature whose
# features were computed on another grid is applied with a warning on every lesion.
GRID_RULE = "whole_image_ibsi"
GRID_RULES = {
    GRID_RULE: "each lesion on the sub-block, near it, of the whole CT's IBSI grid (centres aligned with the whole "
               "image)",
    "lesion_crop_ibsi": "an IBSI grid centred on each lesion's crop (its phase follows the lesion's bounding box)",
}


def default_signature_path() -> Path:
    """The demonstration signature shipped with the module."""
    return SIGNATURES_DIR / f"{DEMONSTRATION_NAME}.json"


def find_signature(name: str) -> "Path | None":
    """Path of a shipped signature by name (the ``signature_name`` column), or None."""
    path = SIGNATURES_DIR / f"{name}.json"
    return path if path.is_file() else None


@dataclass(frozen=True)
class SignatureFeature:
    """One radiomic term: a feature of the core or ring VOI, its normalisation range and coefficient."""

    voi: str
    feature: str  # catalogue key "<family>_<pyradiomics name>", e.g. "glrlm_LowGrayLevelRunEmphasis"
    ibsi_name: str
    lifex_name: str
    minimum: float
    maximum: float
    coefficient: float

    @property
    def key(self) -> str:
        """Lesion-table column of the raw value: "<voi>_<LIFEx name>", e.g. "ring_GLRLM_LGRE", or for a feature
        LIFEx does not name, "<voi>_<IBSI column>", e.g. "core_cm_joint_maximum"."""
        return f"{self.voi}_{self.lifex_name or FEATURES[self.feature].ibsi_column}"

    @property
    def candidate_column(self) -> str:
        """Column of this feature in a candidate-features table (``cd8rscore extract``): "<voi>_<IBSI column>"."""
        return f"{self.voi}_{FEATURES[self.feature].ibsi_column}"

    @property
    def family(self) -> str:
        return self.feature.split("_", 1)[0]

    def normalise(self, value: float) -> float:
        """(x - min) / (max - min), as learnt on the training set (not clipped)."""
        return (value - self.minimum) / (self.maximum - self.minimum)


@dataclass(frozen=True)
class Preprocessing:
    spacing_mm: tuple[float, float, float]
    ring_outer_mm: float
    ring_inner_mm: float
    discretisation: Discretisation
    min_core_voxels: int
    min_ring_voxels: int
    grid: "str | None" = None  # GRID_RULES key; None: the file does not say


@dataclass(frozen=True)
class KvpTerm:
    """kVp term: "indicator" adds ``coefficient`` when kVp == equals_kv; "normalised" adds coef * (kVp-min)/(max-min)."""

    encoding: str
    coefficient: float
    assumed_kv: float
    equals_kv: "float | None" = None
    minimum: "float | None" = None
    maximum: "float | None" = None

    def value(self, kvp: float) -> float:
        if self.encoding == "indicator":
            return self.coefficient * (1.0 if abs(kvp - self.equals_kv) < 0.5 else 0.0)
        return self.coefficient * (kvp - self.minimum) / (self.maximum - self.minimum)


@dataclass(frozen=True)
class Signature:
    name: str
    status: str
    description: str
    provenance: Mapping[str, Any]
    preprocessing: Preprocessing
    features: tuple[SignatureFeature, ...]
    location_terms: Mapping[str, float]
    kvp: KvpTerm
    intercept: float
    reference_cutoff: float
    reference_cutoff_source: str
    path: "str | None" = None

    @property
    def feature_keys(self) -> list[str]:
        return [f.key for f in self.features]

    @property
    def label(self) -> str:
        """How every displayed score names its signature, e.g. "cd8rscore-demonstration (demonstration)"."""
        return f"{self.name} ({self.status})"

    def raw_feature_values(self, image: "sitk.Image", vois: Mapping[str, "sitk.Image"]) -> dict[str, float]:
        """The raw value of each of the signature's features on its VOI (``vois``: "core"/"ring" masks on
        ``image``'s grid, HU), by feature key, the core's features first, each in the signature's order."""
        values: dict[str, float] = {}
        for voi_name, voi_mask in vois.items():
            wanted = [f for f in self.features if f.voi == voi_name]
            if not wanted:
                continue
            computed = compute_features(image, voi_mask, sorted({f.family for f in wanted}),
                                        self.preprocessing.discretisation, [f.feature for f in wanted])
            values.update((f.key, float(computed[f.feature])) for f in wanted)
        return values

    def linear_score(self, normalised: Mapping[str, float], category: str, kvp: float) -> float:
        """Score from normalised feature values (by feature key), the site category and kVp (kV)."""
        total = self.intercept
        for feature in self.features:
            total += feature.coefficient * normalised[feature.key]
        total += self.location_terms.get(category, 0.0)
        total += self.kvp.value(kvp)
        return total

    def grid_warning(self) -> "str | None":
        """The warning every score with this signature carries when its features came from another grid rule."""
        grid = self.preprocessing.grid
        if grid == GRID_RULE:
            return None
        fitted = f"the {grid!r} grid ({GRID_RULES[grid]})" if grid else "a grid it does not name (preprocessing.grid)"
        return (f"signature {self.name} was fitted on {fitted}; features here are on the {GRID_RULE!r} grid, "
                "so they may differ from the signature's by a few percent")

    def classify(self, score: "float | None") -> str:
        """"high" (>= reference cut-off), "low", or "NA" without a score."""
        if score is None or not math.isfinite(score):
            return "NA"
        return "high" if score >= self.reference_cutoff else "low"


class _Reader:
    """Field access that names the file and the JSON path of whatever is missing or wrong."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, field: str, message: str) -> InputError:
        return InputError(message, self.path, f"field '{field}'")

    def get(self, obj: Mapping, key: str, where: str, kind: type | tuple = object) -> Any:
        field = f"{where}.{key}" if where else key
        if not isinstance(obj, Mapping) or key not in obj:
            raise self.fail(field, "is missing; see CD8RScore/Resources/Signatures/README.md for the schema")
        value = obj[key]
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise self.fail(field, f"must be a finite number, got {value!r}")
            return float(value)
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(field, f"must be an integer, got {value!r}")
            return value
        if kind is not object and not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(field, f"must be of type {names}, got {type(value).__name__}")
        return value


def parse_signature(data: Mapping, path: str = "<signature>") -> Signature:
    """Validate a signature document and build a :class:`Signature`; InputError names the first bad field."""
    r = _Reader(path)
    name = r.get(data, "name", "", str)
    status = r.get(data, "status", "", str)
    if status not in STATUSES:
        raise r.fail("status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
    description = r.get(data, "description", "", str)
    provenance = r.get(data, "provenance", "", dict)
    r.get(provenance, "source", "provenance", str)

    pre = r.get(data, "preprocessing", "", dict)
    spacing = r.get(pre, "spacing_mm", "preprocessing", list)
    if len(spacing) != 3 or not all(isinstance(s, (int, float)) and s > 0 for s in spacing):
        raise r.fail("preprocessing.spacing_mm", f"must be three positive numbers, got {spacing!r}")
    ring = r.get(pre, "ring", "preprocessing", dict)
    method = r.get(ring, "method", "preprocessing.ring", str)
    if method != "euclidean_voxel_centres":
        raise r.fail("preprocessing.ring.method", f"only 'euclidean_voxel_centres' is implemented, got {method!r}")
    outer = r.get(ring, "outer_mm", "preprocessing.ring", float)
    inner = r.get(ring, "inner_mm", "preprocessing.ring", float)
    disc = r.get(pre, "discretisation", "preprocessing", dict)
    discretisation = Discretisation(
        lower_bound=r.get(disc, "lower_bound_hu", "preprocessing.discretisation", float),
        bin_width=r.get(disc, "bin_width_hu", "preprocessing.discretisation", float),
        n_bins=r.get(disc, "n_bins", "preprocessing.discretisation", int),
        out_of_range=r.get(disc, "out_of_range", "preprocessing.discretisation", str),
    )
    if discretisation.out_of_range not in ("clip", "exclude"):
        raise r.fail("preprocessing.discretisation.out_of_range", "must be 'clip' or 'exclude'")
    if discretisation.bin_width <= 0 or discretisation.n_bins < 2:
        raise r.fail("preprocessing.discretisation", "bin_width_hu must be > 0 and n_bins >= 2")
    min_vox = r.get(pre, "min_voxels", "preprocessing", dict)
    grid = pre.get("grid")  # optional: files written before the grid rule was named do not have it
    if grid is not None and grid not in GRID_RULES:
        raise r.fail("preprocessing.grid", f"must be one of {', '.join(GRID_RULES)}, got {grid!r}")
    preprocessing = Preprocessing(
        spacing_mm=tuple(float(s) for s in spacing),
        ring_outer_mm=outer, ring_inner_mm=inner, discretisation=discretisation,
        min_core_voxels=r.get(min_vox, "core", "preprocessing.min_voxels", int),
        min_ring_voxels=r.get(min_vox, "ring", "preprocessing.min_voxels", int),
        grid=grid,
    )

    raw_features = r.get(data, "features", "", list)
    if not raw_features:
        raise r.fail("features", "must list at least one feature")
    features = []
    for index, item in enumerate(raw_features):
        where = f"features[{index}]"
        voi = r.get(item, "voi", where, str)
        if voi not in VOIS:
            raise r.fail(f"{where}.voi", f"must be 'core' or 'ring', got {voi!r}")
        key = r.get(item, "feature", where, str)
        if key not in FEATURES:
            raise r.fail(f"{where}.feature", f"unknown feature {key!r}; known: see features.FEATURES")
        info = FEATURES[key]
        lifex = r.get(item, "lifex_name", where, str)
        if info.lifex_name and lifex != info.lifex_name:
            raise r.fail(f"{where}.lifex_name", f"{key} is LIFEx {info.lifex_name!r}, not {lifex!r}")
        feature = SignatureFeature(
            voi=voi, feature=key, ibsi_name=r.get(item, "ibsi_name", where, str), lifex_name=lifex,
            minimum=r.get(item, "min", where, float), maximum=r.get(item, "max", where, float),
            coefficient=r.get(item, "coefficient", where, float),
        )
        if feature.maximum <= feature.minimum:
            raise r.fail(f"{where}.max", f"must be greater than min ({feature.minimum})")
        features.append(feature)
    keys = [f.key for f in features]
    if len(set(keys)) != len(keys):
        raise r.fail("features", "lists the same VOI and feature twice")

    location_terms: dict[str, float] = {}
    for index, item in enumerate(r.get(data, "location_terms", "", list)):
        where = f"location_terms[{index}]"
        category = r.get(item, "category", where, str)
        if category not in SIGNATURE_CATEGORIES:
            raise r.fail(f"{where}.category", f"must be one of {', '.join(SIGNATURE_CATEGORIES)}")
        location_terms[category] = r.get(item, "coefficient", where, float)

    kvp_data = r.get(data, "kvp", "", dict)
    encoding = r.get(kvp_data, "encoding", "kvp", str)
    if encoding == "indicator":
        kvp = KvpTerm(encoding, r.get(kvp_data, "coefficient", "kvp", float),
                      r.get(kvp_data, "assumed_kv", "kvp", float), equals_kv=r.get(kvp_data, "equals_kv", "kvp", float))
    elif encoding == "normalised":
        kvp = KvpTerm(encoding, r.get(kvp_data, "coefficient", "kvp", float),
                      r.get(kvp_data, "assumed_kv", "kvp", float),
                      minimum=r.get(kvp_data, "min", "kvp", float), maximum=r.get(kvp_data, "max", "kvp", float))
        if kvp.maximum <= kvp.minimum:
            raise r.fail("kvp.max", "must be greater than kvp.min")
    else:
        raise r.fail("kvp.encoding", f"must be 'indicator' or 'normalised', got {encoding!r}")

    cutoffs = r.get(data, "cutoffs", "", dict)
    reference = r.get(cutoffs, "reference", "cutoffs", dict)
    return Signature(
        name=name, status=status, description=description, provenance=provenance,
        preprocessing=preprocessing, features=tuple(features), location_terms=location_terms, kvp=kvp,
        intercept=r.get(data, "intercept", "", float),
        reference_cutoff=r.get(reference, "value", "cutoffs.reference", float),
        reference_cutoff_source=r.get(reference, "source", "cutoffs.reference", str),
        path=path,
    )


def load_signature(path: "str | Path | None" = None) -> Signature:
    """Load and validate a signature file (the demonstration signature when ``path`` is None)."""
    path = Path(path) if path is not None else default_signature_path()
    if not path.is_file():
        raise InputError("signature file not found; give a signature JSON (see Resources/Signatures)", path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}", path) from None
    if not isinstance(data, dict):
        raise InputError("must hold a JSON object", path)
    return parse_signature(data, str(path))
