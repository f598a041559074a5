"""Deterministic synthetic CT patients: a body of soft tissue with lesions of known size, site and texture.

Used by the demo, the tests and the benchmarks. Every image is labelled synthetic where it is written.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

# Mean HU and texture of the tissue a lesion sits in, by fine site (soft-tissue CT values, portal phase).
SITE_BACKGROUND_HU: dict[str, float] = {
    "liver": 100.0, "lung": -850.0, "node": -80.0, "subcutaneous": -100.0, "adrenal": -60.0,
    "peritoneum": -90.0, "bone": 400.0, "other": 30.0,
}


@dataclass
class SyntheticLesion:
    label: int
    site: str
    centre_mm: tuple[float, float, float]  # physical x, y, z
    radii_mm: tuple[float, float, float]
    mean_hu: float
    noise_hu: float  # SD of the lesion's texture (spatially correlated noise)


@dataclass
class SyntheticPatient:
    image: sitk.Image  # HU, float32
    labels: sitk.Image  # uint16, one value per lesion
    lesions: list[SyntheticLesion]


def _correlated_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma_vox: float) -> np.ndarray:
    noise = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma_vox)
    return noise / max(float(noise.std()), 1e-6)


def ellipsoid_mask(shape_zyx: tuple[int, int, int], spacing_xyz: tuple[float, float, float],
                   centre_mm: tuple[float, float, float], radii_mm: tuple[float, float, float]) -> np.ndarray:
    """Voxels whose centre lies inside the ellipsoid (origin 0, identity direction), z-y-x array."""
    z, y, x = np.ogrid[:shape_zyx[0], :shape_zyx[1], :shape_zyx[2]]
    sx, sy, sz = spacing_xyz
    cx, cy, cz = centre_mm
    rx, ry, rz = radii_mm
    return ((x * sx - cx) / rx) ** 2 + ((y * sy - cy) / ry) ** 2 + ((z * sz - cz) / rz) ** 2 <= 1.0


def make_patient(n_lesions: int = 6, seed: int = 0, spacing_mm: tuple[float, float, float] = (0.8, 0.8, 2.0),
                 field_mm: tuple[float, float, float] = (160.0, 160.0, 120.0),
                 radius_range_mm: tuple[float, float] = (3.0, 14.0),
                 sites: "tuple[str, ...] | None" = None) -> SyntheticPatient:
    """A CT of ``field_mm`` with ``n_lesions`` non-overlapping ellipsoidal lesions, deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(round(f / s)) for f, s in zip(reversed(field_mm), reversed(spacing_mm)))  # z, y, x
    image = 40.0 + 12.0 * _correlated_noise(rng, shape, 1.5)
    labels = np.zeros(shape, dtype=np.uint16)
    site_cycle = sites or ("liver", "node", "lung", "subcutaneous", "adrenal", "liver", "node", "lung")
    lesions: list[SyntheticLesion] = []
    attempts = 0
    while len(lesions) < n_lesions:
        attempts += 1
        if attempts > 10000:
            raise ValueError(f"cannot place {n_lesions} lesions in {field_mm} mm")
        radius = float(rng.uniform(*radius_range_mm))
        radii = (radius, radius * float(rng.uniform(0.7, 1.0)), radius * float(rng.uniform(0.7, 1.0)))
        margin = radius + 8.0
        centre = tuple(float(rng.uniform(margin, f - margin)) for f in field_mm)
        if any(np.linalg.norm(np.subtract(centre, l.centre_mm)) < radius + max(l.radii_mm) + 8.0 for l in lesions):
            continue
        site = site_cycle[len(lesions) % len(site_cycle)]
        lesion = SyntheticLesion(label=len(lesions) + 1, site=site, centre_mm=centre, radii_mm=radii,
                                 mean_hu=float(rng.uniform(20.0, 90.0)), noise_hu=float(rng.uniform(8.0, 40.0)))
        # a halo of the site's tissue around the lesion, so that rings see different surroundings
        halo = ellipsoid_mask(shape, spacing_mm, centre, tuple(r + 6.0 for r in radii))
        image[halo] = SITE_BACKGROUND_HU.get(site, 30.0) + 15.0 * _correlated_noise(rng, shape, 1.0)[halo]
        inside = ellipsoid_mask(shape, spacing_mm, centre, radii)
        texture = _correlated_noise(rng, shape, float(rng.uniform(0.6, 2.0)))
        image[inside] = lesion.mean_hu + lesion.noise_hu * texture[inside]
        labels[inside] = lesion.label
        lesions.append(lesion)
    ct = sitk.GetImageFromArray(np.round(image).astype(np.float32))
    ct.SetSpacing(spacing_mm)
    label_image = sitk.GetImageFromArray(labels)
    label_image.CopyInformation(ct)
    return SyntheticPatient(ct, label_image, lesions)


