"""Numbers as a statistician writes them (CD8RScoreLib.number_format): what every report, title and table prints."""
from __future__ import annotations

import math

from CD8RScoreLib import number_format as nf


def test_p_values_have_two_significant_digits_a_floor_and_are_never_zero():
    assert nf.p_value(0.003141) == "0.0031"
    assert nf.p_value(4.3e-06) == "4.3e-06"
    assert nf.p_value(0.05) == "0.050"
    assert nf.p_value(1.0) == "1.0"
    assert nf.p_value(0.0) == "< 1e-16" and nf.p_value(2.5e-21) == "< 1e-16"
    assert nf.p_value(None) == "–" and nf.p_value(math.nan) == "–"
    assert nf.p_text(0.0) == "p < 1e-16" and nf.p_text(0.012) == "p = 0.012"
    assert nf.p_text(None) == "p not estimable"


def test_confidence_intervals_that_cannot_be_estimated_say_so():
    assert nf.ci([0.642, 0.716]) == "0.642–0.716"
    assert nf.ci([1.0, 1.0]) == "not estimable"  # a degenerate interval (zero variance)
    assert nf.ci(None) == "not estimable" and nf.ci([None, None]) == "not estimable"
    assert nf.ci([0.0513, None]) == "≥ 0.0513 (upper limit not estimable)"
    assert nf.ci([0.0513, math.inf]) == "≥ 0.0513 (upper limit not estimable)"
    assert nf.ci([-0.52, -0.21]) == "-0.52 to -0.21"  # no dash beside a minus sign


def test_signed_terms_and_estimates_never_print_a_negative_zero():
    assert nf.linear_equation("target", 1.0, "score", -0.0000004) == "target = 1.000 x score - 0.000"
    assert nf.linear_equation("target", 0.5, "score", 0.25) == "target = 0.500 x score + 0.250"
    assert nf.estimate(-0.0) == "0" and nf.estimate(-1e-20, 3) != "-0"
    assert nf.fixed(-0.0001, 2) == "0.00"
    assert nf.estimate(2.49e-21) == "2.49e-21" and nf.estimate(1234.5) == "1234"


def test_a_cutoff_has_the_decimals_that_keep_class_and_number_in_agreement():
    # a score of 2.2497 is low at the cut-off 2.25: printed with 2 decimals both read "2.25"
    assert nf.cutoff_decimals(2.25, [2.2497, 1.9, 2.8]) == 4
    assert nf.cutoff_text(2.25, [2.2497, 1.9, 2.8]) == "2.2500"
    assert nf.fixed(2.2497, 4) == "2.2497"
    assert nf.cutoff_text(2.25218, [1.9, 2.8]) == "2.25"
    assert nf.cutoff_text(2.25218, [2.2475, 2.8]) == "2.252"
    assert nf.cutoff_text(-0.0, [0.5]) == "0.00"
    # the cut-off itself (a maximally selected cut-point is an observed value) needs no more digits
    assert nf.cutoff_text(1.716, [1.716, 1.9]) == "1.72"
