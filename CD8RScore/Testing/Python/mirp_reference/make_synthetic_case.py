"""Writes the synthetic case of the whole-image grid reference: a small CT (HU, int16) with three lesions, one label
map, and one binary mask per lesion (what the reference pipeline reads).

    .venv/bin/python CD8RScore/Testing/Python/mirp_reference/make_synthetic_case.py

Deterministic (CD8RScoreLib.synthetic.make_patient, seed SEED). The spacing (0.78 x 0.78 x 2.5 mm) and the origin
are chosen so that the 1 mm grid falls at no special phase of the original grid.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from CD8RScoreLib.synthetic import make_patient

HERE = Path(__file__).resolve().parent
SEED = 12
SPACING_MM = (0.78, 0.78, 2.5)
FIELD_MM = (62.0, 58.0, 45.0)
ORIGIN_MM = (-31.7, 12.3, -100.25)


def main() -> None:
    patient = make_patient(n_lesions=3, seed=SEED, spacing_mm=SPACING_MM, field_mm=FIELD_MM,
                           radius_range_mm=(4.0, 8.0), sites=("liver", "lung", "node"))
    image = sitk.Cast(patient.image, sitk.sitkInt16)
    image.SetOrigin(ORIGIN_MM)
    labels = sitk.Cast(patient.labels, sitk.sitkUInt8)
    labels.CopyInformation(image)
    sitk.WriteImage(image, str(HERE / "synthetic_image.nrrd"), useCompression=True)
    sitk.WriteImage(labels, str(HERE / "synthetic_label.nrrd"), useCompression=True)
    for lesion in patient.lesions:
        mask = sitk.Cast(labels == lesion.label, sitk.sitkUInt8)
        sitk.WriteImage(mask, str(HERE / f"synthetic_mask_{lesion.label}.nrrd"), useCompression=True)
        print(lesion.label, lesion.site, np.round(lesion.radii_mm, 2), int(sitk.GetArrayViewFromImage(mask).sum()))


if __name__ == "__main__":
    main()
