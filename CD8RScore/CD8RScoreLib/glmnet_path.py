"""Elastic-net paths and their K-fold cross-validation, computed as R's glmnet 4.1 computes them (``cv.glmnet``
with ``family = "gaussian"``, ``standardize = TRUE``, ``type.gaussian = "covariance"``, ``thresh = 1e-7``), so
that a fit here matches glmnet's to rounding.

This is the project's own implementation of the published algorithm: Friedman, Hastie & Tibshirani, "Regularization
Paths for Generalized Linear Models via Coordinate Descent", J Stat Softw 2010;33(1):1-22, with the defaults and
stopping rules that glmnet's R documentation (``?glmnet``, ``?glmnet.control``, ``?cv.glmnet``) gives. What it
computes:

- the objective (paper, section 2, eqs. 1-2): ``1/(2n) RSS + lambda [(1 - a)/2 |b|^2 + a |b|_1]`` (a: the mixing,
  called ``l1_ratio`` here), over candidates standardised to mean 0 and SD 1 (1/n formula) and a response
  standardised the same way (``?glmnet``, ``standardize`` and Details); coefficients are reported on the
  candidates' own scale and penalties in units of the response;
- coordinate descent with the soft-thresholded update of eq. 5, kept cheap by covariance updates (section 2.2):
  each candidate's gradient (its inner product with the residual) is updated from the candidates' inner products
  whenever a coefficient changes;
- pathwise warm starts (section 2.5): 100 penalties, log-spaced from lambda_max, the smallest penalty at which every
  coefficient is zero, down to ``lambda.min.ratio`` times it (1e-4, or 1e-2 when candidates outnumber rows), each
  fit starting from the previous one; for a mixing below 1e-3, lambda_max is computed as if it were 1e-3 (a pure
  ridge has no finite lambda_max);
- active-set iteration (section 2.6): after a sweep over every candidate, sweeps over the candidates that have ever
  been non-zero until they converge, then a sweep over every candidate again, until one changes nothing;
- convergence (``?glmnet``, ``thresh``): a sweep has converged when the largest change in the objective from one
  coefficient update, relative to the null deviance, is below 1e-7 (for standardised candidates and response: the
  square of the largest coefficient change);
- the path stops early (``?glmnet.control``: ``fdev``, ``devmax``, ``mnlam``) once the fit explains 99.9 % of the
  deviance or a penalty adds less than 1e-5 of it, after at least 5 penalties; glmnet reports the first penalty one
  log-spaced step above the second;
- cross-validation (``?cv.glmnet``): the whole set and each fold's training rows are fitted along their own paths,
  each held-out fold is predicted at the whole set's penalties by linear interpolation between its own, and the
  curve is the fold-size-weighted mean squared error with its standard error.

Why by hand: glmnet's speed and its numbers come from this algorithm, and no maintained Python library runs it under
a BSD-compatible licence and with the numpy this project has. scikit-learn's coordinate descent stops on a duality
gap: on the collinear radiomic candidates it takes 0.5 to 1.2 million sweeps per L1 ratio where this takes about
30,000, and its cross-validated errors differ from glmnet's by up to 1.3 % (measured on the demonstration training
set: docs/speed.md); python-glmnet wraps glmnet's GPL-2 Fortran, with Linux wheels only; adelie requires numpy < 2.
The coordinate-descent loop is compiled by numba (cached on disk after the first run); the rest is numpy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

THRESHOLD = 1e-7
"""``thresh`` of ``?glmnet``: a sweep has converged when no coefficient moved by more than sqrt(THRESHOLD) SD units
(standardised candidates and response)."""
MAX_PASSES = 100_000
"""``maxit`` of ``?glmnet``: sweeps over the whole path before it stops (returning the penalties reached)."""
MIN_DEVIANCE_GAIN = 1e-5  # ?glmnet.control: fdev
MAX_DEVIANCE_RATIO = 0.999  # ?glmnet.control: devmax
MIN_PENALTIES_BEFORE_STOP = 5  # ?glmnet.control: mnlam
SMALLEST_RATIO = 1e-6  # ?glmnet.control: eps, the smallest lambda.min.ratio
INFINITE_PENALTY = 9.9e35  # ?glmnet.control: big, the penalty at which every coefficient is zero
SMALLEST_MIXING_FOR_START = 1e-3  # lambda_max is computed as if the mixing were at least this


def _compiled_path():
    """The coordinate-descent path, compiled by numba on first use (imported lazily: numba is slow to load and only
    fitting needs it)."""
    global _PATH
    if _PATH is None:
        import numba

        global _update_coordinate, _inner_products  # _path calls the compiled ones
        jit = numba.njit(cache=True, nogil=True)
        _update_coordinate = jit(_update_coordinate)
        _inner_products = jit(_inner_products)
        _PATH = jit(_path)
    return _PATH


_PATH = None


def _inner_products(z, response, usable):
    """(candidates' inner products / n, candidates' inner products with the response / n) of standardised
    candidates ``z`` (rows x candidates); zero for the unusable (constant) ones. Summed here rather than by BLAS,
    whose threads cost more than they save on matrices this small when the machine is busy."""
    n, p = z.shape
    gram = np.zeros((p, p))
    gradient = np.zeros(p)
    for k in range(p):
        if not usable[k]:
            continue
        gram[k, k] = 1.0  # standardised: unit variance
        total = 0.0
        for i in range(n):
            total += z[i, k] * response[i]
        gradient[k] = total / n
        for j in range(k + 1, p):
            if usable[j]:
                total = 0.0
                for i in range(n):
                    total += z[i, k] * z[i, j]
                gram[k, j] = gram[j, k] = total / n
    return gram, gradient


def _update_coordinate(k, coef, gradient, gram, neighbours, n_neighbours, l1_penalty, ridge_scale, explained,
                       max_change):
    """One coordinate-descent update of candidate ``k`` (paper, eq. 5: soft-threshold the partial-residual
    correlation ``gradient[k] + coef[k]`` by ``l1_penalty``, divide by ``ridge_scale`` = 1 + the L2 penalty), then
    the covariance update (section 2.2) of the gradients of ``neighbours[:n_neighbours]``. Returns (explained
    deviance ratio, largest squared change of the sweep), both updated."""
    old = coef[k]
    correlation = gradient[k] + old
    excess = abs(correlation) - l1_penalty
    new = math.copysign(excess, correlation) / ridge_scale if excess > 0.0 else 0.0
    if new == old:
        return explained, max_change
    coef[k] = new
    change = new - old
    explained += change * (2.0 * gradient[k] - change)
    max_change = max(max_change, change * change)
    for i in range(n_neighbours):
        j = neighbours[i]
        gradient[j] -= gram[k, j] * change
    return explained, max_change


def _path(z, response, usable, mixing, given_penalties, n_penalties, min_ratio, threshold, max_passes):
    """The elastic-net path by pathwise coordinate descent with covariance updates on standardised candidates ``z``
    (rows x candidates; the unusable, constant ones all zero) and standardised ``response``. Penalties are
    ``given_penalties`` (decreasing, in units of the standardised response) or, if that is empty, ``n_penalties``
    from lambda_max down to ``min_ratio`` of it. Returns (penalties, coefficients (penalty x candidate), penalties
    fitted, sweeps). Written for numba; runs as plain Python too."""
    p = z.shape[1]
    gram, gradient = _inner_products(z, response, usable)
    everyone = np.flatnonzero(usable)
    coef = np.zeros(p)
    is_active = np.zeros(p, np.bool_)  # ever non-zero on this path (section 2.6)
    active = np.zeros(p, np.int64)  # their indices, in order of entry
    n_active = 0
    coef_before = np.zeros(p)  # active coefficients before an active-set iteration
    given = given_penalties.shape[0] > 0
    n_out = given_penalties.shape[0] if given else n_penalties
    penalties = np.zeros(n_out)
    coefficients = np.zeros((n_out, p))
    # log-spaced grid (section 2.5): each penalty is the previous one times step
    step = 1.0 if given else max(SMALLEST_RATIO, min_ratio) ** (1.0 / (n_penalties - 1))
    explained = 0.0  # fraction of the response's variance explained (deviance ratio)
    penalty = 0.0
    sweeps = 0
    active_set_first = False  # once an active-set iteration has run, each penalty starts with one
    fitted = 0
    for m in range(n_out):
        explained_before = explained
        if given:
            penalty = given_penalties[m]
        elif m == 0:  # every coefficient is zero
            penalty = INFINITE_PENALTY
        elif m == 1:  # one step below lambda_max, the largest correlation scaled by the mixing
            largest = 0.0
            for j in everyone:
                largest = max(largest, abs(gradient[j]))
            penalty = step * largest / max(mixing, SMALLEST_MIXING_FOR_START)
        else:
            penalty *= step
        l1_penalty = penalty * mixing
        ridge_scale = 1.0 + penalty * (1.0 - mixing)
        out_of_sweeps = False
        active_iteration = active_set_first
        while True:
            if active_iteration:
                active_set_first = True
                for i in range(n_active):
                    coef_before[i] = coef[active[i]]
                while True:  # the active set to convergence; only its gradients are kept current
                    sweeps += 1
                    max_change = 0.0
                    for i in range(n_active):
                        explained, max_change = _update_coordinate(active[i], coef, gradient, gram, active,
                                                                   n_active, l1_penalty, ridge_scale, explained,
                                                                   max_change)
                    if max_change < threshold:
                        break
                    if sweeps > max_passes:
                        out_of_sweeps = True
                        break
                if out_of_sweeps:
                    break
                # bring the other candidates' gradients up to date with the active set's total change
                for i in range(n_active):
                    coef_before[i] -= coef[active[i]]
                for j in everyone:
                    if not is_active[j]:
                        total = 0.0
                        for i in range(n_active):
                            total += coef_before[i] * gram[j, active[i]]
                        gradient[j] += total
            sweeps += 1  # a sweep over every candidate
            max_change = 0.0
            for k in everyone:
                explained, max_change = _update_coordinate(k, coef, gradient, gram, everyone, everyone.shape[0],
                                                           l1_penalty, ridge_scale, explained, max_change)
                if coef[k] != 0.0 and not is_active[k]:
                    is_active[k] = True
                    active[n_active] = k
                    n_active += 1
            if max_change < threshold:
                break
            if sweeps > max_passes:
                out_of_sweeps = True
                break
            active_iteration = True
        if out_of_sweeps:  # as glmnet: the penalties reached are returned
            break
        penalties[m] = penalty
        coefficients[m] = coef
        fitted = m + 1
        if given or fitted < MIN_PENALTIES_BEFORE_STOP:
            continue
        if explained - explained_before < MIN_DEVIANCE_GAIN * explained or explained > MAX_DEVIANCE_RATIO:
            break
    return penalties, coefficients, fitted, sweeps


@dataclass
class Path:
    """Coefficients along a penalty path, on the scale of the candidates given (not standardised)."""

    penalties: np.ndarray
    """lambda, in units of the response, decreasing."""
    intercepts: np.ndarray
    coefficients: np.ndarray
    """penalty x candidate."""

    def at(self, penalties: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(intercepts, coefficients) at other penalties by linear interpolation between this path's (glmnet's
        ``lambda.interp``; beyond its ends, the nearest end)."""
        lam = self.penalties
        if len(lam) == 1:
            return np.repeat(self.intercepts, len(penalties)), np.repeat(self.coefficients, len(penalties), axis=0)
        span = lam[0] - lam[-1]
        positions = (lam[0] - lam) / span
        wanted = np.clip((lam[0] - np.asarray(penalties)) / span, positions.min(), positions.max())
        coordinate = np.interp(wanted, positions, np.arange(len(lam)))
        left, right = np.floor(coordinate).astype(int), np.ceil(coordinate).astype(int)
        gap = positions[left] - positions[right]
        same = (left == right) | (np.abs(gap) < np.finfo(float).eps)
        fraction = np.where(same, 1.0, (wanted - positions[right]) / np.where(same, 1.0, gap))
        intercepts = fraction * self.intercepts[left] + (1 - fraction) * self.intercepts[right]
        coefficients = (fraction[:, None] * self.coefficients[left]
                        + (1 - fraction)[:, None] * self.coefficients[right])
        return intercepts, coefficients


