"""Step 5 of make_cases.sh (reference environment): the CT slices as one multi-frame CT (highdicom's Legacy
Converted Enhanced CT Image Storage), as Enhanced CT objects come from Siemens XA and Philips scanners."""
import sys
from pathlib import Path

import pydicom
from highdicom.legacy import LegacyConvertedEnhancedCTImage
from pydicom.uid import generate_uid

source, target = Path(sys.argv[1]), Path(sys.argv[2])
slices = [pydicom.dcmread(p) for p in sorted(source.glob("*.dcm"))]
LegacyConvertedEnhancedCTImage(legacy_datasets=slices, series_instance_uid=generate_uid(), series_number=4,
                               sop_instance_uid=generate_uid(), instance_number=1).save_as(target)
