"""Multivariate Cox, backward selection and Fisher's OR agree with R; covariates are coded as documented.

R 4.x (Debian), r-cran-survival 3.5-3; data data/r_datasets/survival_lung.csv beside this file. The R call is next
to each expected value (printed with sprintf("%.10g")).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from CD8RScoreCohortLib.covariates import Covariate, build_covariate
from CD8RScoreCohortLib.lesion_level import fisher_2x2
from CD8RScoreCohortLib.multivariate import _drop_one_p, _fit, backward_stepwise, univariate
from CD8RScoreCohortLib.nomogram import nomogram_model, risk_profiles, survival_from_points
from CD8RScoreCohortLib.survival import cox_table, fit_cox

R_DATASETS = Path(__file__).resolve().parent / "data" / "r_datasets"  # source and licences: README.md there


def sig4(a, b):
    return a == pytest.approx(b, rel=5e-5)


@pytest.fixture(scope="module")
def lung():
    d = pd.read_csv(R_DATASETS / "survival_lung.csv")
    # d <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")])  (227 rows)
    d = d[["time", "status", "age", "sex", "ph.ecog"]].dropna().reset_index(drop=True)
    d["patient_id"] = [f"P{i}" for i in range(len(d))]
    d["os_time"] = d["time"]
    d["os_event"] = (d["status"] == 2).astype(int)
    return d


def continuous(lung, name):
    return Covariate(name, "continuous", name, lung.set_index("patient_id")[[name]].astype(float))


def test_multivariate_cox_matches_coxph(lung):
    # f <- coxph(Surv(time, status) ~ age + sex + ph.ecog, d)
    # exp(coef(f)) 1.011128228 0.5754445562 1.58999119
    # exp(confint(f)) 0.9929280972 0.4142130185 1.272675178 / 1.029661962 0.7994351274 1.986423581
    # summary(f)$coefficients[, 5] 0.232415681 0.0009860513721 4.447066652e-05
    cph = fit_cox(lung[["os_time", "os_event", "age", "sex", "ph.ecog"]], "os_time", "os_event")
    rows = {r["term"]: r for r in cox_table(cph)}
    for term, hr, lo, hi, p in (("age", 1.011128228, 0.9929280972, 1.029661962, 0.232415681),
                                ("sex", 0.5754445562, 0.4142130185, 0.7994351274, 0.0009860513721),
                                ("ph.ecog", 1.58999119, 1.272675178, 1.986423581, 4.447066652e-05)):
        assert sig4(rows[term]["hr"], hr) and sig4(rows[term]["ci95"][0], lo) and sig4(rows[term]["ci95"][1], hi)
        assert sig4(rows[term]["p_wald"], p)
    # f$loglik -744.4804558 -729.2301214 ; summary(f)$logtest 30.50066877 on 3 df, p 1.082817699e-06
    assert sig4(cph.log_likelihood_, -729.2301214)
    assert sig4(cph.log_likelihood_ratio_test().p_value, 1.082817699e-06)


def test_drop_one_lrt_matches_drop1(lung):
    # drop1(f, test = "Chisq")[, 4]: age 0.2289771163, sex 0.000716896063, ph.ecog 4.556012814e-05
    design = lung.set_index("patient_id")[["os_time", "os_event", "age", "sex", "ph.ecog"]].rename(
        columns={"os_time": "time", "os_event": "event"})
    variables = {"age": ["age"], "sex": ["sex"], "ph.ecog": ["ph.ecog"]}
    full = _fit(design, ["age", "sex", "ph.ecog"]).log_likelihood_
    for name, p in (("age", 0.2289771163), ("sex", 0.000716896063), ("ph.ecog", 4.556012814e-05)):
        assert sig4(_drop_one_p(design, variables, full, name), p)


def test_backward_selection_drops_age_and_matches_final_coxph(lung):
    covs = [continuous(lung, n) for n in ("age", "sex", "ph.ecog")]
    uni = univariate(lung, "os", covs)
    # summary(coxph(Surv(time, status) ~ v, d))$logtest[3]: age 0.03753725072, sex 0.001330970506,
    # ph.ecog 2.772815938e-05
    assert [sig4(u["p"], p) for u, p in zip(uni, (0.03753725072, 0.001330970506, 2.772815938e-05))] == [True] * 3
    res = backward_stepwise(lung, "os", covs, uni)
    assert res["candidates"] == ["age", "sex", "ph.ecog"]
    assert [s["removed"] for s in res["steps"]] == ["age"] and sig4(res["steps"][0]["p"], 0.2289771163)
    # f2 <- coxph(Surv(time, status) ~ sex + ph.ecog, d)
    # exp(coef(f2)) 0.5752389409 1.628230395; exp(confint(f2)) 0.4142032139 1.30674852 / 0.7988828382 2.028802161
    # summary(f2)$coefficients[, 5] 0.0009669970608 1.399122421e-05
    rows = {t["term"]: t for t in res["terms"]}
    assert sig4(rows["sex"]["hr"], 0.5752389409) and sig4(rows["ph.ecog"]["hr"], 1.628230395)
    assert sig4(rows["sex"]["ci95"][0], 0.4142032139) and sig4(rows["ph.ecog"]["ci95"][1], 2.028802161)
    assert sig4(rows["sex"]["p_wald"], 0.0009669970608) and sig4(rows["ph.ecog"]["p_wald"], 1.399122421e-05)


def test_fisher_odds_ratio_matches_fisher_test():
    # f <- fisher.test(matrix(c(42, 265, 36, 707), 2)); c(f$estimate, f$conf.int, f$p.value)
    #   3.108621333 1.898357192 5.113668197 3.428826267e-06
    res = fisher_2x2(42, 36, 265, 707)
    assert sig4(res["odds_ratio"], 3.108621333)
    assert sig4(res["ci95"][0], 1.898357192) and sig4(res["ci95"][1], 5.113668197)
    assert sig4(res["p_fisher"], 3.428826267e-06)
    # fisher.test(matrix(c(3, 1, 1, 3), 2)): 6.408308867 (0.2117329153, 621.9337505), p 0.4857142857.
    # The upper limit is off in R by its uniroot tolerance (.Machine$double.eps^0.25 on 1/OR); the same root
    # solved to tol = 1e-14 with stats:::fisher.test's own pnhyper (support 0:4, dhyper(support, 4, 4, 4)):
    # 1 / uniroot(function(t) pnhyper(3, 1/t) - 0.025, c(.Machine$double.eps, 1), tol = 1e-14)$root = 626.2435306
    res = fisher_2x2(3, 1, 1, 3)
    assert sig4(res["odds_ratio"], 6.408308867) and sig4(res["ci95"][1], 626.2435306)
    assert sig4(res["ci95"][0], 0.2117329153)
    assert sig4(res["p_fisher"], 0.4857142857)
    assert fisher_2x2(0, 0, 3, 4)["odds_ratio"] is None


def test_covariate_coding():
    ids = [f"P{i}" for i in range(6)]
    alb = build_covariate("albumin_g_l", pd.Series(["30", "36", "34.9", "40", None, "35"], index=ids))
    assert alb.kind == "validated_cutoff"
    assert alb.terms.iloc[:, 0].tolist()[:4] == [1.0, 0.0, 1.0, 0.0] and np.isnan(alb.terms.iloc[4, 0])
    assert alb.terms.iloc[5, 0] == 0.0  # 35 is not < 35
    crp = build_covariate("CRP", pd.Series(["10", "9.9", "12", "1", "3", "30"], index=ids))
    assert crp.terms.iloc[:, 0].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]  # CRP >= 10
    age = build_covariate("age", pd.Series(["50", "60", "70", "80", "55", "65"], index=ids))
    assert age.kind == "median_split" and age.terms.iloc[:, 0].tolist() == [0, 0, 1, 1, 0, 1]  # > 62.5
    sex = build_covariate("sex", pd.Series(["M", "F", "M", "M", "F", None], index=ids))
    assert sex.kind == "categorical" and list(sex.terms.columns) == ["sex = F"]  # reference = most frequent
    flag = build_covariate("brain_metastases", pd.Series(["0", "1", "0", "1", "0", "0"], index=ids))
    assert flag.kind == "binary"
    const = build_covariate("centre", pd.Series(["A"] * 6, index=ids))
    assert const.kind == "constant" and const.terms.shape[1] == 0
    empty = build_covariate("crp", pd.Series([None] * 6, index=ids))
    assert empty.kind == "constant" and "no values" in empty.definition


def test_nomogram_points_reproduce_model_predictions(lung):
    d = lung.assign(male=(lung["sex"] == 1).astype(float), ecog_ge2=(lung["ph.ecog"] >= 2).astype(float))
    cph = fit_cox(d[["os_time", "os_event", "male", "ecog_ge2"]], "os_time", "os_event")
    model = nomogram_model(cph, times=(180.0, 365.0))
    assert max(lv["points"] for v in model["variables"] for lv in v["levels"]) == pytest.approx(100.0)
    assert min(lv["points"] for v in model["variables"] for lv in v["levels"]) == 0.0
    profiles = risk_profiles(cph, model)
    assert len(profiles) == 4
    for profile in profiles:
        for i, t in enumerate(model["times_months"]):
            assert survival_from_points(model, profile["total_points"], i) == pytest.approx(
                profile[f"os_{t:g}_months"], rel=1e-9)


def test_nomogram_groups_a_categorical_variable_into_one_scale(lung):
    d = lung.assign(ecog1=(lung["ph.ecog"] == 1).astype(float), ecog23=(lung["ph.ecog"] >= 2).astype(float),
                    male=(lung["sex"] == 1).astype(float))
    cph = fit_cox(d[["os_time", "os_event", "ecog1", "ecog23", "male"]], "os_time", "os_event")
    model = nomogram_model(cph, times=(365.0,), groups={"ECOG": ["ecog1", "ecog23"], "male": ["male"]})
    ecog = model["variables"][0]
    assert [lv["level"] for lv in ecog["levels"]] == ["reference", "ecog1", "ecog23"]
    assert ecog["levels"][2]["points"] == pytest.approx(100.0)  # the widest effect: ECOG 2-3 vs 0
    profiles = risk_profiles(cph, model)
    assert len(profiles) == 6  # 3 ECOG levels x 2, never two ECOG levels at once
    for profile in profiles:
        assert survival_from_points(model, profile["total_points"], 0) == pytest.approx(
            profile["os_365_months"], rel=1e-9)
