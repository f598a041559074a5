"""Robustness by image perturbation (Zwanenburg et al., Sci Rep 2019;9:614): seeded and reproducible, the lesion
columns and the patient's candidate agreement in range, a clearly lowest lesion stays the lowest in every
perturbation, a lesion at the cut-off is flagged unstable, and scoring with perturbations can be cancelled."""
from __future__ import annotations

import copy
import csv
from concurrent.futures import ProcessPoolExecutor
import json
import math

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from CD8RScoreLib.cli import main
from CD8RScoreLib.patient import candidate_agreement, patient_summary
from CD8RScoreLib.perturbation import (draw_perturbations, noise_sd_hu, perturbation_region, perturbed_vois,
                                       randomise_contour, robustness_columns)
from CD8RScoreLib.scoring import KvpInfo, LesionInput, ScoringCancelled, score_lesions
from CD8RScoreLib.signature import default_signature_path, parse_signature
from CD8RScoreLib.synthetic import make_patient

KVP = KvpInfo(120.0, "user")


def mean_hu_signature(cutoff: float) -> "Signature":  # noqa: F821
    """A custom signature with one term, the core's mean HU normalised on [-200, 200] HU: score = mean HU / 400 + 0.5."""
    document = json.loads(default_signature_path().read_text())
    document = copy.deepcopy(document)
    document.update(name="mean-hu-test", status="custom", intercept=0.0, location_terms=[],
                    kvp={"encoding": "indicator", "equals_kv": 120.0, "coefficient": 0.0, "assumed_kv": 120.0},
                    cutoffs={"reference": {"value": cutoff, "source": "test"}})
    document["features"] = [{"voi": "core", "feature": "firstorder_Mean", "ibsi_name": "Mean intensity",
                             "lifex_name": "CONVENTIONAL_HUmean", "min": -200.0, "max": 200.0, "coefficient": 1.0}]
    return parse_signature(document, "mean-hu-test.json")


@pytest.fixture(scope="module")
def patient():
    """Three liver lesions; lesion 1 made 150 HU darker than it was drawn (mean HU about -100 vs 20 to 90)."""
    case = make_patient(n_lesions=3, seed=4, spacing_mm=(0.8, 0.8, 2.0), field_mm=(90.0, 90.0, 60.0),
                        radius_range_mm=(6.0, 9.0), sites=("liver",))
    image = sitk.GetArrayFromImage(case.image)
    labels = sitk.GetArrayFromImage(case.labels)
    image[labels == 1] -= 150.0
    ct = sitk.GetImageFromArray(image)
    ct.CopyInformation(case.image)
    return ct, case.labels


def lesion_inputs(labels: sitk.Image) -> list[LesionInput]:
    return [LesionInput(str(label), f"lesion {label}", sitk.Cast(labels == label, sitk.sitkUInt8), "liver")
            for label in (1, 2, 3)]


def test_same_seed_gives_the_same_numbers_and_another_seed_others(patient):
    image, labels = patient
    signature = mean_hu_signature(cutoff=0.5)
    first = score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0",
                          perturbations=draw_perturbations(3, seed=7))
    again = score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0",
                          perturbations=draw_perturbations(3, seed=7))
    other = score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0",
                          perturbations=draw_perturbations(3, seed=8))
    for a, b, c in zip(first, again, other):
        assert a["perturbed_scores"] == b["perturbed_scores"] and a["score_perturbation_sd"] == b["score_perturbation_sd"]
        assert a["perturbed_scores"] != c["perturbed_scores"]
        assert a["score"] == c["score"]  # the unperturbed score does not depend on the seed
    # one lesion's perturbations do not depend on the other lesions
    alone = score_lesions(image, lesion_inputs(labels)[1:2], signature, KVP, "P", "E0",
                          perturbations=draw_perturbations(3, seed=7))
    assert alone[0]["perturbed_scores"] == first[1]["perturbed_scores"]


def test_clearly_lowest_lesion_stays_lowest_in_every_perturbation(patient):
    image, labels = patient
    signature = mean_hu_signature(cutoff=0.5)
    rows = score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0",
                         perturbations=draw_perturbations(5, seed=1))
    for row in rows:
        row["volume_ml"] = 2.0  # considered whatever their size: the test is about the ranking
    summary = patient_summary(rows, min_volume_ml=1.0)
    assert summary["least_infiltrated_lesion_id"] == "1"
    assert summary["candidate_agreement"] == 1.0
    scores = sorted(row["score"] for row in rows)
    assert scores[1] - scores[0] > 0.15  # more than 60 HU of mean between the lowest and the next


