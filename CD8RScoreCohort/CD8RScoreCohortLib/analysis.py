"""The whole cohort analysis: inputs -> results.json, CSV tables, PNG figures and the HTML report.

``run_cohort`` is what ``cd8rscore cohort`` runs. Its steps follow DESIGN §3 and the melanoma study (Sun et al.,
J Immunother Cancer 2022): lesion-level progression AUCs and odds ratio, patient-level heterogeneity metrics
against OS and PFS at the reference and at optimised cut-offs, univariate and multivariate Cox models,
progressive-disease prediction and a 12/24-month OS nomogram.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from CD8RScoreLib import RESEARCH_USE_NOTICE
from CD8RScoreLib import number_format as nf
from CD8RScoreLib.errors import InputError
from CD8RScoreLib.figure_text import literal_text
from CD8RScoreLib.lesion_table import atomic_write_text, write_csv
from CD8RScoreLib.output_paths import check_output_folder, replaced_whole
from CD8RScoreLib.provenance import provenance

from . import __version__
from .covariates import DERIVED, Covariate, build_covariate, build_covariates, choose_covariates
from .cutpoint import DEFAULT_MINPROP
from .inputs import (Exclusions, endpoints, is_simulated, match_tables, read_clinical, read_lesions,
                     time_unit_warnings)
from .lesion_level import VOLUME_SUBGROUPS_ML, analyse_lesions, spearman
from .model_choices import model_choices
from .multivariate import backward_stepwise, strip_model, univariate
from .nomogram import nomogram_model, plot_nomogram, risk_profiles
from .minimums import MIN_PATIENTS, survival_shortfall
from .patient_level import (CUTOFF_ENDPOINT, PRIMARY_METRIC, analyse_patients, analysed_endpoints, patient_metrics,
                            pd_prediction, progressive_disease_definition, progressive_disease_truth)
from .report_text import ReportFigure, label, term_label
from .small_groups import (MIN_EVENTS, MIN_LESIONS_PER_CLASS, MIN_PATIENTS_PER_GROUP, auc_is_small,
                           comparison_is_small)
from .study import analyse_study, make_study_figures, study_figure_section, study_table_rows
from .survival import fit_cox

DEFAULT_SEED = 20220101
DEFAULT_MIN_VOLUME_ML = 1.0
"""Patient metrics use lesions larger than this (mL), as the melanoma study."""
RESULTS_NAME = "results.json"  # also what marks a folder as an earlier output (output_paths.check_output_folder)
ENDPOINT_NAMES = {"os": "overall survival", "pfs": "progression-free survival"}


def resolve_reference_cutoff(lesions: pd.DataFrame, cutoff: "float | None", lesions_path) -> tuple[float, str]:
    """The reference cut-off and where it came from: the user's value, else the rows' signature file."""
    if cutoff is not None:
        if not math.isfinite(cutoff):
            raise InputError("must be a finite number", None, "--reference-cutoff")
        return float(cutoff), "given by the user (--reference-cutoff)"
    names = sorted(set(lesions["signature_name"]) - {""})
    if not names:
        raise InputError("the rows name no signature (signature_name is empty); give --reference-cutoff",
                         lesions_path, "signature_name")
    from CD8RScoreLib.signature import find_signature, load_signature

    path = find_signature(names[0])
    if path is None:
        raise InputError(f"signature {names[0]!r} is not in CD8RScore/Resources/Signatures, so its reference "
                         "cut-off is unknown; give --reference-cutoff", lesions_path, "signature_name")
    sig = load_signature(path)
    return float(sig.reference_cutoff), f"signature {names[0]}: {sig.reference_cutoff_source}"


def add_cutoff_texts(results: dict, lesions: pd.DataFrame, data: pd.DataFrame) -> None:
    """Write beside each cut-off of ``results`` the text every table, title and label prints for it: the
    decimals at which no score or metric it splits prints as the cut-off itself (number_format.cutoff_text)."""
    from CD8RScoreLib.number_format import cutoff_text

    settings = results["settings"]
    scores = list(lesions.loc[lesions["computable"] == 1, "score"]) + [
        v for m in ("min", "max", "mean") for v in data[f"score_{m}"]]
    settings["reference_cutoff_text"] = cutoff_text(settings["reference_cutoff"], scores)
    results["lesion_level"]["reference_cutoff"]["cutoff_text"] = settings["reference_cutoff_text"]
    pl = results["patient_level"]
    for endpoint in analysed_endpoints(results):
        for metric, block in pl[endpoint]["optimised_cutoff_by_metric"].items():
            if block.get("cutoff") is not None:
                block["cutoff_text"] = cutoff_text(block["cutoff"], data[f"score_{metric}"])
        opt = pl[endpoint]["optimised_cutoff"]
        if opt.get("cutoff") is not None:
            opt["cutoff_text"] = cutoff_text(opt["cutoff"], data[f"score_{PRIMARY_METRIC}"])
    whole = results.get("study", {}).get("whole_cohort", {})
    if whole.get("three_groups_cutoff") is not None:
        whole["three_groups_cutoff_text"] = cutoff_text(whole["three_groups_cutoff"], data[f"score_{PRIMARY_METRIC}"])
    pd_block = pl.get("progressive_disease_prediction") or {}
    if pd_block.get("cutoff") is not None:
        pd_block["cutoff_text"] = cutoff_text(pd_block["cutoff"], data[f"score_{PRIMARY_METRIC}"])


def jsonable(obj):
    """Plain-JSON copy: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def _score_covariates(data: pd.DataFrame, cutoff: "float | None", endpoint: str) -> list[Covariate]:
    """Score-derived candidates: minimum score high at the endpoint's optimised cut-off; number of lesions."""
    idx = data.set_index("patient_id")
    covs = []
    if cutoff is not None:
        x = idx[f"score_{PRIMARY_METRIC}"]
        term = (x > cutoff).astype(float).where(np.isfinite(x))
        covs.append(Covariate("min_score_optimised", "optimised_cutoff",  # applied to all patients
                              f"minimum score > {cutoff:.4g} (optimised on {endpoint.upper()} training set)",
                              term.to_frame(f"min score > {cutoff:.4g}")))
    n = idx["n_lesions"].astype(str).where(idx["n_lesions"].notna())
    covs.append(build_covariate("n_lesions", n))
    return covs


