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
from evalmodel.core import ridge_kernel
from evalmodel.core.ascm import lambda_grid
from evalmodel.core.jit import njit, use_numba
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


def _per_penalty_predictions(k: np.ndarray, keep: np.ndarray, t: int,
                              resid: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """The kernel as it was before the penalties were solved side by side (commit
    59b7979), verbatim: one Thomas solve after another."""
    units = k.shape[0]
    n = keep.size
    g = grids.shape[1]
    out = np.zeros((units, g))
    a = np.empty((n, n))
    x = np.empty(n)
    y = np.empty(n)
    v = np.empty(n)
    p = np.empty(n)
    d = np.empty(n)
    e = np.zeros(n)
    c = np.empty(n)
    z = np.empty(n)
    for j in range(units):
        for r in range(n):
            x[r] = resid[j, keep[r]]
            y[r] = k[j, t, keep[r]]
            for s in range(n):
                a[r, s] = k[j, keep[r], keep[s]]
        # Householder reduction to tridiagonal form, Q applied to x and y on the way
        for col in range(n - 2):
            norm = 0.0
            for r in range(col + 1, n):
                norm += a[r, col] * a[r, col]
            norm = np.sqrt(norm)
            if norm == 0.0:
                continue
            alpha = -norm if a[col + 1, col] >= 0.0 else norm
            vv = 0.0
            for r in range(col + 1, n):
                v[r] = a[r, col]
            v[col + 1] -= alpha
            for r in range(col + 1, n):
                vv += v[r] * v[r]
            if vv == 0.0:
                continue
            scale = 1.0 / np.sqrt(vv)
            for r in range(col + 1, n):
                v[r] *= scale
            vp = 0.0
            for r in range(col + 1, n):
                acc = 0.0
                for s in range(col + 1, n):
                    acc += a[r, s] * v[s]
                p[r] = 2.0 * acc
                vp += v[r] * acc
            for r in range(col + 1, n):
                p[r] -= 2.0 * vp * v[r]  # w = 2 A v - 2 (v'Av) v
            for r in range(col + 1, n):
                for s in range(col + 1, n):
                    a[r, s] -= v[r] * p[s] + p[r] * v[s]
            a[col + 1, col] = alpha
            a[col, col + 1] = alpha
            for r in range(col + 2, n):
                a[r, col] = 0.0
                a[col, r] = 0.0
            vx, vy = 0.0, 0.0
            for r in range(col + 1, n):
                vx += v[r] * x[r]
                vy += v[r] * y[r]
            for r in range(col + 1, n):
                x[r] -= 2.0 * vx * v[r]
                y[r] -= 2.0 * vy * v[r]
        for r in range(n):
            d[r] = a[r, r]
            e[r] = a[r + 1, r] if r + 1 < n else 0.0
        for q in range(g):
            lam = grids[j, q]
            # Thomas algorithm for (T + lam I) z = x
            m = d[0] + lam
            c[0] = e[0] / m
            z[0] = x[0] / m
            for r in range(1, n):
                m = d[r] + lam - e[r - 1] * c[r - 1]
                c[r] = e[r] / m
                z[r] = (x[r] - e[r - 1] * z[r - 1]) / m
            for r in range(n - 2, -1, -1):
                z[r] -= c[r] * z[r + 1]
            acc = 0.0
            for r in range(n):
                acc += y[r] * z[r]
            out[j, q] = acc
    return out


_reference = njit()(_per_penalty_predictions) if use_numba() else _per_penalty_predictions


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_penalties_solved_side_by_side_equal_one_solve_after_another(
        seed: int, awkward_outcomes: Outcomes) -> None:
    """The tridiagonal solves of all penalties, interleaved, give the numbers of one solve per
    penalty bit for bit (compiled and as Python), on every fold of awkward outcomes, with a
    one- and a two-column fold and a single penalty."""
    y, pre, k, grids = _setup(awkward_outcomes, seed)
    full = ap._simplex_weights(y, pre)
    twin = getattr(ridge_kernel._predictions, "py_func", ridge_kernel._predictions)
    folds = [*ap.loo_folds(pre), *ap.rolling_folds(pre), (2, np.array([0])),
             (3, np.array([0, 1]))]
    for t, keep in folds:
        resid = y - ap._simplex_weights(y, keep, full) @ y
        for g in (grids, grids[:, 7:8]):
            args = (k, keep.astype(np.int64), int(t), resid, np.ascontiguousarray(g))
            want = _reference(*args)
            assert np.array_equal(ridge_predictions(*args), want)
            assert np.array_equal(twin(*args), want)


@pytest.mark.parametrize("rule", ["min", "1se"])
def test_forecast_scales_fit_each_column_set_once(monkeypatch: pytest.MonkeyPatch,
                                                  awkward_outcomes: Outcomes,
                                                  rule: str) -> None:
    """The last rolling-origin fold fits the same pre-periods as the last leave-one-out fold;
    its simplex weights are now taken from that fold instead of solved again (issue 16). Every
    column set is solved once, and scales and penalties equal those of solving every fold,
    bit for bit."""
    y = awkward_outcomes(7, units=25)
    pre = np.arange(12)
    solved: list[tuple[int, ...]] = []
    real = ap._simplex_weights

    def spy(f: np.ndarray, cols: np.ndarray, warm: np.ndarray | None = None) -> np.ndarray:
        solved.append(tuple(int(c) for c in cols))
        return real(f, cols, warm)

    monkeypatch.setattr(ap, "_simplex_weights", spy)
    shared = ap.forecast_scales(y, pre, rule=rule)  # type: ignore[arg-type]
    assert len(solved) == len(set(solved)) == 1 + 12 + 4 - 1  # all, 12 left out, 4 rolling
    monkeypatch.setattr(ap, "_fold_weights",
                        lambda f, keep, warm, fits: real(f, keep, warm))
    each = ap.forecast_scales(y, pre, rule=rule)  # type: ignore[arg-type]
    assert np.array_equal(shared[0], each[0]) and np.array_equal(shared[1], each[1])