class ConstantResponse(ValueError):
    """The response has no variance on the rows fitted."""


def fit_path(x: np.ndarray, y: np.ndarray, l1_ratio: float, penalties: "Sequence[float] | None" = None,
             n_penalties: int = 100) -> Path:
    """``glmnet(x, y, alpha = l1_ratio, nlambda = n_penalties[, lambda = penalties])`` with glmnet's defaults: the
    path on standardised candidates and response, reported on their own scales."""
    n, p = x.shape
    x_mean, y_mean = x.mean(axis=0), y.mean()
    x_sd = np.sqrt(((x - x_mean) ** 2).mean(axis=0))  # 1/n formula, as ?glmnet documents
    y_sd = math.sqrt(float(((y - y_mean) ** 2).mean()))
    if y_sd == 0.0:
        raise ConstantResponse("the response is constant")
    usable = (x != x[0]).any(axis=0)  # a candidate constant on these rows stays at zero
    x_sd = np.where(usable, x_sd, 1.0)
    z = np.asfortranarray((x - x_mean) / x_sd * usable)
    given = np.sort(np.asarray(penalties, dtype=float))[::-1] / y_sd if penalties is not None else np.zeros(0)
    min_ratio = 1e-2 if n < p else 1e-4  # ?glmnet: lambda.min.ratio
    lam, coef, fitted, _ = _compiled_path()(z, (y - y_mean) / y_sd, usable, float(l1_ratio), given,
                                            int(n_penalties), min_ratio, THRESHOLD, MAX_PASSES)
    lam, coef = lam[:fitted] * y_sd, coef[:fitted] * (y_sd / x_sd)
    if penalties is None and fitted > 2:  # as glmnet reports it: one log-spaced step above the second penalty
        lam[0] = math.exp(2 * math.log(lam[1]) - math.log(lam[2]))
    return Path(penalties=lam, intercepts=y_mean - np.einsum("kj,j->k", coef, x_mean), coefficients=coef)


