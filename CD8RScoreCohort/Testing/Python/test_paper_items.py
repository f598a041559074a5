"""Every item of the melanoma study is where docs/paper-items.md says it is produced, and figure 2 (the flow chart)
is drawn from the cohort's own counts: one `cohort` run on the random cohort of test_random_cohort_against_r.py."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from CD8RScoreCohortLib.analysis import run_cohort
from test_random_cohort_against_r import DATA, REFERENCE_CUTOFF, SEED

DOCS = Path(__file__).resolve().parents[3] / "docs" / "paper-items.md"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper_items") / "out"
    run_cohort(DATA / "random_cohort_lesions.csv", DATA / "random_cohort_clinical.csv", out, seed=SEED,
               reference_cutoff=REFERENCE_CUTOFF)
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_flow_chart_counts_are_the_tables_counts(run):
    """Figure 2's counts, recounted here from the input tables and the patient table the run wrote."""
    out, results = run
    flow = results["study"]["flow_chart"]
    lesions = pd.read_csv(DATA / "random_cohort_lesions.csv")
    patients = pd.read_csv(out / "patient_metrics.csv")
    e0, e1 = lesions[lesions["timepoint"] == "E0"], lesions[lesions["timepoint"] == "E1"]
    assert flow["patients_analysed"] == len(patients) == 160
    assert flow["lesions_e0"] == len(e0)
    computable = (e0["computable"] == 1) & e0["score"].notna()
    assert flow["lesions_e0_not_computable"] == (~computable).sum() > 0
    assert flow["lesions_e0_considered"] == (computable & (e0["volume_ml"] > 1.0)).sum()
    assert (flow["lesions_e0_considered"] + flow["lesions_e0_not_computable"]
            + flow["lesions_e0_computable_not_above_min_volume"]) == flow["lesions_e0"]
    assert sum(flow["lesions_e0_not_computable_by_reason"].values()) == flow["lesions_e0_not_computable"]
    assert flow["patients_with_e1"] == e1["patient_id"].nunique()
    assert flow["patients_with_e1"] + flow["patients_without_e1"] == flow["patients_analysed"]
    assert flow["lesions_e1_new"] == (e1["lesion_id"] == "N1").sum() > 0
    assert flow["lesions_e1_of_baseline_lesions"] + flow["lesions_e1_new"] == len(e1)
    assert flow["patients_with_lesion_above_min_volume"] == (patients["n_lesions_considered"] > 0).sum()
    split = pd.read_csv(DATA / "random_cohort_split.csv")
    assert (flow["train"], flow["test"]) == ((split["split"] == "train").sum(), (split["split"] == "test").sum())
    assert flow["train"] + flow["test"] == flow["patients_with_lesion_above_min_volume"]


def test_flow_chart_is_drawn_and_shown_under_the_cohort_counts_with_its_caption(run):
    out, results = run
    flow = results["study"]["flow_chart"]
    assert (out / "flow_chart.png").stat().st_size > 10_000
    caption = results["files"]["figure_captions"]["flow_chart.png"]
    assert f"{flow['patients_analysed']} patients analysed" in caption and "figure 2" in caption
    from CD8RScoreCohortLib.flow_chart import box_texts

    assert results["patient_level"]["os"]["optimised_cutoff"]["cutoff"] is not None
    assert box_texts(results)["train"].endswith("(cut-offs optimised)")
    report = (out / "report.html").read_text(encoding="utf-8")
    cohort, exclusions = report.index("<h2>Cohort</h2>"), report.index("<h2>Exclusions</h2>")
    assert cohort < report.index("<figcaption><b>Figure 1.</b> Flow chart of the patients") < exclusions