def _write_table(path: Path, rows: list[dict]) -> None:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    flat = [{k: (json.dumps(jsonable(v)) if isinstance(v, (list, dict)) else v) for k, v in r.items()}
            for r in rows]
    write_csv(path, flat, columns or ["empty"])


def _multivariate_rows_flat(terms: list[dict]) -> list[dict]:
    out = []
    for t in terms:
        ci = t["ci95"] or [None, None]  # not estimable
        out.append({"term": t["term"], "hr": t["hr"], "ci_low": ci[0], "ci_high": ci[1], "p_wald": t["p_wald"],
                    "coef": t["coef"], "se": t["se"], "note": t.get("note", "")})
    return out


def _univariate_rows_flat(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        if not r["terms"]:
            out.append({"variable": r["variable"], "definition": r["definition"], "term": "", "n": r.get("n"),
                        "events": r.get("events"), "hr": None, "ci_low": None, "ci_high": None, "p_wald": None,
                        "p_variable": r.get("p"), "note": r.get("note", "")})
        for t in r["terms"]:
            ci = t.get("ci95") or [None, None]  # not estimable (e.g. a term that separates the outcome)
            out.append({"variable": r["variable"], "definition": r["definition"], "term": t["term"],
                        "n": r["n"], "events": r["events"], "hr": t["hr"], "ci_low": ci[0],
                        "ci_high": ci[1], "p_wald": t["p_wald"], "p_variable": r["p"], "note": t.get("note", "")})
    return out


def run_cohort(lesions_path, clinical_path, out_dir, seed: int = DEFAULT_SEED,
               reference_cutoff: "float | None" = None, min_volume_ml: float = DEFAULT_MIN_VOLUME_ML,
               minprop: float = DEFAULT_MINPROP, make_figures: bool = True,
               reference_cutoff_source: "str | None" = None, command: "str | None" = None,
               covariates: "list[str] | None" = None) -> dict:
    """Run every analysis and write DIR/results.json, DIR/report.html, DIR/*.csv and DIR/*.png; DIR is replaced
    whole or, if anything fails, left as it was (a DIR holding files of something else is refused).

    Times are in months, volumes in mL. ``reference_cutoff_source`` says where a given ``reference_cutoff`` came
    from (default: the user); ``command`` is the command line the report names. ``covariates``: the clinical
    columns to use as covariates (None: the recognised names, covariates.RECOGNISED_NAMES). An analysis the data
    cannot support (no PFS columns, a cohort below the minimums of minimums.py) is not run and is listed with its
    reason in ``not_run``. Returns the results dictionary (as written to results.json).
    """
    out_dir = Path(out_dir)
    check_output_folder(out_dir, RESULTS_NAME)
    if not (min_volume_ml >= 0):
        raise InputError("must be >= 0 (mL)", None, "--min-volume-ml")
    lesions = read_lesions(lesions_path)
    clinical, candidate_columns = read_clinical(clinical_path)
    chosen, not_used = choose_covariates(candidate_columns, covariates, clinical_path)
    cutoff, cutoff_source = resolve_reference_cutoff(lesions, reference_cutoff, lesions_path)
    if reference_cutoff is not None and reference_cutoff_source:
        cutoff_source = reference_cutoff_source
    exclusions = Exclusions()
    match_tables(lesions, clinical, exclusions, lesions_path, clinical_path)
    signature_name = next((s for s in lesions["signature_name"] if s), "")
    signature_status = next((s for s in lesions["signature_status"] if s), "")

    lesion_block, resp = analyse_lesions(lesions, cutoff, exclusions)
    data = patient_metrics(lesions, clinical, min_volume_ml, exclusions)
    if not (data["n_lesions_considered"] > 0).any():
        raise InputError(f"no patient has a computable baseline lesion larger than {min_volume_ml:g} mL, so there "
                         "is no patient metric to analyse; give a lower value", None, "--min-volume-ml")
    not_run = []
    if "pfs" not in endpoints(clinical):
        not_run.append({"analysis": "progression-free survival: every PFS analysis (Kaplan-Meier and Cox models "
                                    "by score, whole-cohort PFS of figures S2 and S4, the three groups of figure 4E, "
                                    "univariate, multivariate and AIC-selected models)",
                        "reason": "the clinical table has no pfs_time and pfs_event columns"})
    eligible = data[data["n_lesions_considered"] > 0]
    analysed = []
    for endpoint in endpoints(clinical):
        too_few = survival_shortfall(eligible, endpoint, min_volume_ml)
        if too_few:
            not_run.append({"analysis": f"{ENDPOINT_NAMES[endpoint]}: Kaplan-Meier and Cox models by score, "
                                        "optimised cut-offs, whole-cohort survival and the three groups "
                                        f"(figures S2, S4, 4{'D' if endpoint == 'os' else 'E'}), univariate, "
                                        "multivariate, AIC-selected and forced-variable models",
                            "reason": too_few})
        else:
            analysed.append(endpoint)
    analysed = tuple(analysed)
    survival_blocks, split = analyse_patients(data, cutoff, seed, minprop, analysed)
    data["split"] = split.reindex(data.index).fillna("")
    opt_os = survival_blocks[CUTOFF_ENDPOINT]["optimised_cutoff"].get("cutoff") \
        if CUTOFF_ENDPOINT in survival_blocks else None
    study = analyse_study(data, lesions, resp, opt_os, analysed, min_volume_ml, cutoff, list(chosen))
    for column, values in study.patient_columns.items():
        data[column] = values

    for covariate in study.covariates:  # organ sites, RMH and GRIm scores
        covariate.origin = covariate.origin or DERIVED
    clinical_covs = build_covariates(data, chosen) + study.covariates
    univariate_rows, multivariate_results = {}, {}
    for endpoint in analysed:
        covs = clinical_covs + _score_covariates(data, opt_os, CUTOFF_ENDPOINT)
        univariate_rows[endpoint] = univariate(data, endpoint, covs)
        multivariate_results[endpoint] = backward_stepwise(data, endpoint, covs, univariate_rows[endpoint])
        study.block.setdefault("model_choices", {})[endpoint] = model_choices(
            data, endpoint, covs, univariate_rows[endpoint],
            [v["variable"] for v in multivariate_results[endpoint]["variables"]], cutoff)

    pd_truth = progressive_disease_truth(lesions, resp, clinical)
    n_pd_known = int(np.isfinite(pd_truth.reindex(data["patient_id"]).to_numpy()).sum())
    pd_block = None
    if n_pd_known < MIN_PATIENTS:
        not_run.append({"analysis": "prediction of progressive disease at E1",
                        "reason": f"{n_pd_known} patient(s) with a known progressive-disease status at E1; the "
                                  f"prediction needs at least {MIN_PATIENTS}"})
    elif opt_os is not None:
        pd_block = pd_prediction(data, pd_truth, opt_os, "optimised cut-off of the minimum score (OS "
                                 "training set); low = minimum <= cut-off", exclusions)
    else:
        pd_block = pd_prediction(data, pd_truth, cutoff,
                                 "reference cut-off (no optimised cut-off); low = minimum < cut-off", exclusions,
                                 strict=True)
    if pd_block is not None:
        pd_block["pd_definition"] = progressive_disease_definition(clinical)
        pd_block["reference_cutoff"] = pd_prediction(data, pd_truth, cutoff,
                                                      "reference cut-off; low = minimum < cut-off", exclusions,
                                                      record_exclusions=False, strict=True)

    if "os" in analysed:
        nomogram_block, profiles, nomogram_cph = _nomogram(data, multivariate_results["os"], opt_os)
    else:
        nomogram_block, profiles, nomogram_cph = {"available": False, "note": "not run: the overall survival "
                                                  "analyses were not run"}, [], None
        not_run.append({"analysis": "nomogram of 12- and 24-month overall survival",
                        "reason": "the overall survival analyses were not run"})

    results = {
        "notice": RESEARCH_USE_NOTICE,
        "signature_name": signature_name,
        "signature_status": signature_status,
        "simulated": is_simulated(clinical),
        "software": {"package": "CD8RScoreCohortLib", "version": __version__},
        "provenance": provenance({"Lesion table": Path(lesions_path), "Clinical table": Path(clinical_path)},
                                 command or f"Python: run_cohort({str(lesions_path)!r}, {str(clinical_path)!r}, "
                                            f"{str(out_dir)!r}, seed={seed}, reference_cutoff={reference_cutoff!r}, "
                                            f"min_volume_ml={min_volume_ml!r}, minprop={minprop!r})"),
        "settings": {"seed": seed, "min_volume_ml": min_volume_ml, "reference_cutoff": cutoff,
                     "reference_cutoff_source": cutoff_source, "minprop": minprop,
                     "maxprop": 1 - minprop, "auc_direction": "> (progressive lesions have lower scores)",
                     "hr_convention": "high vs low (HR < 1: high value, longer survival)",
                     "time_unit": "months", "lesions": str(lesions_path), "clinical": str(clinical_path)},
        "counts": {"patients_clinical": int(len(clinical)),
                   "patients_lesion_table": int(lesions["patient_id"].nunique()),
                   "patients_analysed": int(len(data)),
                   "patients_with_lesion_gt_min_volume": int((data["n_lesions_considered"] > 0).sum()),
                   "patients_with_e1": int(lesions.loc[lesions["timepoint"] == "E1", "patient_id"].nunique()),
                   "lesion_rows": int(len(lesions)),
                   "lesions_e0": int((lesions["timepoint"] == "E0").sum()),
                   "lesions_e1": int((lesions["timepoint"] == "E1").sum()),
                   "lesions_not_computable": int((lesions["computable"] == 0).sum()),
                   "lesions_class_unstable_under_perturbation": int(lesions["class_unstable"].sum()),
                   "train": int((data["split"] == "train").sum()), "test": int((data["split"] == "test").sum())},
        "plausibility_warnings": time_unit_warnings(clinical),
        "exclusions": exclusions.to_list(),
        "not_run": not_run,
        "covariates": {"used": [c.describe() for c in clinical_covs], "not_used": not_used,
                       "selection": "the columns named with --covariates" if covariates is not None else
                       "the recognised names present; name other columns with --covariates"},
        "lesion_level": lesion_block,
        "patient_level": {
            **survival_blocks,
            "univariate": univariate_rows,
            "multivariate": {e: multivariate_results[e]["terms"] for e in analysed},
            "multivariate_selection": {e: strip_model(multivariate_results[e]) for e in analysed},
            **({"progressive_disease_prediction": pd_block} if pd_block is not None else {}),
            "spearman_min_score_vs_n_lesions_gt_min_volume": spearman(
                data.loc[data["n_lesions_considered"] > 0, f"score_{PRIMARY_METRIC}"],
                data.loc[data["n_lesions_considered"] > 0, "n_lesions_considered"]),
            "nomogram": nomogram_block,
        },
        "study": study.block,
    }
    results = jsonable(results)
    add_cutoff_texts(results, lesions, data)

    # written in a new folder that takes out_dir's place at the end: a failure half-way leaves an earlier output
    # folder as it was (inside the block, out_dir names the new folder)
    with replaced_whole(out_dir) as out_dir, literal_text():  # labels hold users' names: no mathtext
        tables = _write_tables(out_dir, results, resp, data, univariate_rows, multivariate_results, profiles,
                               exclusions)
        for name, rows in {**study.tables, **study_table_rows(results["study"])}.items():
            _write_table(out_dir / name, jsonable(rows))
            tables.append(name)
        figures = _make_figures(out_dir, results, lesions, resp, data, univariate_rows, nomogram_cph,
                                nomogram_block) if make_figures else []
        if make_figures:
            captions = make_study_figures(out_dir, results, data, " - SIMULATED DATA" if results["simulated"] else "")
            # the whole-cohort figures go under their endpoint's whole-cohort table, the panels with theirs
            figures += [ReportFigure(name, caption, study_figure_section(name)) for name, caption in captions.items()]
        results["files"] = {"tables": tables, "figures": [f.file for f in figures],
                            "figure_captions": {f.file: f.caption for f in figures}}
        atomic_write_text(out_dir / RESULTS_NAME, json.dumps(results, indent=2, allow_nan=False))
        from .report import build_report

        atomic_write_text(out_dir / "report.html", build_report(results, figures, out_dir))
    return results


def _nomogram(data: pd.DataFrame, multivariate_os: dict, opt_cut: "float | None"):
    """Nomogram from the final multivariate OS model, else from the optimised minimum score alone."""
    cph = multivariate_os.get("model")
    groups = {v["variable"]: v["terms"] for v in multivariate_os.get("variables", [])} or None
    source = "final multivariate OS model"
    if cph is None:
        if opt_cut is None:
            return {"available": False, "note": "no multivariate OS model and no optimised cut-off"}, [], None
        d = data[np.isfinite(data[f"score_{PRIMARY_METRIC}"])]
        design = pd.DataFrame({"time": d["os_time"].to_numpy(), "event": d["os_event"].to_numpy(),
                               f"min score > {opt_cut:.4g}": (d[f"score_{PRIMARY_METRIC}"] > opt_cut)
                               .astype(float).to_numpy()})
        term = design.columns[2]
        if design.groupby(term)["event"].sum().min() == 0 or design[term].nunique() < 2:
            return {"available": False, "note": "the minimum score groups cannot support a Cox model"}, [], None
        try:
            cph = fit_cox(design, "time", "event")
        except Exception as exc:  # lifelines ConvergenceError
            return {"available": False, "note": f"the minimum-score Cox model did not converge: {exc}"}, [], None
        source = "minimum score at the optimised cut-off (no variable stayed in the multivariate OS model)"
        groups = None
    model = nomogram_model(cph, groups=groups)
    profiles = risk_profiles(cph, model)
    block = {"available": True, "source": source, **model, "profiles": profiles}
    return block, profiles, cph


def _write_tables(out_dir: Path, results: dict, resp: pd.DataFrame, data: pd.DataFrame, univariate_rows: dict,
                  multivariate_results: dict, profiles: list[dict], exclusions: Exclusions) -> list[str]:
    written = []

    def save(name: str, rows: list[dict]) -> None:
        _write_table(out_dir / name, rows)
        written.append(name)

    resp_cols = ["patient_id", "lesion_id", "location", "volume_ml", "diameter_e0_mm", "diameter_e1_mm",
                 "short_axis_e0_mm", "short_axis_e1_mm",
                 "volume_e1_ml", "diameter_change_pct", "volume_change_pct", "response", "progression",
                 "computable", "score", "score_class", "score_e1"]
    save("lesion_response.csv", jsonable(resp[resp_cols].to_dict("records")))
    keep = [c for c in data.columns if c != "row"]
    save("patient_metrics.csv", jsonable(data[keep].to_dict("records")))
    auc_rows = []
    pa = results["lesion_level"]["progression_auc"]
    for subgroup in ["all", *VOLUME_SUBGROUPS_ML]:
        auc_rows.append({"location": "all", "subgroup": subgroup, **_auc_flat(pa[subgroup])})
    for loc, block in pa["by_location"].items():
        auc_rows.append({"location": loc, "subgroup": "all", **_auc_flat(block)})
        for subgroup in VOLUME_SUBGROUPS_ML:
            auc_rows.append({"location": loc, "subgroup": subgroup, **_auc_flat(block[subgroup])})
    save("auc_progression.csv", auc_rows)
    km_rows = []
    analysed = analysed_endpoints(results)
    for endpoint in analysed:
        block = results["patient_level"][endpoint]
        for key, value in block.items():
            if key.endswith("_reference_cutoff"):
                km_rows.append({"endpoint": endpoint, "metric": key[:-len("_reference_cutoff")],
                                "cutoff_kind": "reference", "set": "all", "cutoff": value.get("cutoff"),
                                **_cox_flat(value)})
        for metric, opt in block["optimised_cutoff_by_metric"].items():
            for part in ("train", "test", "all"):
                if opt.get(part):
                    km_rows.append({"endpoint": endpoint, "metric": metric, "cutoff_kind": "optimised",
                                    "set": part, "cutoff": opt.get("cutoff"), **_cox_flat(opt[part])})
    save("cox_score_metrics.csv", km_rows)
    for endpoint in analysed:
        save(f"univariate_cox_{endpoint}.csv", jsonable(_univariate_rows_flat(univariate_rows[endpoint])))
        save(f"multivariate_cox_{endpoint}.csv",
             jsonable(_multivariate_rows_flat(multivariate_results[endpoint]["terms"])))
    if profiles:
        save("nomogram_profiles.csv", jsonable(profiles))
    save("exclusions.csv", [{"table": e["table"], "reason": e["reason"], "count": e["count"],
                             "ids_listed": " ".join(e["ids"])} for e in exclusions.to_list()])
    return written


def _auc_flat(block: dict) -> dict:
    ci = block.get("ci95") or [None, None]
    return {"n": block["n"], "n_progressive": block["n_progressive"], "auc": block["auc"], "ci_low": ci[0],
            "ci_high": ci[1], "p": block["p"], "note": block.get("note", "")}


def _cox_flat(block: dict) -> dict:
    ci = block.get("ci95") or [None, None]
    return {"n": block["n"], "n_high": block["n_high"], "n_low": block["n_low"],
            "events_high": block["events_high"], "events_low": block["events_low"], "hr": block["hr"],
            "ci_low": ci[0], "ci_high": ci[1], "p_wald": block["p_wald"], "p_logrank": block["p_logrank"],
            "median_high": block["median_high"], "median_low": block["median_low"], "note": block["note"]}


def _make_figures(out_dir: Path, results: dict, lesions: pd.DataFrame, resp: pd.DataFrame, data: pd.DataFrame,
                  univariate_rows: dict, nomogram_cph, nomogram_block: dict) -> list[ReportFigure]:
    """Draw the report's figures; each comes with a caption saying what it shows, on which patients or lesions,
    at which cut-off and with which test."""
    from . import plots

    figures: list[ReportFigure] = []
    sim_title = " - SIMULATED DATA" if results["simulated"] else ""
    sim_caption = " Simulated data, not patients." if results["simulated"] else ""
    settings = results["settings"]
    cutoff, ref = settings["reference_cutoff"], settings["reference_cutoff_text"]
    min_ml = nf.estimate(settings["min_volume_ml"])
    eligible = data[data["n_lesions_considered"] > 0]
    scores_of = (f"Scores: signature {results['signature_name']} ({results['signature_status']}).")
    analysed = analysed_endpoints(results)
    for endpoint in analysed:
        name = ENDPOINT_NAMES[endpoint]
        t, e = eligible[f"{endpoint}_time"], eligible[f"{endpoint}_event"]
        block = results["patient_level"][endpoint]["min_reference_cutoff"]
        file = f"km_{endpoint}_min_reference_cutoff.png"
        plots.km_plot(t, e, eligible["score_min"] >= cutoff,
                      f"{name.capitalize()}: minimum score at the reference cut-off {ref}{sim_title}",
                      out_dir / file, note=_hr_text(block), small_groups=MIN_PATIENTS_PER_GROUP)
        figures.append(ReportFigure(file, (
            f"Kaplan-Meier estimates of {name} of the {len(eligible)} patients with a computable baseline lesion > "
            f"{min_ml} mL, by their minimum lesion score at the reference cut-off {ref} "
            f"({settings['reference_cutoff_source']}): high ≥ {ref}, low < {ref}; numbers at risk below the axis. "
            f"HR high vs low from a Cox model (Wald p) and log-rank p. {scores_of}{sim_caption}"), endpoint))
        opt = results["patient_level"][endpoint]["optimised_cutoff"]
        if opt.get("cutoff") is not None and opt.get("test"):
            test = eligible[eligible["split"] == "test"]
            file = f"km_{endpoint}_min_optimised_test.png"
            plots.km_plot(test[f"{endpoint}_time"], test[f"{endpoint}_event"], test["score_min"] > opt["cutoff"],
                          f"{name.capitalize()}, test set: minimum score at the optimised cut-off "
                          f"{opt['cutoff_text']}{sim_title}", out_dir / file, note=_hr_text(opt["test"]),
                          small_groups=MIN_PATIENTS_PER_GROUP)
            figures.append(ReportFigure(file, (
                f"Kaplan-Meier estimates of {name} of the {len(test)} test-set patients (the third of the eligible "
                f"patients held out, seed {settings['seed']}), by their minimum lesion score at the cut-off "
                f"{opt['cutoff_text']} chosen on the {label(opt.get('cutoff_endpoint', endpoint))} of the "
                f"{opt['n_train']} training patients by the maximally selected log-rank statistic (minprop "
                f"{nf.estimate(settings['minprop'])}): high > {opt['cutoff_text']}, "
                f"low ≤ {opt['cutoff_text']}; numbers at risk below the axis. HR high vs low from a Cox model "
                f"(Wald p) and log-rank p on the test set. {scores_of}{sim_caption}"), endpoint))
    usable = resp[(resp["computable"] == 1) & resp["progression"].notna()]
    pa = results["lesion_level"]["progression_auc"]
    curves = [("all lesions", usable["score"].to_numpy(), usable["progression"].to_numpy() == 1, pa["all"]["auc"],
               auc_is_small(pa["all"]))]
    for key, thr in VOLUME_SUBGROUPS_ML.items():
        sub = usable[usable["volume_ml"] > thr]
        curves.append((f"> {thr:g} mL", sub["score"].to_numpy(), sub["progression"].to_numpy() == 1,
                       pa[key]["auc"], auc_is_small(pa[key])))
    plots.roc_plot(curves, out_dir / "roc_progression.png", f"Lesion progression at E1 by baseline score{sim_title}")
    figures.append(ReportFigure("roc_progression.png", (
        f"ROC curves of the baseline lesion score for progression at E1 (longest diameter +20 %) of the "
        f"{len(usable)} lesions with a score and a response, all and above 0.5 and 1 mL; a low score calls "
        f"progression. AUCs with DeLong 95 % CIs and p in the table above. {scores_of}{sim_caption}"), "lesion"))
    loc_curves = []
    for loc, block in list(pa["by_location"].items())[:6]:
        sub = usable[usable["location"] == loc]
        if block["auc"] is not None:
            loc_curves.append((loc, sub["score"].to_numpy(), sub["progression"].to_numpy() == 1, block["auc"],
                               auc_is_small(block)))
    if loc_curves:
        plots.roc_plot(loc_curves, out_dir / "roc_progression_by_location.png",
                       f"Lesion progression at E1 by location{sim_title}")
        figures.append(ReportFigure("roc_progression_by_location.png", (
            f"ROC curves of the baseline lesion score for progression at E1, by location (the {len(loc_curves)} "
            f"locations with most lesions and an AUC). Grey dashed: fewer than {MIN_LESIONS_PER_CLASS} progressive "
            f"or {MIN_LESIONS_PER_CLASS} other lesions (read with caution). {scores_of}{sim_caption}"), "lesion"))
    for endpoint in analysed:
        rows = []
        block = results["patient_level"][endpoint]
        for metric in ("min", "max", "mean"):
            r = block[f"{metric}_reference_cutoff"]
            rows.append({"label": f"{label(metric)} ≥ {ref} (reference)", "hr": r["hr"], "ci95": r["ci95"],
                         "p": r["p_wald"], "small": comparison_is_small(r)})
        for metric, opt in block["optimised_cutoff_by_metric"].items():
            if opt.get("test"):
                r = opt["test"]
                rows.append({"label": f"{label(metric)} > {opt['cutoff_text']} (optimised, test set)",
                             "hr": r["hr"], "ci95": r["ci95"], "p": r["p_wald"], "small": comparison_is_small(r)})
        for u in univariate_rows[endpoint]:
            for term in u["terms"]:
                rows.append({"label": term_label(term["term"]), "hr": term["hr"], "ci95": term["ci95"],
                             "p": term["p_wald"]})
        file = f"forest_{endpoint}.png"
        plots.forest_plot(rows, out_dir / file, f"Univariate hazard ratios, {ENDPOINT_NAMES[endpoint]}{sim_title}")
        figures.append(ReportFigure(file, (
            f"Univariate Cox hazard ratios for {ENDPOINT_NAMES[endpoint]} with 95 % CIs and Wald p, log scale: score "
            f"metrics high vs low at the reference cut-off {ref} (patients with a computable lesion > {min_ml} mL), "
            f"at each metric's optimised cut-off on the test set, and the covariates (level named vs the rest). "
            f"Grey hollow: a group under {MIN_PATIENTS_PER_GROUP} patients or under {MIN_EVENTS} events. Rows "
            f"whose HR is not estimable are left out (see the tables). {sim_caption}").rstrip(), endpoint))
    e0 = lesions[(lesions["timepoint"] == "E0") & (lesions["computable"] == 1)]
    order = e0["location"].value_counts().index
    groups = {str(loc): e0.loc[e0["location"] == loc, "score"].to_numpy() for loc in order}
    plots.score_by_location_plot(groups, cutoff, ref, out_dir / "score_by_location.png",
                                 f"Baseline lesion scores by location{sim_title}", small_below=MIN_LESIONS_PER_CLASS)
    figures.append(ReportFigure("score_by_location.png", (
        f"Scores of the {len(e0)} computable baseline lesions by location: box = median and interquartile range, "
        f"whiskers to 1.5 IQR, points beyond; dashed line: reference cut-off {ref}. Hatched grey: fewer than "
        f"{MIN_LESIONS_PER_CLASS} lesions. {scores_of}{sim_caption}"), "lesion"))
    if nomogram_block.get("available"):
        plot_nomogram(nomogram_block, out_dir / "nomogram_os.png",
                      f"Nomogram: 12- and 24-month overall survival{sim_title}")
        figures.append(ReportFigure("nomogram_os.png", (
            f"Nomogram of 12- and 24-month overall survival from the {nomogram_block['source']}: each variable's "
            f"level gives points, their total reads off the survival scales.{sim_caption}"), "nomogram"))
    return figures


def _hr_text(block: dict) -> str:
    if not block or block.get("hr") is None:
        return f"HR {nf.NOT_ESTIMABLE} ({(block or {}).get('note', '')})"
    return (f"HR high vs low {nf.estimate(block['hr'], 2)} (95 % CI {nf.ci(block['ci95'], 2)}), "
            f"Wald {nf.p_text(block['p_wald'])}; log-rank {nf.p_text(block['p_logrank'])}")
