"""Invariances of ``att_gt`` (hypothesis) and its named errors and warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalmodel.data.sim_staggered import simulate_staggered
from evalmodel.errors import (
    EstimationError,
    MissingValueWarning,
    RowsDroppedWarning,
    SmallCohortWarning,
)
from evalmodel.estimators.event_study import event_study
from evalmodel.estimators.staggered import att_gt
from evalmodel.panel import Panel

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _fit(df: pd.DataFrame, method: str = "dr") -> pd.DataFrame:
    panel = Panel(df.drop(columns="att"), unit="unit", time="period", cohort="cohort")
    res = att_gt(panel, "y", covariates=["x1"], method=method, control_group="not_yet")
    return res.table.sort_values(["cohort", "time"]).reset_index(drop=True)


@SETTINGS
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["dr", "ipw", "reg"]),
       shift=st.floats(-1e3, 1e3))
def test_invariant_to_unit_and_period_constants(seed: int, method: str, shift: float) -> None:
    df = simulate_staggered(80, n_periods=5, cohorts=(2003, 2004), seed=seed)
    base = _fit(df, method)
    rng = np.random.default_rng(seed)
    unit_c = dict(zip(df["unit"].unique(), rng.normal(0, 50, df["unit"].nunique()),
                      strict=True))
    moved = df.assign(y=df["y"] + df["unit"].map(unit_c) + shift * (df["period"] - 2000) ** 2)
    got = _fit(moved, method)
    np.testing.assert_allclose(got["estimate"], base["estimate"], atol=1e-7)
    np.testing.assert_allclose(got["std_error"], base["std_error"], rtol=1e-7, atol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100).map(
    lambda v: v * (-1) ** int(v * 100)))
def test_scale_equivariant(seed: int, scale: float) -> None:
    df = simulate_staggered(80, n_periods=5, cohorts=(2003, 2004), seed=seed)
    base = _fit(df)
    got = _fit(df.assign(y=df["y"] * scale))
    np.testing.assert_allclose(got["estimate"], scale * base["estimate"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got["std_error"], abs(scale) * base["std_error"], rtol=1e-8)


@SETTINGS
@given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000))
def test_invariant_to_row_order_and_unit_labels(seed: int, perm_seed: int) -> None:
    df = simulate_staggered(80, n_periods=5, cohorts=(2003, 2004), seed=seed)
    base = _fit(df)
    rng = np.random.default_rng(perm_seed)
    shuffled = df.iloc[rng.permutation(len(df))]
    pd.testing.assert_frame_equal(_fit(shuffled), base, atol=1e-12, rtol=0)
    labels = dict(zip(df["unit"].unique(), rng.permutation(
        [f"kommun-{i}" for i in range(df["unit"].nunique())]), strict=True))
    relabelled = df.assign(unit=df["unit"].map(labels))
    pd.testing.assert_frame_equal(_fit(relabelled), base, atol=1e-10, rtol=0)


# -- named errors and warnings ---------------------------------------------------------------
def _panel(df: pd.DataFrame) -> Panel:
    return Panel(df.drop(columns="att"), unit="unit", time="period", cohort="cohort")


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return simulate_staggered(60, n_periods=5, cohorts=(2003, 2004), seed=9)


def test_no_never_treated_suggests_not_yet(small: pd.DataFrame) -> None:
    df = small[small["cohort"] > 0]
    with pytest.raises(EstimationError, match=r"no never-treated units.*control_group='not_yet'"):
        att_gt(_panel(df), "y")
    with pytest.warns(RowsDroppedWarning, match=r"periods from 2004 on were dropped and cohort "
                                                r"2004 serves as the comparison group"):
        res = att_gt(_panel(df), "y", control_group="not_yet")
    assert set(res.table["cohort"]) == {2003}


def test_first_period_units_dropped_with_count(small: pd.DataFrame) -> None:
    df = small.copy()
    first = df["unit"].isin(df["unit"].unique()[:3])
    df.loc[first, "cohort"] = 2001
    with pytest.warns(RowsDroppedWarning, match=r"dropped 3 units treated in the first period"):
        res = att_gt(_panel(df), "y")
    assert any("dropped 3 units treated in the first period" in n for n in res.notes)


def test_single_unit_cohort_warns(small: pd.DataFrame) -> None:
    df = small.copy()
    df.loc[df["unit"] == df.loc[df["cohort"] == 0, "unit"].iloc[0], "cohort"] = 2005
    with pytest.warns(SmallCohortWarning, match=r"cohorts \[2005\] have a single unit"):
        att_gt(_panel(df), "y")


def test_constant_and_collinear_covariates_named(small: pd.DataFrame) -> None:
    df = small.assign(c=1.0, x3=lambda d: 2 * d["x1"] - 1)
    with pytest.raises(EstimationError, match=r"covariate 'c' is constant"):
        att_gt(_panel(df), "y", covariates=["x1", "c"])
    with pytest.raises(EstimationError, match=r"covariate 'x3' is collinear with \['intercept', "
                                              r"'x1'\]"):
        att_gt(_panel(df), "y", covariates=["x1", "x3"])
    with pytest.raises(EstimationError, match=r"covariate 'nope' is not a variable"):
        att_gt(_panel(df), "y", covariates=["nope"])


def test_outcome_missing_for_a_cohort(small: pd.DataFrame) -> None:
    df = small.copy()
    df.loc[df["cohort"] == 2004, "y"] = np.nan
    with pytest.warns(MissingValueWarning):
        panel = _panel(df)
    with pytest.raises(EstimationError, match=r"outcome 'y' is missing for every row of cohort "
                                              r"2004"):
        att_gt(panel, "y")


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"control_group": "never_treated"}, r"control_group='never_treated' is not one of"),
    ({"method": "ols"}, r"method='ols' is not one of \['dr', 'ipw', 'reg'\]"),
    ({"base_period": "fixed"}, r"base_period='fixed' is not one of"),
    ({"inference": "wild"}, r"inference='wild' is not one of"),
    ({"anticipation": -1}, r"anticipation=-1 must be a non-negative integer"),
    ({"conf_level": 95}, r"conf_level=95 must be a number strictly between 0 and 1"),
    ({"n_draws": 1}, r"n_draws=1 must be an integer of at least 2"),
    ({"cluster": "county"}, r"cluster='county' is not a column of the panel"),
])
def test_bad_options(small: pd.DataFrame, kwargs: dict[str, object], pattern: str) -> None:
    with pytest.raises(EstimationError, match=pattern):
        att_gt(_panel(small), "y", **kwargs)  # type: ignore[arg-type]


def test_aggregate_errors(small: pd.DataFrame) -> None:
    res = att_gt(_panel(small), "y")
    with pytest.raises(EstimationError, match=r"kind='event' is not one of"):
        res.aggregate("event")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"balance_e=1 applies only to kind='dynamic'"):
        res.aggregate("group", balance_e=1)
    with pytest.raises(EstimationError, match=r"no post-treatment ATT\(g, t\) falls in the "):
        res.aggregate("simple", max_e=-1)


def test_no_cohort_role() -> None:
    df = pd.DataFrame({"u": ["a", "a", "b", "b"], "t": [1, 2, 1, 2], "y": [1.0, 2, 3, 4]})
    panel = Panel(df, unit="u", time="t")
    with pytest.raises(EstimationError, match=r"att_gt: the panel has no cohort role"):
        att_gt(panel, "y")
    with pytest.raises(EstimationError, match=r"event_study: the panel has no cohort role"):
        event_study(panel, "y")
