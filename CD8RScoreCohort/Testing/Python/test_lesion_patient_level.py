"""Lesion response matching, AUC subgroups, patient metrics, the seeded split and PD prediction on small
hand-made tables whose answers are known."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from CD8RScoreCohortLib.cli_commands import clinical_table_help
from CD8RScoreCohortLib.inputs import Exclusions
from CD8RScoreCohortLib.lesion_level import lesion_responses, progression_auc, reference_cutoff_table
from CD8RScoreCohortLib.patient_level import (PD_FROM_LESION_TABLE, patient_metrics, pd_prediction,
                                              progressive_disease_definition, progressive_disease_truth,
                                              split_train_test)
from CD8RScoreCohortLib.recist_patient import recist_at_e1

CLINICAL_TABLE_DOC = Path(__file__).resolve().parents[3] / "docs" / "clinical-table.md"


def lesion(pid, tp, lid, d, v, score, loc="liver", computable=1, reason=""):
    return {"patient_id": pid, "timepoint": tp, "lesion_id": lid, "location": loc, "volume_ml": v,
            "longest_axial_diameter_mm": d, "score": score if computable else np.nan, "computable": computable,
            "reason": reason, "score_class": "", "signature_name": "s", "signature_status": "demonstration"}


@pytest.fixture
def table():
    rows = [
        lesion("A", "E0", "1", 10.0, 2.0, 1.5), lesion("A", "E1", "1", 12.0, 3.0, 1.6),   # +20 %: progression
        lesion("A", "E0", "2", 20.0, 0.4, 2.5), lesion("A", "E1", "2", 14.0, 0.2, 2.4),   # -30 %: response
        lesion("A", "E0", "3", 10.0, 0.8, 2.2, loc="node"),
        lesion("A", "E1", "3", 0.0, 0.0, 0, loc="node", computable=0, reason="lesion disappeared"),  # CR
        lesion("B", "E0", "1", 10.0, 1.5, 2.0), lesion("B", "E1", "1", 11.9, 1.6, 2.1),   # +19 %: stable
        lesion("B", "E0", "2", 5.0, 0.01, 0, computable=0, reason="core VOI has 10 voxels"),
        lesion("B", "E1", "2", 5.0, 0.01, 0, computable=0, reason="core VOI has 10 voxels"),
        lesion("B", "E1", "9", 8.0, 0.3, 2.0),                                           # new at E1
        lesion("C", "E0", "1", 15.0, 3.0, 1.0),                                           # no E1 CT
    ]
    return pd.DataFrame(rows)


def test_lesion_response_classes_and_exclusions(table):
    ex = Exclusions()
    resp = lesion_responses(table, ex).set_index(["patient_id", "lesion_id"])
    assert resp.loc[("A", "1"), "response"] == "progression"
    assert resp.loc[("A", "1"), "diameter_change_pct"] == pytest.approx(20.0)
    assert resp.loc[("A", "2"), "response"] == "response"
    assert resp.loc[("A", "3"), "response"] == "complete_response"
    assert resp.loc[("B", "1"), "response"] == "stable"
    assert resp.loc[("C", "1"), "response"] == "not_evaluated" and np.isnan(resp.loc[("C", "1"), "progression"])
    reasons = {e["reason"]: e for e in ex.to_list()}
    assert reasons["baseline lesion of a patient without E1 CT: no lesion response"]["ids"] == ["C/1"]
    assert reasons["baseline score not computable (core VOI has 10 voxels): no score analyses"]["ids"] == ["B/2"]
    assert [e for r, e in reasons.items() if r.startswith("E1 lesion without a baseline row")][0]["ids"] == ["B/9"]


def test_auc_subgroups_count_the_right_lesions(table):
    resp = lesion_responses(table, Exclusions())
    auc = progression_auc(resp)
    # evaluable and computable: A1 (prog, 2 mL), A2 (0.4 mL), A3 (node, 0.8 mL), B1 (1.5 mL)
    assert (auc["all"]["n"], auc["all"]["n_progressive"]) == (4, 1)
    assert auc["all"]["auc"] == 1.0  # the progressive lesion has the lowest score
    assert auc["volume_gt_0.5ml"]["n"] == 3 and auc["volume_gt_1ml"]["n"] == 2
    assert set(auc["by_location"]) == {"liver", "node"}
    assert auc["by_location"]["node"]["auc"] is None  # no progressive node lesion
    ref = reference_cutoff_table(resp, 1.8)
    assert (ref["n_low"], ref["n_high"], ref["table"]) == (1, 3, [[1, 0], [0, 3]])


def test_patient_metrics_use_lesions_above_min_volume(table):
    clinical = pd.DataFrame({"patient_id": ["A", "B", "C"], "os_time": [10.0, 20, 5], "os_event": [1, 0, 1],
                             "pfs_time": [5.0, 10, 2], "pfs_event": [1, 1, 1]})
    ex = Exclusions()
    m = patient_metrics(table, clinical, 1.0, ex).set_index("patient_id")
    assert m.loc["A", "n_lesions"] == 3 and m.loc["A", "n_lesions_considered"] == 1  # only lesion 1 (2 mL)
    assert m.loc["A", "score_min"] == 1.5 and np.isnan(m.loc["A", "score_sd"])
    m0 = patient_metrics(table, clinical, 0.3, Exclusions()).set_index("patient_id")
    assert m0.loc["A", "score_min"] == 1.5 and m0.loc["A", "score_max"] == 2.5
    assert m0.loc["A", "score_sd"] == pytest.approx(np.std([1.5, 2.5, 2.2], ddof=1))
    assert ex.to_list() == []  # every patient has a lesion > 1 mL


def test_pd_truth_from_recist_sum_and_new_lesions(table):
    clinical = pd.DataFrame({"patient_id": ["A", "B", "C"]})
    resp = lesion_responses(table, Exclusions())
    truth = progressive_disease_truth(table, resp, clinical)
    # A: sum 40 -> 26 mm (no PD); B: new lesion 9 at E1 -> PD; C: no E1 CT -> unknown
    assert truth["A"] == 0.0 and truth["B"] == 1.0 and np.isnan(truth["C"])


def test_pd_without_a_pd_column_sums_every_matched_lesion_not_the_recist_targets():
    """A lung lesion of 8 mm (not measurable by RECIST 1.1, so no target) doubles while the liver target stays:
    RECIST 1.1 says SD, the lesion table's sum of every matched lesion (38 -> 46 mm, +21 %) says PD. The
    definition the run reports, `cohort --help` and docs/clinical-table.md all say so."""
    lesions = pd.DataFrame([lesion("D", "E0", "1", 30.0, 9.0, 2.0), lesion("D", "E1", "1", 30.0, 9.0, 2.0),
                            lesion("D", "E0", "2", 8.0, 0.2, 2.0, loc="lung"),
                            lesion("D", "E1", "2", 16.0, 1.5, 2.0, loc="lung")])
    clinical = pd.DataFrame({"patient_id": ["D"]})
    assert progressive_disease_truth(lesions, lesion_responses(lesions, Exclusions()), clinical)["D"] == 1.0
    _, recist = recist_at_e1(lesions, ["D"])
    assert list(recist["response"]) == ["SD"] and list(recist["targets"]) == ["1"]
    assert PD_FROM_LESION_TABLE in progressive_disease_definition(clinical)
    assert "not RECIST 1.1 target lesions" in PD_FROM_LESION_TABLE
    assert PD_FROM_LESION_TABLE in " ".join(clinical_table_help().split())
    assert PD_FROM_LESION_TABLE in CLINICAL_TABLE_DOC.read_text(encoding="utf-8")


def test_pd_prediction_rule_and_counts():
    data = pd.DataFrame({"patient_id": list("PQRST"), "n_lesions_considered": [2, 1, 0, 3, 1],
                         "score_min": [1.5, 2.4, np.nan, 1.7, 1.7]})
    truth = pd.Series({"P": 1.0, "Q": 0.0, "R": 1.0, "S": 0.0, "T": np.nan})
    ex = Exclusions()
    res = pd_prediction(data, truth, 1.7, "test", ex)
    # high risk (min <= 1.7): P, S; known PD status: P, Q, R, S
    assert res["counts"] == {"true_positive": 1, "false_positive": 1, "false_negative": 1, "true_negative": 1}
    assert res["n"] == 4 and ex.to_list()[0]["ids"] == ["T"]
    strict = pd_prediction(data, truth, 1.7, "test", Exclusions(), strict=True)  # reference: min < 1.7
    assert strict["n_high_risk"] == 1


def test_split_is_stratified_seeded_and_two_thirds():
    patients = pd.DataFrame({"patient_id": [f"P{i:03d}" for i in range(90)],
                             "os_event": [1] * 30 + [0] * 60})
    a = split_train_test(patients, seed=3)
    b = split_train_test(patients.sample(frac=1, random_state=0), seed=3).reindex(patients.index)
    assert a.equals(b)  # independent of row order
    assert (a == "train").sum() == 60
    assert (a[patients["os_event"] == 1] == "train").sum() == 20
    assert not a.equals(split_train_test(patients, seed=4))
