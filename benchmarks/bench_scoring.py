"""Scoring speed and memory of ``cd8rscore score`` on a whole CT, against a floor process and the SlicerRadiomics way.

The case, built here (seeded) and cached in a temporary folder: a 512 x 512 x 400 CT (0.8 x 0.8 x 1.25 mm, int16
HU, uncompressed NRRD) with 10 ellipsoidal lesions (radii 4-25 mm) in a label map (uint8). Measured in one run,
each process timed from start to exit (best of ``--repeats``, the compared processes taking turns) in wall seconds
(the targets) and CPU seconds (user + system: steadier on a loaded machine), with its own peak resident memory:
- ``cd8rscore score`` vs the floor process ``floor_scoring.py`` (read, crop, resample once, one distance
  transform, histograms and 13-direction co-occurrences with numpy): target ratio <= 1.5;
- ``cd8rscore score --help`` vs ``python -c "import numpy, SimpleITK"``: target ratio <= 2;
- the peak memory of ``cd8rscore score``: target < 800 MB;
- the longest axial diameter (diameter.py) vs pyradiomics' Maximum2DDiameterSlice on the 10 lesions: seconds,
  and the largest difference (target: equal to 1e-6 mm);
- ``--perturbations 10``: extra time over the unperturbed run, target <= 3 times it (printed "not available"
  when ``score --help`` has no such option). Its perturbations run in one worker process per core; its CPU seconds
  include the workers';
- the SlicerRadiomics way: pyradiomics ``RadiomicsFeatureExtractor.execute`` (all default features, 1 mm
  trilinear resampling, 10 HU bins) per VOI (core and 2 mm ring of each lesion) on the whole CT, in this process.
  With ``--quick`` it runs on the first 2 lesions only and is extrapolated to 10 (the output says so).

Run: .venv/bin/python benchmarks/bench_scoring.py [--quick] [--repeats 2] [--data DIR]
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from machine import cpu_model, run_process  # benchmarks/machine.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "CD8RScore"))
BIN = Path(sys.executable).parent

SIZE_XYZ = (512, 512, 400)
SPACING_MM = (0.8, 0.8, 1.25)
N_LESIONS = 10
SEED = 12
SITES = ("liver", "lung", "node", "liver", "adrenal", "subcutaneous", "lung", "node", "liver", "peritoneum")
SITE_HU = {"liver": 100, "lung": -850, "node": -80, "adrenal": -60, "subcutaneous": -100, "peritoneum": -90}

TARGETS = {"score": 1.5, "help": 2.0, "peak_mb": 800.0, "diameter_mm": 1e-6, "perturbations": 3.0}


def build_case(folder: Path) -> tuple[Path, Path, Path]:
    """The seeded CT, label map and locations CSV in ``folder`` (reused when already there)."""
    ct_path, labels_path, sites_path = folder / "ct.nrrd", folder / "labels.nrrd", folder / "locations.csv"
    if ct_path.is_file() and labels_path.is_file() and sites_path.is_file():
        return ct_path, labels_path, sites_path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    nx, ny, nz = SIZE_XYZ
    sx, sy, sz = SPACING_MM
    # a body (soft tissue, 40 HU, noise SD 12) in air, slice by slice to stay small
    yy, xx = np.mgrid[:ny, :nx]
    body = ((xx * sx - nx * sx / 2) / 180.0) ** 2 + ((yy * sy - ny * sy / 2) / 140.0) ** 2 <= 1.0
    ct = np.full((nz, ny, nx), -1000, dtype=np.int16)
    for z in range(nz):
        ct[z][body] = np.round(40 + 12 * rng.standard_normal(int(body.sum()), dtype=np.float32)).astype(np.int16)
    labels = np.zeros((nz, ny, nx), dtype=np.uint8)
    placed: list[tuple[np.ndarray, float]] = []
    while len(placed) < N_LESIONS:
        radius = float(rng.uniform(4.0, 25.0))
        radii = np.array([radius, radius * rng.uniform(0.6, 1.0), radius * rng.uniform(0.6, 1.0)])
        centre = np.array([rng.uniform(-120, 120) + nx * sx / 2, rng.uniform(-80, 80) + ny * sy / 2,
                           rng.uniform(40 + radius, nz * sz - 40 - radius)])
        if any(np.linalg.norm(centre - c) < radius + r + 10 for c, r in placed):
            continue
        site = SITES[len(placed)]
        halo = radii + 6.0
        lo = np.maximum(np.floor((centre - halo) / SPACING_MM).astype(int), 0)
        hi = np.minimum(np.ceil((centre + halo) / SPACING_MM).astype(int) + 1, SIZE_XYZ)
        z, y, x = np.ogrid[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]]
        r2 = (((x * sx - centre[0]) / radii[0]) ** 2 + ((y * sy - centre[1]) / radii[1]) ** 2
              + ((z * sz - centre[2]) / radii[2]) ** 2)
        shape = r2.shape
        noise = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), rng.uniform(0.6, 2.0))
        noise /= max(float(noise.std()), 1e-6)
        box = (slice(lo[2], hi[2]), slice(lo[1], hi[1]), slice(lo[0], hi[0]))
        region = ct[box]
        in_halo = r2 <= ((radius + 6.0) / radius) ** 2
        region[in_halo] = np.round(SITE_HU[site] + 15 * rng.standard_normal(int(in_halo.sum()))).astype(np.int16)
        inside = r2 <= 1.0
        region[inside] = np.round(rng.uniform(20, 90) + rng.uniform(8, 40) * noise[inside]).astype(np.int16)
        labels[box][inside] = len(placed) + 1
        placed.append((centre, radius))
    image = sitk.GetImageFromArray(ct)
    image.SetSpacing(SPACING_MM)
    sitk.WriteImage(image, str(ct_path), False)
    label_image = sitk.GetImageFromArray(labels)
    label_image.CopyInformation(image)
    sitk.WriteImage(label_image, str(labels_path), False)
    with open(sites_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lesion", "location"])
        writer.writerows([str(i + 1), site] for i, site in enumerate(SITES))
    return ct_path, labels_path, sites_path


def best(commands: list[list[str]], repeats: int) -> list[tuple[float, float, float]]:
    """For each command: the fastest wall and CPU seconds and the largest peak (MB) of ``repeats`` runs, the
    commands taking turns so that they share the machine's load."""
    runs = [[run_process(command) for command in commands] for _ in range(repeats)]
    return [(min(r[i][0] for r in runs), min(r[i][1] for r in runs), max(r[i][2] for r in runs))
            for i in range(len(commands))]


