"""Writes design.csv (seeded) and, with R, glmnet_cv.csv: the reference of test_glmnet_path.py.

    python make_reference.py && Rscript cv_glmnet.R design.csv glmnet_cv.csv

design.csv: 60 lesions x 70 candidates (more candidates than lesions, as in radiomics), each a mix of 6 latent
factors plus 30 % own noise, a third skewed, min-max normalised; one rare indicator (3 lesions, all in fold 4, so
constant on that fold's training rows); target = 2 factors + noise; the fold of each lesion (10 folds).
Columns as cv_glmnet.R reads them: target, fold, candidates; no header.
"""
from pathlib import Path

import numpy as np

rng = np.random.default_rng(2023)
n, p, factors = 60, 70, 6
latent = rng.standard_normal((n, factors))
x = latent @ rng.normal(0.0, 1.0, (factors, p)) / np.sqrt(factors) + 0.3 * rng.standard_normal((n, p))
skewed = rng.random(p) < 1 / 3
x[:, skewed] = np.exp(x[:, skewed] / 2)
fold = rng.permutation(np.arange(n) % 10) + 1
x[:, -1] = 0.0
x[np.flatnonzero(fold == 4)[:3], -1] = 1.0
x = (x - x.min(axis=0)) / np.ptp(x, axis=0)
y = 1.0 * latent[:, 0] - 0.6 * latent[:, 3] + 0.5 * x[:, -1] + rng.normal(0.0, 0.7, n)
np.savetxt(Path(__file__).with_name("design.csv"), np.column_stack([y, fold, x]), delimiter=",", fmt="%.10g")