def test_flow_chart_draws_as_its_caption_says_what_is_left_out(run):
    """The caption's grey boxes on the right are exactly what leaves a step (the patients left out, the lesions not
    scored or not above the minimum volume, the patients without a minimum score, whose counts the next step lacks);
    the E1 CT box, which leaves no one out, is the dashed one on the left, tied by a line without an arrowhead."""
    from matplotlib.colors import to_rgba

    from CD8RScoreCohortLib.flow_chart import flow_chart_figure

    _, results = run
    caption = results["files"]["figure_captions"]["flow_chart.png"]
    assert "the grey boxes on the right are left out" in caption and "the dashed box on the left" in caption
    ax = flow_chart_figure(results, "title").axes[0]
    boxes = {t.get_text().split(":")[0].replace("\n", " "): t for t in ax.texts if t.get_bbox_patch()}
    grey = {name for name, t in boxes.items() if t.get_bbox_patch().get_facecolor() != to_rgba("white")}
    dashed = {name for name, t in boxes.items() if t.get_bbox_patch().get_linestyle() == "--"}
    assert grey == {"Left out", "Baseline lesions not scored", "Patients without a scored lesion > 1 mL"}
    assert dashed == {"E1 CT"} and boxes["E1 CT"].get_position()[0] < 0.5
    assert all(boxes[name].get_position()[0] > 0.5 for name in grey)
    f = results["study"]["flow_chart"]
    assert f["patients_with_lesion_above_min_volume"] + f["patients_without_lesion_above_min_volume"] \
        == f["patients_analysed"] > f["patients_with_e1"]
    by_patch = {id(t.get_bbox_patch()): name for name, t in boxes.items()}
    headless = {by_patch[id(a.arrow_patch.patchB)] for a in ax.texts if hasattr(a, "arrow_patch")
                and type(a.arrow_patch.get_arrowstyle()).__name__ == "Curve"}
    assert headless == {"E1 CT"}


def _table_rows(text: str, header_start: str) -> list[list[str]]:
    """The cells of the markdown table whose header row starts with ``header_start``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _named(cells: "list[str]") -> list[str]:
    """The backquoted names in ``cells``, with {a,b} expanded; names with spaces or ... are prose, not names."""
    names = []
    for token in re.findall(r"`([^`]+)`", " ".join(cells)):
        if " " in token or "..." in token or "=" in token:
            continue
        match = re.search(r"\{([^}]+)\}", token)
        names += [token.replace(match.group(0), part) for part in match.group(1).split(",")] if match else [token]
    return names


def _has_key(results: dict, dotted: str) -> bool:
    node = results
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_every_item_is_where_the_items_page_says(run):
    """Each CSV and PNG file docs/paper-items.md names is written, each results.json key it names exists (the
    signature's columns excepted), and no item is left "no"."""
    out, results = run
    text = DOCS.read_text(encoding="utf-8")
    items = _table_rows(text, "| Item |")
    others = _table_rows(text, "| What | Where |")
    assert len(items) >= 25 and len(others) >= 5
    checked = 0
    for cells in [row[2:5] for row in items] + [row[1:2] for row in others]:
        for name in _named(cells):
            if name.endswith((".csv", ".png")):
                assert (out / name).is_file(), name
            elif name not in ("signature_name", "signature_status", "cutoff_endpoint", "pd_definition", "recist_e1"):
                assert _has_key(results, name), name
            checked += 1
    assert checked > 60
    statuses = [row[-1] for row in items] + [row[-1] for row in others]
    assert not [s for s in statuses if re.match(r"no\b", s)]
    assert len([s for s in statuses if s.startswith("partly")]) <= 2


def test_flow_chart_writes_lesion_reasons_as_the_exclusions_table_does():
    """Reasons that differ only by their numbers count together and are written with the numbers' range, never with
    a placeholder; an empty reason is counted as "no reason given"."""
    from CD8RScoreCohortLib.flow_chart import flow_counts

    reasons = ["core VOI has 4 voxels at 1 mm; the signature needs at least 30",
               "core VOI has 29 voxels at 1 mm; the signature needs at least 30",
               "core VOI has 12 voxels at 1 mm; the signature needs at least 30", "", "lesion touches the image edge"]
    lesions = pd.DataFrame({"patient_id": ["P1"] * 6, "lesion_id": [f"L{i}" for i in range(6)], "timepoint": "E0",
                            "computable": [0, 0, 0, 0, 0, 1], "score": [np.nan] * 5 + [2.0],
                            "volume_ml": [0.1] * 5 + [3.0], "reason": reasons + [""]})
    data = pd.DataFrame({"patient_id": ["P1"], "n_lesions_considered": [1], "split": ["train"]})
    by_reason = flow_counts(lesions, data, 1.0)["lesions_e0_not_computable_by_reason"]
    assert by_reason == {"core VOI has 4–29 voxels at 1 mm; the signature needs at least 30": 3,
                         "no reason given": 1, "lesion touches the image edge": 1}
