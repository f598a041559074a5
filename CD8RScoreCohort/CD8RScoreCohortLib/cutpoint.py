"""Maximally selected standardised log-rank statistic and its multiplicity-corrected p-values.

Reproduces ``maxstat::maxstat.test(Surv(time, event) ~ x, smethod = "LogRank", minprop, maxprop)``
(Hothorn and Lausen, Comput Stat Data Anal 2003; R package maxstat 0.7-25, functions ``maxstat``,
``cmaxstat``, ``pLausen92``, ``pLausen94``; log-rank scores from ``exactRankTests::cscores.Surv``), which is
what ``survminer::surv_cutpoint`` runs (minprop 0.1, maxprop 1 - minprop).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import norm

DEFAULT_MINPROP = 0.1
"""Smallest fraction of patients in the low group (survminer::surv_cutpoint default)."""
DEFAULT_MAXPROP = 0.9
"""Largest fraction of patients in the low group (maxstat default)."""


@dataclass
class CutpointResult:
    """Best cut-point (group "low" = x <= cutpoint), its statistic, and the Lau92/Lau94 p-values."""

    cutpoint: float
    statistic: float
    p_value_lausen_schumacher: float
    p_value_lausen_schumacher_1994: float
    n_low: int
    n_high: int
    minprop: float
    maxprop: float
    candidate_cutpoints: list
    candidate_statistics: list

    def to_dict(self, with_candidates: bool = False) -> dict:
        """JSON-ready dictionary; the candidate lists only on request."""
        out = asdict(self)
        if not with_candidates:
            out.pop("candidate_cutpoints")
            out.pop("candidate_statistics")
        return out


def logrank_scores(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Log-rank (Savage) scores a_i = d_i - sum_{j: t_j <= t_i} d_j / (N - r_j + 1), r = rank with ties "max".

    Exactly ``exactRankTests::cscores.Surv(type = "LogRank")``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    n = time.size
    order = np.argsort(time, kind="mergesort")
    # rank with ties = "max": number of observations with time <= t_i
    sorted_time = time[order]
    rank_max = np.searchsorted(sorted_time, time, side="right")
    fact = event / (n - rank_max + 1)
    cumulative = np.cumsum(fact[order])
    return event - cumulative[rank_max - 1]


def p_lausen_schumacher_1992(statistic: float, minprop: float = DEFAULT_MINPROP,
                             maxprop: float = DEFAULT_MAXPROP) -> float:
    """Lausen and Schumacher (Biometrics 1992;48:73-85) approximation of P(max |S| >= b).

    Miller and Siegmund's (Biometrics 1982) asymptotic formula as in ``maxstat:::pLausen92``:
    p = 4 phi(b)/b + phi(b) (b - 1/b) log(maxprop (1 - minprop) / ((1 - maxprop) minprop)), floored at 0;
    1 when b < 1.
    """
    b = float(statistic)
    if b < 1:
        return 1.0
    db = norm.pdf(b)
    p = 4 * db / b + db * (b - 1 / b) * math.log((maxprop * (1 - minprop)) / ((1 - maxprop) * minprop))
    return float(max(p, 0.0))


def p_lausen_schumacher_1994(statistic: float, n: int, m: "np.ndarray | None" = None,
                             minprop: float = DEFAULT_MINPROP, maxprop: float = DEFAULT_MAXPROP) -> float:
    """Lausen, Sauerbrei and Schumacher (1994) improved Bonferroni inequality (Worsley 1982), ``pLausen94``.

    p = 1 - (Phi(b) - Phi(-b)) + sum_k exp(-b^2/2)/pi * (t_k - (b^2/4 - 1) t_k^3 / 6),
    t_k = sqrt(1 - m_k (N - m_{k+1}) / ((N - m_k) m_{k+1})), over consecutive candidate sizes m of the low group.
    """
    b = float(statistic)
    if m is None:
        m = np.arange(math.floor(n * minprop), math.floor(n * maxprop) + 1)
    m = np.asarray(m, dtype=float)
    if m.size <= 1:
        d = 0.0
    else:
        m1, m2 = m[:-1], m[1:]
        t = np.sqrt(1 - m1 * (n - m2) / ((n - m1) * m2))
        d = float(np.sum(1 / math.pi * math.exp(-b * b / 2) * (t - (b * b / 4 - 1) * t ** 3 / 6)))
    return float(1 - (norm.cdf(b) - norm.cdf(-b)) + d)


def maxstat_logrank(time, event, x, minprop: float = DEFAULT_MINPROP,
                    maxprop: float = DEFAULT_MAXPROP) -> CutpointResult:
    """Maximally selected standardised log-rank statistic over the cut-points of ``x``.

    time: follow-up (any unit, e.g. months); event: 1 = event, 0 = censored; x: the variable to cut.
    The p-values are maxstat's Lau92 and Lau94 values capped at 1 (R reports the uncapped bound, which can
    exceed 1 when the statistic is small; ``p_lausen_schumacher_199x`` return it uncapped).
    Candidates are the distinct values x_(m) such that the low group (x <= cut) holds m observations with
    max(1, floor(N minprop)) <= m <= floor(N maxprop) (``maxstat:::cmaxstat``). Raises ValueError when no
    candidate exists.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    x = np.asarray(x, dtype=float)
    if not (time.size == event.size == x.size):
        raise ValueError("time, event and x must have the same length")
    if np.isnan(time).any() or np.isnan(event).any() or np.isnan(x).any():
        raise ValueError("time, event and x must not contain missing values")
    n = x.size
    if n < 2:
        raise ValueError("at least two observations are needed for a cut-point")
    scores = logrank_scores(time, event)
    order = np.argsort(x, kind="mergesort")  # R's order() is stable
    y = scores[order]
    xs = x[order]
    first_of_value = np.ones(n, dtype=bool)
    first_of_value[1:] = xs[1:] != xs[:-1]
    m = np.flatnonzero(first_of_value)  # R: which(!ties) - 1 == 0-based index of first occurrences
    lo = max(1, math.floor(n * minprop))
    hi = math.floor(n * maxprop)
    if minprop == 0 and maxprop == 1:
        m = m[1:-1] if m.size > 2 else m[:0]
    else:
        if np.all(m < math.floor(n * minprop)):
            raise ValueError("minprop too large")
        if np.all(m > hi):
            raise ValueError("maxprop too small")
        m = m[(m >= lo) & (m <= hi)]
    if m.size < 1:
        raise ValueError("no cut-point leaves between minprop and maxprop of the observations in each group")
    ss = y.sum()
    e = m / n * ss
    v = m * (n - m) / (n ** 2 * (n - 1)) * (n * np.sum(y ** 2) - ss ** 2)
    if np.any(v <= 0):
        raise ValueError("the log-rank scores have no variance (no events?)")
    stats = np.abs((np.cumsum(y)[m - 1] - e) / np.sqrt(v))
    best = int(np.flatnonzero(stats == stats.max())[0])
    statistic = float(stats[best])
    cut = float(xs[m[best] - 1])
    n_low = int(np.sum(x <= cut))
    return CutpointResult(
        cutpoint=cut,
        statistic=statistic,
        # both approximations are upper bounds that can exceed 1 for small statistics; a p-value is capped at 1
        p_value_lausen_schumacher=min(1.0, p_lausen_schumacher_1992(statistic, minprop, maxprop)),
        p_value_lausen_schumacher_1994=min(1.0, p_lausen_schumacher_1994(statistic, n, m, minprop, maxprop)),
        n_low=n_low,
        n_high=n - n_low,
        minprop=minprop,
        maxprop=maxprop,
        candidate_cutpoints=[float(c) for c in xs[m - 1]],
        candidate_statistics=[float(s) for s in stats],
    )