def test_lesion_whose_perturbed_scores_straddle_the_cut_off_is_flagged_unstable(patient):
    image, labels = patient
    lesions = lesion_inputs(labels)[1:2]
    draws = draw_perturbations(8, seed=3)
    first = score_lesions(image, lesions, mean_hu_signature(cutoff=0.5), KVP, "P", "E0", perturbations=draws)[0]
    perturbed = sorted(float(v) for v in first["perturbed_scores"].split())
    # a cut-off amid the perturbed scores: 4 of the 8 fall on each side, whatever the unperturbed class
    cutoff = (perturbed[3] + perturbed[4]) / 2.0
    row = score_lesions(image, lesions, mean_hu_signature(cutoff=cutoff), KVP, "P", "E0", perturbations=draws)[0]
    assert row["perturbed_scores"] == first["perturbed_scores"]
    assert row["score_class_agreement"] == 0.5
    assert f"class unstable: {row['score_class']} in only 50% of perturbations" in row["warnings"]
    # far from the cut-off, the class is stable and no warning is given
    assert first["score_class_agreement"] == 1.0 and "class unstable" not in first["warnings"]


def test_cli_score_with_perturbations_adds_columns_in_range_and_patient_candidate_agreement(patient, tmp_path):
    image, labels = patient
    sitk.WriteImage(image, str(tmp_path / "ct.nrrd"))
    sitk.WriteImage(labels, str(tmp_path / "labels.nrrd"))
    out = tmp_path / "lesions.csv"
    assert main(["score", "--image", tmp_path / "ct.nrrd", "--segmentation", tmp_path / "labels.nrrd",
                 "--kvp", "120", "--perturbations", 3, "--seed", 11, "--out", out]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    for row in rows:
        assert row["computable"] == "1"
        assert float(row["score_perturbation_sd"]) >= 0.0
        assert 0.0 <= float(row["score_class_agreement"]) <= 1.0
        perturbed = [float(v) for v in row["perturbed_scores"].split()]
        assert len(perturbed) == 3 and all(math.isfinite(v) for v in perturbed)
        assert float(row["score_perturbation_sd"]) == pytest.approx(np.std(perturbed, ddof=1), rel=1e-6)
        assert float(row["score_perturbation_mean_shift"]) == pytest.approx(
            np.mean(perturbed) - float(row["score"]), rel=1e-6, abs=1e-9)
    patients = tmp_path / "patients.csv"
    assert main(["patient", "--lesions", out, "--min-volume-ml", 0, "--out", patients]) == 0
    with open(patients, newline="") as handle:
        summary = next(csv.DictReader(handle))
    assert 0.0 <= float(summary["candidate_agreement"]) <= 1.0
    # without perturbations the columns are there and empty
    plain = tmp_path / "plain.csv"
    assert main(["score", "--image", tmp_path / "ct.nrrd", "--segmentation", tmp_path / "labels.nrrd",
                 "--kvp", "120", "--out", plain]) == 0
    with open(plain, newline="") as handle:
        row = next(csv.DictReader(handle))
    assert (row["score_perturbation_sd"] == row["score_perturbation_mean_shift"] == row["score_class_agreement"]
            == row["perturbed_scores"] == "")


def test_perturbed_scores_all_below_the_score_show_a_shift_the_sd_hides():
    perturbed = [2.13, 2.14, 2.15, 2.16, 2.17, 2.18, 2.19, 2.20, 2.14, 2.16]  # 0.10-0.17 below 2.30
    columns = robustness_columns(2.30, "high", perturbed, mean_hu_signature(cutoff=1.0))
    assert columns["score_perturbation_sd"] < 0.025
    assert columns["score_perturbation_mean_shift"] == pytest.approx(np.mean(perturbed) - 2.30)
    assert columns["score_perturbation_mean_shift"] < -0.1
    # a perturbation that cannot be scored is left out of the shift as of the SD
    with_nan = robustness_columns(2.30, "high", perturbed + [math.nan], mean_hu_signature(cutoff=1.0))
    assert with_nan["score_perturbation_mean_shift"] == columns["score_perturbation_mean_shift"]


def test_negative_perturbation_count_is_refused(tmp_path, capsys):
    assert main(["score", "--image", tmp_path / "ct.nrrd", "--segmentation", tmp_path / "labels.nrrd",
                 "--perturbations", -1, "--out", tmp_path / "x.csv"]) == 2
    assert "--perturbations" in capsys.readouterr().err


def test_scoring_with_perturbations_reports_progress_and_can_be_cancelled(patient):
    image, labels = patient
    signature = mean_hu_signature(cutoff=0.5)
    names: list[str] = []
    with pytest.raises(ScoringCancelled):
        score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0",
                      progress=lambda done, total, name: names.append(name),
                      should_cancel=lambda: len(names) >= 3, perturbations=draw_perturbations(4, seed=1))
    assert names[1:3] == ["lesion 1: perturbation 1/4", "lesion 1: perturbation 2/4"]


