"""The risk colour map of lesion scores, shown in the viewer (segments and legend), the screenshots and the tables.

Two sides that meet at the signature's reference cut-off, so a lesion's class is read from its hue alone:
- low side (score < cut-off: few CD8 cells, high risk): warm, from ColorBrewer RdYlBu's dark red (lowest score) to
  its pale orange just below the cut-off;
- high side (score >= cut-off): cool, from RdYlBu's pale blue just above the cut-off to its dark blue.
The map jumps at the cut-off (pale orange to pale blue) instead of passing through a neutral colour, and the
stops are RdYlBu's own, interpolated between neighbours only, so no score is drawn grey. RdYlBu's red-blue axis
stays a yellow-blue axis for red-green colour-vision deficiency.

A lesion without a score is drawn differently in kind, not only in colour: outline only (2D) or a faint surface
(3D), in a dark neutral grey that is far from every score colour. The figures that bound how far (CIEDE2000, with
and without a deuteranopia simulation) are measured by the tests and stated in docs/report-and-colours.md.

Colours: ColorBrewer 2.0 RdYlBu, 11 classes (Cynthia A. Brewer, Pennsylvania State University; Apache License 2.0).
"""
from __future__ import annotations

from typing import Sequence

from . import number_format as nf

RGB = tuple[float, float, float]


def _hex(code: str) -> RGB:
    return tuple(int(code[i:i + 2], 16) / 255 for i in (0, 2, 4))


LOW_SIDE: tuple[RGB, ...] = tuple(_hex(c) for c in ("a50026", "d73027", "f46d43", "fdae61", "fee090"))
"""RdYlBu stops from the lowest score up to just below the cut-off (warm: high risk)."""
HIGH_SIDE: tuple[RGB, ...] = tuple(_hex(c) for c in ("e0f3f8", "abd9e9", "74add1", "4575b4", "313695"))
"""RdYlBu stops from just above the cut-off to the highest score (cool: low risk)."""
NOT_COMPUTABLE_RGB: RGB = (0.2, 0.2, 0.2)
"""Dark neutral grey of a lesion without a score, drawn as an outline (2D) or a faint surface (3D), never filled;
visible on soft tissue, far from every score colour (the map is light or saturated where it is dark)."""
NOT_COMPUTABLE_OPACITY_3D = 0.25
DIRECTION = "low score = few CD8 cells = high risk"


def _along(stops: Sequence[RGB], t: float) -> RGB:
    """Linear interpolation along ``stops`` at t in [0, 1] (between neighbouring stops only)."""
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    f = t - i
    return tuple(float(a + f * (b - a)) for a, b in zip(stops[i], stops[i + 1]))


def risk_rgb(score: float, low: float, high: float, cutoff: float) -> RGB:
    """Colour of a score on a map spanning [low, high] (score units): the low side below ``cutoff``, dark red at
    ``low``; the high side from ``cutoff`` up, dark blue at ``high``. The side is the score's class."""
    if score < cutoff:
        return _along(LOW_SIDE, 0.0 if cutoff <= low else (score - low) / (cutoff - low))
    return _along(HIGH_SIDE, 1.0 if high <= cutoff else (score - cutoff) / (high - cutoff))


def legend_lines(cutoff: float, scores: Sequence[float], status: str) -> list[str]:
    """The legend's words: what is shown, the cut-off (with the decimals of number_format.cutoff_text, so no
    score printed beside it reads as the cut-off), the direction and the not-computable style."""
    title = "CD8 score" + ("" if status == "published" else f" ({status.upper()})")
    return [title, f"cut-off {nf.cutoff_text(cutoff, scores)}", DIRECTION,
            "dark grey outline, no fill: not computable"]
