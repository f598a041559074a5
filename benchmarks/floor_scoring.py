"""The floor of lesion scoring: the work any scorer of core and ring texture must do, and nothing else.

Reads the CT and the label map with SimpleITK; per lesion: crops with the ring's margin, resamples image and mask
once to 1 mm (trilinear, mask kept where >= 0.5), runs one Euclidean distance transform for the 2 mm ring, and
counts the core and ring grey-level histograms (10 HU bins from -1000 HU) and their co-occurrences in the 13
directions of 3D with numpy. No feature is derived from the counts. ``bench_scoring.py`` times this process
against ``cd8rscore score`` on the same files.

Run: .venv/bin/python benchmarks/floor_scoring.py CT LABELS
"""
from __future__ import annotations

import sys

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

SPACING_MM = 1.0
RING_MM = 2.0
LOWER_HU, BIN_HU, N_BINS = -1000.0, 10.0, 400
# the 13 unique neighbour offsets (z, y, x) of 3D
DIRECTIONS = [(0, 0, 1), (0, 1, 0), (0, 1, 1), (0, 1, -1), (1, 0, 0), (1, 0, 1), (1, 0, -1), (1, 1, 0),
              (1, -1, 0), (1, 1, 1), (1, 1, -1), (1, -1, 1), (1, -1, -1)]


def resample(image: sitk.Image) -> sitk.Image:
    """Trilinear resampling of a crop to SPACING_MM on a grid of the same centre (float32)."""
    size = [int(np.ceil(n * s / SPACING_MM)) for n, s in zip(image.GetSize(), image.GetSpacing())]
    centre = np.array(image.GetOrigin()) + (np.array(image.GetSize()) - 1) * np.array(image.GetSpacing()) / 2
    origin = centre - (np.array(size) - 1) * SPACING_MM / 2
    return sitk.Resample(image, size, sitk.Transform(), sitk.sitkLinear, tuple(origin), (SPACING_MM,) * 3,
                         image.GetDirection(), 0.0, sitk.sitkFloat32)


def counts(levels: np.ndarray, voi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the VOI's grey levels and its 13-direction co-occurrence counts (N_BINS x N_BINS)."""
    histogram = np.bincount(levels[voi], minlength=N_BINS)
    cooccurrence = np.zeros(N_BINS * N_BINS, dtype=np.int64)
    shape = np.array(voi.shape)
    for offset in DIRECTIONS:
        a = tuple(slice(max(0, -o), n - max(0, o)) for o, n in zip(offset, shape))
        b = tuple(slice(max(0, o), n - max(0, -o)) for o, n in zip(offset, shape))
        both = voi[a] & voi[b]
        cooccurrence += np.bincount(levels[a][both] * N_BINS + levels[b][both], minlength=N_BINS * N_BINS)
    return histogram, cooccurrence


def main(ct_path: str, labels_path: str) -> None:
    ct = sitk.ReadImage(ct_path)
    labels = sitk.ReadImage(labels_path)
    label_array = sitk.GetArrayViewFromImage(labels)
    spacing = np.array(ct.GetSpacing())[::-1]  # z, y, x
    margin = np.ceil((RING_MM + SPACING_MM) / spacing).astype(int) + 2
    total = 0
    for value, box in enumerate(ndimage.find_objects(label_array), start=1):
        if box is None:
            continue
        lo = [max(0, s.start - m) for s, m in zip(box, margin)]
        hi = [min(n, s.stop + m) for s, m, n in zip(box, margin, label_array.shape)]
        crop = sitk.RegionOfInterest(ct, [int(h - l) for l, h in zip(lo[::-1], hi[::-1])], [int(v) for v in lo[::-1]])
        mask = sitk.GetImageFromArray((label_array[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] == value)
                                      .astype(np.float32))
        mask.CopyInformation(crop)
        image_1mm = sitk.GetArrayFromImage(resample(crop))
        core = sitk.GetArrayFromImage(resample(mask)) >= 0.5
        ring = ~core & (ndimage.distance_transform_edt(~core) <= RING_MM)
        levels = np.clip(np.floor((np.round(image_1mm) - LOWER_HU) / BIN_HU).astype(np.int64), 0, N_BINS - 1)
        for voi in (core, ring):
            histogram, cooccurrence = counts(levels, voi)
            total += int(histogram.sum() + cooccurrence.sum())
    print(f"floor: {total} counts", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