@dataclass
class CrossValidation:
    """cv.glmnet's curve for one mixing: mean squared error and its standard error at each penalty of the fit on
    every row."""

    l1_ratio: float
    full: Path
    cv_mse: np.ndarray
    cv_se: np.ndarray


def fold_ids(n: int, folds: int, seed: int) -> np.ndarray:
    """Fold of each row (1..folds), sizes as equal as possible, by a seeded permutation (as cv.glmnet's
    ``sample(rep(seq(nfolds), length = N))``)."""
    return np.random.default_rng(seed).permutation(np.arange(n) % folds) + 1


def cross_validate(x: np.ndarray, y: np.ndarray, fold: np.ndarray, l1_ratio: float,
                   penalties: "Sequence[float] | None" = None, n_penalties: int = 100,
                   progress: "Callable[[], None] | None" = None) -> CrossValidation:
    """cv.glmnet(x, y, alpha = l1_ratio, foldid = fold[, lambda = penalties]): mean squared error, fold-size
    weighted, and its standard error. ``progress`` is called after each of the (folds + 1) fits."""
    full = fit_path(x, y, l1_ratio, penalties, n_penalties)
    if progress:
        progress()
    folds = np.unique(fold)
    errors, weights = np.empty((len(folds), len(full.penalties))), np.empty(len(folds))
    for i, k in enumerate(folds):
        held = fold == k
        path = fit_path(x[~held], y[~held], l1_ratio, penalties, n_penalties)
        intercepts, coefficients = path.at(full.penalties)
        predictions = intercepts[None, :] + np.einsum("ij,kj->ik", x[held], coefficients)  # no BLAS threads
        errors[i] = ((y[held, None] - predictions) ** 2).mean(axis=0)
        weights[i] = held.sum()
        if progress:
            progress()
    mse = (weights[:, None] * errors).sum(axis=0) / weights.sum()
    se = np.sqrt((weights[:, None] * (errors - mse) ** 2).sum(axis=0) / weights.sum() / (len(folds) - 1))
    return CrossValidation(l1_ratio=float(l1_ratio), full=full, cv_mse=mse, cv_se=se)
