# R reference values of the cohort statistics on the random cohort (random_cohort.py writes its CSV files).
#
#   Rscript random_cohort.R      (in this folder; R 4.2, survival 3.5-3, maxstat 0.7-25, e1071 1.7)
#
# Writes random_cohort_r_values.csv: one row per number, with the R expression that produced it. R computes
# everything from the lesion and clinical tables itself (patient metrics, covariate coding, Cox models, backward
# selection, maximally selected log-rank cut-points, Kaplan-Meier, exact binomial intervals, survfit.coxph
# predictions); only the training/test split is read (random_cohort_split.csv), because it is drawn with
# numpy's generator. Patient metrics are rounded with signif(, 12) and to 12 decimals before the cut-point search
# and the rank statistics, so that values equal in exact arithmetic (a skewness of 0 included) are one value (the
# project computes them exactly; see README, Science).
suppressMessages({library(survival); library(maxstat); library(e1071)})

les <- read.csv("random_cohort_lesions.csv", stringsAsFactors = FALSE)
cli <- read.csv("random_cohort_clinical.csv", stringsAsFactors = FALSE, na.strings = "")
spl <- read.csv("random_cohort_split.csv", stringsAsFactors = FALSE, na.strings = "")
CUT <- 2.0

vals <- list()
put <- function(name, value, call) {
  v <- if (is.null(value) || length(value) == 0 || is.na(value)) "NA" else sprintf("%.17g", as.numeric(value))
  vals[[length(vals) + 1]] <<- data.frame(name = name, value = v, r_call = call)
}

# ---------------------------------------------------------------- patient metrics (lesions > 1 mL)
e0 <- les[les$timepoint == "E0", ]
cons <- e0[e0$computable == 1 & e0$volume_ml > 1 & !is.na(e0$score), ]
d <- cli[cli$patient_id %in% e0$patient_id, ]
entropy <- function(x) { p <- table(floor(round(x / 0.1, 9))) / length(x); -sum(p * log2(p)) }
metric <- function(x, m) {
  n <- length(x)
  if (n == 0) return(NA)
  switch(m, min = min(x), max = max(x), mean = mean(x), sd = if (n >= 2) sd(x) else NA,
         skewness = if (n >= 3 && sd(x) > 0) skewness(x, type = 2) else NA,
         kurtosis = if (n >= 4 && sd(x) > 0) kurtosis(x, type = 2) else NA, entropy = entropy(x))
}
METRICS <- c("min", "max", "mean", "sd", "skewness", "kurtosis", "entropy")
d$n_lesions <- sapply(d$patient_id, function(p) sum(e0$patient_id == p))
d$n_considered <- sapply(d$patient_id, function(p) sum(cons$patient_id == p))
for (m in METRICS) {
  d[[m]] <- sapply(d$patient_id, function(p) metric(cons$score[cons$patient_id == p], m))
  for (i in seq_len(nrow(d))) put(paste0("metric/", d$patient_id[i], "/", m), d[[m]][i],
                                   sprintf("%s of the scores (e1071 type 2; entropy of floor(x/0.1) bins)", m))
  d[[m]] <- round(signif(d[[m]], 12), 12)  # also values at 0 up to floating noise (a symmetric skewness)
}
d$split <- spl$split[match(d$patient_id, spl$patient_id)]
elig <- d[d$n_considered > 0, ]

# ---------------------------------------------------------------- Kaplan-Meier and two-group Cox
km <- function(prefix, t, e) {
  f <- survfit(Surv(t, e) ~ 1)
  tab <- summary(f)$table
  put(paste0(prefix, "/median"), tab["median"], "summary(survfit(Surv(t, e) ~ 1))$table['median']")
  put(paste0(prefix, "/median_lcl"), tab["0.95LCL"], "summary(survfit(Surv(t, e) ~ 1))$table['0.95LCL']")
  put(paste0(prefix, "/median_ucl"), tab["0.95UCL"], "summary(survfit(Surv(t, e) ~ 1))$table['0.95UCL']")
  # times past the last follow-up are left out (extend = FALSE); when all are, summary() stops: none given
  s <- tryCatch(summary(f, times = c(12, 24)), error = function(err) list(time = numeric(0)))
  for (tm in c(12, 24)) {
    k <- match(tm, s$time)
    call <- sprintf("summary(survfit(Surv(t, e) ~ 1), times = c(12, 24))[time == %d]", tm)
    put(sprintf("%s/surv_%d", prefix, tm), s$surv[k], paste0(call, "$surv"))
    put(sprintf("%s/surv_%d_lcl", prefix, tm), s$lower[k], paste0(call, "$lower"))
    put(sprintf("%s/surv_%d_ucl", prefix, tm), s$upper[k], paste0(call, "$upper"))
  }
}
two_groups <- function(prefix, t, e, high) {
  if (all(high) || !any(high)) return(invisible())
  lr <- survdiff(Surv(t, e) ~ high)
  put(paste0(prefix, "/p_logrank"), pchisq(lr$chisq, 1, lower.tail = FALSE),
      "pchisq(survdiff(Surv(t, e) ~ high)$chisq, 1, lower.tail = FALSE)")
  if (sum(e[high]) > 0 && sum(e[!high]) > 0) {
    f <- coxph(Surv(t, e) ~ high, ties = "efron")
    put(paste0(prefix, "/hr"), exp(coef(f)), "exp(coef(coxph(Surv(t, e) ~ high)))")
    put(paste0(prefix, "/ci_low"), exp(confint(f))[1], "exp(confint(coxph(Surv(t, e) ~ high)))[1]")
    put(paste0(prefix, "/ci_high"), exp(confint(f))[2], "exp(confint(coxph(Surv(t, e) ~ high)))[2]")
    put(paste0(prefix, "/p_wald"), summary(f)$coefficients[1, 5], "summary(coxph(Surv(t, e) ~ high))$coefficients[, 5]")
  }
  km(paste0(prefix, "/km_high"), t[high], e[high])
  km(paste0(prefix, "/km_low"), t[!high], e[!high])
}

