"""The cohort analysis in Slicer's views: summary tables as vtkMRMLTableNodes, Kaplan-Meier and ROC curves as
plot series and chart nodes.

Qt-free: it takes the MRML scene as an argument and imports ``slicer`` (MRML classes) and ``vtk`` only, so it
runs on the PyPI package slicer-core as well as in the application. The numbers come from what ``run_cohort``
wrote to its output folder (results.json and the CSV tables); the curves are recomputed from the patient and
lesion tables with the package's own estimators (lifelines' Kaplan-Meier fit, ``roc.roc_curve``), on the same
groups as the report's figures. For research use only, not for clinical decisions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import vtk
from lifelines import KaplanMeierFitter

import slicer
from CD8RScoreLib.csv_cells import from_cell

from .lesion_level import VOLUME_SUBGROUPS_ML
from .patient_level import PRIMARY_METRIC, analysed_endpoints
from .roc import roc_curve

VIEW_ATTRIBUTE = "CD8RScoreCohort.View"
"""Node attribute naming what a node shows; ``remove_cohort_views`` removes the nodes that carry it."""
NODE_PREFIX = "CD8RScore cohort"
GROUP_COLOURS: dict[str, tuple[float, float, float]] = {
    "high": (0.122, 0.467, 0.706),  # matplotlib tab:blue, as the report's KM figures
    "low": (0.839, 0.153, 0.157),  # tab:red
}
ROC_COLOURS: list[tuple[float, float, float]] = [(0.122, 0.467, 0.706), (1.0, 0.498, 0.055),
                                                 (0.173, 0.627, 0.173)]
CHANCE_COLOUR = (0.5, 0.5, 0.5)
ENDPOINT_TITLES = {"os": "Overall survival", "pfs": "Progression-free survival"}
SUMMARY_TABLES: dict[str, tuple[str, str]] = {
    "auc": ("auc_progression.csv", "progression AUC by location and volume"),
    "hr": ("cox_score_metrics.csv", "hazard ratios of the score metrics"),
    "multivariate_os": ("multivariate_cox_os.csv", "multivariate Cox, OS"),
    "multivariate_pfs": ("multivariate_cox_pfs.csv", "multivariate Cox, PFS"),
}
"""Key -> (CSV written by run_cohort, node name suffix)."""

COLUMN_INFO: dict[str, tuple[str, str, str]] = {
    # column: (title, unit, description)
    "location": ("Location", "", "lesion location ('all' = every location)"),
    "subgroup": ("Lesions", "", "all lesions, or lesions larger than 0.5 / 1 mL at baseline"),
    "n": ("N", "", "number of lesions (AUC) or patients (HR) analysed"),
    "n_progressive": ("Progressive", "", "progressive lesions (the AUC's cases)"),
    "auc": ("AUC", "", "area under the ROC curve; > 0.5: progressive lesions have lower scores"),
    "ci_low": ("95% CI low", "", "lower bound of the 95 % confidence interval"),
    "ci_high": ("95% CI high", "", "upper bound of the 95 % confidence interval"),
    "p": ("p", "", "two-sided p (AUC: DeLong test of AUC = 0.5)"),
    "endpoint": ("Endpoint", "", "os = overall survival, pfs = progression-free survival"),
    "metric": ("Metric", "", "patient metric of the baseline lesion scores (min = least-infiltrated lesion)"),
    "cutoff_kind": ("Cut-off", "", "reference (signature) or optimised (maximally selected log-rank, training)"),
    "set": ("Set", "", "patients the HR is estimated on: all, train or test"),
    "cutoff": ("Cut-off value", "score", "value that splits the metric into high and low"),
    "n_high": ("N high", "", "patients in group high"),
    "n_low": ("N low", "", "patients in group low"),
    "events_high": ("Events high", "", "events in group high"),
    "events_low": ("Events low", "", "events in group low"),
    "hr": ("HR", "", "hazard ratio (high vs low for score metrics; HR < 1: longer survival)"),
    "p_wald": ("p (Wald)", "", "Wald test of the Cox coefficient"),
    "p_logrank": ("p (log-rank)", "", "log-rank test of high vs low"),
    "median_high": ("Median high", "months", "Kaplan-Meier median survival of group high"),
    "median_low": ("Median low", "months", "Kaplan-Meier median survival of group low"),
    "term": ("Term", "", "model term"),
    "coef": ("Coefficient", "", "Cox regression coefficient (log hazard ratio)"),
    "se": ("SE", "", "standard error of the coefficient"),
    "note": ("Note", "", "why a value is missing, if it is"),
    "quantity": ("Quantity", "", "what the row estimates"),
    "estimate": ("Estimate", "", "point estimate"),
    "detail": ("Detail", "", "counts, cut-off and rule behind the estimate"),
    "time": ("Time", "months", "time since baseline"),
    "survival": ("Survival", "", "Kaplan-Meier survival probability"),
    "fpr": ("1 - specificity", "", "false-positive rate"),
    "tpr": ("Sensitivity", "", "true-positive rate"),
}


@dataclass
class Curve:
    """One plotted line: x and y coordinates, its group (e.g. "high", "low", "all lesions") and its kind."""

    name: str
    group: str
    x: np.ndarray
    y: np.ndarray
    kind: str  # "km", "km_censored", "roc" or "chance"
    n: int = 0


@dataclass
class CohortViews:
    """The nodes made from one cohort analysis: summary tables, charts, and the series of each chart."""

    tables: dict[str, object] = field(default_factory=dict)
    charts: dict[str, object] = field(default_factory=dict)
    series: dict[str, list] = field(default_factory=dict)
    banner: str = ""


def banner_text(results: dict) -> str:
    """One line naming the signature and its status, and SIMULATED when the clinical data is simulated."""
    name = results.get("signature_name") or "unnamed signature"
    status = results.get("signature_status") or "status unknown"
    text = f"Signature: {name} ({status})"
    if results.get("simulated"):
        text += " - SIMULATED DATA"
    return text + ". " + (results.get("notice") or "For research use only, not for clinical decisions.")


def km_step_coordinates(time, event) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier curve as a step function (x, y), plus the censoring marks (x, y).

    Starts at (0, 1); every drop is drawn as a vertical segment at the event time; the last step runs to the
    last follow-up time. Times in months.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    kmf = KaplanMeierFitter().fit(time, event)
    surv = kmf.survival_function_.iloc[:, 0]
    xs, ys = [0.0], [1.0]
    for t, s in zip(surv.index.to_numpy(dtype=float), surv.to_numpy(dtype=float)):
        if s != ys[-1]:
            xs += [t, t]
            ys += [ys[-1], s]
    if time.size and time.max() > xs[-1]:
        xs.append(float(time.max()))
        ys.append(ys[-1])
    table = kmf.event_table
    censored_times = table.index[table["censored"] > 0].to_numpy(dtype=float)
    censored_surv = kmf.survival_function_at_times(censored_times).to_numpy(dtype=float)
    return np.array(xs), np.array(ys), censored_times, censored_surv


def km_curves(patients: pd.DataFrame, results: dict) -> dict[str, list[Curve]]:
    """KM curves of the minimum score per endpoint: reference cut-off (all patients with the metric,
    high = metric >= cut-off) and optimised cut-off on the test set (high = metric > cut-off), as the report.

    Keys: "<endpoint>_<metric>_reference_cutoff" and "<endpoint>_<metric>_optimised_test".
    """
    col = f"score_{PRIMARY_METRIC}"
    eligible = patients[np.isfinite(patients[col].astype(float))]
    reference = results["settings"]["reference_cutoff"]
    out: dict[str, list[Curve]] = {}
    for endpoint in analysed_endpoints(results):
        out[f"{endpoint}_{PRIMARY_METRIC}_reference_cutoff"] = _group_curves(
            eligible, endpoint, eligible[col] >= reference)
        opt = results["patient_level"][endpoint]["optimised_cutoff"]
        if opt.get("cutoff") is not None and opt.get("test"):
            test = eligible[eligible["split"] == "test"]
            out[f"{endpoint}_{PRIMARY_METRIC}_optimised_test"] = _group_curves(
                test, endpoint, test[col] > opt["cutoff"])
    return out


def _group_curves(frame: pd.DataFrame, endpoint: str, high: pd.Series) -> list[Curve]:
    curves = []
    for group, mask in (("high", high.to_numpy(dtype=bool)), ("low", ~high.to_numpy(dtype=bool))):
        if not mask.any():
            continue
        t = frame[f"{endpoint}_time"].to_numpy(dtype=float)[mask]
        e = frame[f"{endpoint}_event"].to_numpy(dtype=float)[mask]
        x, y, cx, cy = km_step_coordinates(t, e)
        n = int(mask.sum())
        curves.append(Curve(f"{group} (n={n})", group, x, y, "km", n))
        if cx.size:
            curves.append(Curve(f"{group} censored", group, cx, cy, "km_censored", n))
    return curves


def roc_curves(lesion_response: pd.DataFrame, results: dict) -> list[Curve]:
    """ROC curves of lesion progression by baseline score: all lesions, > 0.5 mL and > 1 mL (direction ">"),
    and the chance diagonal. Points are joined by straight lines, so the area under the drawn curve is the AUC.
    """
    usable = lesion_response[(lesion_response["computable"] == 1) & lesion_response["progression"].notna()]
    auc = results["lesion_level"]["progression_auc"]
    subsets = [("all lesions", "all", usable)]
    for key, threshold_ml in VOLUME_SUBGROUPS_ML.items():
        subsets.append((f"> {threshold_ml:g} mL", key, usable[usable["volume_ml"] > threshold_ml]))
    curves = []
    for label, key, frame in subsets:
        value = auc[key]["auc"]
        if value is None:
            continue
        fpr, tpr = roc_curve(frame["score"].to_numpy(dtype=float), frame["progression"].to_numpy() == 1,
                             direction=">")
        curves.append(Curve(f"{label} (AUC {value:.2f})", label, fpr, tpr, "roc", int(len(frame))))
    curves.append(Curve("chance", "chance", np.array([0.0, 1.0]), np.array([0.0, 1.0]), "chance"))
    return curves


def _column_is_numeric(values: pd.Series) -> bool:
    filled = values[values != ""]
    if filled.empty:
        return False
    try:
        filled.astype(float)
    except ValueError:
        return False
    return True


def _describe_column(table_node, name: str) -> None:
    title, unit, description = COLUMN_INFO.get(name, (name, "", ""))
    table_node.SetColumnTitle(name, title)
    if unit:
        table_node.SetColumnUnitLabel(name, unit)
    if description:
        table_node.SetColumnDescription(name, description)


def table_node_from_frame(scene, name: str, frame: pd.DataFrame, view: str):
    """A vtkMRMLTableNode with one column per frame column: numbers as double (NaN = missing), else text."""
    node = scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    node.SetAttribute(VIEW_ATTRIBUTE, view)
    was_modifying = node.StartModify()
    for column in frame.columns:
        values = frame[column]
        as_text = values.fillna("").astype(str) if values.dtype == object else None
        if as_text is None or _column_is_numeric(as_text):
            array = vtk.vtkDoubleArray()
            numbers = pd.to_numeric(values.replace("", np.nan), errors="coerce").to_numpy(dtype=float)
            for v in numbers:
                array.InsertNextValue(float(v))
        else:
            array = vtk.vtkStringArray()
            for v in as_text:
                array.InsertNextValue(v)
        array.SetName(str(column))
        node.AddColumn(array)
        _describe_column(node, str(column))
    node.SetUseColumnTitleAsColumnHeader(True)
    node.EndModify(was_modifying)
    return node


def read_output_csv(path: Path) -> pd.DataFrame:
    """A CSV of run_cohort's output folder as text (empty = missing), leaving the typing to the table node; cells
    written with the formula guard read back as their values (csv_cells.from_cell)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).map(from_cell)
    frame.columns = [from_cell(str(c)) for c in frame.columns]
    return frame


