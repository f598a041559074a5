"""What ``cd8rscore score`` says on the terminal (DESIGN §2): one line per lesion (id, name, location, volume in mL,
score, class), each followed by its warnings (kVp or location assumed, features outside the signature's range: what
moves or qualifies the number), then the least-infiltrated lesion and the rule that chose it.

Warnings that hold for every lesion of a scan with several lesions are said once, above the lesions.
"""
from __future__ import annotations

import math
from typing import Sequence

from .patient import DEFAULT_MIN_VOLUME_ML, considered_lesions, least_infiltrated, least_infiltrated_rule
from .signature import Signature


OUT_OF_RANGE = " outside the signature's normalisation range"


def _split_warnings(text: "str | None") -> list[str]:
    """The warnings of a row, the features outside the normalisation range said in one warning."""
    warnings = [w.strip() for w in (text or "").split(";") if w.strip()]
    outside = [w[:-len(OUT_OF_RANGE)] for w in warnings if w.endswith(OUT_OF_RANGE)]
    kept = [w for w in warnings if not w.endswith(OUT_OF_RANGE)]
    if outside:
        kept.append(f"{len(outside)} feature(s){OUT_OF_RANGE}, the score extrapolates: {', '.join(outside)}")
    return kept


def _score_text(row: dict) -> str:
    score = row.get("score")
    return f"{score:.3f}" if isinstance(score, float) and math.isfinite(score) else "-"


def summary_lines(rows: Sequence[dict], signature: Signature,
                  min_volume_ml: float = DEFAULT_MIN_VOLUME_ML) -> list[str]:
    """The terminal summary of one CT's lesion rows (as ``score_lesions`` returns them)."""
    if not rows:
        return ["no lesion in the segmentation"]
    first = rows[0]
    status = signature.status.upper() if signature.status == "demonstration" else signature.status
    lines = [f"{first['patient_id']} {first['timepoint']}: {len(rows)} lesion(s), "
             f"{sum(1 for r in rows if r.get('computable'))} scored with {signature.name} ({status}"
             + (": not the published CD8-Rscore)" if signature.status == "demonstration" else ")")]
    per_row = [_split_warnings(r.get("warnings")) for r in rows]
    common = [w for w in per_row[0] if all(w in ws for ws in per_row[1:])] if len(rows) > 1 else []
    for warning in common:
        lines.append(f"  every lesion: {warning}")
    table = [("lesion", "name", "location", "volume", "score", "class")]
    notes: list[list[str]] = [[]]
    for row, warnings in zip(rows, per_row):
        volume = row.get("volume_ml")
        table.append((str(row["lesion_id"]), str(row.get("segment_name") or ""), str(row.get("location") or ""),
                      f"{volume:.2f} mL" if isinstance(volume, float) and math.isfinite(volume) else "-",
                      _score_text(row), str(row.get("score_class") or "")))
        own = [w for w in warnings if w not in common]
        notes.append(([f"not computable: {row.get('reason')}"] if not row.get("computable") else []) + own)
    widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]))]
    for cells, own in zip(table, notes):
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
        lines.extend(f"  {'':{widths[0]}}  ! {note}" for note in own)
    least = least_infiltrated(considered_lesions(rows, min_volume_ml))
    rule = least_infiltrated_rule(min_volume_ml)
    if least is None:
        lines.append(f"Least-infiltrated lesion: none (no lesion qualifies; the rule is the {rule})")
    else:
        lines.append(f"Least-infiltrated lesion: {least['lesion_id']} {least.get('segment_name')!r} "
                     f"({least.get('location')}, score {_score_text(least)}, {least.get('score_class')}): "
                     f"the {rule}")
    return lines