opt_cut <- list()
os_cuts <- list()
for (ep in c("os", "pfs")) {
  tt <- elig[[paste0(ep, "_time")]]; ee <- elig[[paste0(ep, "_event")]]
  km(paste0(ep, "/all"), tt, ee)
  for (m in c("min", "max", "mean")) {
    ok <- !is.na(elig[[m]])
    two_groups(paste0(ep, "/", m, "/reference"), tt[ok], ee[ok], elig[[m]][ok] >= CUT)
  }
  for (m in METRICS) {
    ok <- !is.na(elig[[m]])
    dd <- data.frame(t = tt[ok], e = ee[ok], x = elig[[m]][ok], split = elig$split[ok])
    train <- dd[dd$split == "train", ]
    pre <- paste0(ep, "/", m, "/optimised")
    call <- "maxstat.test(Surv(t, e) ~ x, train, smethod = 'LogRank', pmethod = '%s', minprop = 0.1, maxprop = 0.9)%s"
    if (ep == "os") {  # the cut-offs are optimised on OS in the training set; PFS applies them (as the study)
      m92 <- maxstat.test(Surv(t, e) ~ x, data = train, smethod = "LogRank", pmethod = "Lau92", minprop = 0.1,
                          maxprop = 0.9)
      m94 <- maxstat.test(Surv(t, e) ~ x, data = train, smethod = "LogRank", pmethod = "Lau94", minprop = 0.1,
                          maxprop = 0.9)
      put(paste0(pre, "/statistic"), m92$statistic, sprintf(call, "Lau92", "$statistic"))
      put(paste0(pre, "/p_lausen_schumacher"), min(1, m92$p.value), sprintf(call, "Lau92", "$p.value (capped at 1)"))
      put(paste0(pre, "/p_lausen_schumacher_1994"), min(1, m94$p.value), sprintf(call, "Lau94", "$p.value (capped at 1)"))
      os_cuts[[m]] <- m92$estimate
    }
    cut <- os_cuts[[m]]
    put(paste0(pre, "/cutoff"), cut, sprintf(call, "Lau92", "$estimate on OS"))
    if (m == "min") opt_cut[[ep]] <- cut
    for (part in c("train", "test", "all")) {
      s <- if (part == "all") dd else dd[dd$split == part, ]
      two_groups(paste0(pre, "/", part), s$t, s$e, s$x > cut)
    }
  }
}

# ---------------------------------------------------------------- covariates, univariate and backward Cox
idx <- d
median_split <- function(name, x) {
  med <- median(x, na.rm = TRUE)
  term <- as.numeric(x > med)
  op <- ">"
  if (length(unique(na.omit(term))) < 2) { term <- as.numeric(x >= med); op <- ">=" }
  setNames(list(term), sprintf("%s %s %s", name, op, format(med)))
}
categorical <- function(name, x) {
  counts <- table(x)
  levels <- names(counts)[order(-counts, names(counts))]
  out <- list()
  for (lv in levels[-1]) out[[sprintf("%s = %s", name, lv)]] <- ifelse(is.na(x), NA, as.numeric(x == lv))
  out
}
# organ sites of the baseline lesions (every delineated lesion) and the RMH and GRIm scores from their parts
sites_of <- function(p) sort(unique(e0$location[e0$patient_id == p & e0$location != "unknown"]))
SITES <- sort(unique(e0$location[e0$location != "unknown"]))
d$n_sites <- sapply(d$patient_id, function(p) length(sites_of(p)))
alb_pt <- as.numeric(d$albumin_g_l < 35); ldh_pt <- as.numeric(d$ldh_uln > 1); nlr_pt <- as.numeric(d$nlr > 6)
sites_pt <- as.numeric(d$n_sites >= 3)
d$rmh <- alb_pt + ldh_pt + sites_pt
d$grim <- nlr_pt + ldh_pt + alb_pt
site_covs <- lapply(SITES, function(s) setNames(list(as.numeric(sapply(d$patient_id, function(p) s %in% sites_of(p)))),
                                               paste("site", s)))