def follow_up(patient: SyntheticPatient, diameter_factors: dict[int, float], seed: int = 1) -> SyntheticPatient:
    """The same patient at follow-up: each lesion's radii scaled by ``diameter_factors[label]`` (0 = gone)."""
    rng = np.random.default_rng(seed)
    spacing = patient.image.GetSpacing()
    shape = patient.labels.GetSize()[::-1]
    image = 40.0 + 12.0 * _correlated_noise(rng, shape, 1.5)
    labels = np.zeros(shape, dtype=np.uint16)
    lesions = []
    for lesion in patient.lesions:
        factor = diameter_factors.get(lesion.label, 1.0)
        halo = ellipsoid_mask(shape, spacing, lesion.centre_mm, tuple(r + 6.0 for r in lesion.radii_mm))
        image[halo] = SITE_BACKGROUND_HU.get(lesion.site, 30.0) + 15.0 * _correlated_noise(rng, shape, 1.0)[halo]
        if factor <= 0:
            continue
        radii = tuple(r * factor for r in lesion.radii_mm)
        inside = ellipsoid_mask(shape, spacing, lesion.centre_mm, radii)
        image[inside] = lesion.mean_hu + lesion.noise_hu * _correlated_noise(rng, shape, 1.2)[inside]
        labels[inside] = lesion.label
        lesions.append(SyntheticLesion(lesion.label, lesion.site, lesion.centre_mm, radii, lesion.mean_hu,
                                       lesion.noise_hu))
    ct = sitk.GetImageFromArray(np.round(image).astype(np.float32))
    ct.CopyInformation(patient.image)
    label_image = sitk.GetImageFromArray(labels)
    label_image.CopyInformation(ct)
    return SyntheticPatient(ct, label_image, lesions)


def make_lesion_crop(rng: np.random.Generator, site: str, radius_mm: float, mean_hu: float, noise_hu: float,
                     grain_vox: float, spacing_mm: tuple[float, float, float] = (0.8, 0.8, 2.0),
                     field_mm: tuple[float, float, float] = (56.0, 56.0, 48.0)) -> tuple[sitk.Image, sitk.Image]:
    """One lesion of known texture in a small CT of ``field_mm``: (CT in HU, binary lesion mask).

    The lesion is a sphere of ``radius_mm`` at the centre, mean ``mean_hu`` and texture SD ``noise_hu`` with
    spatial grain ``grain_vox`` (voxels), inside 6 mm of the site's tissue (SITE_BACKGROUND_HU).
    """
    shape = tuple(int(round(f / s)) for f, s in zip(reversed(field_mm), reversed(spacing_mm)))  # z, y, x
    centre = tuple(f / 2 for f in field_mm)
    image = 40.0 + 12.0 * _correlated_noise(rng, shape, 1.5)
    halo = ellipsoid_mask(shape, spacing_mm, centre, (radius_mm + 6.0,) * 3)
    image[halo] = SITE_BACKGROUND_HU.get(site, 30.0) + 15.0 * _correlated_noise(rng, shape, 1.0)[halo]
    inside = ellipsoid_mask(shape, spacing_mm, centre, (radius_mm,) * 3)
    image[inside] = mean_hu + noise_hu * _correlated_noise(rng, shape, grain_vox)[inside]
    ct = sitk.GetImageFromArray(np.round(image).astype(np.float32))
    ct.SetSpacing(spacing_mm)
    mask = sitk.GetImageFromArray(inside.astype(np.uint8))
    mask.CopyInformation(ct)
    return ct, mask