def lesion_masks(labels_path: Path) -> dict[int, sitk.Image]:
    """Each lesion's mask cropped to its box, as the CLI reads it."""
    from CD8RScoreLib.imageio import read_segmentation

    labels = sitk.ReadImage(str(labels_path))
    return {int(m.lesion_id): m.mask for m in read_segmentation(labels_path, labels)}


def diameters(masks: dict[int, sitk.Image]) -> tuple[float, float, float]:
    """(seconds of diameter.py, seconds of pyradiomics, largest difference in mm) over the lesions."""
    from radiomics import shape

    from CD8RScoreLib.diameter import longest_axial_diameter_mm

    start = time.perf_counter()
    ours = [longest_axial_diameter_mm(mask) for mask in masks.values()]
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = [shape.RadiomicsShape(sitk.Cast(mask, sitk.sitkFloat32), mask, label=1)
              .getMaximum2DDiameterSliceFeatureValue() for mask in masks.values()]
    theirs_s = time.perf_counter() - start
    return ours_s, theirs_s, float(np.max(np.abs(np.subtract(ours, theirs))))


def slicerradiomics_way(ct_path: Path, labels_path: Path, n_lesions: int) -> float:
    """Seconds of pyradiomics' extractor on the whole CT for the core and the 2 mm ring of ``n_lesions`` lesions.

    Each VOI is a label map of the whole CT's geometry, as SlicerRadiomics exports a segment; the ring (2 mm on
    both sides of the boundary, Euclidean) is built beforehand and not timed.
    """
    import logging

    from radiomics import featureextractor

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=10, resampledPixelSpacing=[1, 1, 1],
                                                           interpolator="sitkLinear")
    ct = sitk.ReadImage(str(ct_path))
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(labels_path)))
    sampling = tuple(reversed(SPACING_MM))
    seconds = 0.0
    for value, box in list(enumerate(ndimage.find_objects(labels), start=1))[:n_lesions]:
        grown = tuple(slice(max(0, s.start - 4), s.stop + 4) for s in box)
        core = labels[grown] == value
        ring = (~core & (ndimage.distance_transform_edt(~core, sampling=sampling) <= 2.0)) | (
            core & (ndimage.distance_transform_edt(core, sampling=sampling) <= 2.0))
        for voi in (core, ring):
            array = np.zeros(labels.shape, dtype=np.uint8)
            array[grown][voi] = 1
            label_map = sitk.GetImageFromArray(array)
            label_map.CopyInformation(ct)
            del array
            start = time.perf_counter()
            extractor.execute(ct, label_map, label=1)
            seconds += time.perf_counter() - start
    return seconds