names(site_covs) <- paste0("site_", SITES)
covariates <- function(ep) {
  oc <- opt_cut[[ep]]
  c(list(sex = categorical("sex", d$sex), age = median_split("age", d$age),
         albumin_g_l = list("albumin_g_l < 35" = alb_pt), ldh_uln = list("ldh_uln > 1" = ldh_pt),
         crp_mg_l = list("crp_mg_l >= 10" = as.numeric(d$crp_mg_l >= 10)),
         m_stage = categorical("m_stage", d$m_stage), nlr = list("nlr > 6" = nlr_pt)),
    site_covs,
    list(n_organ_sites = list("organ sites >= 3" = sites_pt), rmh_score = list("RMH 2-3" = as.numeric(d$rmh >= 2)),
         grim_score = list("GRIm 2-3" = as.numeric(d$grim >= 2)),
         min_score_optimised = setNames(list(ifelse(is.na(d$min), NA, as.numeric(d$min > oc))),
                                        sprintf("min score > %.4g", oc)),
         n_lesions = median_split("n_lesions", d$n_lesions)))
}
design <- function(ep, covs, vars) {
  cols <- do.call(c, unname(covs[vars]))
  x <- data.frame(time = d[[paste0(ep, "_time")]], event = d[[paste0(ep, "_event")]])
  for (k in names(cols)) x[[k]] <- cols[[k]]
  x[complete.cases(x), ]
}
fit_terms <- function(x, terms) {
  f <- as.formula(paste("Surv(time, event) ~", paste(sprintf("`%s`", terms), collapse = " + ")))
  coxph(f, data = x, ties = "efron")
}
put_terms <- function(prefix, f, terms, what) {
  s <- summary(f)$coefficients
  ci <- exp(confint(f))
  for (i in seq_along(terms)) {
    put(sprintf("%s/%s/hr", prefix, terms[i]), exp(s[i, 1]), paste0("exp(coef(", what, "))"))
    put(sprintf("%s/%s/ci_low", prefix, terms[i]), ci[i, 1], paste0("exp(confint(", what, "))[, 1]"))
    put(sprintf("%s/%s/ci_high", prefix, terms[i]), ci[i, 2], paste0("exp(confint(", what, "))[, 2]"))
    put(sprintf("%s/%s/p_wald", prefix, terms[i]), s[i, 5], paste0("summary(", what, ")$coefficients[, 5]"))
  }
}
final_os <- NULL
for (ep in c("os", "pfs")) {
  covs <- covariates(ep)
  candidates <- c()
  for (v in names(covs)) {
    x <- design(ep, covs, v)
    f <- fit_terms(x, names(covs[[v]]))
    put_terms(paste0(ep, "/univariate/", v), f, names(covs[[v]]), "coxph(Surv(time, event) ~ terms of the variable)")
    p <- summary(f)$logtest["pvalue"]
    put(paste0(ep, "/univariate/", v, "/p"), p, "summary(coxph(Surv(time, event) ~ terms))$logtest['pvalue']")
    if (p < 0.1) candidates <- c(candidates, v)
  }
  x <- design(ep, covs, candidates)
  vars <- candidates
  step <- 0
  repeat {
    terms <- unlist(lapply(covs[vars], names), use.names = FALSE)
    full <- fit_terms(x, terms)
    ps <- sapply(vars, function(v) {
      rest <- unlist(lapply(covs[setdiff(vars, v)], names), use.names = FALSE)
      ll0 <- if (length(rest)) fit_terms(x, rest)$loglik[2] else full$loglik[1]
      pchisq(2 * (full$loglik[2] - ll0), length(covs[[v]]), lower.tail = FALSE)
    })
    worst <- vars[which.max(ps)]
    if (max(ps) < 0.05) break
    step <- step + 1
    put(sprintf("%s/stepwise/step%d/%s/p", ep, step, worst), max(ps),
        "pchisq(2 * (logLik(full) - logLik(without the variable)), df, lower.tail = FALSE)")
    vars <- setdiff(vars, worst)
    if (!length(vars)) break
  }
  if (length(vars)) {
    for (v in vars) put(sprintf("%s/multivariate/%s/p_lrt", ep, v), ps[[v]],
                        "pchisq(2 * (logLik(full) - logLik(without the variable)), df, lower.tail = FALSE)")
    put_terms(paste0(ep, "/multivariate"), full, terms, "coxph(Surv(time, event) ~ final terms)")
    if (ep == "os") final_os <- list(fit = full, covs = covs[vars], terms = terms)
  }
  # study: backward selection by AIC with R's step, each variable one term (a factor for a categorical one)
  xf <- x[, c("time", "event")]
  for (v in candidates) {
    tn <- names(covs[[v]])
    if (length(tn) == 1) xf[[v]] <- x[[tn]] else {
      lv <- rep("reference", nrow(x)); for (t in tn) lv[x[[t]] == 1] <- t
      xf[[v]] <- factor(lv, levels = c("reference", tn))
    }
  }
  start <- coxph(as.formula(paste("Surv(time, event) ~", paste(sprintf("`%s`", candidates), collapse = " + "))),
                 data = xf, ties = "efron")
  st <- step(start, direction = "backward", trace = 0)
  removed <- gsub("^- |`", "", as.character(st$anova$Step[-1]))
  for (k in seq_along(removed)) put(sprintf("study/model/%s/aic/step%d/%s", ep, k, removed[k]), st$anova$AIC[k + 1],
                                    "step(coxph(Surv(time, event) ~ candidates), direction = 'backward')$anova$AIC")
  put(sprintf("study/model/%s/aic/final_aic", ep), extractAIC(st)[2], "extractAIC(step(...))[2]")
  kept <- setdiff(candidates, removed)
  if (length(kept)) put_terms(sprintf("study/model/%s/aic", ep), st, unlist(lapply(covs[kept], names), use.names = FALSE),
                              "step(coxph(...), direction = 'backward')")
  # study: forced-variable models around the final model of the p-value rule (S7, S9/S10)
  covs2 <- c(covs, list(min_score_reference = list("min score >= 2" = ifelse(is.na(d$min), NA, as.numeric(d$min >= CUT)))))
  forced <- list(reference_cutoff_score = c(setdiff(vars, "min_score_optimised"), "min_score_reference"),
                 with_n_lesions = unique(c(vars, "n_lesions")))
  for (what in names(forced)) {
    xv <- design(ep, covs2, forced[[what]])
    tv <- unlist(lapply(covs2[forced[[what]]], names), use.names = FALSE)
    put_terms(sprintf("study/model/%s/%s", ep, what), fit_terms(xv, tv), tv, "coxph(Surv(time, event) ~ forced terms)")
  }
}

