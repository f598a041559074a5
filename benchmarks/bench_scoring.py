"""Scoring speed and memory: the product's scoring vs a full default pyradiomics extraction on the same VOIs.

Cases: the real lung1 and lung2 CTs (whole volumes, ../shared/data/pyradiomics_samples) and a synthetic
10-lesion patient. For each: seconds to score every lesion (crop, resample, core + ring, the signature's
features, score) and seconds for pyradiomics' default extractor (all default features, its own binning) run on
the same core and ring VOIs; the ratio; peak resident memory of the process (MB) after each part.

Run: .venv/bin/python benchmarks/bench_scoring.py
"""
from __future__ import annotations

import logging
import resource
import sys
import time
from pathlib import Path

import SimpleITK as sitk

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "CD8RScore"))

from CD8RScoreLib.imageio import read_image, read_segmentation  # noqa: E402
from CD8RScoreLib.scoring import KvpInfo, LesionInput, score_lesions  # noqa: E402
from CD8RScoreLib.signature import load_signature  # noqa: E402
from CD8RScoreLib.synthetic import make_patient  # noqa: E402
from CD8RScoreLib.voi import build_vois  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "pyradiomics_samples"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cases():
    for name in ("lung1", "lung2"):
        image_path = SHARED / f"{name}_image.nrrd"
        if image_path.is_file():
            image, _ = read_image(image_path)
            masks = read_segmentation(SHARED / f"{name}_label.nrrd", image)
            yield f"{name} (real, {image.GetSize()[0]}x{image.GetSize()[1]}x{image.GetSize()[2]})", image, [
                LesionInput(m.lesion_id, m.segment_name, m.mask, "lung") for m in masks]
    patient = make_patient(n_lesions=10, seed=11, field_mm=(240.0, 240.0, 160.0))
    image = patient.image
    masks = read_segmentation_from_labels(patient.labels)
    yield (f"synthetic 10 lesions ({image.GetSize()[0]}x{image.GetSize()[1]}x{image.GetSize()[2]})", image,
           [LesionInput(str(l.label), f"lesion {l.label}", masks[l.label], l.site) for l in patient.lesions])


def read_segmentation_from_labels(labels: sitk.Image) -> dict[int, sitk.Image]:
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(labels)
    out = {}
    for value in stats.GetLabels():
        x, y, z, sx, sy, sz = stats.GetBoundingBox(value)
        out[value] = sitk.Cast(sitk.RegionOfInterest(labels, [sx, sy, sz], [x, y, z]) == value, sitk.sitkUInt8)
    return out


def full_pyradiomics(image: sitk.Image, lesions, signature) -> float:
    """Seconds for pyradiomics' default extractor (all default feature classes) on each lesion's core and ring."""
    from radiomics import featureextractor

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=10)
    pre = signature.preprocessing
    start = time.perf_counter()
    for lesion in lesions:
        vois = build_vois(image, lesion.mask, pre.spacing_mm, pre.ring_outer_mm, pre.ring_inner_mm)
        for voi in (vois.core, vois.ring):
            if sitk.GetArrayViewFromImage(voi).sum() >= 2:
                extractor.execute(vois.image, voi, label=1)
    return time.perf_counter() - start


def main() -> None:
    signature = load_signature()
    print(f"signature: {signature.label}")
    print(f"{'case':42s} {'lesions':>7s} {'score s':>8s} {'full s':>8s} {'ratio':>6s} {'peak MB':>8s}")
    for label, image, lesions in cases():
        start = time.perf_counter()
        rows = score_lesions(image, lesions, signature, KvpInfo(120.0, "user"), "BENCH", "E0")
        ours = time.perf_counter() - start
        assert len(rows) == len(lesions)
        full = full_pyradiomics(image, lesions, signature)
        print(f"{label:42s} {len(lesions):7d} {ours:8.2f} {full:8.2f} {full / ours:6.1f} {peak_mb():8.0f}")


if __name__ == "__main__":
    main()
