"""The cohort analysis in MRML (slicer-core, no application): summary table nodes hold the numbers of
results.json, Kaplan-Meier series are product-limit step functions, ROC series run from (0, 0) to (1, 1) with the
reported AUC as their area, and the chart nodes reference their series. Data: a 60-patient simulated cohort."""
import json
import math

import numpy as np
import pandas as pd
import pytest

slicer = pytest.importorskip("slicer", reason="the MRML tests need the slicer-core package")

from CD8RScoreCohortLib.analysis import run_cohort  # noqa: E402
from CD8RScoreCohortLib.mrml_views import (VIEW_ATTRIBUTE, add_cohort_views, banner_text,  # noqa: E402
                                           km_step_coordinates, remove_cohort_views)
from CD8RScoreCohortLib.simulate import SIMULATION_REFERENCE_CUTOFF, write_simulated_cohort  # noqa: E402

REL = 1e-9
"""The CSV tables keep 10 significant digits (CD8RScoreLib.lesion_table.write_csv); results.json keeps all."""


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    base = tmp_path_factory.mktemp("sim60")
    lesions, clinical = write_simulated_cohort(base, n_patients=60, seed=2)
    out = base / "out"
    run_cohort(lesions, clinical, out, seed=7, reference_cutoff=SIMULATION_REFERENCE_CUTOFF, make_figures=False)
    results = json.loads((out / "results.json").read_text())
    scene = slicer.vtkMRMLScene()
    views = add_cohort_views(scene, out)  # reads results.json itself
    return out, results, scene, views


def number(value) -> float:
    """JSON null -> NaN, as a missing value in a double column."""
    return float("nan") if value is None else float(value)


def same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-300)


def rows(table_node) -> list[dict]:
    """A table node's rows as dicts of Python values (double columns as float, text as str)."""
    table = table_node.GetTable()
    out = []
    for r in range(table.GetNumberOfRows()):
        row = {}
        for c in range(table.GetNumberOfColumns()):
            column = table.GetColumn(c)
            row[column.GetName()] = column.GetValue(r)
        out.append(row)
    return out


def series_xy(series_node) -> tuple[np.ndarray, np.ndarray]:
    table = series_node.GetTableNode().GetTable()
    x = table.GetColumnByName(series_node.GetXColumnName())
    y = table.GetColumnByName(series_node.GetYColumnName())
    return (np.array([x.GetValue(i) for i in range(x.GetNumberOfTuples())]),
            np.array([y.GetValue(i) for i in range(y.GetNumberOfTuples())]))


def test_auc_table_holds_the_progression_aucs_of_results_json(cohort):
    _, results, _, views = cohort
    pa = results["lesion_level"]["progression_auc"]
    table = rows(views.tables["auc"])
    assert len(table) == 3 + 3 * len(pa["by_location"])  # all / > 0.5 mL / > 1 mL, overall and per location
    for row in table:
        block = pa if row["location"] == "all" else pa["by_location"][row["location"]]
        if row["subgroup"] != "all" or row["location"] == "all":
            block = block[row["subgroup"]]
        ci = block["ci95"] or [None, None]
        assert row["n"] == block["n"] and row["n_progressive"] == block["n_progressive"]
        for column, expected in (("auc", block["auc"]), ("ci_low", ci[0]), ("ci_high", ci[1]), ("p", block["p"])):
            assert same(row[column], number(expected)), (row["location"], row["subgroup"], column)
    overall = next(r for r in table if r["location"] == "all" and r["subgroup"] == "all")
    assert overall["auc"] > 0.5  # simulated: low-score lesions progress more often


def test_hr_table_holds_every_hazard_ratio_of_results_json(cohort):
    _, results, _, views = cohort
    table = rows(views.tables["hr"])
    expected_rows = 0
    for endpoint in ("os", "pfs"):
        block = results["patient_level"][endpoint]
        expected_rows += sum(1 for k in block if k.endswith("_reference_cutoff"))
        expected_rows += sum(1 for opt in block["optimised_cutoff_by_metric"].values()
                             for part in ("train", "test", "all") if opt.get(part))
    assert len(table) == expected_rows
    for row in table:
        block = results["patient_level"][row["endpoint"]]
        if row["cutoff_kind"] == "reference":
            entry = block[f"{row['metric']}_reference_cutoff"]
            assert row["set"] == "all" and same(row["cutoff"], entry["cutoff"])
        else:
            opt = block["optimised_cutoff_by_metric"][row["metric"]]
            entry = opt[row["set"]]
            assert same(row["cutoff"], number(opt["cutoff"]))
        ci = entry["ci95"] or [None, None]
        for column, value in (("hr", entry["hr"]), ("ci_low", ci[0]), ("ci_high", ci[1]),
                              ("p_wald", entry["p_wald"]), ("p_logrank", entry["p_logrank"]),
                              ("n_high", entry["n_high"]), ("n_low", entry["n_low"]),
                              ("median_high", entry["median_high"])):
            assert same(row[column], number(value)), (row["endpoint"], row["metric"], row["set"], column)
    ref_os = next(r for r in table
                  if r["endpoint"] == "os" and r["metric"] == "min" and r["cutoff_kind"] == "reference")
    assert ref_os["ci_low"] < ref_os["hr"] < ref_os["ci_high"]


