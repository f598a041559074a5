"""Signatures as data (DESIGN §4): the shipped demonstration file loads; incomplete files are refused by field."""
from __future__ import annotations

import copy
import json
import re

import pytest

from CD8RScoreLib.errors import InputError
from CD8RScoreLib.locations import guess_site, normalise_site, signature_category
from CD8RScoreLib.signature import default_signature_path, load_signature, parse_signature


@pytest.fixture(scope="module")
def demo_document():
    return json.loads(default_signature_path().read_text())


def test_demonstration_signature_has_the_published_kind_and_says_what_it_is(demo_document):
    sig = load_signature()
    assert sig.status == "demonstration"
    assert "not the published" in sig.provenance["source"].lower()
    assert "SIMULATED" in sig.provenance["training_set"]
    assert {f.voi for f in sig.features} == {"core", "ring"}  # radiomic terms of both VOIs
    assert sig.location_terms and sig.kvp.coefficient != 0  # location and kVp terms
    assert sig.label == f"{sig.name} (demonstration)"


@pytest.mark.parametrize("path,field", [
    (("features", 2, "coefficient"), "features[2].coefficient"),
    (("intercept",), "intercept"),
    (("cutoffs", "reference", "value"), "cutoffs.reference.value"),
    (("preprocessing", "min_voxels", "ring"), "preprocessing.min_voxels.ring"),
    (("kvp", "coefficient"), "kvp.coefficient"),
    (("status",), "status"),
])
def test_missing_field_is_refused_with_its_name(demo_document, path, field):
    doc = copy.deepcopy(demo_document)
    target = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    with pytest.raises(InputError, match=re.escape(f"field '{field}'")):
        parse_signature(doc, "custom.json")


def test_inconsistent_values_are_refused(demo_document):
    doc = copy.deepcopy(demo_document)
    doc["features"][0]["max"] = doc["features"][0]["min"]
    with pytest.raises(InputError, match=r"features\[0\]\.max"):
        parse_signature(doc, "custom.json")
    doc = copy.deepcopy(demo_document)
    doc["status"] = "validated"
    with pytest.raises(InputError, match="status"):
        parse_signature(doc, "custom.json")
    doc = copy.deepcopy(demo_document)
    doc["features"][1]["feature"] = "glrlm_NoSuchFeature"
    with pytest.raises(InputError, match=r"features\[1\]\.feature"):
        parse_signature(doc, "custom.json")


def test_score_is_intercept_plus_terms(demo_document):
    sig = load_signature()
    normalised = {f.key: 0.5 for f in sig.features}
    expected = sig.intercept + sum(0.5 * f.coefficient for f in sig.features)
    category = next(iter(sig.location_terms))
    expected += sig.location_terms[category]
    kvp = sig.kvp.equals_kv if sig.kvp.encoding == "indicator" else sig.kvp.maximum
    expected += sig.kvp.coefficient
    assert sig.linear_score(normalised, category, kvp) == pytest.approx(expected)
    assert sig.classify(sig.reference_cutoff) == "high"
    assert sig.classify(sig.reference_cutoff - 1e-9) == "low"
    assert sig.classify(None) == "NA"


@pytest.mark.parametrize("typed,site,category", [
    ("LN", "node", "adenopathy"), ("Liver", "liver", "liver"), ("head and neck", "head_and_neck", "head_and_neck"),
    ("sc", "subcutaneous", "other"), ("Adrenal", "adrenal", "other"), ("lung", "lung", "lung"),
])
def test_typed_locations_map_to_site_and_signature_category(typed, site, category):
    assert normalise_site(typed) == site
    assert signature_category(site) == category


def test_location_guessed_from_segment_name():
    assert guess_site("liver_3") == "liver"
    assert guess_site("LN 2") == "node"
    assert guess_site("Lung lesion") == "lung"
    assert guess_site("sc nodule") == "subcutaneous"
    assert guess_site("Segment_1") is None
    assert normalise_site("spleeny") is None
