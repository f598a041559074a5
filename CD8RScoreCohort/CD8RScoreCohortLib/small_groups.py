"""Which subgroups are too small for their test to be read at face value: flagged in the report's tables and drawn
greyed and hatched in its plots, never hidden.

- AUC (DeLong): fewer than 10 progressive or 10 non-progressive lesions. DeLong's CI and p rest on a normal
  approximation of the placement values; with a handful of lesions per class they are too optimistic (8 lesions
  can give p = 4e-06).
- High vs low comparisons (Cox HR, log-rank): a group of fewer than 10 patients, or fewer than 10 events in all
  (Peduzzi et al., J Clin Epidemiol 1995: about 10 events per model term).
"""
from __future__ import annotations

MIN_LESIONS_PER_CLASS = 10
MIN_PATIENTS_PER_GROUP = 10
MIN_EVENTS = 10


def auc_is_small(block: dict) -> bool:
    """True when an AUC block has fewer than MIN_LESIONS_PER_CLASS progressive or non-progressive lesions."""
    n, cases = block.get("n") or 0, block.get("n_progressive") or 0
    return cases < MIN_LESIONS_PER_CLASS or n - cases < MIN_LESIONS_PER_CLASS


def auc_note() -> str:
    return (f"small: fewer than {MIN_LESIONS_PER_CLASS} progressive or {MIN_LESIONS_PER_CLASS} other lesions, "
            "read the CI and p with caution")


def comparison_is_small(block: dict) -> bool:
    """True when a high-vs-low block has a group under MIN_PATIENTS_PER_GROUP or fewer than MIN_EVENTS events."""
    if not block:
        return False
    groups = [block.get("n_high") or 0, block.get("n_low") or 0]
    events = (block.get("events_high") or 0) + (block.get("events_low") or 0)
    return min(groups) < MIN_PATIENTS_PER_GROUP or events < MIN_EVENTS


def comparison_note() -> str:
    return (f"small: a group under {MIN_PATIENTS_PER_GROUP} patients or under {MIN_EVENTS} events, "
            "read the HR and p with caution")
