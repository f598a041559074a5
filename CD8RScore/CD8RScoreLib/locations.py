"""Lesion sites: the fine site kept for reporting and the signature's site category.

The melanoma study reports fine sites (nodes, lung, liver, subcutaneous, peritoneum, adrenal, bone, brain, ...;
PAPER_FACTS "E0 lesion locations"); the signature's location terms use five categories (Sun et al. 2018:
adenopathy, head and neck, lung, liver, other).
"""
from __future__ import annotations

import re

SIGNATURE_CATEGORIES: tuple[str, ...] = ("adenopathy", "head_and_neck", "lung", "liver", "other")

# Fine site -> signature category. Thyroid and breast are listed apart from "head and neck" in the
# melanoma study's site table, so they map to "other" like every site without a category of its own.
SITE_CATEGORY: dict[str, str] = {
    "node": "adenopathy",
    "head_and_neck": "head_and_neck",
    "lung": "lung",
    "liver": "liver",
    "subcutaneous": "other",
    "peritoneum": "other",
    "adrenal": "other",
    "bone": "other",
    "brain": "other",
    "spleen": "other",
    "kidney": "other",
    "thyroid": "other",
    "breast": "other",
    "muscle": "other",
    "pleura": "other",
    "pancreas": "other",
    "other": "other",
}

# Words a user types (in a locations CSV or a segment name) -> fine site.
SITE_ALIASES: dict[str, str] = {
    "node": "node", "nodes": "node", "nodal": "node", "ln": "node", "lymph_node": "node", "lymphnode": "node",
    "adenopathy": "node", "lymphadenopathy": "node", "lymph": "node",
    "head_and_neck": "head_and_neck", "head_neck": "head_and_neck", "hn": "head_and_neck", "h&n": "head_and_neck",
    "neck": "head_and_neck",
    "lung": "lung", "pulmonary": "lung", "lungs": "lung",
    "liver": "liver", "hepatic": "liver", "hep": "liver",
    "subcutaneous": "subcutaneous", "sc": "subcutaneous", "subcut": "subcutaneous", "skin": "subcutaneous",
    "soft_tissue": "subcutaneous", "cutaneous": "subcutaneous",
    "peritoneum": "peritoneum", "peritoneal": "peritoneum", "omentum": "peritoneum",
    "adrenal": "adrenal", "surrenal": "adrenal",
    "bone": "bone", "osseous": "bone",
    "brain": "brain", "cerebral": "brain",
    "spleen": "spleen", "splenic": "spleen",
    "kidney": "kidney", "renal": "kidney",
    "thyroid": "thyroid",
    "breast": "breast",
    "muscle": "muscle",
    "pleura": "pleura", "pleural": "pleura",
    "pancreas": "pancreas", "pancreatic": "pancreas",
    "other": "other",
}


def _normalise_word(text: str) -> str:
    return re.sub(r"[\s\-/]+", "_", text.strip().lower())


def normalise_site(text: str) -> "str | None":
    """Fine site for a typed location ("LN", "Liver", "head and neck"), or None if unknown."""
    word = _normalise_word(text)
    return SITE_ALIASES.get(word)


def known_site_words() -> list[str]:
    """The fine sites a user may type (their aliases are accepted too)."""
    return sorted(SITE_CATEGORY)


def signature_category(site: str) -> str:
    """Signature category of a fine site."""
    return SITE_CATEGORY[site]


def guess_site(segment_name: str) -> "str | None":
    """Fine site guessed from a segment name such as "liver_3", "LN 2", "sc nodule", "Lung lesion"; None if none.

    Tokens are matched whole, so "lung" does not match inside "plungeon" and "ln" only as a word.
    """
    lowered = segment_name.lower()
    for phrase, site in (("head and neck", "head_and_neck"), ("lymph node", "node"), ("soft tissue", "subcutaneous")):
        if phrase in lowered:
            return site
    for token in re.split(r"[^a-z&]+", lowered):
        if token in SITE_ALIASES:
            return SITE_ALIASES[token]
    return None
