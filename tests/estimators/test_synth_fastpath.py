"""Fast paths of the synthetic control's inner problem give the old numbers bit for bit.

The placebo fits of the augmented synthetic control (every donor against the others, in every
cross-validation fold) run the exact simplex solver tens of thousands of times per report case,
and its conformal test re-fits thousands of times. These changes make them cheaper without
changing a number, and each is checked here against the code it replaced:

- the active-set method keeps its passive set as an ascending list of columns besides the
  flags, so the residual, the mean reduced gradient and the KKT system visit the passive
  columns in the order the old scan over all columns did (the old kernel, verbatim, is
  :func:`_reference_simplex_ls` below);
- :func:`~evalmodel.core.simplex_kernel.leave_one_out_weights` fits every unit against all the
  others in one compiled call, centring each period on the others' mean as
  :func:`~evalmodel.core.ascm._centre` does (the old path was a Python loop over units);
- the conformal refit (:class:`~evalmodel.core.ascm.ResidualRefit`) computes the donors' side
  of a fit once per column set instead of once per null tested;
- each cross-validation fold of the augmented placebos starts every unit's active set from its
  weights on all pre-periods (``leave_one_out_weights(sub, warm)``), and a unit inside the
  others' hull, whose optimum is not unique, is fitted again from the cold start (issue 16).
"""

from __future__ import annotations

import numpy as np
import pytest

from evalmodel.core import simplex_kernel as sk
from evalmodel.core.ascm import _centre, _outcome_weights
from evalmodel.core.ascm_placebo import _simplex_weights, forecast_scales, placebo_ascm_gaps


def _reference_simplex_ls(a: np.ndarray, b: np.ndarray, w0: np.ndarray,
                          max_iter: int) -> np.ndarray:
    """The active-set kernel as it was before the passive list (commit e4d7057), in Python."""
    kkt_solve = getattr(sk._kkt_solve, "py_func", sk._kkt_solve)
    n, m = a.shape
    scale, bscale = 0.0, 0.0
    for r in range(n):
        bscale = max(bscale, abs(b[r]))
        for j in range(m):
            scale = max(scale, abs(a[r, j]))
    tol = sk._TOL * max(scale * (scale + bscale), 1e-300)
    w = np.zeros(m)
    passive = np.zeros(m, dtype=np.bool_)
    total0, support = 0.0, 0
    for j in range(m):
        total0 += w0[j]
        support += w0[j] > 0.0
    warm = total0 > 0.0 and support <= n + 1
    enter = -1
    if warm:
        for j in range(m):
            w[j] = w0[j] / total0
            passive[j] = w[j] > 0.0
    else:
        dist = np.zeros(m)
        for r in range(n):
            for j in range(m):
                e = a[r, j] - b[r]
                dist[j] += e * e
        enter = 0
        for j in range(1, m):
            if dist[j] < dist[enter]:
                enter = j
        w[enter] = 1.0
        passive[enter] = True
    j_any = 0
    for j in range(1, m):
        if w[j] > w[j_any]:
            j_any = j
    resid = np.empty(n)
    g = np.empty(m)
    for _ in range(max_iter):
        if not warm:
            for r in range(n):
                acc = -b[r]
                for j in range(m):
                    if passive[j]:
                        acc += a[r, j] * w[j]
                resid[r] = acc
            g[:] = 0.0
            for r in range(n):
                rr = resid[r]
                for j in range(m):
                    g[j] += a[r, j] * rr
            gbar, cnt = 0.0, 0
            for j in range(m):
                if passive[j]:
                    gbar += g[j]
                    cnt += 1
            gbar /= cnt
            enter, low = -1, -tol
            for j in range(m):
                if not passive[j] and g[j] - gbar < low:
                    low, enter = g[j] - gbar, j
            if enter < 0:
                break
            passive[enter] = True
        warm = False
        stop = False
        while True:
            p = int(passive.sum())
            idx = np.empty(p, dtype=np.int64)
            q, at_enter = 0, -1
            for j in range(m):
                if passive[j]:
                    if j == enter:
                        at_enter = q
                    idx[q] = j
                    q += 1
            z = kkt_solve(a, b, idx)
            zmin = np.inf
            for q in range(p):
                zmin = min(zmin, z[q])
            if zmin > 0.0:
                w[:] = 0.0
                for q in range(p):
                    w[idx[q]] = z[q]
                break
            if at_enter >= 0 and w[enter] == 0.0 and z[at_enter] <= 0.0:
                passive[enter] = False
                stop = True
                break
            alpha = 1.0
            for q in range(p):
                if z[q] <= 0.0:
                    wq = w[idx[q]]
                    alpha = min(alpha, wq / (wq - z[q]))
            for q in range(p):
                i = idx[q]
                w[i] += alpha * (z[q] - w[i])
                if w[i] <= 1e-14:
                    w[i] = 0.0
                    passive[i] = False
            if p == 0 or not passive.any():
                passive[j_any] = True
                w[j_any] = 1.0
                break
        if stop:
            break
    total = 0.0
    for j in range(m):
        total += w[j]
    for j in range(m):
        w[j] /= total
    return w


