"""The fast path of twfe (core two-way demeaning, issue 16): equal to linearmodels' PanelOLS,
to a dummy-variable regression, to a published fixed-effects table, and to a planted truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from linearmodels.datasets import wage_panel
from linearmodels.panel import PanelOLS

import evalmodel as em
from evalmodel.core.demean import twoway_demean
from evalmodel.core.twfe_ols import TwfeFit, twfe_ols
from evalmodel.errors import EstimationError, MissingValueWarning

N_UNITS, N_PERIODS = 90, 8


def _frame(seed: int, *, effect: float = 1.5, noise: float = 1.0) -> pd.DataFrame:
    """Staggered adoption (periods 4 and 6, a third never treated), unit and period effects,
    two covariates, a county column 9 units wide and row-varying and unit-constant weights."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(N_UNITS), N_PERIODS)
    time = np.tile(np.arange(1, N_PERIODS + 1), N_UNITS)
    cohort = np.repeat(rng.choice([0, 4, 6], N_UNITS), N_PERIODS)
    d = ((cohort > 0) & (time >= cohort)).astype(float)
    x1 = rng.normal(size=len(unit)) + 0.3 * d
    x2 = rng.normal(size=len(unit)) + 0.1 * time
    y = (np.repeat(rng.normal(size=N_UNITS), N_PERIODS) + 0.2 * time ** 1.5 + effect * d
         + 0.7 * x1 - 0.4 * x2 + noise * rng.normal(size=len(unit)))
    return pd.DataFrame({
        "unit": [f"m{u:03d}" for u in unit], "time": time, "cohort": cohort, "y": y,
        "x1": x1, "x2": x2, "county": (unit // 10).astype(float),
        "w_unit": np.repeat(rng.uniform(0.5, 2.0, N_UNITS), N_PERIODS),
        "w_row": rng.uniform(0.5, 2.0, len(unit)),
    })


def _peer(df: pd.DataFrame, covariates: list[str], weight: str | None,
          cluster: str | None) -> tuple[pd.Series, pd.Series]:
    """linearmodels PanelOLS with unit and time effects, as twfe called it before issue 16."""
    d = df.assign(treated=((df["cohort"] > 0) & (df["time"] >= df["cohort"])).astype(float))
    d = d.dropna(subset=["y", *covariates]).set_index(["unit", "time"])
    model = PanelOLS(d["y"], d[["treated", *covariates]], entity_effects=True,
                     time_effects=True, weights=d[weight] if weight else None)
    if cluster is None:
        fit = model.fit(cov_type="robust")
    else:
        codes = pd.factorize(d.index.get_level_values(0) if cluster == "unit" else d[cluster])[0]
        fit = model.fit(cov_type="clustered", clusters=pd.DataFrame({"c": codes}, index=d.index))
    return fit.params, fit.std_errors


CASES = {  # name: (rows dropped, covariates, weight column, cluster)
    "balanced": (0, [], None, "unit"),
    "unbalanced": (70, [], None, "unit"),
    "weights constant within unit": (0, ["x1"], "w_unit", "unit"),
    "weights varying, unbalanced": (70, ["x1"], "w_row", "unit"),
    "covariates": (0, ["x1", "x2"], None, "unit"),
    "covariates, unbalanced, missing outcome": (40, ["x1", "x2"], None, "unit"),
    "coarser cluster column": (70, ["x1"], None, "county"),
    "heteroskedasticity-robust": (70, ["x2"], "w_row", None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_errors_equal_panelols(case: str) -> None:
    n_drop, covariates, weight, cluster = CASES[case]
    df = _frame(seed=len(case))
    rng = np.random.default_rng(1)
    if n_drop:
        df = df.drop(index=rng.choice(len(df), n_drop, replace=False)).reset_index(drop=True)
    if "missing" in case:
        df.loc[rng.choice(len(df), 15, replace=False), "y"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.EvalModelWarning)  # gaps, missing values
        panel = em.Panel(df, unit="unit", time="time", cohort="cohort", weight=weight)
        r = em.twfe(panel, "y", covariates=covariates, cluster=cluster, inference="analytic")
    params, ses = _peer(df, covariates, weight, cluster)
    got = r.table.set_index("term")
    for term in ["treated", *covariates]:
        assert got.loc[term, "estimate"] == pytest.approx(params[term], rel=1e-10, abs=0)
        assert got.loc[term, "std_error"] == pytest.approx(ses[term], rel=1e-10, abs=0)
    fit = r.details["fit"]
    assert isinstance(fit, TwfeFit)
    assert r.sample.n_obs == fit.nobs == len(df.dropna(subset=["y"]))
    assert r.sample.n_clusters == (None if cluster is None else
                                   {"unit": N_UNITS, "county": 9}[cluster])


def test_published_fixed_effects_wage_equation() -> None:
    # Wooldridge, Introductory Econometrics, ch. 14 (WAGEPAN, Vella and Verbeek 1998): fixed
    # effects with year dummies, log wage on union, married and exper^2: .080, .047, -.0052.
    data = wage_panel.load().assign(nr=lambda d: d["nr"].astype(str))
    panel = em.Panel(data, unit="nr", time="year",
                     outcomes=["lwage", "union", "married", "expersq"])
    r = em.twfe(panel, "lwage", treatment="union", covariates=["married", "expersq"],
                inference="analytic")
    got = r.table.set_index("term")["estimate"]
    assert round(got["treated"], 3) == 0.080
    assert round(got["married"], 3) == 0.047
    assert round(got["expersq"], 4) == -0.0052
    d = data.set_index(["nr", "year"])
    peer = PanelOLS(d["lwage"], d[["union", "married", "expersq"]], entity_effects=True,
                    time_effects=True).fit(cov_type="clustered", cluster_entity=True)
    np.testing.assert_allclose(r.table["std_error"], peer.std_errors, rtol=1e-10, atol=0)


def test_planted_coefficients_recovered_exactly_without_noise() -> None:
    df = _frame(seed=3, effect=2.5, noise=0.0).drop(index=[5, 77, 300]).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.GapWarning)
        panel = em.Panel(df, unit="unit", time="time", cohort="cohort", weight="w_row")
    r = em.twfe(panel, "y", covariates=["x1", "x2"], inference="analytic")
    np.testing.assert_allclose(r.table["estimate"], [2.5, 0.7, -0.4], rtol=0, atol=1e-10)


def _dummy_residuals(a: np.ndarray, u: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares residuals on explicit unit and period dummies (the peer)."""
    z = np.column_stack([np.eye(u.max() + 1)[u], np.eye(t.max() + 1)[t][:, 1:]])
    rw = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(z * rw, a * rw, rcond=None)[0]
    return np.asarray(a - z @ coef)


@pytest.mark.parametrize("weights", ["none", "unit", "period", "row"])
@pytest.mark.parametrize("balanced", [True, False])
def test_every_method_equals_the_dummy_regression(weights: str, balanced: bool) -> None:
    rng = np.random.default_rng(7)
    n_u, n_t = 40, 6
    u, t = np.repeat(np.arange(n_u), n_t), np.tile(np.arange(n_t), n_u)
    w = {"none": np.ones(n_u * n_t), "unit": np.repeat(rng.uniform(0.5, 2, n_u), n_t),
         "period": np.tile(rng.uniform(0.5, 2, n_t), n_u),
         "row": rng.uniform(0.5, 2, n_u * n_t)}[weights]
    keep = np.ones(n_u * n_t, bool) if balanced else rng.uniform(size=n_u * n_t) > 0.25
    a = rng.normal(size=(n_u * n_t, 3)) + u[:, None] * 0.2 - t[:, None] * 0.5
    a, u, t, w = a[keep], u[keep], t[keep], w[keep]
    peer = _dummy_residuals(a, u, t, w)
    arg = None if weights == "none" else w
    methods = ["direct", "alternating"] + (["closed"] if balanced and weights != "row" else [])
    for method in methods:
        got = twoway_demean(a, u, t, weights=arg, method=method)  # type: ignore[arg-type]
        np.testing.assert_allclose(got, peer, rtol=0, atol=1e-11, err_msg=method)
    if methods[-1] != "closed":
        with pytest.raises(EstimationError, match=r"method='closed' needs a balanced panel"):
            twoway_demean(a, u, t, weights=arg, method="closed")


def test_disconnected_design_and_more_units_than_periods_either_way() -> None:
    # Units 0-9 seen in periods 0-3 only, units 10-19 in periods 4-7 only: two components.
    rng = np.random.default_rng(2)
    u = np.repeat(np.arange(20), 4)
    t = np.where(u < 10, 0, 4) + np.tile(np.arange(4), 20)
    a = rng.normal(size=(80, 2))
    w = rng.uniform(0.5, 2, 80)
    peer = _dummy_residuals(a, u, t, w)
    np.testing.assert_allclose(twoway_demean(a, u, t, weights=w), peer, atol=1e-11)
    # Few units, many periods: the Schur complement is taken on the units instead.
    np.testing.assert_allclose(twoway_demean(a, t, u, weights=w, method="direct"),
                               _dummy_residuals(a, t, u, w), atol=1e-11)


def test_alternating_projections_cap_raises_a_named_error() -> None:
    rng = np.random.default_rng(4)
    u, t = rng.integers(0, 30, 200), rng.integers(0, 12, 200)
    with pytest.raises(EstimationError, match=r"did not converge to 1e-13 .* max_iter=2 passes"):
        twoway_demean(rng.normal(size=200), u, t, method="alternating", max_iter=2)


def test_fit_errors_named() -> None:
    df = _frame(seed=5)
    df["region_score"] = np.repeat(np.arange(N_UNITS, dtype=float), N_PERIODS)  # unit-constant
    df["x1_twice"] = 2 * df["x1"]
    panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
    with pytest.raises(EstimationError, match=r"absorbed by the unit and period effects.*"
                                              r"\['region_score'\]"):
        em.twfe(panel, "y", covariates=["region_score"], inference="analytic")
    with pytest.raises(EstimationError, match=r"regressors \['treated', 'x1', 'x1_twice'\] "
                                              r"are collinear"):
        em.twfe(panel, "y", covariates=["x1", "x1_twice"], inference="analytic")
    grouped = pd.concat([df.assign(g="a"), df.assign(g="b")])
    with pytest.raises(EstimationError, match=r"group role \('g'\).*one row per unit and period"):
        em.twfe(em.Panel(grouped, unit="unit", time="time", cohort="cohort", group="g"), "y",
                inference="analytic")
    with pytest.raises(EstimationError, match=r"no residual degrees of freedom"):
        twfe_ols(np.arange(4.0), np.array([[0.0], [1.0], [0.0], [0.0]]), np.array([0, 0, 1, 1]),
                 np.array([0, 1, 0, 1]))


def test_missing_outcomes_counted_as_before() -> None:
    df = _frame(seed=6)
    df.loc[[3, 50, 51], "y"] = np.nan
    with pytest.warns(MissingValueWarning):
        panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
    with pytest.warns(MissingValueWarning, match=r"3 rows with missing 'y' left out"):
        r = em.twfe(panel, "y", inference="analytic")
    assert r.sample.n_obs == len(df) - 3 and r.sample.n_units == N_UNITS
    assert r.notes == ("3 rows with missing 'y' left out of the estimate",)


@pytest.mark.parametrize("block", [7, 1 << 20])
def test_is_balanced_block_by_block(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``is_balanced`` forms the cells' keys a block of rows at a time (no copy of the codes):
    the same answer as a count of every cell, with blocks splitting the rows anywhere."""
    from evalmodel.core import demean

    monkeypatch.setattr(demean, "BALANCE_BLOCK", block)
    rng = np.random.default_rng(9)
    n_u, n_t = 13, 5
    u, t = np.repeat(np.arange(n_u), n_t), np.tile(np.arange(n_t), n_u)
    shuffled = rng.permutation(len(u))
    twice = t.copy()
    twice[37] = twice[38]  # unit 7: period 3 twice, period 2 absent; as many rows as cells
    cases = {"in order": (u, t, True), "shuffled": (u[shuffled], t[shuffled], True),
             "a cell twice": (u, twice, False), "a row fewer": (u[1:], t[1:], False)}
    for name, (uu, tt, want) in cases.items():
        count = np.bincount(uu * n_t + tt, minlength=n_u * n_t)
        assert bool((count == 1).all()) is want, name  # the reference agrees with the case
        assert demean.is_balanced(uu, tt, n_u, n_t) is want, name
    out_of_range = t.copy()
    out_of_range[-1] = n_t  # a period code past the last: not a cell of the n_u x n_t grid
    assert demean.is_balanced(u, out_of_range, n_u, n_t) is False


def test_drop_missing_copies_nothing_when_nothing_is_missing() -> None:
    """``drop_missing`` returns the rows as they are (a lazy copy: writing to it leaves the
    caller's frame unchanged) when no value is missing, and drops and counts them otherwise."""
    from evalmodel.estimators._common import drop_missing

    df = pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [4.0, 5.0, 6.0]})
    out, notes = drop_missing("twfe", df, ["y", "x"])
    assert notes == [] and np.shares_memory(out["y"].to_numpy(), df["y"].to_numpy())
    out.loc[0, "y"] = 9.0
    assert df.loc[0, "y"] == 1.0
    df.loc[1, "x"] = np.nan
    with pytest.warns(MissingValueWarning, match=r"1 rows with missing 'x'"):
        out, notes = drop_missing("twfe", df, ["y", "x"])
    assert out.index.tolist() == [0, 2] and len(notes) == 1
