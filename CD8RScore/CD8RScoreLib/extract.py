"""``cd8rscore extract``: every candidate feature of every lesion's core and ring, for building a signature.

Same preprocessing as scoring (the default signature's: 1 mm isotropic IBSI resampling, core and +-2 mm ring,
absolute 10 HU bins from -1000 with fixed edges): first-order, GLCM, GLRLM, GLSZM and NGTDM features of both VOIs,
plus the lesion's location and the scan's kVp. One row per lesion (feature_table.table_columns). A lesion whose
VOIs are too small, or a feature that is not finite, leaves empty cells and says why in ``reason``; never a 0.
"""
from __future__ import annotations

import math
import sys
from typing import Callable, Sequence

import SimpleITK as sitk

from .errors import InputError
from .feature_table import candidate_column, table_columns
from .features import FAMILIES, FEATURES, compute_features
from .lesion_table import write_csv
from .scoring import KvpInfo, LesionInput
from .signature import Preprocessing
from .voi import build_vois


def extract_lesion(image: sitk.Image, lesion: LesionInput, preprocessing: Preprocessing) -> dict:
    """Candidate columns of one lesion (NaN where not computable) and ``reason``."""
    row: dict = {"lesion_id": lesion.lesion_id, "location": lesion.location}
    reasons: list[str] = []
    if lesion.mask is None:
        return dict(row, reason=f"lesion {lesion.lesion_id!r} is not in the segmentation")
    pre = preprocessing
    vois = build_vois(image, lesion.mask, pre.spacing_mm, pre.ring_outer_mm, pre.ring_inner_mm)
    minimum = {"core": pre.min_core_voxels, "ring": pre.min_ring_voxels}
    voxels = {"core": vois.core_voxels, "ring": vois.ring_voxels}
    for voi_name, mask in (("core", vois.core), ("ring", vois.ring)):
        if voxels[voi_name] < minimum[voi_name]:
            reasons.append(f"{voi_name} has {voxels[voi_name]} voxels at {pre.spacing_mm[0]:g} mm; features need "
                           f"at least {minimum[voi_name]}")
            continue
        values = compute_features(vois.image, mask, FAMILIES, pre.discretisation)
        not_finite = []
        for key, info in FEATURES.items():
            value = float(values.get(key, math.nan))
            if math.isfinite(value):
                row[candidate_column(voi_name, info.ibsi_column)] = value
            else:
                not_finite.append(info.ibsi_column)
        if not_finite:
            reasons.append(f"{voi_name}: {', '.join(not_finite)} not finite")
    return dict(row, reason="; ".join(reasons))


def extract_lesions(image: sitk.Image, lesions: Sequence[LesionInput], preprocessing: Preprocessing,
                    kvp: KvpInfo, patient_id: str,
                    progress: "Callable[[int, int, str], None] | None" = None) -> list[dict]:
    """One candidate-features row per lesion, in input order."""
    rows = []
    for index, lesion in enumerate(lesions):
        if progress is not None:
            progress(index, len(lesions), lesion.segment_name)
        try:
            row = extract_lesion(image, lesion, preprocessing)
        except (ValueError, RuntimeError) as exc:  # keep the lesion, with the reason
            row = {"lesion_id": lesion.lesion_id, "location": lesion.location,
                   "reason": f"could not compute: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}"}
        row.update(patient_id=patient_id, kvp=kvp.kvp)
        rows.append(row)
    if progress is not None:
        progress(len(lesions), len(lesions), "")
    return rows


def cmd_extract(args) -> int:
    """``cd8rscore extract``: the candidate-features table of one CT."""
    from .cli import _progress_bar, load_case
    from .signature import load_signature

    signature = load_signature(None)  # its preprocessing is the scoring standard
    case = load_case(args.image, args.segmentation, args.locations, args.kvp, signature, args.patient_id)
    update, bar = _progress_bar("extracting")
    try:
        rows = extract_lesions(case.image, case.lesions, signature.preprocessing, case.kvp, case.patient_id, update)
    finally:
        bar.close()
    if not rows:
        raise InputError("no lesion to extract", args.segmentation, "--segmentation")
    write_csv(args.out, rows, table_columns())
    complete = sum(1 for r in rows if not r.get("reason"))
    print(f"{len(rows)} lesion(s), {complete} with every candidate feature ({2 * len(FEATURES)} per lesion) -> "
          f"{args.out}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add the ``extract`` subcommand."""
    from .cli import add_case_options, example

    p = subparsers.add_parser(
        "extract", help="every candidate feature of every lesion's core and ring, for building a signature",
        description="Candidate features (first-order, GLCM, GLRLM, GLSZM, NGTDM of core and ring; IBSI names) of "
                    "every lesion, with location and kVp: the input of fit-signature and validate-signature.",
        epilog=example("cd8rscore extract --image demo-output/synthetic/SYNTHETIC-001_E0_image.nrrd "
                       "--segmentation demo-output/synthetic/SYNTHETIC-001_E0_labels.nrrd "
                       "--locations demo-output/synthetic/SYNTHETIC-001_locations.csv --kvp 120 "
                       "--out my-results/features.csv"))
    add_case_options(p)
    p.add_argument("--patient-id", help="patient identifier (default: DICOM PatientID or the image file name)")
    p.add_argument("--out", required=True, help="candidate-features CSV to write")
    p.set_defaults(func=cmd_extract)

