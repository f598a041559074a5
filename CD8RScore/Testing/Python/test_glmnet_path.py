"""The elastic net and its cross-validation are R's glmnet's: on the same design and folds, cv.glmnet's penalties,
cross-validated mean squared errors and their standard errors over fit-signature's grid (7 L1 ratios, 100
penalties, 10 folds) agree to a relative 1e-9 (glmnet and glmnet_path run the same arithmetic; measured ~1e-13),
and the one-standard-error penalty is glmnet's lambda.1se.

Reference: data/glmnet_reference/glmnet_cv.csv, written by `Rscript cv_glmnet.R design.csv glmnet_cv.csv` (R 4.2.2,
glmnet 4.1-6) on design.csv (make_reference.py: 60 lesions x 70 collinear candidates, one rare indicator constant
on a fold's training rows)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from CD8RScoreLib.glmnet_path import cross_validate, fit_path, fold_ids
from CD8RScoreLib.signature_fit import DEFAULT_L1_RATIOS

REFERENCE = Path(__file__).parent / "data" / "glmnet_reference"
TOLERANCE = 1e-9


def reference() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[float, dict[str, np.ndarray]]]:
    design = np.loadtxt(REFERENCE / "design.csv", delimiter=",")
    with open(REFERENCE / "glmnet_cv.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    curves = {}
    for ratio in DEFAULT_L1_RATIOS:
        mine = [r for r in rows if float(r["alpha"]) == ratio]
        curves[ratio] = {k: np.array([float(r[k]) for r in mine]) for k in ("lambda", "cvm", "cvsd", "lambda_1se")}
    return design[:, 2:], design[:, 0], design[:, 1].astype(int), curves


@pytest.mark.parametrize("ratio", DEFAULT_L1_RATIOS)
def test_cross_validated_curve_is_glmnets(ratio):
    x, y, fold, curves = reference()
    r = curves[ratio]
    cv = cross_validate(x, y, fold, ratio)
    assert len(cv.full.penalties) == len(r["lambda"])
    np.testing.assert_allclose(cv.full.penalties, r["lambda"], rtol=TOLERANCE)
    np.testing.assert_allclose(cv.cv_mse, r["cvm"], rtol=TOLERANCE)
    np.testing.assert_allclose(cv.cv_se, r["cvsd"], rtol=TOLERANCE)
    at_min = int(np.argmin(cv.cv_mse))
    one_se = cv.full.penalties[cv.cv_mse <= cv.cv_mse[at_min] + cv.cv_se[at_min]].max()
    assert one_se == pytest.approx(r["lambda_1se"][0], rel=TOLERANCE)


def test_user_penalties_and_a_constant_candidate():
    x, y, _, curves = reference()
    grid = curves[0.5]["lambda"][[10, 40, 70]]
    path = fit_path(x, y, 0.5, penalties=list(grid[::-1]))  # any order: fitted from the largest down
    np.testing.assert_array_equal(path.penalties, grid)
    constant = np.column_stack([x, np.full(len(y), 3.0)])
    with_constant = fit_path(constant, y, 0.5, penalties=list(grid))
    assert np.all(with_constant.coefficients[:, -1] == 0.0)
    np.testing.assert_allclose(with_constant.coefficients[:, :-1], path.coefficients, rtol=1e-12, atol=1e-15)


def test_folds_are_balanced_and_seeded():
    a, b = fold_ids(163, 10, 7), fold_ids(163, 10, 7)
    np.testing.assert_array_equal(a, b)
    assert sorted(np.bincount(a)[1:]) == [16] * 7 + [17] * 3
    assert not np.array_equal(a, fold_ids(163, 10, 8))