def overview_rows(results: dict) -> pd.DataFrame:
    """Odds ratio of progression at the reference cut-off, optimised cut-offs with their HR on the test set,
    and the prediction of progressive disease (sensitivity, specificity, PPV, NPV with exact 95 % CIs)."""
    rows = []
    ref = results["lesion_level"]["reference_cutoff"]
    ci = ref.get("ci95") or [None, None]
    rows.append({"quantity": "odds ratio of progression, low vs high lesion score (reference cut-off)",
                 "estimate": ref.get("odds_ratio"), "ci_low": ci[0], "ci_high": ci[1], "p": ref.get("p_fisher"),
                 "detail": f"cut-off {ref.get('cutoff')}; {ref.get('n_low')} low, {ref.get('n_high')} high lesions;"
                           " Fisher exact p"})
    for endpoint in analysed_endpoints(results):
        opt = results["patient_level"][endpoint]["optimised_cutoff"]
        if opt.get("cutoff") is None:
            rows.append({"quantity": f"optimised cut-off of the {opt['metric']} score, {endpoint.upper()}",
                         "detail": opt.get("note", "")})
            continue
        found_on = opt.get("cutoff_endpoint", endpoint)
        rows.append({"quantity": f"optimised cut-off of the {opt['metric']} score, {found_on.upper()} training set",
                     "estimate": opt["cutoff"], "p": opt.get("p_value_lausen_schumacher"),
                     "detail": f"maximally selected log-rank, {opt['n_train']} training patients; "
                               "p corrected for the cut-point search (Lausen-Schumacher)" if found_on == endpoint
                     else f"found on {found_on.upper()}, applied to {endpoint.upper()} (as the melanoma study)"})
        test = opt.get("test") or {}
        ci = test.get("ci95") or [None, None]
        rows.append({"quantity": f"HR high vs low at the optimised cut-off, {endpoint.upper()} test set",
                     "estimate": test.get("hr"), "ci_low": ci[0], "ci_high": ci[1], "p": test.get("p_wald"),
                     "detail": f"{test.get('n_high')} high, {test.get('n_low')} low; Wald p. {test.get('note', '')}"
                     .strip()})
    pd_block = results["patient_level"].get("progressive_disease_prediction") or {}
    for key in ("sensitivity", "specificity", "ppv", "npv") if pd_block else ():
        value = pd_block.get(key) or {}
        ci = value.get("ci95") or [None, None]
        rows.append({"quantity": f"{key} for progressive disease at E1", "estimate": value.get("estimate"),
                     "ci_low": ci[0], "ci_high": ci[1],
                     "detail": f"{value.get('k')}/{value.get('n')}; {pd_block.get('cutoff_source', '')}"})
    for item in results.get("not_run", []):
        rows.append({"quantity": f"not run: {item['analysis']}", "detail": item["reason"]})
    columns = ["quantity", "estimate", "ci_low", "ci_high", "p", "detail"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("quantity", "detail"):
        frame[col] = frame[col].fillna("").astype(str)
    for col in ("estimate", "ci_low", "ci_high", "p"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def add_summary_tables(scene, out_dir, results: dict) -> dict:
    """Table nodes of the summary: "overview", "auc", "hr", and "multivariate_os" / "_pfs" when a term stayed."""
    out_dir = Path(out_dir)
    tables = {"overview": table_node_from_frame(scene, f"{NODE_PREFIX}: overview", overview_rows(results),
                                                "table_overview")}
    for key, (file_name, title) in SUMMARY_TABLES.items():
        path = out_dir / file_name
        frame = read_output_csv(path) if path.is_file() else pd.DataFrame()
        if len(frame):  # e.g. no term stayed in a multivariate model: no table
            tables[key] = table_node_from_frame(scene, f"{NODE_PREFIX}: {title}", frame, f"table_{key}")
    note = banner_text(results)
    for node in tables.values():
        node.SetAttribute("CD8RScoreCohort.Signature", str(results.get("signature_name", "")))
        node.SetAttribute("CD8RScoreCohort.SignatureStatus", str(results.get("signature_status", "")))
        node.SetAttribute("CD8RScoreCohort.Simulated", "1" if results.get("simulated") else "0")
        node.SetAttribute("CD8RScoreCohort.Banner", note)
    return tables


def _series_for_curve(scene, chart_name: str, curve: Curve, x_name: str, y_name: str, colour):
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", f"{chart_name}: {curve.name}")
    table.SetAttribute(VIEW_ATTRIBUTE, f"curve_{curve.kind}")
    for name, values in ((x_name, curve.x), (y_name, curve.y)):
        array = vtk.vtkDoubleArray()
        array.SetName(name)
        for v in np.asarray(values, dtype=float):
            array.InsertNextValue(float(v))
        table.AddColumn(array)
        _describe_column(table, name)
    series = scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode", curve.name)  # the name is the legend entry
    series.SetAttribute(VIEW_ATTRIBUTE, f"series_{curve.kind}")
    series.SetAttribute("CD8RScoreCohort.Group", curve.group)
    series.SetAndObserveTableNodeID(table.GetID())
    series.SetXColumnName(x_name)
    series.SetYColumnName(y_name)
    series.SetPlotType(slicer.vtkMRMLPlotSeriesNode.PlotTypeScatter)
    series.SetColor(*colour)
    if curve.kind == "km_censored":
        series.SetLineStyle(slicer.vtkMRMLPlotSeriesNode.LineStyleNone)
        series.SetMarkerStyle(slicer.vtkMRMLPlotSeriesNode.MarkerStyleCross)
        series.SetMarkerSize(8)
    else:
        series.SetLineStyle(slicer.vtkMRMLPlotSeriesNode.LineStyleDash if curve.kind == "chance"
                            else slicer.vtkMRMLPlotSeriesNode.LineStyleSolid)
        series.SetMarkerStyle(slicer.vtkMRMLPlotSeriesNode.MarkerStyleNone)
        series.SetLineWidth(2 if curve.kind != "chance" else 1)
    return series


def add_chart(scene, title: str, curves: list[Curve], x_title: str, y_title: str, x_name: str, y_name: str,
              view: str, y_range: "tuple[float, float] | None" = None) -> tuple[object, list]:
    """A plot chart node with one series (and one two-column table node) per curve."""
    chart = scene.AddNewNodeByClass("vtkMRMLPlotChartNode", f"{NODE_PREFIX}: {title}")
    chart.SetAttribute(VIEW_ATTRIBUTE, view)
    chart.SetTitle(title)
    chart.SetXAxisTitle(x_title)
    chart.SetYAxisTitle(y_title)
    chart.SetLegendVisibility(True)
    if y_range is not None:
        chart.SetYAxisRangeAuto(False)
        chart.SetYAxisRange(*y_range)
    series_nodes = []
    roc_index = 0
    for curve in curves:
        if curve.kind in ("km", "km_censored"):
            colour = GROUP_COLOURS.get(curve.group, CHANCE_COLOUR)
        elif curve.kind == "roc":
            colour = ROC_COLOURS[roc_index % len(ROC_COLOURS)]
            roc_index += 1
        else:
            colour = CHANCE_COLOUR
        series = _series_for_curve(scene, title, curve, x_name, y_name, colour)
        chart.AddAndObservePlotSeriesNodeID(series.GetID())
        series_nodes.append(series)
    return chart, series_nodes


def add_curve_charts(scene, out_dir, results: dict) -> tuple[dict, dict]:
    """KM charts (per endpoint: reference cut-off, optimised cut-off on test) and the progression ROC chart."""
    out_dir = Path(out_dir)
    charts, series = {}, {}
    suffix = " - SIMULATED" if results.get("simulated") else ""
    patients = read_output_csv(out_dir / "patient_metrics.csv")
    for col in [f"{e}_{part}" for e in analysed_endpoints(results) for part in ("time", "event")] + [
            f"score_{PRIMARY_METRIC}"]:
        patients[col] = pd.to_numeric(patients[col].replace("", np.nan), errors="coerce")
    reference = results["settings"]["reference_cutoff"]
    for key, curves in km_curves(patients, results).items():
        endpoint = key.split("_")[0]
        if key.endswith("reference_cutoff"):
            title = f"{ENDPOINT_TITLES[endpoint]}: {PRIMARY_METRIC} score vs reference cut-off {reference:g}"
        else:
            cutoff = results["patient_level"][endpoint]["optimised_cutoff"]["cutoff"]
            title = f"{ENDPOINT_TITLES[endpoint]}, test set: {PRIMARY_METRIC} score vs optimised cut-off {cutoff:.4g}"
        charts[f"km_{key}"], series[f"km_{key}"] = add_chart(
            scene, title + suffix, curves, "Months", "Survival probability", "time", "survival", f"chart_km_{key}",
            y_range=(0.0, 1.02))
    lesions = read_output_csv(out_dir / "lesion_response.csv")
    for col in ("computable", "progression", "score", "volume_ml"):
        lesions[col] = pd.to_numeric(lesions[col].replace("", np.nan), errors="coerce")
    charts["roc_progression"], series["roc_progression"] = add_chart(
        scene, f"Lesion progression by baseline score{suffix}", roc_curves(lesions, results), "1 - specificity",
        "Sensitivity", "fpr", "tpr", "chart_roc_progression", y_range=(0.0, 1.0))
    return charts, series


def load_results(out_dir) -> dict:
    """results.json of an output folder."""
    path = Path(out_dir) / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the cohort analysis into this folder first")
    return json.loads(path.read_text(encoding="utf-8"))


def remove_cohort_views(scene) -> int:
    """Remove every node an earlier ``add_cohort_views`` made; returns how many."""
    doomed = []
    for class_name in ("vtkMRMLPlotChartNode", "vtkMRMLPlotSeriesNode", "vtkMRMLTableNode"):
        nodes = scene.GetNodesByClass(class_name)
        for i in range(nodes.GetNumberOfItems()):
            node = nodes.GetItemAsObject(i)
            if node.GetAttribute(VIEW_ATTRIBUTE):
                doomed.append(node)
    for node in doomed:
        scene.RemoveNode(node)
    return len(doomed)


def add_cohort_views(scene, out_dir, results: "dict | None" = None, replace: bool = True) -> CohortViews:
    """Summary table nodes and KM / ROC chart nodes of the analysis in ``out_dir`` (results.json read when
    ``results`` is None). With ``replace``, the nodes of an earlier call are removed first."""
    if results is None:
        results = load_results(out_dir)
    if replace:
        remove_cohort_views(scene)
    views = CohortViews(banner=banner_text(results))
    views.tables = add_summary_tables(scene, out_dir, results)
    views.charts, views.series = add_curve_charts(scene, out_dir, results)
    return views

