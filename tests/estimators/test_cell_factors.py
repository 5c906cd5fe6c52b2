"""``CellFactors``: the factored influence functions of att_gt without covariates.

``sum_squares`` (per-cohort moments) must equal the column sums of squares of ``matrix``, also
for an outcome with a large mean and a small spread, where uncentred moments would lose about
ten digits; ``matrix`` must equal ``cells_without_covariates`` (the path used before).
"""

from __future__ import annotations

import numpy as np
import pytest

from evalmodel.estimators.drdid import cell_factors, cells_without_covariates


def _design(shift: float, weighted: bool, ordered: bool) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(16)
    n, n_t = 3000, 6
    code = rng.integers(0, 4, n)  # code 0: never treated; 1-3: cohorts adopting in 2, 3, 4
    if ordered:
        code = np.sort(code)
    y = shift + rng.normal(size=(n, n_t)) + 0.3 * code[:, None]
    w = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    t_idx, b_idx, treat_code = [], [], []
    for c, g in ((1, 2), (2, 3), (3, 4)):
        for t in range(1, n_t):
            t_idx.append(t)
            b_idx.append(t - 1 if t < g else g - 1)
            treat_code.append(c)
    k = len(t_idx)
    treated = np.zeros((4, k), dtype=bool)
    treated[treat_code, np.arange(k)] = True
    control = np.zeros((4, k), dtype=bool)
    control[0] = True
    return y, w, code, np.array(t_idx), np.array(b_idx), treated, control


@pytest.mark.parametrize("shift", [0.0, 1e5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ordered", [False, True])
def test_sum_squares_equal_the_matrix(shift: float, weighted: bool, ordered: bool) -> None:
    args = _design(shift, weighted, ordered)
    att, factors = cell_factors(*args)
    inf = factors.matrix()
    np.testing.assert_allclose(factors.sum_squares(), (inf ** 2).sum(axis=0), rtol=1e-11)
    att_ref, inf_ref = cells_without_covariates(*args)
    np.testing.assert_array_equal(att, att_ref)
    np.testing.assert_array_equal(inf, inf_ref)


def test_zero_cells_have_no_influence() -> None:
    y, w, code, t_idx, b_idx, treated, control = _design(0.0, True, True)
    zero = np.zeros(len(t_idx), dtype=bool)
    zero[[2, 7]] = True
    _, factors = cell_factors(y, w, code, t_idx, b_idx, treated, control, zero=zero)
    assert not factors.matrix()[:, zero].any()
    assert not factors.sum_squares()[zero].any()
    assert (factors.sum_squares()[~zero] > 0).all()


@pytest.mark.parametrize("shift", [0.0, 1e5])
@pytest.mark.parametrize("ordered", [False, True])
def test_dot_equals_the_matrix_product(shift: float, ordered: bool) -> None:
    """``dot`` (the aggregations' path) is ``matrix() @ v`` for a vector and for a matrix, with
    the zero cells left out whatever ``v`` holds there. The reference is the factored formula
    evaluated in extended precision (``np.longdouble``) with the same factors: ``dot`` takes
    each unit's first outcome off first, so it stays exact to rounding of the outcome's
    changes even at a level of 1e5, where ``matrix()`` itself loses about five digits."""
    y, w, code, t_idx, b_idx, treated, control = _design(shift, True, ordered)
    zero = np.zeros(len(t_idx), dtype=bool)
    zero[[0, 9]] = True
    _, factors = cell_factors(y, w, code, t_idx, b_idx, treated, control, zero=zero)
    n = len(y)
    yl = y.astype(np.longdouble)
    inf = (n * w[:, None]).astype(np.longdouble) * (
        yl @ factors.sel.astype(np.longdouble) * factors.a[code] - factors.b[code])
    inf[:, zero] = 0
    np.testing.assert_allclose(factors.matrix(), inf.astype(float), rtol=0,
                               atol=1e-12 * (1 + shift) * float(np.abs(inf).max()))
    rng = np.random.default_rng(3)
    v, m = rng.normal(size=len(t_idx)), rng.normal(size=(len(t_idx), 3))
    scale = float(np.abs(inf).max())
    for u in (v, m):
        want = (inf @ u.astype(np.longdouble)).astype(float)
        np.testing.assert_allclose(factors.dot(u), want, rtol=0, atol=1e-12 * scale)
    assert factors.dot(v).shape == (len(y),) and factors.dot(m).shape == (len(y), 3)
    only_zero = np.zeros(len(t_idx))
    only_zero[zero] = 1.0
    assert not factors.dot(only_zero).any()


@pytest.mark.parametrize("control_group", ["never", "not_yet"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_aggregations_from_the_factors_equal_those_from_the_matrix(
        control_group: str, base_period: str) -> None:
    """Every aggregation computed from the factored influence functions (no (n, K) matrix)
    gives the influence functions and standard errors of the matrix path, to rounding."""
    from evalmodel.data.sim_staggered import simulate_staggered
    from evalmodel.estimators.aggregate import _components
    from evalmodel.estimators.drdid import CellFactors
    from evalmodel.estimators.staggered import att_gt
    from evalmodel.panel import Panel

    n = 1500
    df = simulate_staggered(n, n_periods=8, cohorts=(2003, 2004, 2006), seed=4)
    panel = Panel(df.drop(columns=["att", "x1", "x2"]), unit="unit", time="period",
                  cohort="cohort", outcomes=["y"])
    res = att_gt(panel, "y", control_group=control_group,  # type: ignore[arg-type]
                 base_period=base_period, inference="analytic")  # type: ignore[arg-type]
    assert isinstance(res.influence_source, CellFactors)
    for kind in ("simple", "group", "dynamic", "calendar"):
        agg = res.aggregate(kind, inference="analytic")  # type: ignore[arg-type]
        _, psi = _components(res, kind, inf=res.influence)
        scale = np.abs(psi).max()
        np.testing.assert_allclose(agg.influence, psi, rtol=0, atol=1e-13 * scale)
        se = np.sqrt((psi ** 2).sum(axis=0)) / n
        got = agg.table["std_error"].to_numpy()
        ok = se > 1e-12 * scale  # the universal base period's own event time has no SE
        np.testing.assert_allclose(got[ok], se[ok], rtol=1e-12)
        assert np.isnan(got[~ok]).all()