# ---------------------------------------------------------------- predicted survival of the nomogram profiles
if (!is.null(final_os)) {
  levels <- lapply(final_os$covs, function(cv) c("reference", names(cv)))
  grid <- expand.grid(levels, stringsAsFactors = FALSE)
  for (i in seq_len(nrow(grid))) {
    nd <- as.data.frame(setNames(as.list(rep(0, length(final_os$terms))), final_os$terms), check.names = FALSE)
    for (v in names(grid)) if (grid[i, v] != "reference") nd[[grid[i, v]]] <- 1
    s <- summary(survfit(final_os$fit, newdata = nd), times = c(12, 24))$surv
    label <- paste(sprintf("%s=%s", names(grid), unlist(grid[i, ])), collapse = ";")
    put(sprintf("os/profile/%s/surv_12", label), s[1], "summary(survfit(fit, newdata = profile), times = c(12, 24))$surv[1]")
    put(sprintf("os/profile/%s/surv_24", label), s[2], "summary(survfit(fit, newdata = profile), times = c(12, 24))$surv[2]")
  }
}

# ---------------------------------------------------------------- progressive disease at E1 (RECIST 1.1)
e1 <- les[les$timepoint == "E1", ]
pair <- merge(e0[, c("patient_id", "lesion_id", "longest_axial_diameter_mm")],
              e1[, c("patient_id", "lesion_id", "longest_axial_diameter_mm")], by = c("patient_id", "lesion_id"))
