"""The smallest cohort each patient-level analysis is run on (docs/clinical-table.md, "Small cohorts").

Below a minimum an analysis is not run, and results.json, the report and the terminal say which one and why, instead
of estimates that mean nothing (a hazard ratio from three patients, a cut-point chosen between two).
"""
from __future__ import annotations

import math

import pandas as pd

MIN_PATIENTS = 10
"""Patients with a scored lesion larger than the minimum volume (or with a known progressive-disease status, for its
prediction) below which the patient-level analyses are not run: fewer cannot be split 2/3 : 1/3 into a training
and a test set with two groups of two or more patients in each."""
MIN_EVENTS_PER_TERM = 5
"""Events per term of a Cox model below which it is not fitted. Vittinghoff and McCulloch (Am J Epidemiol
2007;165:710-8) found 5 to 9 events per predictor acceptable for Cox models; 10 (Peduzzi et al. 1995) is the
older, stricter rule."""
MIN_CUTPOINT_GROUP = 3
"""Patients in the smallest group a cut-point search may form (floor(training patients x minprop)) below which no
optimised cut-off is searched: 30 training patients at minprop 0.1."""


def survival_shortfall(eligible: pd.DataFrame, endpoint: str, min_volume_ml: float) -> "str | None":
    """Why the score-based survival analyses of ``endpoint`` cannot run on ``eligible`` (the patients with a scored
    lesion > ``min_volume_ml`` mL), or None when they can."""
    n = len(eligible)
    if n < MIN_PATIENTS:
        return (f"{n} patient(s) with a scored lesion > {min_volume_ml:g} mL; the patient-level analyses need at "
                f"least {MIN_PATIENTS}")
    events = int(eligible[f"{endpoint}_event"].sum())
    if events < MIN_EVENTS_PER_TERM:
        return (f"{events} event(s) among the {n} patients with a scored lesion > {min_volume_ml:g} mL; a Cox model "
                f"needs at least {MIN_EVENTS_PER_TERM} events per term")
    return None


def cutpoint_shortfall(n_train: int, minprop: float) -> "str | None":
    """Why no cut-point is searched on ``n_train`` training patients, or None."""
    smallest = math.floor(n_train * minprop)
    if smallest < MIN_CUTPOINT_GROUP:
        return (f"not searched: {n_train} training patients allow groups of {smallest} at minprop {minprop:g}; the "
                f"search needs at least {MIN_CUTPOINT_GROUP} patients in its smallest group "
                f"({math.ceil(MIN_CUTPOINT_GROUP / minprop)} training patients)")
    return None


def model_shortfall(events: int, n_terms: int) -> "str | None":
    """Why a Cox model of ``n_terms`` terms is not fitted with ``events`` events, or None."""
    if events < MIN_EVENTS_PER_TERM * n_terms:
        return (f"not fitted: {events} event(s) for {n_terms} term(s); a Cox model needs at least "
                f"{MIN_EVENTS_PER_TERM} events per term")
    return None
