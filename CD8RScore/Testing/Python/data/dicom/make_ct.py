"""Step 1 of make_cases.sh (run with the project installed): the original CT series and its label map.

The pyradiomics sample CT ``lung1`` (CD8RScore/Resources/SampleData, BSD 3-clause) cropped to 48 x 52 x 7 voxels
around its lesion, written as a CT series of int16 slices by the project's writer (dicom_demo_data.write_ct_series),
and its lesion label (value 1) as ``label.nrrd`` on the grid read back from that series.
"""
import sys
from pathlib import Path

import SimpleITK as sitk

from CD8RScoreLib.dicom_demo_data import write_ct_series

here = Path(__file__).resolve().parent
samples = here.parents[3] / "Resources" / "SampleData"
box = dict(size=[48, 52, 7], index=[24, 22, 2])
image = sitk.RegionOfInterest(sitk.ReadImage(str(samples / "lung1_crop_image.nrrd")), **box)
label = sitk.RegionOfInterest(sitk.ReadImage(str(samples / "lung1_crop_label.nrrd")), **box)
out = Path(sys.argv[1]) if len(sys.argv) > 1 else here
write_ct_series(image, out / "ct", "LUNG1-CROP")
# the label map on the grid read back from the series (positions and spacing are written with 6 decimals)
label.CopyInformation(sitk.ReadImage(sorted(str(p) for p in (out / "ct").glob("*.dcm"))))
sitk.WriteImage(sitk.Cast(label, sitk.sitkUInt8), str(out / "label.nrrd"), True)
