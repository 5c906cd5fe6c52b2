"""The augmented placebos' penalty choice by fast ridge predictions chooses the old penalties.

The leave-one-period-out cross-validation of every placebo's ridge penalty
(:mod:`evalmodel.core.ascm_placebo`) predicts each held-out period over a grid of 50 penalties
for every unit. The predictions now come from a Householder reduction to tridiagonal form and
one tridiagonal solve per penalty (:func:`~evalmodel.core.ridge_kernel.ridge_predictions`)
instead of an eigen-decomposition per unit and fold: equal to rounding, not bit for bit. They
only choose a penalty (the smallest total error), and a unit whose best two totals are within
``TIE_MARGIN`` is recomputed the old way, so the penalties, and every gap and scale computed
from them, are the old ones bit for bit (issue 16). Checked here against the old path.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from evalmodel.core import ascm_placebo as ap
from evalmodel.core.ascm import lambda_grid
from evalmodel.core.ridge_kernel import ridge_predictions

#: The ``awkward_outcomes`` fixture's generator (tests/conftest.py).
Outcomes = Callable[..., np.ndarray]


def _setup(outcomes: Outcomes, seed: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    y = outcomes(seed)
    pre = np.arange(10)
    k = ap._cross_products(y)
    grids = np.vstack([lambda_grid(row) for row in y[:, pre]])
    return y, pre, k, grids


@pytest.mark.parametrize("seed", [1, 2])
def test_ridge_predictions_equal_the_eigen_decomposition_to_rounding(
        seed: int, awkward_outcomes: Outcomes) -> None:
    """Every unit, fold and penalty: the tridiagonal predictions equal the eigen-decomposition's
    to 1e-9 relative (the smallest penalties make the systems ill-conditioned; on the
    simulated report's 18 placebo problems the largest relative difference is 2e-11)."""
    y, pre, k, grids = _setup(awkward_outcomes, seed)
    full = ap._simplex_weights(y, pre)
    for t, keep in [*ap.loo_folds(pre), *ap.rolling_folds(pre)]:
        resid = y - ap._simplex_weights(y, keep, full) @ y
        fast = ridge_predictions(k, keep, t, resid, grids)
        exact = ap._exact_pred(k, keep, t, resid, grids)
        scale = np.abs(resid[:, t])[:, None] + np.abs(exact) + 1e-12
        assert np.max(np.abs(fast - exact) / scale) < 1e-9


def test_ridge_predictions_recover_a_planted_closed_form() -> None:
    """Planted truth: with cross-products ``c I`` the prediction is ``k_t' r / (c + lambda)``;
    with a diagonal of distinct values it is ``sum_i k_ti r_i / (d_i + lambda)``."""
    rng = np.random.default_rng(0)
    n, t = 6, 6
    d = rng.uniform(0.5, 4.0, n)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    kk = np.zeros((2, n + 1, n + 1))
    kk[0, :n, :n] = 2.0 * np.eye(n)
    kk[1, :n, :n] = q @ np.diag(d) @ q.T
    kk[:, t, :n] = rng.normal(size=(2, n))
    kk[:, :n, t] = kk[:, t, :n]
    resid = rng.normal(size=(2, n + 1))
    grids = np.array([[0.1, 1.0, 10.0], [0.1, 1.0, 10.0]])
    got = ridge_predictions(kk, np.arange(n), t, resid, grids)
    lam = grids[0]
    want0 = kk[0, t, :n] @ resid[0, :n] / (2.0 + lam)
    proj_k, proj_r = q.T @ kk[1, t, :n], q.T @ resid[1, :n]
    want1 = ((proj_k * proj_r)[None, :] / (d[None, :] + lam[:, None])).sum(axis=1)
    assert np.allclose(got[0], want0, rtol=1e-13) and np.allclose(got[1], want1, rtol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_choice_errors_choose_the_old_penalties(seed: int, awkward_outcomes: Outcomes) -> None:
    """The fast errors pick the old errors' penalty for every unit; the units near a tie (the
    twins among them) carry the old errors bit for bit."""
    y, pre, k, grids = _setup(awkward_outcomes, seed)
    full = ap._simplex_weights(y, pre)
    folds = ap.loo_folds(pre)
    old = ap._fold_errors(y, k, folds, grids, None, full)
    new = ap._choice_errors(y, k, folds, grids, None, full)
    assert np.array_equal(old.sum(axis=2).argmin(axis=1), new.sum(axis=2).argmin(axis=1))
    total = np.sort(old.sum(axis=2), axis=1)
    near = total[:, 1] - total[:, 0] <= ap.TIE_MARGIN * total[:, 0]
    assert near[1] and near[2]  # the twins fit each other exactly: every penalty ties
    assert np.array_equal(new[near], old[near])


@pytest.mark.parametrize("demean", [False, True])
def test_penalties_gaps_and_scales_equal_the_old_path(monkeypatch: pytest.MonkeyPatch,
                                                      awkward_outcomes: Outcomes,
                                                      demean: bool) -> None:
    """Placebo gaps, penalties and forecast scales with the fast choice equal those with the
    eigen-decomposition everywhere, bit for bit."""
    y = awkward_outcomes(5, units=30)
    pre = np.arange(10)
    fast = [ap.placebo_ascm_gaps(y[:-1], pre, demean=demean),
            ap.forecast_scales(y, pre, demean=demean)]
    monkeypatch.setattr(ap, "_choice_errors", ap._fold_errors)
    slow = [ap.placebo_ascm_gaps(y[:-1], pre, demean=demean),
            ap.forecast_scales(y, pre, demean=demean)]
    for (a1, b1), (a2, b2) in zip(fast, slow, strict=True):
        assert np.array_equal(a1, a2) and np.array_equal(b1, b2)


def test_grids_equal_lambda_grid_per_row_bit_for_bit(awkward_outcomes: Outcomes) -> None:
    """Every unit's penalty grid from one array call equals lambda_grid of its row, the
    constant rows (variance 0: the mean-squared fallback, and 1 for a zero row) included."""
    y = awkward_outcomes(4)[:, :10]
    y[6] = 3.0
    y[7] = 0.0
    grids = ap._grids(y)
    for row, grid in zip(y, grids, strict=True):
        assert np.array_equal(grid, lambda_grid(row))
    assert grids[6, 0] == 9.0 * 1e-4 and grids[7, 0] == 1e-4
