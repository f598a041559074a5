"""Step 4 of make_cases.sh (reference environment): a SEG by pydicom-seg and an RTSTRUCT by rt-utils of label 1."""
import sys
from pathlib import Path

import numpy as np
import pydicom
import pydicom_seg
import SimpleITK as sitk
from rt_utils import RTStructBuilder

ct, label_path = Path(sys.argv[1]), Path(sys.argv[2])
label = sitk.ReadImage(str(label_path))

template = pydicom_seg.template.from_dcmqi_metainfo("dcmqi_seg_meta.json")
writer = pydicom_seg.MultiClassWriter(template=template, inplane_cropping=False, skip_empty_slices=True,
                                      skip_missing_segment=False)
sources = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(ct.glob("*.dcm"))]
writer.write(label, sources).save_as("seg_pydicom_seg.dcm")

rtstruct = RTStructBuilder.create_new(dicom_series_path=str(ct))
# rt-utils takes the mask as (rows, columns, slices) in the order of its own sorted series
order = [float(ds.ImagePositionPatient[2]) for ds in rtstruct.series_data]
by_z = {round(float(label.TransformIndexToPhysicalPoint((0, 0, k))[2]), 3): k for k in range(label.GetDepth())}
array = sitk.GetArrayFromImage(label)
mask = np.stack([array[by_z[round(z, 3)]] == 1 for z in order], axis=-1)
rtstruct.add_roi(mask=mask, name="lung_1")
rtstruct.save("rtstruct_rtutils.dcm")