sums <- aggregate(cbind(s0 = longest_axial_diameter_mm.x, s1 = longest_axial_diameter_mm.y) ~ patient_id, pair, sum)
new_lesion <- unique(e1$patient_id[!paste(e1$patient_id, e1$lesion_id) %in% paste(e0$patient_id, e0$lesion_id)])
truth <- sapply(d$patient_id, function(p) {
  if (!p %in% e1$patient_id) return(NA)
  k <- match(p, sums$patient_id)
  grow <- !is.na(k) && sums$s0[k] > 0 && 100 * (sums$s1[k] - sums$s0[k]) / sums$s0[k] >= 20 &&
    sums$s1[k] - sums$s0[k] >= 5
  as.numeric(p %in% new_lesion || grow)
})
for (rule in c("optimised", "reference")) {
  known <- !is.na(truth)
  minimum <- d$min[known]
  low <- if (rule == "optimised") minimum <= opt_cut[["os"]] else minimum < CUT
  pred <- d$n_considered[known] > 0 & !is.na(low) & low
  act <- truth[known] == 1
  tp <- sum(pred & act); fp <- sum(pred & !act); fn <- sum(!pred & act); tn <- sum(!pred & !act)
  for (q in list(c("sensitivity", tp, tp + fn), c("specificity", tn, tn + fp), c("ppv", tp, tp + fp),
                 c("npv", tn, tn + fn))) {
    k <- as.numeric(q[2]); n <- as.numeric(q[3])
    b <- binom.test(k, n)
    put(sprintf("pd/%s/%s/estimate", rule, q[1]), k / n, sprintf("%s / %s", q[2], q[3]))
    put(sprintf("pd/%s/%s/ci_low", rule, q[1]), b$conf.int[1], sprintf("binom.test(%s, %s)$conf.int[1]", q[2], q[3]))
    put(sprintf("pd/%s/%s/ci_high", rule, q[1]), b$conf.int[2], sprintf("binom.test(%s, %s)$conf.int[2]", q[2], q[3]))
  }
  ft <- fisher.test(matrix(c(tp, fn, fp, tn), 2))
  put(sprintf("pd/%s/odds_ratio", rule), ft$estimate, "fisher.test(matrix(c(tp, fn, fp, tn), 2))$estimate")
  put(sprintf("pd/%s/odds_ratio_ci_low", rule), ft$conf.int[1], "fisher.test(...)$conf.int[1]")
  put(sprintf("pd/%s/odds_ratio_ci_high", rule), ft$conf.int[2], "fisher.test(...)$conf.int[2]")
  put(sprintf("pd/%s/p_fisher", rule), ft$p.value, "fisher.test(...)$p.value")
}

# ================================================================ the study items (names "study/...")
# ---------------------------------------------------------------- whole cohort: S2, S4, figure 4D/E, follow-up
GROUP <- c(none = "no scored lesion > min volume", high = "minimum score high", low = "minimum score low",
           scored = "a scored lesion > min volume")
at_risk <- function(prefix, t, longest) {  # every 12 months up to the cohort's longest follow-up
  times <- seq(0, longest, by = 12)
  n <- summary(survfit(Surv(t, rep(1, length(t))) ~ 1), times = times, extend = TRUE)$n.risk
  for (k in seq_along(times)) put(sprintf("%s/at_risk/%g", prefix, times[k]), n[k],
                                  "summary(survfit(Surv(t, e) ~ 1), times = seq(0, max(t), 12), extend = TRUE)$n.risk")
}
groups_survival <- function(prefix, t, e, g, ref) {
  lr <- survdiff(Surv(t, e) ~ g)
  df <- length(unique(g)) - 1
  put(paste0(prefix, "/logrank_chi2"), lr$chisq, "survdiff(Surv(t, e) ~ group)$chisq")
  put(paste0(prefix, "/p_logrank"), pchisq(lr$chisq, df, lower.tail = FALSE),
      "pchisq(survdiff(Surv(t, e) ~ group)$chisq, n_groups - 1, lower.tail = FALSE)")
  f <- coxph(Surv(t, e) ~ relevel(factor(g), ref), ties = "efron")
  s <- summary(f)$coefficients
  ci <- exp(confint(f))
  for (i in seq_len(nrow(s))) {
    lv <- sub("relevel\\(factor\\(g\\), ref\\)", "", rownames(s)[i])
    what <- sprintf("coxph(Surv(t, e) ~ relevel(factor(group), '%s'))", ref)
    put(sprintf("%s/cox/%s/hr", prefix, lv), exp(s[i, 1]), paste0("exp(coef(", what, "))"))
    put(sprintf("%s/cox/%s/ci_low", prefix, lv), ci[i, 1], paste0("exp(confint(", what, "))[, 1]"))
    put(sprintf("%s/cox/%s/ci_high", prefix, lv), ci[i, 2], paste0("exp(confint(", what, "))[, 2]"))
    put(sprintf("%s/cox/%s/p_wald", prefix, lv), s[i, 5], paste0("summary(", what, ")$coefficients[, 5]"))
  }
  for (lv in unique(g)) {
    km(sprintf("%s/group/%s", prefix, lv), t[g == lv], e[g == lv])
    at_risk(sprintf("%s/group/%s", prefix, lv), t[g == lv], max(t))
  }
}
three <- ifelse(d$n_considered == 0, GROUP[["none"]], ifelse(d$min > opt_cut[["os"]], GROUP[["high"]], GROUP[["low"]]))
scored <- ifelse(d$n_considered == 0, GROUP[["none"]], GROUP[["scored"]])
for (ep in c("os", "pfs")) {
  tt <- d[[paste0(ep, "_time")]]; ee <- d[[paste0(ep, "_event")]]
  km(sprintf("study/whole/%s/all", ep), tt, ee)
  at_risk(sprintf("study/whole/%s/all", ep), tt, max(tt))
  groups_survival(sprintf("study/whole/%s/scored_vs_none", ep), tt, ee, scored, GROUP[["scored"]])
  groups_survival(sprintf("study/whole/%s/three_groups", ep), tt, ee, three, GROUP[["low"]])
}
fu <- quantile(survfit(Surv(d$os_time, 1 - d$os_event) ~ 1), probs = c(0.25, 0.5, 0.75))
for (k in 1:3) {
  call <- "quantile(survfit(Surv(os_time, 1 - os_event) ~ 1), probs = c(0.25, 0.5, 0.75))"
  put(sprintf("study/follow_up/q%d", k), fu$quantile[k], paste0(call, "$quantile"))
}
put("study/follow_up/median_lcl", fu$lower[2], "quantile(...)$lower[2]")
put("study/follow_up/median_ucl", fu$upper[2], "quantile(...)$upper[2]")