def _problems(rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Small problems of every kind the fits meet: outside the hull, inside it (many exact
    fits), duplicated columns (a singular KKT system), a tied best vertex."""
    out = []
    for k in range(count):
        n, m = int(rng.integers(2, 9)), int(rng.integers(2, 40))
        a = rng.normal(size=(n, m))
        kind = k % 4
        if kind == 1:
            b = a @ rng.dirichlet(np.full(m, 0.3))
        else:
            b = 3 * rng.normal(size=n)
        if kind == 2 and m > 3:
            a[:, 1] = a[:, 0]
            a[:, 3] = a[:, 2]
        if kind == 3:
            b = a[:, 0].copy()
            a[:, -1] = a[:, 0]
        out.append((np.ascontiguousarray(a), b))
    return out


def test_passive_list_kernel_equals_the_scanning_kernel_bit_for_bit() -> None:
    """The kernel, compiled and as Python, against the old kernel on 80 problems, cold and
    warm-started; the old kernel's support really is reached by different paths (warm)."""
    rng = np.random.default_rng(2026)
    twin = getattr(sk._simplex_ls, "py_func", sk._simplex_ls)
    for a, b in _problems(rng, 80):
        m = a.shape[1]
        for w0 in (np.zeros(m), rng.dirichlet(np.ones(m)) * (rng.random(m) < 0.3)):
            ref = _reference_simplex_ls(a, b, w0, sk._max_iter(m))
            assert np.array_equal(twin(a, b, w0, sk._max_iter(m)), ref)
            assert np.array_equal(sk._simplex_ls(a, b, w0, sk._max_iter(m)), ref)


def _panel(rng: np.random.Generator, units: int, periods: int) -> np.ndarray:
    """Two-factor outcomes, with one unit an exact mix of three others (inside the hull), two
    identical units and one unit far above every other (outside the hull)."""
    load = rng.uniform(0.5, 1.5, (units, 2))
    y = 10 + load @ np.cumsum(rng.normal(0, 1, (periods, 2)), axis=0).T
    y += rng.normal(0, 0.3, (units, periods))
    if units >= 8:
        y[0] = 0.5 * y[3] + 0.3 * y[4] + 0.2 * y[5]
        y[1] = y[2]
        y[-1] += 5.0
    return y


@pytest.mark.parametrize("units,periods", [(3, 4), (12, 6), (60, 15)])
def test_leave_one_out_weights_equal_the_loop_over_units_bit_for_bit(units: int,
                                                                     periods: int) -> None:
    """Row ``i`` equals the per-unit fit of ascm_fit (centre on the others, then solve), on
    every column subset a cross-validation uses."""
    rng = np.random.default_rng(units)
    y = _panel(rng, units, periods)
    cols = np.arange(periods)
    for keep in (cols, np.delete(cols, periods // 2), cols[: periods - 1]):
        sub = y[:, keep]
        loop = np.zeros((units, units))
        for i in range(units):
            pool = np.arange(units) != i
            loop[i, pool] = _outcome_weights(*_centre(sub[pool].T, sub[i]))
        fast = sk.leave_one_out_weights(sub)
        assert np.array_equal(fast, loop)
        assert np.array_equal(_simplex_weights(y, keep), loop)
        assert np.allclose(fast.sum(axis=1), 1.0, atol=1e-12) and (np.diag(fast) == 0).all()


def test_leave_one_out_weights_recover_a_planted_mix() -> None:
    """Planted truth: a unit that is an exact mix of three others (and far from the rest) gets
    that mix back from the batched fit."""
    rng = np.random.default_rng(5)
    y = _panel(rng, 30, 12)
    w = sk.leave_one_out_weights(y)
    expect = np.zeros(30)
    expect[[3, 4, 5]] = [0.5, 0.3, 0.2]
    assert np.allclose(w[0], expect, atol=1e-6)


def _loop_simplex_weights(f: np.ndarray, cols: np.ndarray,
                          warm: np.ndarray | None = None) -> np.ndarray:
    """The old ``_simplex_weights``: a Python loop over units, each from the cold start
    (``warm`` ignored)."""
    j = f.shape[0]
    w = np.zeros((j, j))
    sub = f[:, cols]
    for i in range(j):
        pool = np.arange(j) != i
        w[i, pool] = _outcome_weights(*_centre(sub[pool].T, sub[i]))
    return w


@pytest.mark.parametrize("demean", [False, True])
def test_placebo_gaps_and_forecast_scales_equal_the_loop_path(
        monkeypatch: pytest.MonkeyPatch, demean: bool) -> None:
    """The placebo gaps, penalties and forecast scales (cross-validated, both rules) with the
    batched weights equal those with the old per-unit loop bit for bit."""
    from evalmodel.core import ascm_placebo

    rng = np.random.default_rng(9)
    y = _panel(rng, 25, 14)
    pre = np.arange(10)
    fast = [placebo_ascm_gaps(y[:-1], pre, demean=demean),
            placebo_ascm_gaps(y[:-1], pre, demean=demean, rule="1se"),
            forecast_scales(y, pre, demean=demean)]
    monkeypatch.setattr(ascm_placebo, "_simplex_weights", _loop_simplex_weights)
    slow = [placebo_ascm_gaps(y[:-1], pre, demean=demean),
            placebo_ascm_gaps(y[:-1], pre, demean=demean, rule="1se"),
            forecast_scales(y, pre, demean=demean)]
    for (a1, b1), (a2, b2) in zip(fast, slow, strict=True):
        assert np.array_equal(a1, a2) and np.array_equal(b1, b2)


@pytest.mark.parametrize("lam", [None, 0.7])
@pytest.mark.parametrize("demean", [False, True])
def test_residual_refit_equals_ascm_residuals_bit_for_bit(lam: float | None,
                                                         demean: bool) -> None:
    """The conformal refit with the donors' side kept per column set gives the residuals of
    ascm_residuals exactly, whatever order the column sets and nulls come in."""
    from evalmodel.core.ascm import ResidualRefit, ascm_residuals

    rng = np.random.default_rng(17)
    y = _panel(rng, 40, 16)
    y0, y1 = y[:-1], y[-1]
    refit = ResidualRefit(y0, lam=lam, demean=demean)
    pre = np.arange(12)
    col_sets = [np.append(pre, t) for t in range(12, 16)] + [np.arange(16)]
    for _ in range(3):
        for cols in col_sets:
            for null in (0.0, -1.5, 4.0):
                y1c = y1[cols].copy()
                y1c[-1] -= null
                expect = ascm_residuals(y0[:, cols], y1c, lam=lam, demean=demean)
                assert np.array_equal(refit(cols, y1c), expect)


@pytest.mark.parametrize("units,periods", [(12, 6), (60, 15), (200, 14)])
def test_warm_started_leave_one_out_equals_the_cold_start_bit_for_bit(units: int,
                                                                      periods: int) -> None:
    """Every fold of a cross-validation (leave one period out, rolling origin) started from
    the weights on all periods gives the cold start's weights exactly, the unit inside the
    hull (an exact mix), the twins and the unit outside included."""
    from evalmodel.core.ascm_placebo import loo_folds, rolling_folds

    rng = np.random.default_rng(units + 1)
    y = _panel(rng, units, periods)
    cols = np.arange(periods)
    full = sk.leave_one_out_weights(y)
    for _, keep in [*loo_folds(cols), *rolling_folds(cols)]:
        sub = y[:, keep]
        assert np.array_equal(sk.leave_one_out_weights(sub, full), sk.leave_one_out_weights(sub))


def test_a_unit_inside_the_hull_is_refitted_from_the_cold_start() -> None:
    """Inside the hull the optimum is not unique: unit 0, the mean of 29 units in 4 periods,
    is matched exactly by many mixes, and a start on other units ends at another one (0.59
    apart in weight). The result is still the cold start's mix, bit for bit."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=(30, 4))
    y[0] = y[1:].mean(axis=0)
    cold = sk.leave_one_out_weights(y)
    warm = np.zeros((30, 30))
    warm[0, [10, 12, 14, 16, 18]] = 0.2
    assert np.array_equal(sk.leave_one_out_weights(y, warm), cold)
    assert np.allclose(cold[0, 1:] @ y[1:], y[0], atol=1e-12)


def _running_abs_max(a: np.ndarray) -> float:
    """The solver's scale as it was summed before :func:`sk._abs_max`: one running maximum."""
    scale = 0.0
    for r in range(a.shape[0]):
        for j in range(a.shape[1]):
            scale = max(scale, abs(a[r, j]))
    return scale


def test_abs_max_in_four_runs_equals_the_running_maximum() -> None:
    """Every width modulo 4, a maximum in each lane and in the tail, NaNs, negative zeros and
    an empty array: the interleaved maximum is the running one (compiled and as Python)."""
    rng = np.random.default_rng(16)
    twin = getattr(sk._abs_max, "py_func", sk._abs_max)
    cases = [np.empty((0, 3)), np.empty((3, 0)), np.full((2, 3), -0.0)]
    for m in range(1, 10):
        for lane in range(m):
            a = rng.normal(size=(3, m))
            a[1, lane] = -50.0  # the largest magnitude in each position of the runs
            cases.append(a)
    nan = rng.normal(size=(4, 11))
    nan[0, 0], nan[2, 7] = np.nan, np.nan
    cases.append(nan)
    for a in cases:
        want = _running_abs_max(a)
        for fn in (sk._abs_max, twin):
            got = fn(np.ascontiguousarray(a))
            assert got == want and np.signbit(got) == np.signbit(want), (a, got, want)
    assert sk._abs_max(cases[-1]) == np.nanmax(np.abs(nan))
