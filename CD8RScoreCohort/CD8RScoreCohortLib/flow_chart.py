"""Figure 2 of the melanoma study: the flow chart of the patients and lesions analysed, from the cohort's own counts.

``flow_counts`` counts, for the patients analysed (clinical patients with baseline lesions): the baseline lesions,
those not computable (grouped by reason), those computable but not above the minimum volume and those that enter
the patient metrics; the patients with an E1 CT and their E1 lesions (of baseline lesions, new); the patients
without a scored lesion above the minimum volume; the training and test sets. ``flow_chart_plot`` draws it with the
patients left out before the analysis (``results["exclusions"]``) as boxes and arrows (matplotlib).
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from .patient_level import CUTOFF_ENDPOINT
from .report_text import fill_reason, reason_template

MAX_REASONS_SHOWN = 3
"""Reasons for a lesion not being computable shown one by one; the others are counted together."""
PATIENT_EXCLUSION_TABLES = ("clinical", "lesions")
"""Exclusion records about whole patients left out before any analysis (inputs.match_tables)."""
LEFT_OUT_BOXES = ("left_out", "lesions_out", "no_score")
"""Boxes of what leaves the step they branch from (grey, on the right)."""
NOTE_BOXES = ("follow_up",)
"""Boxes that describe the step they branch from and leave nothing out (dashed, on the left)."""
LEFT_OUT_STYLE = {"fc": "0.88", "ec": "0.4", "ls": "-"}
NOTE_STYLE = {"fc": "white", "ec": "0.4", "ls": "--"}
STEP_STYLE = {"fc": "white", "ec": "black", "ls": "-"}


def flow_counts(lesions: pd.DataFrame, data: pd.DataFrame, min_volume_ml: float) -> dict:
    """The flow chart's counts (``study.flow_chart`` of results.json); ``data``: the patient table with ``split``."""
    analysed = set(data["patient_id"])
    own = lesions[lesions["patient_id"].isin(analysed)]
    e0, e1 = own[own["timepoint"] == "E0"], own[own["timepoint"] == "E1"]
    with_e1 = set(e1["patient_id"])
    baseline_keys = set(zip(e0["patient_id"], e0["lesion_id"]))
    matched = np.array([k in baseline_keys for k in zip(e1["patient_id"], e1["lesion_id"])], dtype=bool)
    computable = (e0["computable"] == 1) & np.isfinite(e0["score"])
    considered = computable & (e0["volume_ml"] > min_volume_ml)
    # reasons that differ only by their numbers count together, written with their numbers' range, as the
    # report's exclusions table writes them
    reasons = e0.loc[~computable, "reason"].fillna("").astype(str).str.strip().replace("", "no reason given")
    groups = sorted(((len(group), fill_reason(list(group)))
                     for _, group in reasons.groupby(reasons.map(reason_template))), key=lambda counted: -counted[0])
    shown = {text: n for n, text in groups[:MAX_REASONS_SHOWN]}
    if len(groups) > MAX_REASONS_SHOWN:
        shown["other reasons"] = sum(n for n, _ in groups[MAX_REASONS_SHOWN:])
    scored = data["n_lesions_considered"] > 0
    split = data.get("split", pd.Series("", index=data.index))
    return {
        "min_volume_ml": min_volume_ml,
        "patients_analysed": int(len(data)),
        "lesions_e0": int(len(e0)),
        "lesions_e0_not_computable": int((~computable).sum()),
        "lesions_e0_not_computable_by_reason": shown,
        "lesions_e0_computable_not_above_min_volume": int((computable & ~considered).sum()),
        "lesions_e0_considered": int(considered.sum()),
        "patients_with_e1": int(len(with_e1)),
        "patients_without_e1": int(len(analysed - with_e1)),
        "lesions_e0_of_patients_without_e1": int((~e0["patient_id"].isin(with_e1)).sum()),
        "lesions_e1_of_baseline_lesions": int(matched.sum()),
        "lesions_e1_new": int((~matched).sum()),
        "patients_with_lesion_above_min_volume": int(scored.sum()),
        "patients_without_lesion_above_min_volume": int((~scored).sum()),
        "train": int((split == "train").sum()),
        "test": int((split == "test").sum()),
    }


def patients_left_out(results: dict) -> list[tuple[str, int]]:
    """(reason, count) of the patients left out before the analysis, from results.json's ``exclusions``."""
    return [(e["reason"].split(":")[0], int(e["count"])) for e in results.get("exclusions", [])
            if e["table"] in PATIENT_EXCLUSION_TABLES and e["reason"].startswith("patient")]


