"""Patient-level metrics (DESIGN §2) and lesion-wise RECIST 1.1 response."""
from __future__ import annotations

import math

import pytest
from scipy import stats

from CD8RScoreLib.patient import heterogeneity_metrics, patient_summary, score_entropy
from CD8RScoreLib.response import classify_change, lesion_response


def lesion(lesion_id, score, volume_ml, computable=True, cls="high", diameter=10.0):
    return {"patient_id": "P1", "timepoint": "E0", "lesion_id": lesion_id, "segment_name": f"lesion {lesion_id}",
            "location": "liver", "volume_ml": volume_ml, "score": score, "computable": computable,
            "score_class": cls, "longest_axial_diameter_mm": diameter,
            "signature_name": "cd8rscore-demonstration", "signature_status": "demonstration"}


def test_metrics_match_textbook_definitions():
    scores = [1.9, 2.1, 2.2, 2.6, 3.4]
    m = heterogeneity_metrics(scores)
    assert m["min"] == 1.9 and m["max"] == 3.4
    assert m["mean"] == pytest.approx(sum(scores) / 5)
    # Bessel-corrected SD: sqrt(sum (x - mean)^2 / (n - 1))
    mean = sum(scores) / 5
    assert m["sd"] == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in scores) / 4))
    assert m["skewness"] == pytest.approx(stats.skew(scores, bias=False))
    assert m["kurtosis"] == pytest.approx(stats.kurtosis(scores, bias=False))
    # bins of 0.1 from 0: 1.9 | 2.1 | 2.2 | 2.6 | 3.4 -> five singletons -> log2(5) bits
    assert m["entropy"] == pytest.approx(math.log2(5))


def test_entropy_is_zero_for_identical_scores_and_one_bit_for_two_equal_groups():
    assert score_entropy([2.0, 2.01, 2.02]) == 0.0
    assert score_entropy([1.0, 1.0, 3.0, 3.0]) == pytest.approx(1.0)


def test_entropy_depends_only_on_the_counts_not_on_which_bins_hold_them():
    def scores(counts):  # counts[k] lesions in the bin [2.0 + k/10, 2.1 + k/10)
        return [round(2.0 + k / 10 + 0.05, 2) for k, c in enumerate(counts) for _ in range(c)]

    in_order = score_entropy(scores([4, 4, 4, 4, 4, 5, 5, 5]))
    permuted = score_entropy(scores([5, 4, 4, 5, 4, 4, 5, 4]))
    # summed in bin order these were 2.9913138334218106 and 2.991313833421811: one cut-point candidate too many
    assert in_order == permuted
    p = [4 / 35] * 5 + [5 / 35] * 3
    assert in_order == pytest.approx(-sum(q * math.log2(q) for q in p), rel=1e-15)


def test_metrics_needing_more_lesions_are_nan_not_zero():
    m = heterogeneity_metrics([2.0])
    assert m["min"] == m["max"] == 2.0
    assert math.isnan(m["sd"]) and math.isnan(m["skewness"]) and math.isnan(m["kurtosis"])


def test_least_infiltrated_lesion_is_min_score_among_lesions_over_1_ml():
    rows = [lesion("1", 2.5, 3.0), lesion("2", 1.2, 0.4, cls="low"),  # lowest, but too small
            lesion("3", 1.8, 1.5, cls="low"), lesion("4", None, 5.0, computable=False, cls="NA")]
    summary = patient_summary(rows, min_volume_ml=1.0)
    assert summary["least_infiltrated_lesion_id"] == "3"
    assert summary["n_lesions"] == 4 and summary["n_lesions_considered"] == 2 and summary["n_not_computable"] == 1
    assert summary["score_min"] == 1.8
    assert summary["signature_status"] == "demonstration"
    # with every lesion considered, the small one wins
    assert patient_summary(rows, min_volume_ml=0.0)["least_infiltrated_lesion_id"] == "2"


def test_patient_summary_reads_csv_strings():
    rows = [{k: ("" if v is None else str(int(v)) if isinstance(v, bool) else str(v)) for k, v in r.items()}
            for r in (lesion("1", 2.5, 3.0), lesion("2", 2.0, 2.0))]
    assert patient_summary(rows)["least_infiltrated_lesion_id"] == "2"


@pytest.mark.parametrize("d0,d1,expected", [
    (20.0, 14.0, "response"),        # -30 % exactly
    (20.0, 14.2, "stable"),          # -29 %
    (20.0, 24.0, "progression"),     # +20 % exactly
    (20.0, 23.8, "stable"),          # +19 %
    (20.0, 0.0, "complete_response"),
])
def test_recist_thresholds_are_inclusive(d0, d1, expected):
    assert classify_change(d0, d1)[1] == expected


def test_lesion_response_matches_by_lesion_and_keeps_unmatched():
    e0 = [lesion("a", 2.0, 2.0, diameter=10.0), lesion("b", 2.0, 2.0, diameter=20.0),
          lesion("c", 2.0, 2.0, diameter=10.0)]
    e1 = [dict(lesion("a", 2.1, 2.0, diameter=13.0), timepoint="E1"),
          dict(lesion("b", 2.1, 0.0, diameter=0.0), timepoint="E1"),
          dict(lesion("d", 2.1, 1.0, diameter=8.0), timepoint="E1")]
    out = {r["lesion_id"]: r for r in lesion_response(e0, e1)}
    assert out["a"]["response"] == "progression" and out["a"]["diameter_change_pct"] == pytest.approx(30.0)
    assert out["b"]["response"] == "complete_response"
    assert out["c"]["response"] == "not_evaluated"
    assert out["d"]["response"] == "new"