def test_table_columns_are_typed_and_described(cohort):
    _, _, _, views = cohort
    node = views.tables["hr"]
    table = node.GetTable()
    assert table.GetColumnByName("hr").GetClassName() == "vtkDoubleArray"
    assert table.GetColumnByName("endpoint").GetClassName() == "vtkStringArray"
    assert node.GetColumnUnitLabel("median_high") == "months"
    assert node.GetColumnTitle("p_wald") == "p (Wald)"
    assert "high vs low" in node.GetColumnDescription("hr")
    assert node.GetUseColumnTitleAsColumnHeader()


def test_overview_table_holds_the_odds_ratio_and_progressive_disease_prediction(cohort):
    _, results, _, views = cohort
    table = {r["quantity"]: r for r in rows(views.tables["overview"])}
    ref = results["lesion_level"]["reference_cutoff"]
    odds = next(r for q, r in table.items() if q.startswith("odds ratio of progression"))
    assert same(odds["estimate"], ref["odds_ratio"]) and same(odds["p"], ref["p_fisher"])
    assert same(odds["ci_low"], ref["ci95"][0]) and same(odds["ci_high"], ref["ci95"][1])
    pd_block = results["patient_level"]["progressive_disease_prediction"]
    for key in ("sensitivity", "specificity", "ppv", "npv"):
        row = table[f"{key} for progressive disease at E1"]
        assert same(row["estimate"], number(pd_block[key]["estimate"]))
        assert same(row["ci_low"], number(pd_block[key]["ci95"][0]))
    cut = next(r for q, r in table.items() if q.startswith("optimised cut-off of the min score, OS"))
    assert same(cut["estimate"], number(results["patient_level"]["os"]["optimised_cutoff"]["cutoff"]))


def product_limit(time: np.ndarray, event: np.ndarray) -> list[tuple[float, float]]:
    """(event time, survival after it): S(t) = prod over event times t_i <= t of (1 - d_i / n_i)."""
    s, out = 1.0, []
    for t in np.unique(time[event == 1]):
        s *= 1 - np.sum((time == t) & (event == 1)) / np.sum(time >= t)
        out.append((float(t), s))
    return out


def test_km_series_are_product_limit_step_functions(cohort):
    out, results, _, views = cohort
    patients = pd.read_csv(out / "patient_metrics.csv")
    eligible = patients[np.isfinite(patients["score_min"])]
    cutoff = results["settings"]["reference_cutoff"]
    km_keys = [k for k in views.charts if k.startswith("km_")]
    assert {"km_os_min_reference_cutoff", "km_pfs_min_reference_cutoff"} <= set(km_keys)
    for key in km_keys:
        for series in views.series[key]:
            if series.GetAttribute(VIEW_ATTRIBUTE) != "series_km":
                continue
            x, y = series_xy(series)
            assert (x[0], y[0]) == (0.0, 1.0), (key, series.GetName())
            assert np.all(np.diff(y) <= 0) and np.all(np.diff(x) >= 0)
            drops = np.flatnonzero(np.diff(y) < 0)
            assert np.all(x[drops] == x[drops + 1])  # every drop is vertical: a step, not a slope
            assert np.all(np.diff(x)[np.diff(y) == 0] >= 0)
    for endpoint in ("os", "pfs"):
        ref = results["patient_level"][endpoint]["min_reference_cutoff"]
        groups = {s.GetAttribute("CD8RScoreCohort.Group"): s
                  for s in views.series[f"km_{endpoint}_min_reference_cutoff"]
                  if s.GetAttribute(VIEW_ATTRIBUTE) == "series_km"}
        assert set(groups) == {"high", "low"}
        for group, mask in (("high", eligible["score_min"] >= cutoff), ("low", eligible["score_min"] < cutoff)):
            assert groups[group].GetName() == f"{group} (n={ref['n_' + group]})"
            t = eligible.loc[mask, f"{endpoint}_time"].to_numpy(float)
            e = eligible.loc[mask, f"{endpoint}_event"].to_numpy(float)
            x, y = series_xy(groups[group])
            expected = product_limit(t, e)
            # the bottom of each vertical drop is (event time, survival after it)
            drops = np.flatnonzero(np.diff(y) < 0) + 1
            assert np.array_equal(x[drops], [t for t, _ in expected])
            np.testing.assert_allclose(y[drops], [s for _, s in expected], rtol=1e-12)
            assert x[-1] == pytest.approx(t.max())


