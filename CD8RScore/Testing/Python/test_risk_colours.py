"""The risk colour map cannot be misread: no score colour is confusable with the grey of a lesion without a score
(CIEDE2000, with and without a deuteranopia simulation), the two sides of the cut-off stay warm and cool for a
reader with red-green colour-vision deficiency, and a colour's side is its score's class.

Colour science by colour-science (CIE 1976 L*a*b* of sRGB under D65, CIEDE2000, and the Machado, Oliveira &
Fernandes 2009 simulation of deuteranopia, severity 1, applied to linear RGB as the model is defined)."""
from __future__ import annotations

import colour  # colour-science, a test dependency (pyproject [test])
import numpy as np
import pytest

from CD8RScoreLib import risk_colours as rc

MIN_DELTA_E_TO_NOT_COMPUTABLE = 20.0
"""Least CIEDE2000 difference between any score colour and the not-computable grey (docs/report-and-colours.md).
About 2 is a just-noticeable difference; 20 is a difference of kind, not of shade."""
MIN_DELTA_E_ACROSS_CUTOFF = 15.0
"""Least CIEDE2000 difference between the colours just below and just above the cut-off (the jump)."""
LOW, CUTOFF, HIGH = 1.0, 2.0, 3.0
SAMPLES = 401


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB colours in [0, 1]."""
    return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.asarray(rgb, dtype=float)))


def deuteranopia(rgb: np.ndarray) -> np.ndarray:
    """sRGB colours as seen with deuteranopia (Machado et al. 2009, severity 1, on linear RGB)."""
    linear = colour.models.eotf_sRGB(np.asarray(rgb, dtype=float))
    seen = np.clip(np.einsum("ij,...j->...i", colour.matrix_cvd_Machado2009("Deuteranomaly", 1.0), linear), 0, 1)
    return colour.models.eotf_inverse_sRGB(seen)


def map_colours() -> tuple[np.ndarray, np.ndarray]:
    """(colours below the cut-off, colours from the cut-off up) over a map from LOW to HIGH."""
    scores = np.linspace(LOW, HIGH, SAMPLES)
    rgb = np.array([rc.risk_rgb(s, LOW, HIGH, CUTOFF) for s in scores])
    return rgb[scores < CUTOFF], rgb[scores >= CUTOFF]


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return colour.delta_E(lab(a), lab(b), method="CIE 2000")


@pytest.mark.parametrize("vision", ["normal", "deuteranopia"])
def test_no_score_colour_is_confusable_with_not_computable(vision):
    low, high = map_colours()
    scores = np.concatenate([low, high])
    grey = np.array([rc.NOT_COMPUTABLE_RGB])
    if vision == "deuteranopia":
        scores, grey = deuteranopia(scores), deuteranopia(grey)
    distances = delta_e(scores, np.repeat(grey, len(scores), axis=0))
    assert distances.min() >= MIN_DELTA_E_TO_NOT_COMPUTABLE, f"{vision}: min CIEDE2000 {distances.min():.1f}"


def test_the_two_sides_stay_warm_and_cool_under_deuteranopia():
    low, high = (lab(deuteranopia(side)) for side in map_colours())
    assert (low[:, 2] > 0).all(), "a score below the cut-off looks bluish to a deuteranope"  # b* > 0: yellow
    assert (high[:, 2] < 0).all(), "a score above the cut-off looks yellowish to a deuteranope"  # b* < 0: blue
    for seen in (lambda c: c, deuteranopia):
        jump = delta_e(seen(np.array([rc.risk_rgb(np.nextafter(CUTOFF, 0), LOW, HIGH, CUTOFF)])),
                       seen(np.array([rc.risk_rgb(CUTOFF, LOW, HIGH, CUTOFF)])))
        assert jump[0] >= MIN_DELTA_E_ACROSS_CUTOFF
    # the ends are far apart whatever the vision: the lowest score is not the highest
    ends = np.array([rc.risk_rgb(LOW, LOW, HIGH, CUTOFF), rc.risk_rgb(HIGH, LOW, HIGH, CUTOFF)])
    assert delta_e(deuteranopia(ends[:1]), deuteranopia(ends[1:]))[0] > 40


def test_a_colour_side_is_the_score_class_and_lightness_runs_towards_the_cutoff():
    below, at = rc.risk_rgb(CUTOFF - 1e-9, LOW, HIGH, CUTOFF), rc.risk_rgb(CUTOFF, LOW, HIGH, CUTOFF)
    assert below == pytest.approx(rc.LOW_SIDE[-1], abs=1e-6) and at == pytest.approx(rc.HIGH_SIDE[0])
    low, high = (lab(side)[:, 0] for side in map_colours())
    assert (np.diff(low) > 0).all() and (np.diff(high) < 0).all()  # dark at the extremes, light at the cut-off


def test_the_legend_states_the_cutoff_the_direction_and_the_not_computable_style():
    lines = rc.legend_lines(2.25, [2.2497, 1.7, 2.42], "demonstration")
    assert lines == ["CD8 score (DEMONSTRATION)", "cut-off 2.2500", "low score = few CD8 cells = high risk",
                     "dark grey outline, no fill: not computable"]
