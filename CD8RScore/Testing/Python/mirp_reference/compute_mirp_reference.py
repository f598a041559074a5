"""Reference features of the whole-image IBSI pipeline, computed by mirp (IBSI-validated), for
test_whole_image_grid.py. Run in its own virtual environment (mirp is no dependency of cd8rscore):

    python3 -m venv .refvenv-mirp && .refvenv-mirp/bin/pip install mirp==2.7.0
    .refvenv-mirp/bin/python CD8RScore/Testing/Python/mirp_reference/compute_mirp_reference.py

It writes mirp_whole_image_features.json beside itself. For every lesion mirp reads the WHOLE image (the sample CT
as shipped, never a crop around the lesion) and its lesion mask, and applies the preprocessing of DESIGN §2:
1 mm isotropic grid of the whole image (size by ceiling, centres aligned), trilinear interpolation without
anti-aliasing, CT intensities rounded to integers, mask trilinear and kept where >= 0.5, fixed bins of 10 HU from
-1000 HU (mirp's CT default lower bound; values below go to bin 1, as the signature's "clip"), no re-segmentation,
3D features, GLCM and GLRLM averaged over the 13 directions, GLSZM and NGTDM in 3D.
The core is mirp's resampled mask. The ring (DESIGN §2 step 2: non-core voxels within 2 mm of a core voxel centre
plus core voxels within 2 mm of a non-core voxel centre) is built here, by Euclidean distance maps on mirp's own
resampled whole-image mask, and given to mirp as a separate mask on mirp's own resampled whole image, which is
already on the 1 mm grid: that second run interpolates nothing.
"""
from __future__ import annotations

import json
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
from scipy import ndimage

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[2] / "Resources" / "SampleData"
CASES = {  # name: (image, lesion mask), paths relative to the repository's CD8RScore folder
    "lung1": (SAMPLES / "lung1_crop_image.nrrd", SAMPLES / "lung1_crop_label.nrrd"),
    "lung2": (SAMPLES / "lung2_crop_image.nrrd", SAMPLES / "lung2_crop_label.nrrd"),
    "synthetic_1": (HERE / "synthetic_image.nrrd", HERE / "synthetic_mask_1.nrrd"),
    "synthetic_2": (HERE / "synthetic_image.nrrd", HERE / "synthetic_mask_2.nrrd"),
    "synthetic_3": (HERE / "synthetic_image.nrrd", HERE / "synthetic_mask_3.nrrd"),
}
RING_MM = 2.0
FAMILIES = ["statistics", "intensity_histogram", "glcm", "glrlm", "glszm", "ngtdm"]
# The exact settings of every mirp call below (written into the JSON too).
MIRP_SETTINGS = dict(
    image_modality="CT", new_spacing=1.0, spline_order=1, anti_aliasing=False, roi_spline_order=1,
    roi_interpolation_mask_inclusion_threshold=0.5, base_feature_families=FAMILIES,
    base_discretisation_method="fixed_bin_size", base_discretisation_bin_width=10.0,
    glcm_distance=1.0, glcm_spatial_method="3d_average", glrlm_spatial_method="3d_average",
    glszm_spatial_method="3d", ngtdm_spatial_method="3d", crop_around_roi=False,
)
# The ring's run reads mirp's resampled image, already on the 1 mm grid: no interpolation.
RING_SETTINGS = dict(MIRP_SETTINGS, new_spacing=None)
MIRP_CALL = ("core: mirp.extract_features_and_images(image=<CT file>, mask=<lesion mask file>, export_features=True, "
             "export_images=True, **mirp_settings); ring: mirp.extract_features(image=<mirp's exported resampled "
             "image, NRRD>, mask=<ring built on mirp's exported resampled mask, NRRD>, export_features=True, "
             "**mirp_settings with new_spacing=None)")


def write_nrrd(array_zyx: np.ndarray, exported: dict, path: Path) -> None:
    """An array on mirp's exported grid (spacing and origin z, y, x; identity orientation) as NRRD, with itk."""
    import itk

    if not np.allclose(exported["image_orientation"], np.eye(3)):
        raise ValueError("the reference cases have identity orientation")
    image = itk.image_from_array(np.ascontiguousarray(array_zyx))
    image.SetSpacing([float(v) for v in reversed(exported["image_spacing"])])
    image.SetOrigin([float(v) for v in reversed(exported["image_origin"])])
    itk.imwrite(image, str(path))


def ring_from_core(core: np.ndarray, spacing_zyx: tuple[float, float, float], width_mm: float) -> np.ndarray:
    """DESIGN §2 step 2 with Euclidean distance maps between voxel centres (z, y, x arrays)."""
    outside = ~core
    d_out = ndimage.distance_transform_edt(outside, sampling=spacing_zyx)
    d_in = ndimage.distance_transform_edt(core, sampling=spacing_zyx)
    return (outside & (d_out <= width_mm + 1e-6)) | (core & (d_in <= width_mm + 1e-6))


def features_of(table) -> dict[str, float]:
    """mirp's feature columns (IBSI tags) of a one-row table, as floats."""
    row = table.iloc[0]
    return {k: float(row[k]) for k in table.columns
            if k.split("_", 1)[0] in ("stat", "ih", "cm", "rlm", "szm", "ngt")}


def main() -> None:
    import mirp

    out: dict = {"mirp_version": version("mirp"), "numpy_version": version("numpy"),
                 "mirp_settings": MIRP_SETTINGS, "mirp_call": MIRP_CALL, "ring_mm": RING_MM, "lesions": {}}
    for name, (image_path, mask_path) in CASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = mirp.extract_features_and_images(image=str(image_path), mask=str(mask_path),
                                                      export_features=True, export_images=True, **MIRP_SETTINGS)
        table, image, mask = result[0][0], result[0][1][0], result[0][2][0]
        voxels = np.asarray(image["image"], dtype=float)  # z, y, x on mirp's resampled whole-image grid
        core = np.asarray(mask["mask"], dtype=bool)
        spacing_zyx = tuple(float(s) for s in image["image_spacing"])
        ring = ring_from_core(core, spacing_zyx, RING_MM)
        with tempfile.TemporaryDirectory() as tmp:
            resampled_path, ring_path = Path(tmp) / "resampled.nrrd", Path(tmp) / "ring.nrrd"
            write_nrrd(voxels.astype(np.float32), image, resampled_path)
            write_nrrd(ring.astype(np.uint8), image, ring_path)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ring_table = mirp.extract_features(image=str(resampled_path), mask=str(ring_path),
                                                   export_features=True, **RING_SETTINGS)[0]
        out["lesions"][name] = {
            "image": str(image_path.relative_to(HERE.parents[2])), "mask": str(mask_path.relative_to(HERE.parents[2])),
            "grid_size_zyx": [int(n) for n in np.shape(voxels)], "core_voxels": int(core.sum()), "ring_voxels": int(ring.sum()),
            "core": features_of(table), "ring": features_of(ring_table),
        }
        print(name, np.shape(voxels), int(core.sum()), int(ring.sum()), len(out["lesions"][name]["core"]))
    (HERE / "mirp_whole_image_features.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