# ---------------------------------------------------------------- prognostic scores and organ sites
for (k in 0:3) {
  put(sprintf("study/prognostic/rmh/%d", k), sum(d$rmh == k, na.rm = TRUE), "sum(rmh == k): albumin < 35 + LDH > ULN + sites >= 3")
  put(sprintf("study/prognostic/grim/%d", k), sum(d$grim == k, na.rm = TRUE), "sum(grim == k): NLR > 6 + LDH > ULN + albumin < 35")
}
put("study/prognostic/rmh/missing", sum(is.na(d$rmh)), "sum(is.na(rmh))")
put("study/prognostic/grim/missing", sum(is.na(d$grim)), "sum(is.na(grim))")
for (k in sort(unique(d$n_sites))) put(sprintf("study/prognostic/n_sites/%d", k), sum(d$n_sites == k), "sum(n_sites == k)")
for (s in SITES) put(sprintf("study/prognostic/site/%s", s), sum(site_covs[[paste0("site_", s)]][[1]]), "patients with a baseline lesion there")

# ---------------------------------------------------------------- RECIST 1.1 per patient at E1 (own implementation)
RESPONSES <- c("CR", "PR", "SD", "PD", "non-CR/non-PD", "NE")
size_of <- function(r) ifelse(r$location == "node", r$short_axis_mm, r$longest_axial_diameter_mm)
recist <- function(p) {
  a <- e0[e0$patient_id == p, ]; b <- e1[e1$patient_id == p, ]
  s0 <- setNames(size_of(a), a$lesion_id); s1 <- setNames(size_of(b), b$lesion_id)
  new <- setdiff(b$lesion_id, a$lesion_id)
  thick <- a$slice_thickness_mm  # RECIST 1.1: twice the slice thickness when the slices are thicker than 5 mm
  meas <- a[!is.na(s0) & s0 >= ifelse(a$location == "node", 15,
                                      ifelse(!is.na(thick) & thick > 5, pmax(10, 2 * thick), 10)), ]
  meas <- meas[order(-s0[meas$lesion_id], meas$lesion_id, method = "radix"), ]
  tg <- c(); per <- list()
  for (i in seq_len(nrow(meas))) {
    loc <- meas$location[i]; k <- if (is.null(per[[loc]])) 0 else per[[loc]]
    if (length(tg) < 5 && k < 2) { tg <- c(tg, meas$lesion_id[i]); per[[loc]] <- k + 1 }
  }
  if (length(tg) && any(is.na(s1[tg]))) return(if (length(new)) "PD" else "NE")
  gone <- all(sapply(a$lesion_id, function(l) {
    v <- s1[l]; !is.na(v) && (if (a$location[a$lesion_id == l] == "node") v < 10 else v == 0) }))
  if (length(tg)) {
    S0 <- sum(s0[tg]); S1 <- sum(s1[tg]); ch <- 100 * (S1 - S0) / S0
    if (length(new) || (ch >= 20 && S1 - S0 >= 5)) "PD" else if (gone) "CR" else if (ch <= -30) "PR" else "SD"
  } else if (length(new)) "PD" else if (gone) "CR" else "non-CR/non-PD"
}
with_e1 <- d$patient_id[d$patient_id %in% e1$patient_id]
resp <- sapply(with_e1, recist)
for (i in seq_along(with_e1)) put(sprintf("study/recist/patient/%s", with_e1[i]), match(resp[i], RESPONSES),
                                  "RECIST 1.1 at E1 (1 CR, 2 PR, 3 SD, 4 PD, 5 non-CR/non-PD, 6 NE)")
for (r in RESPONSES) put(sprintf("study/recist/count/%s", r), sum(resp == r), "sum(response == r)")
orr <- binom.test(sum(resp %in% c("CR", "PR")), length(resp))
put("study/recist/orr/estimate", orr$estimate, "binom.test(CR + PR, n)$estimate")
put("study/recist/orr/ci_low", orr$conf.int[1], "binom.test(CR + PR, n)$conf.int[1]")
put("study/recist/orr/ci_high", orr$conf.int[2], "binom.test(CR + PR, n)$conf.int[2]")

