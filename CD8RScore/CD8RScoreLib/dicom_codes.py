"""Coded concepts of the DICOM exchange: SNOMED CT codes of the lesion sites and the project's own concepts.

Site codes are the SNOMED CT body-structure codes of DICOM's anatomic-region context groups (CID 4, CID 7151);
the score, its status and the signature's features have no standard concept, so they use the private coding
scheme ``99CD8RS`` (DICOM PS3.16 section 8: "99" prefix for local schemes).
"""
from __future__ import annotations

from pydicom.sr.coding import Code

PRIVATE_SCHEME = "99CD8RS"

# Fine site (locations.SITE_CATEGORY key) -> SNOMED CT body structure. "other" has no code (no finding site).
SITE_SNOMED: dict[str, Code] = {
    "node": Code("59441001", "SCT", "Lymph node"),
    "head_and_neck": Code("774007", "SCT", "Head and Neck"),
    "lung": Code("39607008", "SCT", "Lung"),
    "liver": Code("10200004", "SCT", "Liver"),
    "subcutaneous": Code("71966008", "SCT", "Subcutaneous tissue"),
    "peritoneum": Code("15425007", "SCT", "Peritoneum"),
    "adrenal": Code("23451007", "SCT", "Adrenal gland"),
    "bone": Code("272673000", "SCT", "Bone"),
    "brain": Code("12738006", "SCT", "Brain"),
    "spleen": Code("78961009", "SCT", "Spleen"),
    "kidney": Code("64033007", "SCT", "Kidney"),
    "thyroid": Code("69748006", "SCT", "Thyroid"),
    "breast": Code("76752008", "SCT", "Breast"),
    "muscle": Code("127954009", "SCT", "Skeletal muscle"),
    "pleura": Code("3120008", "SCT", "Pleura"),
    "pancreas": Code("15776009", "SCT", "Pancreas"),
}
_SITE_BY_CODE = {code.value: site for site, code in SITE_SNOMED.items()}

LESION = Code("52988006", "SCT", "Lesion")
MORPHOLOGICALLY_ABNORMAL_STRUCTURE = Code("49755003", "SCT", "Morphologically Abnormal Structure")


def site_code(site: str) -> "Code | None":
    """SNOMED CT code of a fine site; None for "other"."""
    return SITE_SNOMED.get(site)


def site_from_code(scheme: str, value: str) -> "str | None":
    """Fine site of a SNOMED CT code (scheme "SCT" or the retired "SRT" with the same value), None if unknown."""
    if scheme not in ("SCT", "SRT"):
        return None
    return _SITE_BY_CODE.get(value)


def private_coding_scheme():
    """The declaration of ``99CD8RS`` for an object's Coding Scheme Identification Sequence (PS3.3 C.12.1.1.4)."""
    from highdicom.coding_schemes import CodingSchemeIdentificationItem

    return CodingSchemeIdentificationItem(designator=PRIVATE_SCHEME, name="CD8RScore local concepts",
                                          resources=None, responsible_organization="CD8RScore")


def private_code(value: str, meaning: str) -> Code:
    """A concept of the ``99CD8RS`` scheme; the meaning is cut to DICOM's 64 characters (LO)."""
    return Code(value, PRIVATE_SCHEME, meaning[:64])
