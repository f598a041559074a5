"""Step 3 of make_cases.sh (reference environment): the CT slices as irreversible JPEG 2000 (ratio 10)."""
import sys
from pathlib import Path

import pydicom
from pydicom.uid import JPEG2000

source, target = Path(sys.argv[1]), Path(sys.argv[2])
target.mkdir(exist_ok=True)
for path in sorted(source.glob("*.dcm")):
    ds = pydicom.dcmread(path)
    ds.compress(JPEG2000, encoding_plugin="pylibjpeg", j2k_cr=[10])
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = [10]
    ds.LossyImageCompressionMethod = ["ISO_15444_1"]
    ds.save_as(target / path.name, enforce_file_format=True)