def test_candidate_agreement_counts_perturbations_where_the_candidate_stays_lowest():
    rows = [{"perturbed_scores": "1.0 1.0 2.5 nan"}, {"perturbed_scores": "2.0 2.0 2.0 2.0"},
            {"perturbed_scores": "3.0 nan 3.0 3.0"}]
    # kept lowest in perturbations 1 and 2 (a lesion not scored there does not take its place), not in 3 (2.0 is
    # lower) nor in 4 (the candidate could not be scored)
    assert candidate_agreement(rows, rows[0]) == 0.5
    assert math.isnan(candidate_agreement([{"perturbed_scores": ""}], {"perturbed_scores": ""}))


def test_noise_level_is_estimated_from_the_image():
    rng = np.random.default_rng(0)
    smooth = ndimage.gaussian_filter(rng.normal(0.0, 300.0, (12, 64, 64)), 6.0)  # anatomy: slowly varying
    noisy = smooth + rng.normal(0.0, 20.0, smooth.shape)
    assert noise_sd_hu(noisy) == pytest.approx(20.0, rel=0.05)


def test_contour_randomisation_moves_the_contour_by_at_most_one_voxel():
    mask = np.zeros((5, 40, 40), dtype=np.uint8)
    mask[1:4, 10:30, 12:28] = 1
    plane = np.zeros((3, 3, 3), dtype=bool)
    plane[1] = ndimage.generate_binary_structure(2, 1)
    changed = randomise_contour(mask, np.random.default_rng(2)).astype(bool)
    assert (changed <= ndimage.binary_dilation(mask, plane)).all()
    assert (changed >= ndimage.binary_erosion(mask, plane, border_value=1)).all()
    assert (changed & ~mask.astype(bool)).any() and (mask.astype(bool) & ~changed).any()


def test_scene_scoring_with_perturbations_fills_the_candidate_agreement_of_the_panel():
    slicer = pytest.importorskip("slicer")
    from CD8RScoreLib import mrml
    from CD8RScoreLib.scene_scoring import score_patient_in_scene
    from test_mrml_adapter import NAMES, three_lesion_ct

    scene = slicer.vtkMRMLScene()
    ct, labels = three_lesion_ct()
    volume = mrml.image_to_volume_node(scene, ct, "CT")
    segmentation = mrml.label_image_to_segmentation(scene, labels, volume, NAMES)
    result = score_patient_in_scene(scene, volume, segmentation, mean_hu_signature(cutoff=0.5), "SYN-3", KVP,
                                    min_volume_ml=0.5, perturbations=3, seed=2)
    # lesion 2 (20 HU) is clearly below lesion 1 (60 HU); lesion 3 is too small to score
    assert result.candidate == "LN 2" and result.summary["candidate_agreement"] == 1.0
    assert result.candidate_agreement_text == "100 % of 3 perturbations"
    _, rows = mrml.table_node_rows(result.patient_table)
    assert float(rows[0]["candidate_agreement"]) == 1.0
    _, lesion_rows = mrml.table_node_rows(result.lesion_table)
    assert len(lesion_rows[0]["perturbed_scores"].split()) == 3 and lesion_rows[2]["perturbed_scores"] == ""


