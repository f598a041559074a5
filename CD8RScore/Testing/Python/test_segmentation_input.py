"""Slicer .seg.nrrd input: segments by name on a sub-extent of the CT, locations guessed from names or tags."""
from __future__ import annotations

import csv

import numpy as np
import SimpleITK as sitk

from CD8RScoreLib.cli import main
from CD8RScoreLib.imageio import read_image, read_segmentation
from CD8RScoreLib.signature import load_signature
from CD8RScoreLib.synthetic import make_patient


def write_seg_nrrd(labels: sitk.Image, names: dict[int, str], path, tags: dict[int, str] | None = None,
                   offset: tuple[int, int, int] = (0, 0, 0)) -> None:
    """A shared-layer segmentation as Slicer writes it: the label values of one layer, Segment<N>_* fields, and an
    extent cropped to the segments (origin moved by ``offset`` voxels)."""
    size = [s - o for s, o in zip(labels.GetSize(), offset)]
    cropped = sitk.RegionOfInterest(sitk.Cast(labels, sitk.sitkUInt8), size, list(offset))
    for number, (value, name) in enumerate(sorted(names.items())):
        cropped.SetMetaData(f"Segment{number}_ID", f"Segment_{value}")
        cropped.SetMetaData(f"Segment{number}_Name", name)
        cropped.SetMetaData(f"Segment{number}_LabelValue", str(value))
        cropped.SetMetaData(f"Segment{number}_Layer", "0")
        cropped.SetMetaData(f"Segment{number}_Tags", (tags or {}).get(value, ""))
    sitk.WriteImage(cropped, str(path), True)


def test_seg_nrrd_segments_are_read_by_name_with_sub_extent(tmp_path):
    patient = make_patient(n_lesions=3, seed=2, field_mm=(100.0, 100.0, 80.0), radius_range_mm=(5.0, 8.0))
    ct_path = tmp_path / "ct.nrrd"
    sitk.WriteImage(patient.image, str(ct_path))
    seg_path = tmp_path / "lesions.seg.nrrd"
    names = {1: "liver_1", 2: "LN 2", 3: "Segment_3"}
    write_seg_nrrd(patient.labels, names, seg_path, tags={3: "CD8RScore.location:adrenal"}, offset=(4, 3, 2))
    image, _ = read_image(ct_path)
    masks = read_segmentation(seg_path, image)
    assert [m.lesion_id for m in masks] == ["liver_1", "LN 2", "Segment_3"]
    expected_voxels = {v: int((sitk.GetArrayViewFromImage(patient.labels) == v).sum()) for v in names}
    for mask, value in zip(masks, names):
        assert int(sitk.GetArrayViewFromImage(mask.mask).sum()) == expected_voxels[value]
        # the crop sits where the lesion is in the CT
        index = np.array(image.TransformPhysicalPointToContinuousIndex(mask.mask.GetOrigin()))
        np.testing.assert_allclose(index, np.round(index), atol=1e-6)

    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", ct_path, "--segmentation", seg_path, "--out", out]) == 0
    with open(out, newline="") as handle:
        rows = {r["lesion_id"]: r for r in csv.DictReader(handle)}
    assert rows["liver_1"]["location"] == "liver" and rows["LN 2"]["location"] == "node"
    assert rows["Segment_3"]["location"] == "adrenal"  # from the segment's tag
    assert all(r["computable"] == "1" for r in rows.values())
    # a label map of the same lesions scores the same
    labels_path = tmp_path / "labels.nrrd"
    sitk.WriteImage(patient.labels, str(labels_path))
    out2 = tmp_path / "lesions_labels.csv"
    assert main(["score", "--image", ct_path, "--segmentation", labels_path, "--out", out2]) == 0
    with open(out2, newline="") as handle:
        by_label = {r["lesion_id"]: r for r in csv.DictReader(handle)}
    assert by_label["1"]["core_voxels"] == rows["liver_1"]["core_voxels"]
    for feature in load_signature().features:  # same VOIs, same features, whichever input format
        assert by_label["2"][feature.key] == rows["LN 2"][feature.key]
