"""Patient-level summary of the lesion scores (DESIGN §2, last paragraph): inter-lesion heterogeneity metrics and
the least-infiltrated lesion, the candidate for focal ablative therapy.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Sequence

import numpy as np

from .errors import InputError
from .lesion_table import parse_float

DEFAULT_MIN_VOLUME_ML = 1.0
# A score is a linear combination of features normalised to [0, 1]: no signature gives a score this large, and the
# exact moments of heterogeneity_metrics would overflow a double beyond it.
LARGEST_SCORE = 1e100
# Bin width (score units) of the histogram whose Shannon entropy (bits) is the "entropy" metric. The melanoma
# study does not state its binning; this width is a tenth of the reported interquartile range of scores (~0.4).
ENTROPY_BIN_WIDTH = 0.1

PATIENT_COLUMNS: tuple[str, ...] = (
    "patient_id", "timepoint", "min_volume_ml", "n_lesions", "n_lesions_considered", "n_not_computable",
    "score_min", "score_max", "score_mean", "score_sd", "score_skewness", "score_kurtosis", "score_entropy",
    "least_infiltrated_lesion_id", "least_infiltrated_segment_name", "least_infiltrated_location",
    "least_infiltrated_score", "least_infiltrated_class", "candidate_agreement", "signature_name", "signature_status",
)

METRICS: tuple[str, ...] = ("min", "max", "mean", "sd", "skewness", "kurtosis", "entropy")


def _number(value) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, str):
        return parse_float(value)
    return float(value)


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip() in ("1", "True", "true", "yes")
    return bool(value)


def _as_integers(scores: Sequence[float]) -> tuple[list[int], int]:
    """Each score as the decimal number that names it (its shortest round-trip text, e.g. 2.17) on a common
    scale: integers a_i and k with score_i = a_i / 10**k exactly."""
    decimals = [Decimal(repr(float(v))) for v in scores]
    k = max((-d.as_tuple().exponent for d in decimals), default=0)
    k = max(k, 0)
    return [int(d.scaleb(k)) for d in decimals], k


def score_entropy(scores: Sequence[float], bin_width: float = ENTROPY_BIN_WIDTH) -> float:
    """Shannon entropy (bits) of the scores' histogram with bins of ``bin_width`` from 0 (0 for one lesion).

    A score on a bin edge (e.g. 2.2 with width 0.1) falls in the bin it opens, decided exactly. The value depends
    only on the multiset of bin counts, so equal count multisets give equal doubles.
    """
    a, k = _as_integers(scores)
    width = Fraction(repr(float(bin_width)))
    bins = [(v * width.denominator) // (10 ** k * width.numerator) for v in a]  # floor(score / width)
    _, counts = np.unique(np.asarray(bins, dtype=np.int64), return_counts=True)
    n = int(counts.sum())
    # Summed exactly (math.fsum) over the counts in sorted order, so that histograms with the same counts in other
    # bins give the same double: numpy's sum in bin order rounds differently for a permutation of the counts
    # (4,4,4,4,4,5,5,5 vs 5,4,4,5,4,4,5,4 differed in the last bit), and a cut-point search then sees two values.
    return -math.fsum((c / n) * math.log2(c / n) for c in sorted(int(c) for c in counts))


def heterogeneity_metrics(scores: Sequence[float]) -> dict[str, float]:
    """min, max, mean, SD (Bessel), skewness and excess kurtosis (bias-corrected), entropy of lesion scores.

    SD needs 2 lesions, skewness 3, kurtosis 4; fewer gives NaN. Equal inputs give equal values: each score is
    taken as the decimal number it is written as, the moments are computed exactly (integer power sums on a
    common decimal scale), and each metric is rounded to a double once (SD and skewness through the square root
    of an exact rational). So two patients whose scores differ by a shift (2.10, 2.17 and 1.50, 1.57) get the
    same SD to the last bit, and a kurtosis of exactly 1.5 is 1.5, where floating-point moments differ in the
    last bits and a cut-point search would take them for different values. The formulas are those of R's
    ``sd`` and ``e1071::skewness``/``kurtosis`` (type 2) and of scipy (``bias=False``).
    """
    x = [float(v) for v in scores]
    n = len(x)
    nan = float("nan")
    if n == 0:
        return {m: nan for m in METRICS}
    a, k = _as_integers(x)
    s1, s2 = sum(a), sum(v * v for v in a)
    s3, s4 = sum(v ** 3 for v in a), sum(v ** 4 for v in a)
    c2 = n * s2 - s1 * s1  # n * sum (a - mean)^2
    sd = skewness = kurtosis = nan
    if n >= 2:
        sd = math.sqrt(Fraction(c2, n * (n - 1) * 10 ** (2 * k)))
    if n >= 3 and c2 > 0:
        c3 = n * n * s3 - 3 * n * s1 * s2 + 2 * s1 ** 3  # n^2 * sum (a - mean)^3
        g1_squared = Fraction(n * (n - 1) * c3 * c3, (n - 2) ** 2 * c2 ** 3)  # G1 = sqrt(n(n-1))/(n-2) g1
        skewness = math.copysign(math.sqrt(g1_squared), c3) if c3 != 0 else 0.0
    if n >= 4 and c2 > 0:
        c4 = n ** 3 * s4 - 4 * n * n * s1 * s3 + 6 * n * s1 * s1 * s2 - 3 * s1 ** 4  # n^3 * sum (a - mean)^4
        g2 = Fraction(c4, c2 * c2) - 3
        kurtosis = float(Fraction(n - 1, (n - 2) * (n - 3)) * ((n + 1) * g2 + 6))
    return {"min": min(x), "max": max(x), "mean": float(Fraction(s1, n * 10 ** k)), "sd": float(sd),
            "skewness": float(skewness), "kurtosis": float(kurtosis), "entropy": score_entropy(x)}


def candidate_agreement(considered: Sequence[dict], candidate: dict) -> float:
    """Share of perturbations in which ``candidate`` keeps the lowest score among the ``considered`` lesion rows.

    Reads each row's ``perturbed_scores`` (space-separated, one per perturbation, perturbation.py); NaN when they
    are absent. A perturbation in which the candidate cannot be scored counts as a change; another lesion that
    cannot be scored in it does not take the candidate's place.
    """
    series = [[float(v) for v in str(row.get("perturbed_scores") or "").split()] for row in considered]
    n = len(series[0]) if series else 0
    if n == 0 or any(len(s) != n for s in series):
        return float("nan")
    scores = np.array(series, dtype=float)  # lesions x perturbations
    position = next(i for i, row in enumerate(considered) if row is candidate)
    own = scores[position]
    others = np.delete(scores, position, axis=0)
    lowest = np.isfinite(own) & ~np.any(others < own, axis=0)
    return float(lowest.mean())


def check_scores(rows: Sequence[dict], path: str) -> None:
    """``InputError`` naming the row of a lesion marked computable whose score is empty, not finite or beyond
    LARGEST_SCORE: such a row would otherwise be left out of the metrics and of the candidate without a word."""
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if not _truthy(row.get("computable")):
            continue
        score = _number(row.get("score"))
        if not (abs(score) <= LARGEST_SCORE):
            raise InputError(f"lesion {row.get('lesion_id')!r} is marked computable but its score is "
                             f"{row.get('score')!r}, not a finite score within ±{LARGEST_SCORE:g}; score the CT again, or set "
                             "computable to 0 with the reason",
                             path, f"row {number}, column score")


def least_infiltrated_rule(min_volume_ml: float = DEFAULT_MIN_VOLUME_ML) -> str:
    """How the least-infiltrated lesion is chosen, in words (printed by ``score``, written in the docs)."""
    return f"lowest score among computable lesions > {min_volume_ml:g} mL"


def considered_lesions(rows: Iterable[dict], min_volume_ml: float = DEFAULT_MIN_VOLUME_ML) -> list[dict]:
    """The lesion rows the patient metrics use: computable, with a finite score, volume > ``min_volume_ml`` (mL)."""
    return [r for r in rows if _truthy(r.get("computable")) and _number(r.get("volume_ml")) > min_volume_ml
            and math.isfinite(_number(r.get("score")))]


def least_infiltrated(considered: Sequence[dict]) -> "dict | None":
    """The row of the least-infiltrated lesion (lowest score) among ``considered`` rows, None when there is none."""
    return min(considered, key=lambda r: _number(r["score"])) if considered else None


def patient_summary(rows: Iterable[dict], min_volume_ml: float = DEFAULT_MIN_VOLUME_ML) -> dict:
    """Summary of one patient at one timepoint from its lesion rows (numbers or CSV strings).

    Lesions considered: computable and volume > ``min_volume_ml`` (mL). The least-infiltrated lesion is the one
    with the lowest score among them (``least_infiltrated_rule``).
    """
    rows = list(rows)
    if not rows:
        raise ValueError("no lesion rows")
    considered = considered_lesions(rows, min_volume_ml)
    scores = [_number(r["score"]) for r in considered]
    metrics = heterogeneity_metrics(scores)
    first = rows[0]
    summary = OrderedDict(
        patient_id=first.get("patient_id"), timepoint=first.get("timepoint"), min_volume_ml=min_volume_ml,
        n_lesions=len(rows), n_lesions_considered=len(considered),
        n_not_computable=sum(1 for r in rows if not _truthy(r.get("computable"))),
    )
    for metric in METRICS:
        summary[f"score_{metric}"] = metrics[metric]
    least = least_infiltrated(considered)
    summary.update(
        least_infiltrated_lesion_id=least["lesion_id"] if least else None,
        least_infiltrated_segment_name=least.get("segment_name") if least else None,
        least_infiltrated_location=least.get("location") if least else None,
        least_infiltrated_score=_number(least["score"]) if least else None,
        least_infiltrated_class=least.get("score_class") if least else None,
        candidate_agreement=candidate_agreement(considered, least) if least else None,
        signature_name=first.get("signature_name"), signature_status=first.get("signature_status"),
    )
    return summary


def patient_summaries(rows: Iterable[dict], min_volume_ml: float = DEFAULT_MIN_VOLUME_ML) -> list[dict]:
    """One summary per (patient_id, timepoint), in order of first appearance."""
    groups: "OrderedDict[tuple, list[dict]]" = OrderedDict()
    for row in rows:
        groups.setdefault((row.get("patient_id"), row.get("timepoint")), []).append(row)
    return [patient_summary(group, min_volume_ml) for group in groups.values()]