# ---------------------------------------------------------------- S3: best overall response
# derived: the best response up to the first progression over the evaluations read (E1 only: the response at E1)
for (r in RESPONSES) put(sprintf("study/bor/derived/count/%s", r), sum(resp == r), "sum(best_of(response at E1) == r)")
# given: the clinical table's best_overall_response (the whole follow-up), over the patients with a value
bor <- d$best_overall_response
for (r in c("CR", "PR", "SD", "PD", "NE")) put(sprintf("study/bor/given/count/%s", r), sum(bor == r, na.rm = TRUE), "sum(bor == r, na.rm = TRUE)")
put("study/bor/given/missing", sum(is.na(bor)), "sum(is.na(bor))")
gorr <- binom.test(sum(bor %in% c("CR", "PR")), sum(!is.na(bor)))
put("study/bor/given/orr/estimate", gorr$estimate, "binom.test(sum(bor %in% c('CR', 'PR')), sum(!is.na(bor)))$estimate")
put("study/bor/given/orr/ci_low", gorr$conf.int[1], "binom.test(...)$conf.int[1]")
put("study/bor/given/orr/ci_high", gorr$conf.int[2], "binom.test(...)$conf.int[2]")
cross <- table(factor(resp, RESPONSES), factor(bor[match(with_e1, d$patient_id)], c("CR", "PR", "SD", "PD", "NE")))
for (a in RESPONSES) for (b in colnames(cross)) put(sprintf("study/bor/e1_vs_given/%s/%s", a, b), cross[a, b], "table(response at E1, bor)[a, b]")

# ---------------------------------------------------------------- figure 2: flow chart counts
# (a0, a1: the E0 and E1 rows of the patients analysed; ok: computable with a score; matched: E1 rows of a baseline
# lesion; scored_ids: patients with a computable lesion > 1 mL)
a0 <- e0[e0$patient_id %in% d$patient_id, ]; a1 <- e1[e1$patient_id %in% d$patient_id, ]
ok <- a0$computable == 1 & !is.na(a0$score)
matched <- paste(a1$patient_id, a1$lesion_id) %in% paste(a0$patient_id, a0$lesion_id)
scored_ids <- unique(a0$patient_id[ok & a0$volume_ml > 1])
flow <- c(patients_analysed = "nrow(d)", lesions_e0 = "nrow(a0)", lesions_e0_not_computable = "sum(!ok)",
          lesions_e0_computable_not_above_min_volume = "sum(ok & a0$volume_ml <= 1)",
          lesions_e0_considered = "sum(ok & a0$volume_ml > 1)",
          patients_with_e1 = "length(unique(a1$patient_id))",
          patients_without_e1 = "sum(!d$patient_id %in% a1$patient_id)",
          lesions_e0_of_patients_without_e1 = "sum(!a0$patient_id %in% a1$patient_id)",
          lesions_e1_of_baseline_lesions = "sum(matched)", lesions_e1_new = "sum(!matched)",
          patients_with_lesion_above_min_volume = "length(scored_ids)",
          patients_without_lesion_above_min_volume = "sum(!d$patient_id %in% scored_ids)",
          train = "sum(spl$split == 'train', na.rm = TRUE)", test = "sum(spl$split == 'test', na.rm = TRUE)")
for (k in names(flow)) put(sprintf("study/flow/%s", k), eval(parse(text = flow[[k]])), flow[[k]])

# ---------------------------------------------------------------- Table 1: baseline characteristics by group
t1_groups <- c(list(overall = rep(TRUE, nrow(d))), lapply(setNames(unique(three), unique(three)), function(g) three == g))
for (g in names(t1_groups)) {
  in_g <- t1_groups[[g]]
  for (v in c("age", "albumin_g_l", "ldh_uln", "crp_mg_l", "nlr", "n_sites")) {
    q <- quantile(d[[v]][in_g], c(0.25, 0.5, 0.75), na.rm = TRUE, type = 7)
    for (k in 1:3) put(sprintf("study/table1/%s/%s/q%d", g, v, k), q[k], "quantile(x, c(0.25, 0.5, 0.75), na.rm = TRUE)")
  }
  for (v in c("sex", "m_stage", "rmh", "grim")) {
    tab <- table(d[[v]][in_g])
    for (lv in names(tab)) put(sprintf("study/table1/%s/%s/%s", g, v, lv), tab[[lv]], "table(x)")
  }
}
# ---------------------------------------------------------------- Table 2: lesions at E0 and E1 (E1 rows of baseline lesions)
t2 <- list(E0 = e0, E1 = e1[paste(e1$patient_id, e1$lesion_id) %in% paste(e0$patient_id, e0$lesion_id), ])
put("study/table2/location/p", chisq.test(rbind(table(factor(t2$E0$location, SITES)), table(factor(t2$E1$location, SITES))))$p.value,
    "chisq.test(rbind(table(E0 location), table(E1 location)))$p.value")
