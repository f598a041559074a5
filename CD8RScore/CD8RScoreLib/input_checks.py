"""Plausibility checks of the inputs before a score is given: a CT in HU, lesion labels, VOI intensities (HU),
kVp (kV) against the signature's range, and the text encoding of CSV tables.

A check either refuses the input (``InputError``: one line naming the file, the field and the fix) or returns
the reason or warning that goes on the lesion's row; no input leads to a score that silently means nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import SimpleITK as sitk

from .errors import InputError

if TYPE_CHECKING:
    from .features import Discretisation
    from .signature import Signature

# Any CT stored in 16 bits and rescaled to HU lies within this range (padding such as -3024 and extended-scale
# metal included); values beyond it are not HU.
PLAUSIBLE_HU = (-32768.0, 65535.0)
# In HU, fat is about -100, lung -700 to -900 and air -1000: a field of view without a single value below 0 HU
# is not a CT in HU (an MR or PET image, or CT pixel values stored without the DICOM rescale slope/intercept).
HIGHEST_MINIMUM_HU = 0.0
# Without air or lung (below -500 HU) the image is accepted with a warning: a tight crop of soft tissue can be
# a CT in HU, but a scan that should show air and does not deserves a second look.
AIR_OR_LUNG_HU = -500.0


def check_ct_values(image: sitk.Image, modality: "str | None", path: "str | Path",
                    field: str = "--image") -> list[str]:
    """The scan warnings of a CT, or ``InputError`` when it cannot be a CT in HU.

    Refused: a DICOM Modality (0008,0060) other than CT, an image without a finite voxel, of one value, with
    values beyond any HU range, or without a value below 0 HU. Warned: no air or lung, non-finite voxels.
    """
    if modality and modality.strip().upper() != "CT":
        raise InputError(f"DICOM Modality (0008,0060) is {modality.strip()}; the signature is defined on CT in "
                         "HU: give the CT series", path, field)
    array = sitk.GetArrayViewFromImage(image)
    # integer voxels are always finite: no mask of the whole CT is built for them
    finite = np.isfinite(array) if np.issubdtype(array.dtype, np.inexact) else None
    n_non_finite = 0 if finite is None else int(array.size - np.count_nonzero(finite))
    if n_non_finite == array.size:
        raise InputError("no finite voxel (every value is NaN or inf); give the CT in HU", path, field)
    values = array[finite] if n_non_finite else array
    low, high = float(values.min()), float(values.max())
    if low == high:
        raise InputError(f"every voxel is {low:g}: the image holds one value, not a CT; give the CT in HU",
                         path, field)
    if low < PLAUSIBLE_HU[0] or high > PLAUSIBLE_HU[1]:
        raise InputError(f"values {low:g} to {high:g} are not HU (a CT lies within {PLAUSIBLE_HU[0]:g} to "
                         f"{PLAUSIBLE_HU[1]:g}); give the CT in HU", path, field)
    if low >= HIGHEST_MINIMUM_HU:
        raise InputError(f"no value below 0 HU (values {low:g} to {high:g}): a CT in HU shows fat, lung or air; "
                         "this looks like MR/PET or CT values without the DICOM rescale: give the CT in HU",
                         path, field)
    warnings = []
    if low > AIR_OR_LUNG_HU:
        warnings.append(f"no air or lung in the image (lowest value {low:g} HU, none below {AIR_OR_LUNG_HU:g} HU): "
                        "check that it is a CT in HU")
    if n_non_finite:
        warnings.append(f"the image has {n_non_finite} non-finite voxel(s) (NaN or inf); a lesion whose VOIs hold "
                        "one is not scored")
    return warnings


# Label values are read as uint32 (SimpleITK's label statistics): a larger value would wrap onto another lesion.
MAX_LABEL = 2 ** 32 - 1


def check_label_values(labels: sitk.Image, path: "str | Path") -> None:
    """Refuse a label map whose values are not lesion labels: integers from 0 (background) to MAX_LABEL."""
    pixel = labels.GetPixelID()
    if pixel in (sitk.sitkUInt8, sitk.sitkUInt16, sitk.sitkUInt32):
        return
    if pixel in (sitk.sitkFloat32, sitk.sitkFloat64):
        array = sitk.GetArrayViewFromImage(labels)
        if not np.all(np.mod(array, 1) == 0):  # NaN and inf included (their remainder is NaN)
            raise InputError("label map holds non-integer values; give one integer label per lesion",
                             path, "--segmentation")
    extrema = sitk.MinimumMaximumImageFilter()
    extrema.Execute(labels)
    if extrema.GetMinimum() < 0:
        raise InputError(f"label map holds negative values (lowest {extrema.GetMinimum():g}); lesion labels are "
                         "positive integers and 0 is background", path, "--segmentation")
    if pixel in (sitk.sitkUInt64, sitk.sitkInt64):  # exact: the filter's double maximum rounds 64-bit values
        highest = int(np.max(sitk.GetArrayViewFromImage(labels)))
    else:
        highest = extrema.GetMaximum()
    if highest > MAX_LABEL:
        raise InputError(f"label map holds the value {int(highest)}, above the largest label {MAX_LABEL}; number the "
                         "lesions 1, 2, 3, ...", path, "--segmentation")


def voi_value_problem(image: sitk.Image, vois: "dict[str, sitk.Image]", discretisation: "Discretisation") -> str:
    """Why a lesion's VOIs (name -> uint8 mask on ``image``'s grid, HU) cannot be scored; "" when they can.

    Not scored: a non-finite voxel in a VOI, or a VOI whose values fall in a single grey level of the signature's
    discretisation (a constant or nearly constant VOI: its texture features are undefined).
    """
    values = sitk.GetArrayViewFromImage(image)
    for name, mask in vois.items():
        inside = values[sitk.GetArrayViewFromImage(mask).astype(bool)]
        n_bad = int(inside.size - np.count_nonzero(np.isfinite(inside)))
        if n_bad:
            return f"{n_bad} non-finite voxel(s) (NaN or inf) in the {name} VOI; the image must be finite HU there"
    for name, mask in vois.items():
        inside = values[sitk.GetArrayViewFromImage(mask).astype(bool)]
        if inside.size and len(np.unique(discretisation.grey_levels(inside))) < 2:
            return (f"the {name} VOI is constant at the signature's {discretisation.bin_width:g} HU bins "
                    f"({float(inside.min()):g} to {float(inside.max()):g} HU): its texture features are undefined")
    return ""


def kvp_warnings(signature: "Signature", kvp_kv: "float | None") -> list[str]:
    """A warning when the scan's kVp (kV) lies outside the kVp range the signature was trained on."""
    term = signature.kvp
    if kvp_kv is None or term.minimum is None or term.maximum is None:
        return []
    if term.minimum - 1e-6 <= kvp_kv <= term.maximum + 1e-6:
        return []
    return [f"kVp {kvp_kv:g} kV outside the signature's training range ({term.minimum:g}-{term.maximum:g} kV)"]


# Encodings that spreadsheet software writes for CSV, tried in this order; Latin-1 then decodes any byte.
CSV_ENCODINGS = ("utf-8-sig", "cp1252")


def read_csv_text(path: "str | Path") -> str:
    """The text of a CSV file in UTF-8 (with or without BOM), Windows-1252 or Latin-1; refuses other files."""
    data = Path(path).read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("UTF-16 text; save the table as CSV (UTF-8)", path)
    if b"\x00" in data:
        raise InputError("not a text file (binary data); give a CSV table", path)
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
