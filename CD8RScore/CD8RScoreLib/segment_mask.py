"""One lesion of a segmentation as every reader returns it (label map, .seg.nrrd, DICOM SEG, RTSTRUCT): a binary
mask on the CT grid (voxels, no units) with the lesion's id, name and tags."""
from __future__ import annotations

from dataclasses import dataclass, field

import SimpleITK as sitk


@dataclass
class SegmentMask:
    """One lesion of the segmentation: a binary uint8 mask on (a sub-grid of) the CT grid."""

    lesion_id: str
    segment_name: str
    mask: "sitk.Image | None"  # None: the lesion is named (e.g. in a locations CSV) but absent
    tags: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)  # what the lesion's row must say of how it was read
