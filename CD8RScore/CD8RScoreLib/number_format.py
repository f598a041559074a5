"""Numbers as a statistician writes them, for every report, plot title, table and panel of the project.

p-values with two significant digits and a floor (``< 1e-16``, never 0); estimates with three significant
digits and no negative zero; confidence intervals that say "not estimable" instead of ``1–1`` or an open dash;
signed terms of an equation (``- 0.000``, never ``+ -0.000``); and cut-offs written with the decimals that keep a
value's class and its printed number in agreement (a score printed ``2.25`` is never low beside a cut-off printed
``2.25``). Pure Python, no dependencies: the Slicer panel, the MRML adapter and the cohort report all use it.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

P_FLOOR = 1e-16
"""Smallest p-value written as a number: below it, double-precision tail areas are rounding noise."""
NOT_ESTIMABLE = "not estimable"
MISSING = "–"
"""Cell text of a value that does not exist (no one followed so long, no group)."""
CUTOFF_MIN_DECIMALS = 2
CUTOFF_MAX_DECIMALS = 6


def _finite(value) -> bool:
    return value is not None and not isinstance(value, bool) and math.isfinite(float(value))


def estimate(value, digits: int = 3) -> str:
    """An estimate with ``digits`` significant digits; integers as they are; "–" when missing; never "-0"."""
    if value is None or isinstance(value, bool):
        return MISSING
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    if abs(value) >= 10 ** digits:
        text = f"{value:.0f}"
    else:
        text = f"{value:.{digits}g}"
    return "0" if float(text) == 0 else text


def p_value(p) -> str:
    """A p-value cell: two significant digits ("0.0031", "4.3e-06", "1.0"), "< 1e-16" below the floor, never 0;
    "–" when there is none."""
    if not _finite(p):
        return MISSING
    p = float(p)
    if p < P_FLOOR:
        return f"< {P_FLOOR:.0e}"
    return f"{p:#.2g}"


def p_text(p, name: str = "p") -> str:
    """A p-value in a sentence: "p = 0.0031", "p < 1e-16", or "p not estimable"."""
    cell = p_value(p)
    if cell == MISSING:
        return f"{name} {NOT_ESTIMABLE}"
    return f"{name} {cell}" if cell.startswith("<") else f"{name} = {cell}"


def ci(ci95, digits: int = 3) -> str:
    """A 95 % CI: "0.64–0.72" (or "-0.52 to -0.21" when a limit is negative); "not estimable" when it is absent,
    degenerate (lower = upper) or both limits are missing; "≥ 0.051 (upper limit not estimable)" when one is."""
    if not ci95:
        return NOT_ESTIMABLE
    lo, hi = ci95
    if not _finite(lo) and not _finite(hi):
        return NOT_ESTIMABLE
    if not _finite(hi):
        return f"≥ {estimate(lo, digits)} (upper limit {NOT_ESTIMABLE})"
    if not _finite(lo):
        return f"≤ {estimate(hi, digits)} (lower limit {NOT_ESTIMABLE})"
    if float(lo) == float(hi):
        return NOT_ESTIMABLE
    a, b = estimate(lo, digits), estimate(hi, digits)
    return f"{a} to {b}" if a.startswith("-") or b.startswith("-") else f"{a}–{b}"


def signed_term(value: float, decimals: int = 3) -> str:
    """A term added to an equation: "+ 0.120" or "- 0.000" (sign of the value, magnitude rounded)."""
    return f"{'-' if math.copysign(1.0, value) < 0 else '+'} {abs(value):.{decimals}f}"


def linear_equation(y: str, slope: float, x: str, intercept: float, decimals: int = 3) -> str:
    """"y = 1.000 x score - 0.000": a fitted line written with a signed intercept."""
    return f"{y} = {slope:.{decimals}f} x {x} {signed_term(intercept, decimals)}"


def cutoff_decimals(cutoff: float, values: Iterable[float] = (), minimum: int = CUTOFF_MIN_DECIMALS,
                    maximum: int = CUTOFF_MAX_DECIMALS) -> int:
    """The fewest decimals (at least ``minimum``) at which no value other than the cut-off prints as the cut-off.

    Rounding is monotone, so a value and the cut-off keep their order when printed, except where they print alike;
    with these decimals every value printed beside the cut-off shows on which side it lies."""
    others = [float(v) for v in values if _finite(v) and float(v) != float(cutoff)]
    for decimals in range(minimum, maximum + 1):
        shown = round(float(cutoff), decimals)
        if all(round(v, decimals) != shown for v in others):
            return decimals
    return maximum


def fixed(value, decimals: int) -> str:
    """A value with a fixed number of decimals (scores and cut-offs beside each other); never "-0.00"."""
    if not _finite(value):
        return MISSING
    text = f"{float(value):.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def cutoff_text(cutoff: float, values: Iterable[float] = ()) -> str:
    """A cut-off as printed everywhere it appears: :func:`fixed` at :func:`cutoff_decimals` of ``values``."""
    return fixed(cutoff, cutoff_decimals(cutoff, values))


def proportion(estimate_value, ci95: Sequence, k: int, n: int) -> str:
    """"0.38 (0.20–0.59) [10/26]": a proportion with its exact CI and its counts; "–" when there is none."""
    if not _finite(estimate_value):
        return MISSING
    interval = f"{fixed(ci95[0], 2)}–{fixed(ci95[1], 2)}" if ci95 and all(_finite(c) for c in ci95) else NOT_ESTIMABLE
    return f"{fixed(estimate_value, 2)} ({interval}) [{k}/{n}]"