def box_texts(results: dict) -> dict[str, str]:
    """The text of each box of the chart (also the caption's source)."""
    c, f = results["counts"], results["study"]["flow_chart"]
    mv = f"{f['min_volume_ml']:g} mL"
    left_out = patients_left_out(results)
    not_computable = "; ".join(f"{n} {reason}" for reason, n in f["lesions_e0_not_computable_by_reason"].items())
    # below the minimums (or with too few training patients for the search) no cut-off is optimised
    optimised = ((results.get("patient_level", {}).get(CUTOFF_ENDPOINT) or {}).get("optimised_cutoff") or {}
                 ).get("cutoff") is not None
    return {
        "inputs": f"Patients: {c['patients_clinical']} in the clinical table, {c['patients_lesion_table']} in the "
                  "lesion table",
        "left_out": "Left out: " + ("; ".join(f"{n} {reason}" for reason, n in left_out) if left_out else "none"),
        "analysed": f"Patients analysed: {f['patients_analysed']}\nBaseline (E0) lesions: {f['lesions_e0']}",
        "lesions_out": f"Baseline lesions not scored: {f['lesions_e0_not_computable']}"
                       + (f" ({not_computable})" if not_computable else "")
                       + f"\nScored but not > {mv}: {f['lesions_e0_computable_not_above_min_volume']}",
        "follow_up": f"E1 CT: {f['patients_with_e1']} patients, {f['lesions_e1_of_baseline_lesions']} lesions of "
                     f"baseline lesions, {f['lesions_e1_new']} new\nNo E1 CT: {f['patients_without_e1']} patients "
                     f"({f['lesions_e0_of_patients_without_e1']} baseline lesions)",
        "considered": f"Scored baseline lesions > {mv}: {f['lesions_e0_considered']}\nPatients with a minimum score: "
                      f"{f['patients_with_lesion_above_min_volume']}",
        "no_score": f"Patients without a scored lesion > {mv}: {f['patients_without_lesion_above_min_volume']} "
                    "(a group of their own in figure 4D/E)",
        "train": f"Training set: {f['train']} patients\n" + ("(cut-offs optimised)" if optimised
                                                              else "(no cut-off optimised)"),
        "test": f"Test set: {f['test']} patients\n" + ("(cut-offs applied)" if optimised else "(no cut-off to apply)"),
    }


def caption(results: dict) -> str:
    """The figure's caption: what it shows and its numbers in words."""
    f = results["study"]["flow_chart"]
    return (f"Flow chart of the patients and lesions (figure 2): {f['patients_analysed']} patients analysed with "
            f"{f['lesions_e0']} baseline lesions, of which {f['lesions_e0_considered']} were scored and larger than "
            f"{f['min_volume_ml']:g} mL; {f['patients_with_lesion_above_min_volume']} patients have a minimum score, "
            f"split into {f['train']} training and {f['test']} test patients; {f['patients_with_e1']} patients have "
            f"an E1 CT. Counts from this cohort's tables; the grey boxes on the right are left out of the step they "
            "branch from; the dashed box on the left describes the E1 CTs of the patients analysed and leaves none "
            "out.")


def flow_chart_figure(results: dict, title: str):
    """The flow chart as a matplotlib Figure: steps in white, what leaves a step in grey on the right, the E1 CTs
    (which leave nothing out) dashed on the left."""
    from .plots import TEXT_PT, new_figure, set_title

    texts = box_texts(results)
    fig, ax = new_figure((10.0, 8.0))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    spots = {"inputs": (0.5, 0.92), "left_out": (0.84, 0.80), "analysed": (0.5, 0.68), "lesions_out": (0.84, 0.52),
             "follow_up": (0.15, 0.52), "considered": (0.5, 0.38), "no_score": (0.84, 0.24),
             "train": (0.33, 0.08), "test": (0.67, 0.08)}
    side = set(LEFT_OUT_BOXES) | set(NOTE_BOXES)
    boxes = {}
    for key, (x, y) in spots.items():
        style = LEFT_OUT_STYLE if key in LEFT_OUT_BOXES else NOTE_STYLE if key in NOTE_BOXES else STEP_STYLE
        wrapped = "\n".join(textwrap.fill(line, 30 if key in side else 44) for line in texts[key].split("\n"))
        boxes[key] = ax.text(x, y, wrapped, ha="center", va="center", fontsize=TEXT_PT,
                             bbox={"boxstyle": "round,pad=0.5", **style})
    arrows = [("inputs", "analysed"), ("analysed", "considered"), ("considered", "train"), ("considered", "test"),
              ("inputs", "left_out"), ("analysed", "lesions_out"), ("analysed", "follow_up"),
              ("considered", "no_score")]
    for start, end in arrows:
        note = end in NOTE_BOXES  # a plain dashed line: nothing flows out of the step
        ax.annotate("", xy=spots[end], xytext=spots[start], xycoords="data",
                    arrowprops={"arrowstyle": "-" if note else "-|>", "ls": "--" if note else "-", "color": "0.2",
                                "shrinkA": 0, "shrinkB": 0, "patchA": boxes[start].get_bbox_patch(),
                                "patchB": boxes[end].get_bbox_patch()})
    set_title(fig, title)
    return fig


def flow_chart_plot(results: dict, path, title: str) -> None:
    """Draw the flow chart (PNG at ``path``)."""
    from .plots import save

    save(flow_chart_figure(results, title), path)