sc <- lapply(t2, function(x) x$score[x$computable == 1])
put("study/table2/class/p", fisher.test(rbind(table(factor(sc$E0 >= CUT, c(TRUE, FALSE))),
                                              table(factor(sc$E1 >= CUT, c(TRUE, FALSE)))))$p.value,
    "fisher.test(rbind(table(E0 score >= cut), table(E1 score >= cut)))$p.value")
put("study/table2/volume_class/p", fisher.test(rbind(table(factor(t2$E0$volume_ml < 1, c(TRUE, FALSE))),
                                                     table(factor(t2$E1$volume_ml < 1, c(TRUE, FALSE)))))$p.value,
    "fisher.test(rbind(table(E0 volume < 1), table(E1 volume < 1)))$p.value")
for (v in c("volume_ml", "longest_axial_diameter_mm", "kvp", "slice_thickness_mm", "pixel_spacing_mm", "score")) {
  x <- if (v == "score") sc else lapply(t2, function(f) f[[v]])
  for (tp in c("E0", "E1")) {
    q <- quantile(x[[tp]], c(0.25, 0.5, 0.75), na.rm = TRUE, type = 7)
    for (k in 1:3) put(sprintf("study/table2/%s/%s/q%d", v, tp, k), q[k], "quantile(x, c(0.25, 0.5, 0.75), na.rm = TRUE)")
  }
  put(sprintf("study/table2/%s/p", v), suppressWarnings(wilcox.test(x$E0, x$E1))$p.value, "wilcox.test(E0, E1)$p.value")
}

# ---------------------------------------------------------------- panels: S8 and the lesion-level comparisons
sp <- function(name, x, y) {
  ok <- !is.na(x) & !is.na(y) & is.finite(x) & is.finite(y)
  ct <- suppressWarnings(cor.test(x[ok], y[ok], method = "spearman", exact = FALSE))
  put(paste0(name, "/rho"), ct$estimate, "cor.test(x, y, method = 'spearman', exact = FALSE)$estimate")
  put(paste0(name, "/p"), ct$p.value, "cor.test(x, y, method = 'spearman', exact = FALSE)$p.value")
}
for (m in METRICS) {
  sp(sprintf("study/panels/s8/%s/n_lesions", m), elig[[m]], elig$n_lesions)
  sp(sprintf("study/panels/s8/%s/n_lesions_gt_min_volume", m), elig[[m]], elig$n_considered)
}
lr <- merge(e0[, c("patient_id", "lesion_id", "longest_axial_diameter_mm", "volume_ml", "score", "computable")],
            e1[, c("patient_id", "lesion_id", "longest_axial_diameter_mm", "volume_ml")],
            by = c("patient_id", "lesion_id"), all.x = TRUE, suffixes = c("0", "1"))
ch <- 100 * (lr$longest_axial_diameter_mm1 - lr$longest_axial_diameter_mm0) / lr$longest_axial_diameter_mm0
evaluable <- !is.na(ch) & lr$longest_axial_diameter_mm0 > 0
lr$progression <- ifelse(evaluable, as.numeric(lr$longest_axial_diameter_mm1 != 0 & ch >= 20), NA)
lr$volume_change <- ifelse(lr$volume_ml0 > 0, 100 * (lr$volume_ml1 - lr$volume_ml0) / lr$volume_ml0, NA)
us <- lr[lr$computable == 1 & !is.na(lr$progression), ]
for (g in c("progressive", "other")) {
  x <- us$score[us$progression == (g == "progressive")]
  q <- quantile(x, c(0.25, 0.5, 0.75), type = 7)
  for (k in 1:3) put(sprintf("study/panels/score_%s/q%d", g, k), q[k], "quantile(score, c(0.25, 0.5, 0.75))")
}
put("study/panels/score_progressive_vs_other/p", wilcox.test(us$score[us$progression == 1], us$score[us$progression == 0])$p.value,
    "wilcox.test(score[progressive], score[other])$p.value")
sc_l <- lr[lr$computable == 1, ]
sp("study/panels/volume_change/all", sc_l$score, sc_l$volume_change)
sp("study/panels/volume_change/volume_gt_0.5ml", sc_l$score[sc_l$volume_ml0 > 0.5], sc_l$volume_change[sc_l$volume_ml0 > 0.5])
sp("study/panels/volume_change/volume_gt_1ml", sc_l$score[sc_l$volume_ml0 > 1], sc_l$volume_change[sc_l$volume_ml0 > 1])

write.csv(do.call(rbind, vals), "random_cohort_r_values.csv", row.names = FALSE)
cat(length(vals), "values\n")