def test_perturbations_scored_in_worker_processes_equal_those_scored_here(patient):
    # the CLI scores each lesion's perturbations in one worker process per core; the numbers do not depend on it
    image, labels = patient
    signature = mean_hu_signature(cutoff=0.5)
    draws = draw_perturbations(5, seed=9)
    here = score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0", perturbations=draws)
    with ProcessPoolExecutor(max_workers=2) as pool:
        there = score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0", perturbations=draws,
                              executor=pool)
    assert [row["perturbed_scores"] for row in there] == [row["perturbed_scores"] for row in here]
    assert there == here


def test_scoring_with_perturbations_in_worker_processes_can_be_cancelled(patient):
    image, labels = patient
    names: list[str] = []
    with ProcessPoolExecutor(max_workers=2) as pool:
        with pytest.raises(ScoringCancelled):
            score_lesions(image, lesion_inputs(labels), mean_hu_signature(cutoff=0.5), KVP, "P", "E0",
                          progress=lambda done, total, name: names.append(name),
                          should_cancel=lambda: len(names) >= 4, perturbations=draw_perturbations(4, seed=1),
                          executor=pool)
    # the three lesions were scored here, then cancelled while their perturbations were gathered
    assert names[:3] == ["lesion 1", "lesion 2", "lesion 3"] and len(names) == 4


def test_perturbations_scored_in_fresh_interpreters_equal_those_scored_here(patient, monkeypatch):
    # macOS and Windows start the workers as fresh interpreters ("spawn"): the lesion's region travels to them whole
    import multiprocessing

    import CD8RScoreLib.worker_processes as worker_processes

    monkeypatch.setattr(worker_processes, "start_method", lambda: "spawn")
    monkeypatch.setattr(worker_processes, "available_cores", lambda: 2)
    image, labels = patient
    signature = mean_hu_signature(cutoff=0.5)
    draws = draw_perturbations(3, seed=5)
    here = score_lesions(image, lesion_inputs(labels)[:2], signature, KVP, "P", "E0", perturbations=draws)
    with worker_processes.worker_pool() as pool:
        assert pool.submit(math.sqrt, 4.0).result() == 2.0
        assert {worker.name.split("-")[0] for worker in multiprocessing.active_children()} == {"SpawnProcess"}
        there = score_lesions(image, lesion_inputs(labels)[:2], signature, KVP, "P", "E0", perturbations=draws,
                              executor=pool)
    assert there == here


def test_a_worker_that_dies_loses_nothing_its_perturbations_are_scored_here(patient):
    # a worker killed (e.g. for lack of memory) while lesion 2 is scored: every row is there, with the same numbers
    import multiprocessing
    import os
    import signal

    image, labels = patient
    signature = mean_hu_signature(cutoff=0.5)
    draws = draw_perturbations(4, seed=6)
    here = score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0", perturbations=draws)

    def kill_workers(done: int, total: int, name: str) -> None:
        if name == "lesion 2":
            for worker in multiprocessing.active_children():
                os.kill(worker.pid, signal.SIGKILL)

    with ProcessPoolExecutor(max_workers=2) as pool:
        there = score_lesions(image, lesion_inputs(labels), signature, KVP, "P", "E0", perturbations=draws,
                              executor=pool, progress=kill_workers)
    assert there == here


def test_noise_reaches_the_sampled_voxels_at_about_the_level_asked(patient):
    # the same perturbation with 0 and 40 HU of noise: the same core, HU differing by the interpolated noise
    image, labels = patient
    signature = mean_hu_signature(cutoff=0.5)
    region = perturbation_region(image, lesion_inputs(labels)[1].mask, signature)
    draw = draw_perturbations(1, seed=2)[0]
    quiet, noisy = (perturbed_vois(region, "2", signature, draw, sd) for sd in (0.0, 40.0))
    core = sitk.GetArrayFromImage(quiet.core).astype(bool)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(noisy.core).astype(bool), core)
    difference = sitk.GetArrayFromImage(noisy.image) - sitk.GetArrayFromImage(quiet.image)
    # trilinear interpolation averages up to 8 voxels' independent noise: its SD lies between 40 / sqrt(8) and 40
    assert 40.0 / math.sqrt(8.0) < difference[core].std() < 40.0
