"""Predicted survival of a Cox model, Kaplan-Meier medians, limits and 12/24-month survival, and patient metrics
equal R's where they used to differ.

R 4.2 (Debian), survival 3.5-3, e1071 1.7; the R call is next to each expected value (printed with
options(digits = 15) or 17). Data: data/r_datasets/random_cohort_clinical.csv (SIMULATED, random_cohort.py) and
small vectors written out here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from CD8RScoreCohortLib.nomogram import nomogram_model, risk_profiles
from CD8RScoreCohortLib.survival import fit_cox, km_median, km_summary
from CD8RScoreLib.patient import heterogeneity_metrics

DATA = Path(__file__).resolve().parent / "data" / "r_datasets"


@pytest.fixture(scope="module")
def os_design():
    # cli <- read.csv("random_cohort_clinical.csv", na.strings = "")
    # d <- data.frame(t = cli$os_time, e = cli$os_event, alb = as.numeric(cli$albumin_g_l < 35),
    #                 m1a = as.numeric(cli$m_stage == "M1a"), m1b = as.numeric(cli$m_stage == "M1b"))
    # d <- d[complete.cases(d), ]            (137 rows)
    cli = pd.read_csv(DATA / "random_cohort_clinical.csv")
    d = pd.DataFrame({"t": cli["os_time"], "e": cli["os_event"],
                      "alb": (cli["albumin_g_l"] < 35).astype(float).where(cli["albumin_g_l"].notna()),
                      "m1a": (cli["m_stage"] == "M1a").astype(float), "m1b": (cli["m_stage"] == "M1b").astype(float)})
    d = d.dropna().reset_index(drop=True)
    assert len(d) == 137
    return d


PROFILES = pd.DataFrame({"alb": [0.0, 1.0, 0.0, 1.0], "m1a": [0.0, 0.0, 1.0, 0.0], "m1b": [0.0, 0.0, 0.0, 1.0]})
# fit <- coxph(Surv(t, e) ~ alb + m1a + m1b, data = d, ties = "efron")
# nd <- data.frame(alb = c(0, 1, 0, 1), m1a = c(0, 0, 1, 0), m1b = c(0, 0, 0, 1))
# summary(survfit(fit, newdata = nd), times = c(12, 24))$surv
R_SURVFIT = np.array([[0.481355414043613, 0.243627171521917],
                      [0.1589744441586048, 0.0286729016478497],
                      [0.844346598421307, 0.721248253525295],
                      [0.426796882498690, 0.193117795645634]])


def test_predicted_survival_equals_survfit_coxph(os_design):
    cph = fit_cox(os_design, "t", "e")
    # coef(fit): 0.922365868523768 -1.463582394035007 -0.770046320870576 (R stops its Newton iterations on a
    # relative log-likelihood change < 1e-9, within about 1e-9 of the maximum, which is where fit_cox goes)
    assert cph.params_.to_numpy() == pytest.approx([0.922365868523768, -1.463582394035007, -0.770046320870576],
                                                   abs=1e-8)
    assert cph.survfit_survival(PROFILES, [12.0, 24.0]) == pytest.approx(R_SURVFIT, abs=1e-8)


def test_lifelines_own_prediction_differs_from_r(os_design):
    # why CoxModel.survfit_survival is written by hand: lifelines' Breslow baseline, interpolated between event
    # times, is off by more than 1e-4 on these tied times
    cph = fit_cox(os_design, "t", "e")
    lifelines_sf = cph.predict_survival_function(PROFILES, times=[12.0, 24.0]).to_numpy().T
    assert np.max(np.abs(lifelines_sf - R_SURVFIT)) > 1e-4


def test_nomogram_profiles_are_survfit_predictions(os_design):
    cph = fit_cox(os_design, "t", "e")
    model = nomogram_model(cph, groups={"albumin": ["alb"], "stage": ["m1a", "m1b"]})
    rows = {(r["albumin"], r["stage"]): (r["os_12_months"], r["os_24_months"]) for r in risk_profiles(cph, model)}
    assert rows[("no", "reference")] == pytest.approx(tuple(R_SURVFIT[0]), abs=1e-8)
    assert rows[("yes", "reference")] == pytest.approx(tuple(R_SURVFIT[1]), abs=1e-8)
    assert rows[("no", "m1a")] == pytest.approx(tuple(R_SURVFIT[2]), abs=1e-8)
    assert rows[("yes", "m1b")] == pytest.approx(tuple(R_SURVFIT[3]), abs=1e-8)
    # S0 at 12 and 24 months is the reference profile's survival (every indicator 0)
    assert model["baseline_survival"] == pytest.approx(list(R_SURVFIT[0]), abs=1e-8)


# A sample whose upper 95 % limit curve falls to 0.496 at 17 months and rises to 0.520 after (few at risk)
TIME = [4, 10, 11, 4, 13, 3, 3, 8, 2, 14, 2, 28, 1, 38, 5, 5, 17, 5, 2, 11, 17, 5, 5, 6]
EVENT = [1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]


def test_km_median_limits_read_a_non_monotone_limit_curve_as_r():
    # f <- survfit(Surv(time, event) ~ 1); summary(f)$table[c("median", "0.95LCL", "0.95UCL")]  -> 8 5 17
    # (print(f) shows the same; f$upper at 17 and 28: 0.496095733315344 0.519928603570920)
    assert km_median(TIME, EVENT) == {"n": 24, "events": 18, "median": 8.0, "ci95": [5.0, 17.0]}


def test_km_median_of_a_curve_flat_at_one_half_to_the_end_is_where_it_reaches_it():
    # summary(survfit(Surv(c(2, 25), c(1, 0)) ~ 1))$table: median 2, 0.95LCL 2, 0.95UCL NA
    # (quantile.survfit would give 13.5, the midpoint to the last time; print(survfit) gives 2)
    assert km_median([2, 25], [1, 0]) == {"n": 2, "events": 1, "median": 2.0, "ci95": [2.0, None]}


def test_km_survival_at_12_and_24_months_equals_summary_survfit():
    # s <- summary(f, times = c(12, 24)); cbind(s$time, s$n.risk, s$surv, s$lower, s$upper)
    #   12 6 0.313920454545454 0.1651754585381265 0.596614367861906
    #   24 2 0.196200284090909 0.0775950061495172 0.496095733315344
    out = km_summary(TIME, EVENT)["survival"]
    assert [r["time"] for r in out] == [12.0, 24.0] and [r["n_risk"] for r in out] == [6, 2]
    assert out[0]["surv"] == pytest.approx(0.313920454545454, abs=1e-12)
    assert out[0]["ci95"] == pytest.approx([0.1651754585381265, 0.596614367861906], rel=1e-12)
    assert out[1]["surv"] == pytest.approx(0.196200284090909, abs=1e-12)
    assert out[1]["ci95"] == pytest.approx([0.0775950061495172, 0.496095733315344], rel=1e-12)


def test_km_survival_past_the_last_follow_up_is_not_given():
    # summary(survfit(Surv(c(3, 5, 8), c(1, 1, 0)) ~ 1), times = c(12, 24)) leaves both times out
    assert [r["surv"] for r in km_summary([3, 5, 8], [1, 1, 0])["survival"]] == [None, None]


def test_metrics_equal_in_exact_arithmetic_are_one_value_and_equal_r():
    # sd(c(1.5, 1.57)); sd(c(2.1, 2.17))  -> 0.049497474683058366 0.049497474683058214 (R: two doubles)
    a, b = heterogeneity_metrics([1.5, 1.57]), heterogeneity_metrics([2.1, 2.17])
    assert a["sd"] == b["sd"] == pytest.approx(0.049497474683058366, rel=1e-14)
    # e1071::kurtosis(c(1.5, 1.5, 1.6, 1.8), type = 2); same of c(2.1, 2.1, 2.2, 2.4)
    #   -> 1.499999999999988 1.499999999999972 (exactly 3/2)
    c, d = heterogeneity_metrics([1.5, 1.5, 1.6, 1.8]), heterogeneity_metrics([2.1, 2.1, 2.2, 2.4])
    assert c["kurtosis"] == d["kurtosis"] == 1.5
    # e1071::skewness(c(1.5, 1.5, 1.6, 1.8), type = 2) -> 1.4142135623730923 (sqrt 2)
    assert c["skewness"] == d["skewness"] == pytest.approx(1.4142135623730923, rel=1e-14)
    assert c["entropy"] == d["entropy"] == 1.5  # bins 15, 15, 16, 18 and 21, 21, 22, 24: 1/2, 1/4, 1/4