def verdict(value: float, limit: float, below: bool = False) -> str:
    ok = value < limit if below else value <= limit
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="SlicerRadiomics way on 2 lesions, extrapolated to 10")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each process; the fastest counts")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / f"cd8rscore-bench-{SEED}",
                        help="folder of the generated case (reused)")
    args = parser.parse_args()
    from CD8RScoreLib.worker_processes import available_cores

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores ({available_cores()} available to this process), "
          f"Python {platform.python_version()}")
    ct_path, labels_path, sites_path = build_case(args.data)
    print(f"case: {SIZE_XYZ[0]}x{SIZE_XYZ[1]}x{SIZE_XYZ[2]} CT at {SPACING_MM} mm (int16, uncompressed NRRD), "
          f"{N_LESIONS} synthetic lesions, seed {SEED}, in {args.data}")
    python = sys.executable
    cli = str(BIN / "cd8rscore")
    out = Path(tempfile.mkdtemp()) / "lesions.csv"
    score = [cli, "score", "--image", str(ct_path), "--segmentation", str(labels_path), "--locations",
             str(sites_path), "--kvp", "120", "--out", str(out)]

    (imports_s, imports_cpu, _), (help_s, help_cpu, _) = best(
        [[python, "-c", "import numpy, SimpleITK"], [cli, "score", "--help"]], max(args.repeats, 3))
    floor = [python, str(ROOT / "benchmarks" / "floor_scoring.py"), str(ct_path), str(labels_path)]
    help_text = subprocess.run([cli, "score", "--help"], capture_output=True, text=True).stdout
    with_perturbations = [score + ["--perturbations", "10"]] if "--perturbations" in help_text else []
    timings = best([floor, score] + with_perturbations, args.repeats)
    (floor_s, floor_cpu, floor_mb), (score_s, score_cpu, score_mb) = timings[:2]
    perturbed = timings[2] if with_perturbations else None
    ours_diam_s, theirs_diam_s, diameter_diff = diameters(lesion_masks(labels_path))

    nan = float("nan")
    rows = [
        ("cd8rscore score (whole process)", f"{score_s:.2f} s", f"floor {floor_s:.2f} s",
         score_s / floor_s, score_cpu / floor_cpu, f"<= {TARGETS['score']}",
         verdict(score_s / floor_s, TARGETS["score"])),
        ("cd8rscore score --help", f"{help_s:.2f} s", f"import numpy, SimpleITK {imports_s:.2f} s",
         help_s / imports_s, help_cpu / imports_cpu, f"<= {TARGETS['help']}",
         verdict(help_s / imports_s, TARGETS["help"])),
        ("peak memory of score", f"{score_mb:.0f} MB", f"floor {floor_mb:.0f} MB", score_mb / floor_mb, nan,
         f"< {TARGETS['peak_mb']:.0f} MB", verdict(score_mb, TARGETS["peak_mb"], below=True)),
        ("longest axial diameter, 10 lesions", f"{ours_diam_s:.3f} s", f"pyradiomics {theirs_diam_s:.3f} s",
         ours_diam_s / theirs_diam_s, nan, f"max |diff| {diameter_diff:.1e} mm <= 1e-6",
         verdict(diameter_diff, TARGETS["diameter_mm"])),
    ]
    if perturbed is None:
        rows.append(("--perturbations 10", "not available", "", nan, nan, "", "not available"))
    else:
        extra, extra_cpu = (perturbed[0] - score_s) / score_s, (perturbed[1] - score_cpu) / score_cpu
        rows.append(("--perturbations 10 (extra / unperturbed)", f"{perturbed[0]:.2f} s",
                     f"unperturbed {score_s:.2f} s", extra, extra_cpu, f"<= {TARGETS['perturbations']}",
                     verdict(extra, TARGETS["perturbations"])))
    print("ratio: of wall seconds (the targets); CPU ratio: of user + system seconds, for a loaded machine")
    print(f"{'measure':42s} {'value':>13s}  {'against':32s} {'ratio':>6s} {'CPU ratio':>9s}  {'target':28s} verdict")
    for name, value, against, ratio, cpu_ratio, target, met in rows:
        print(f"{name:42s} {value:>13s}  {against:32s} {ratio:6.2f} {cpu_ratio:9.2f}  {target:28s} {met}")

    n_baseline = 2 if args.quick else N_LESIONS
    baseline_s = slicerradiomics_way(ct_path, labels_path, n_baseline) * N_LESIONS / n_baseline
    note = f" (measured on {n_baseline} lesions, extrapolated to {N_LESIONS})" if args.quick else ""
    print(f"SlicerRadiomics way (pyradiomics execute per VOI on the whole CT, core + ring of {N_LESIONS} lesions): "
          f"{baseline_s:.0f} s{note}; cd8rscore score is {baseline_s / score_s:.0f} times faster")


if __name__ == "__main__":
    main()