def test_km_step_coordinates_of_a_textbook_example():
    # times 1, 2, 2+, 3, 4+: S = 4/5 after 1, 0.8 * 3/4 = 0.6 after 2, 0.6 * 1/2 = 0.3 after 3
    x, y, cx, cy = km_step_coordinates([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    np.testing.assert_array_equal(x, [0, 1, 1, 2, 2, 3, 3, 4])
    np.testing.assert_allclose(y, [1, 1, 0.8, 0.8, 0.6, 0.6, 0.3, 0.3], atol=1e-12)
    np.testing.assert_array_equal(cx, [2, 4])
    np.testing.assert_allclose(cy, [0.6, 0.3], atol=1e-12)


def test_roc_series_run_from_origin_to_corner_with_the_reported_auc_as_area(cohort):
    _, results, _, views = cohort
    pa = results["lesion_level"]["progression_auc"]
    roc = [s for s in views.series["roc_progression"] if s.GetAttribute(VIEW_ATTRIBUTE) == "series_roc"]
    assert [s.GetAttribute("CD8RScoreCohort.Group") for s in roc] == ["all lesions", "> 0.5 mL", "> 1 mL"]
    for series, key in zip(roc, ("all", "volume_gt_0.5ml", "volume_gt_1ml")):
        x, y = series_xy(series)
        assert (x[0], y[0]) == (0.0, 0.0) and (x[-1], y[-1]) == (1.0, 1.0)
        assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)
        area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))  # trapezoids: ties count 1/2, as the AUC
        assert area == pytest.approx(pa[key]["auc"], rel=1e-12)
        assert f"AUC {pa[key]['auc']:.2f}" in series.GetName()


def test_charts_reference_their_series_and_tables(cohort):
    _, _, scene, views = cohort
    assert set(views.charts) == set(views.series)
    for key, chart in views.charts.items():
        ids = [chart.GetNthPlotSeriesNodeID(i) for i in range(chart.GetNumberOfPlotSeriesNodes())]
        assert ids == [s.GetID() for s in views.series[key]] and ids
        for series in views.series[key]:
            assert scene.GetNodeByID(series.GetID()) is series
            table = series.GetTableNode()
            censor_marks = series.GetAttribute(VIEW_ATTRIBUTE) == "series_km_censored"
            assert table is not None and table.GetNumberOfRows() >= (1 if censor_marks else 2)
            assert table.GetTable().GetColumnByName(series.GetXColumnName()) is not None
            assert table.GetTable().GetColumnByName(series.GetYColumnName()) is not None
    assert "SIMULATED" in views.charts["km_os_min_reference_cutoff"].GetTitle()
    assert views.charts["roc_progression"].GetXAxisTitle() == "1 - specificity"


def test_banner_names_the_signature_and_flags_simulated_data(cohort):
    _, results, _, views = cohort
    assert views.banner == banner_text(results)
    assert "cd8rscore-demonstration (demonstration)" in views.banner and "SIMULATED" in views.banner
    assert "For research use only, not for clinical decisions." in views.banner
    real = dict(results, simulated=False, signature_name="my-sig", signature_status="custom")
    assert "SIMULATED" not in banner_text(real) and "my-sig (custom)" in banner_text(real)
    assert views.tables["auc"].GetAttribute("CD8RScoreCohort.Simulated") == "1"


def test_a_second_run_replaces_the_views_of_the_first(cohort):
    out, _, _, views = cohort
    scene = slicer.vtkMRMLScene()
    first = add_cohort_views(scene, out)
    counts = {c: scene.GetNodesByClass(c).GetNumberOfItems()
              for c in ("vtkMRMLTableNode", "vtkMRMLPlotSeriesNode", "vtkMRMLPlotChartNode")}
    assert counts["vtkMRMLPlotChartNode"] == len(first.charts) == len(views.charts)
    add_cohort_views(scene, out)
    assert counts == {c: scene.GetNodesByClass(c).GetNumberOfItems() for c in counts}
    keep = scene.AddNewNodeByClass("vtkMRMLTableNode", "user table")
    assert remove_cohort_views(scene) == sum(counts.values())
    assert scene.GetNodesByClass("vtkMRMLTableNode").GetNumberOfItems() == 1 and keep.GetScene() is scene
