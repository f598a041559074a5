"""The statistics modules agree with R on R's own data sets.

Expected values were produced with R 4.x from Debian (r-cran-survival 3.5-3, r-cran-maxstat 0.7-25,
r-cran-proc); the R call is recorded next to each value. Data: data/r_datasets beside this file (README there) and
pROC_aSAH.csv in this folder (pROC::aSAH, Turck et al., Clin Chem Lab Med 2010; exported with
``write.csv(aSAH[, c("outcome","s100b","ndka","wfns","gender","age")], row.names = FALSE)``; pROC is GPL-3).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from CD8RScoreCohortLib.cutpoint import maxstat_logrank, p_lausen_schumacher_1992, p_lausen_schumacher_1994
from CD8RScoreCohortLib.diagnostics import diagnostic_performance, proportion_with_ci
from CD8RScoreCohortLib.roc import delong_auc, roc_curve
from CD8RScoreCohortLib.survival import cox_high_vs_low, km_median, logrank

R_DATASETS = Path(__file__).resolve().parent / "data" / "r_datasets"  # source and licences: README.md there

HERE = Path(__file__).parent


def sig4(a, b):
    """Equal to 4 significant digits (relative difference below 5e-5)."""
    return a == pytest.approx(b, rel=5e-5)


@pytest.fixture(scope="module")
def lung():
    d = pd.read_csv(R_DATASETS / "survival_lung.csv")
    d["event"] = (d["status"] == 2).astype(int)  # status: 1 = censored, 2 = dead
    return d


@pytest.fixture(scope="module")
def veteran():
    return pd.read_csv(R_DATASETS / "survival_veteran.csv")


@pytest.fixture(scope="module")
def dlbcl():
    # maxstat.test's model.frame drops rows with a missing time/cens (na.omit): 40 of 42 rows remain
    return pd.read_csv(R_DATASETS / "maxstat_DLBCL.csv").dropna(subset=["time", "cens", "MGE"])


@pytest.fixture(scope="module")
def asah():
    return pd.read_csv(HERE / "pROC_aSAH.csv")


# ---------------------------------------------------------------- Kaplan-Meier medians
def test_km_median_and_ci_match_survfit_on_lung(lung):
    # print(survfit(Surv(time, status) ~ 1, lung)): median 310, 0.95LCL 285, 0.95UCL 363
    assert km_median(lung.time, lung.event) == {"n": 228, "events": 165, "median": 310.0, "ci95": [285.0, 363.0]}
    # print(survfit(Surv(time, status) ~ sex, lung)): sex=1 270 (212, 310); sex=2 426 (348, 550)
    m1 = km_median(lung.time[lung.sex == 1], lung.event[lung.sex == 1])
    m2 = km_median(lung.time[lung.sex == 2], lung.event[lung.sex == 2])
    assert (m1["median"], m1["ci95"]) == (270.0, [212.0, 310.0])
    assert (m2["median"], m2["ci95"]) == (426.0, [348.0, 550.0])


def test_km_median_takes_midpoint_of_flat_half_as_survfit_on_veteran(veteran):
    # print(survfit(Surv(time, status) ~ trt, veteran)): trt=1 103.0 (59, 132); trt=2 52.5 (44, 95)
    # (trt=2 sits exactly at S = 0.5 between 51 and 54 days: survival:::findq returns the midpoint)
    m1 = km_median(veteran.time[veteran.trt == 1], veteran.status[veteran.trt == 1])
    m2 = km_median(veteran.time[veteran.trt == 2], veteran.status[veteran.trt == 2])
    assert (m1["median"], m1["ci95"]) == (103.0, [59.0, 132.0])
    assert (m2["median"], m2["ci95"]) == (52.5, [44.0, 95.0])
    # print(survfit(Surv(time, status) ~ 1, veteran)): median 80 (52, 105)
    assert km_median(veteran.time, veteran.status)["ci95"] == [52.0, 105.0]


# ---------------------------------------------------------------- log-rank and Cox
def test_logrank_matches_survdiff(lung, veteran):
    # s <- survdiff(Surv(time, status) ~ sex, lung); pchisq(s$chisq, 1, lower.tail = FALSE) -> 0.00131116452
    assert sig4(logrank(lung.time, lung.event, lung.sex)["p"], 0.00131116452)
    # survdiff(Surv(time, status) ~ trt, veteran) -> p 0.9277272333
    assert sig4(logrank(veteran.time, veteran.status, veteran.trt)["p"], 0.9277272333)
    # s <- survdiff(Surv(time, status) ~ celltype, veteran); s$chisq 25.40370035, p 1.271245939e-05 (3 df)
    res = logrank(veteran.time, veteran.status, veteran.celltype)
    assert res["df"] == 3 and sig4(res["chi2"], 25.40370035) and sig4(res["p"], 1.271245939e-05)


def test_cox_high_vs_low_matches_coxph_on_lung(lung):
    # f <- coxph(Surv(time, status) ~ I(sex == 2), lung)
    # exp(coef(f)) 0.5880028186; exp(confint(f)) 0.4237178304 0.8159848132; summary(f)$coefficients[, 5] 0.001491229205
    res = cox_high_vs_low(lung.time, lung.event, lung.sex == 2)
    assert sig4(res.hr, 0.5880028186)
    assert sig4(res.ci95[0], 0.4237178304) and sig4(res.ci95[1], 0.8159848132)
    assert sig4(res.p_wald, 0.001491229205)
    assert sig4(res.p_logrank, 0.00131116452)
    assert (res.n_high, res.n_low, res.events_high, res.events_low) == (90, 138, 53, 112)


def test_cox_high_vs_low_matches_coxph_on_veteran(veteran):
    # f <- coxph(Surv(time, status) ~ I(trt == 2), veteran)
    # exp(coef(f)) 1.017900904; exp(confint(f)) 0.7143755261 1.450388783; Wald p 0.9217661947
    res = cox_high_vs_low(veteran.time, veteran.status, veteran.trt == 2)
    assert sig4(res.hr, 1.017900904)
    assert sig4(res.ci95[0], 0.7143755261) and sig4(res.ci95[1], 1.450388783)
    assert sig4(res.p_wald, 0.9217661947)


def test_cox_without_events_in_a_group_reports_instead_of_fitting():
    time = np.array([1, 2, 3, 4, 5, 6.0])
    event = np.array([1, 1, 1, 0, 0, 0])
    res = cox_high_vs_low(time, event, np.array([0, 0, 0, 1, 1, 1], dtype=bool))
    assert res.hr is None and "no events in group high" in res.note
    assert res.p_logrank is not None


# ---------------------------------------------------------------- maxstat
def test_maxstat_matches_documented_dlbcl_example(dlbcl):
    # maxstat.test(Surv(time, cens) ~ MGE, data = DLBCL, smethod = "LogRank", pmethod = "Lau92")
    #   estimate 0.1860526316, statistic M 3.177222463, p 0.03547624855
    # same with pmethod = "Lau94": p 0.02386832202
    res = maxstat_logrank(dlbcl.time, dlbcl.cens, dlbcl.MGE)
    assert res.cutpoint == pytest.approx(0.1860526316, abs=1e-9)
    assert res.statistic == pytest.approx(3.177222463, rel=1e-8)
    assert res.p_value_lausen_schumacher == pytest.approx(0.03547624855, rel=1e-8)
    assert res.p_value_lausen_schumacher_1994 == pytest.approx(0.02386832202, rel=1e-8)
    assert res.n_low + res.n_high == 40 and res.n_low == int((dlbcl.MGE <= res.cutpoint).sum())


def test_maxstat_with_ties_and_other_minprop(dlbcl):
    # d <- DLBCL[!is.na(DLBCL$IPI), ]
    # maxstat.test(Surv(time, cens) ~ IPI, data = DLBCL, smethod = "LogRank", pmethod = "Lau94",
    #              minprop = 0.2, maxprop = 0.8) -> estimate 1, M 2.960281162, p 0.008620463201
    d = dlbcl.dropna(subset=["IPI"])
    res = maxstat_logrank(d.time, d.cens, d.IPI, minprop=0.2, maxprop=0.8)
    assert res.cutpoint == 1.0
    assert res.statistic == pytest.approx(2.960281162, rel=1e-8)
    assert res.p_value_lausen_schumacher_1994 == pytest.approx(0.008620463201, rel=1e-8)


def test_maxstat_candidate_set_and_statistics_on_small_data():
    # d <- data.frame(x = c(0.5,1.2,0.3,2.2,1.7,0.9,1.1,2.5,0.2,1.4,1.9,0.7),
    #                 t = c(5,8,12,3,9,14,7,2,11,6,10,13), e = c(1,0,1,1,0,1,1,1,0,1,0,1))
    # r <- maxstat.test(Surv(t, e) ~ x, data = d, smethod = "LogRank", pmethod = "Lau94")
    # r$cuts 0.2 ... 1.9; r$stats below; estimate 1.9, M 1.882171317, p 0.3500189791; Lau92 p 0.5471025575
    x = [0.5, 1.2, 0.3, 2.2, 1.7, 0.9, 1.1, 2.5, 0.2, 1.4, 1.9, 0.7]
    t = [5, 8, 12, 3, 9, 14, 7, 2, 11, 6, 10, 13]
    e = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1]
    res = maxstat_logrank(t, e, x)
    assert res.candidate_cutpoints == [0.2, 0.3, 0.5, 0.7, 0.9, 1.1, 1.2, 1.4, 1.7, 1.9]
    assert res.candidate_statistics == pytest.approx(
        [0.7433528806, 0.3824353892, 0.3455818981, 0.02393718341, 1.074307874, 0.6650500822, 1.091216367,
         0.6163285602, 1.145444348, 1.882171317], rel=1e-8)
    assert (res.cutpoint, res.n_low, res.n_high) == (1.9, 10, 2)
    assert res.p_value_lausen_schumacher_1994 == pytest.approx(0.3500189791, rel=1e-8)
    assert res.p_value_lausen_schumacher == pytest.approx(0.5471025575, rel=1e-8)


def test_maxstat_with_ties_default_minprop(dlbcl):
    # maxstat.test(Surv(time, cens) ~ IPI, data = DLBCL, smethod = "LogRank", pmethod = "Lau94")
    #   -> estimate 1, M 2.960281162, p 0.01154201644; pmethod = "Lau92" -> p 0.06423288076
    d = dlbcl.dropna(subset=["IPI"])
    res = maxstat_logrank(d.time, d.cens, d.IPI)
    assert res.cutpoint == 1.0 and res.statistic == pytest.approx(2.960281162, rel=1e-8)
    assert res.p_value_lausen_schumacher_1994 == pytest.approx(0.01154201644, rel=1e-8)
    assert res.p_value_lausen_schumacher == pytest.approx(0.06423288076, rel=1e-8)


def test_lausen_schumacher_formulas():
    # sprintf("%.10g", maxstat:::pLausen92(3, 0.1, 0.9)) -> 0.05784388457
    assert p_lausen_schumacher_1992(3.0) == pytest.approx(0.05784388457, rel=1e-9)
    assert p_lausen_schumacher_1992(0.5) == 1.0
    # a single candidate: Lau94 reduces to the two-sided normal p
    assert p_lausen_schumacher_1994(1.959963985, 50, m=[25]) == pytest.approx(0.05, rel=1e-8)


def test_maxstat_refuses_when_no_candidate_fits():
    with pytest.raises(ValueError):
        maxstat_logrank([1, 2, 3, 4], [1, 0, 1, 1], [1, 1, 1, 1])


# ---------------------------------------------------------------- ROC / DeLong
def test_delong_auc_matches_proc_direction_greater(asah):
    # r <- roc(aSAH$outcome, aSAH$s100b, levels = c("Good", "Poor"), direction = ">")
    # auc(r) 0.2686314363; ci.auc(r, method = "delong") 0.1673810844 0.3698817882; var(r) 0.002668682457
    res = delong_auc(asah.s100b, asah.outcome == "Poor", direction=">")
    assert (res.n, res.n_progressive) == (113, 41)
    assert res.auc == pytest.approx(0.2686314363, rel=1e-9)
    assert res.ci95 == pytest.approx([0.1673810844, 0.3698817882], rel=1e-9)
    assert res.se ** 2 == pytest.approx(0.002668682457, rel=1e-9)
    # r <- roc(aSAH$outcome, aSAH$ndka, levels = c("Good", "Poor"), direction = ">")
    # auc 0.3880420054; delong CI 0.2773290101 0.4987550007;
    # 2 * pnorm(-abs(auc(r) - 0.5) / sqrt(var(r, method = "delong"))) -> 0.04747875495
    res = delong_auc(asah.ndka, asah.outcome == "Poor", direction=">")
    assert res.auc == pytest.approx(0.3880420054, rel=1e-9)
    assert res.ci95 == pytest.approx([0.2773290101, 0.4987550007], rel=1e-9)
    assert res.p == pytest.approx(0.04747875495, rel=1e-8)


def test_delong_auc_matches_proc_direction_less(asah):
    # r <- roc(aSAH$outcome, aSAH$s100b, levels = c("Good", "Poor"), direction = "<")
    # auc 0.7313685637; delong CI 0.6301182118 0.8326189156; p (as above) 7.508474325e-06
    res = delong_auc(asah.s100b, asah.outcome == "Poor", direction="<")
    assert res.auc == pytest.approx(0.7313685637, rel=1e-9)
    assert res.ci95 == pytest.approx([0.6301182118, 0.8326189156], rel=1e-9)
    assert res.p == pytest.approx(7.508474325e-06, rel=1e-8)


def test_auc_convention_low_scores_in_cases_give_auc_above_half():
    scores = np.array([1.0, 1.2, 1.1, 2.0, 2.5, 2.2, 1.9])
    cases = np.array([1, 1, 1, 0, 0, 0, 0], dtype=bool)
    assert delong_auc(scores, cases).auc == 1.0
    fpr, tpr = roc_curve(scores, cases)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert tpr[3] == 1.0 and fpr[3] == 0.0  # the three lowest scores are the three cases


def test_auc_reports_missing_group():
    res = delong_auc([1.0, 2.0], [False, False])
    assert res.auc is None and res.note == "no progressive lesions"


# ---------------------------------------------------------------- Clopper-Pearson
def test_clopper_pearson_matches_binom_test():
    # sprintf("%.10g", binom.test(15, 45)$conf.int) -> 0.200005688 0.4895036379
    res = proportion_with_ci(15, 45)
    assert res["ci95"] == pytest.approx([0.200005688, 0.4895036379], rel=1e-8)
    # binom.test(0, 20)$conf.int -> 0 0.168433471 ; binom.test(20, 20)$conf.int -> 0.831566529 1
    assert proportion_with_ci(0, 20)["ci95"] == pytest.approx([0.0, 0.168433471], abs=1e-9)
    assert proportion_with_ci(20, 20)["ci95"] == pytest.approx([0.831566529, 1.0], abs=1e-9)


def test_diagnostic_performance_counts():
    pred = [1, 1, 0, 0, 0, 1]
    truth = [1, 0, 1, 0, 0, 1]
    res = diagnostic_performance(pred, truth)
    assert res["counts"] == {"true_positive": 2, "false_positive": 1, "false_negative": 1, "true_negative": 2}
    assert res["sensitivity"]["estimate"] == pytest.approx(2 / 3)
    assert res["npv"]["estimate"] == pytest.approx(2 / 3)
