"""``att_gt(..., allow_unbalanced_panel=True)``: the repeated-cross-section estimators on an
unbalanced panel, against the csdid peer (a port of R ``did``), a planted effect, and the
balanced panel estimators when nothing is missing."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.sim_staggered import simulate_staggered, to_panel
from evalmodel.errors import EstimationError, GapWarning, MissingValueWarning, RowsDroppedWarning
from evalmodel.estimators.drdid_rc import rc_cells, rc_cells_without_covariates
from evalmodel.estimators.staggered import att_gt
from evalmodel.panel import Panel


def _gappy(df: pd.DataFrame) -> Panel:
    """The frame as a Panel (it has absent rows: a GapWarning)."""
    with pytest.warns(GapWarning):
        return to_panel(df)


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    """300 units x 8 periods, covariates, sampling weights, 7 % of the rows removed."""
    df = simulate_staggered(300, missing=0.07, weights=True, seed=1)
    assert 0.05 < 1 - len(df) / 2400 < 0.10
    return df


@pytest.fixture(scope="module")
def unbalanced_peer(csdid_fit):  # type: ignore[no-untyped-def]
    """csdid with ``allow_unbalanced_panel=True``."""
    return functools.partial(csdid_fit, allow_unbalanced_panel=True)


def _assert_cells_equal(res, peer) -> None:  # type: ignore[no-untyped-def]
    tab = res.table
    np.testing.assert_array_equal(tab["cohort"], np.asarray(peer.results["group"]))
    np.testing.assert_array_equal(tab["time"], np.asarray(peer.results["year"]))
    np.testing.assert_allclose(tab["estimate"], np.asarray(peer.results["att"], float),
                               rtol=0, atol=1e-8)
    np.testing.assert_allclose(tab["std_error"], np.asarray(peer.results["se"], float),
                               rtol=1e-6, atol=0)


@pytest.mark.parametrize("control", ["never", "not_yet"])
@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_equals_csdid(sim: pd.DataFrame, method: str, control: str, capsys,  # type: ignore[no-untyped-def]
                      unbalanced_peer, csdid_aggregations_equal) -> None:
    res = att_gt(_gappy(sim), "y", covariates=["x1", "x2"], method=method,
                 control_group=control, allow_unbalanced_panel=True)
    assert res.details["repeated_cross_section"]
    peer = unbalanced_peer(sim, method, control, ["x1", "x2"])
    _assert_cells_equal(res, peer)
    csdid_aggregations_equal(res, peer, se_approx={"rel": 1e-6}, se_allclose={"rtol": 1e-6})
    capsys.readouterr()


@pytest.mark.parametrize(("covariates", "method", "control", "options"), [
    ([], "dr", "never", {}),
    ([], "reg", "not_yet", {"base_period": "universal", "anticipation": 1}),
    (["x1", "x2"], "dr", "not_yet", {"base_period": "universal"}),
    (["x1"], "ipw", "not_yet", {"anticipation": 1, "cluster": "region"}),
])
def test_options_equal_csdid(sim: pd.DataFrame, covariates: list[str], method: str,
                             control: str, options: dict[str, object], capsys,  # type: ignore[no-untyped-def]
                             unbalanced_peer) -> None:
    df = sim.assign(region=sim["unit"].str[1:].astype(int) % 25)
    with pytest.warns(GapWarning):
        panel = Panel(df.drop(columns="att"), unit="unit", time="period", cohort="cohort",
                      weight="w")
    res = att_gt(panel, "y", covariates=covariates, method=method, control_group=control,
                 allow_unbalanced_panel=True, **options)  # type: ignore[arg-type]
    peer_kw = {k: v for k, v in options.items() if k != "cluster"}
    if "cluster" in options:
        peer_kw["clustervar"] = options["cluster"]
    peer = unbalanced_peer(df, method, control, covariates, **peer_kw)
    _assert_cells_equal(res, peer)
    dyn = res.aggregate("dynamic")
    ref = peer.aggte(typec="dynamic", bstrap=False).atte
    np.testing.assert_allclose(dyn.components["estimate"], ref["att_egt"], atol=1e-8)
    se, ref_se = dyn.components["std_error"].to_numpy(), np.ravel(ref["se_egt"]).astype(float)
    # the universal base period's own event time: NaN here as in R/csdid
    assert np.array_equal(np.isnan(se), np.isnan(ref_se))
    np.testing.assert_allclose(se[~np.isnan(ref_se)], ref_se[~np.isnan(ref_se)], rtol=1e-6)
    capsys.readouterr()


def test_no_never_treated_equals_csdid(capsys, unbalanced_peer) -> None:  # type: ignore[no-untyped-def]
    df = simulate_staggered(300, missing=0.07, weights=True, never_share=0.0, seed=2)
    with pytest.warns(RowsDroppedWarning, match="no never-treated units"):
        res = att_gt(_gappy(df), "y", covariates=["x1", "x2"], control_group="not_yet",
                     allow_unbalanced_panel=True)
    _assert_cells_equal(res, unbalanced_peer(df, "dr", "not_yet", ["x1", "x2"]))
    capsys.readouterr()


def test_missing_outcome_rows_are_dropped_not_units(sim: pd.DataFrame, capsys,  # type: ignore[no-untyped-def]
                                                    unbalanced_peer) -> None:
    df = sim.copy()
    df.loc[df.index[::37], "y"] = np.nan
    n_nan = int(df["y"].isna().sum())
    with pytest.warns(GapWarning), pytest.warns(MissingValueWarning):
        panel = to_panel(df)
    with pytest.warns(RowsDroppedWarning, match=rf"dropped {n_nan} rows with a missing value"):
        res = att_gt(panel, "y", covariates=["x1", "x2"], allow_unbalanced_panel=True)
    assert res.sample.n_obs == len(df) - n_nan
    _assert_cells_equal(res, unbalanced_peer(df, "dr", "never", ["x1", "x2"]))
    capsys.readouterr()


def test_balanced_input_gives_the_panel_estimator(capsys, unbalanced_peer) -> None:  # type: ignore[no-untyped-def]
    df = simulate_staggered(300, weights=True, seed=3)
    panel = to_panel(df)
    for method in ("dr", "reg"):
        for covs in ([], ["x1", "x2"]):
            flag = att_gt(panel, "y", covariates=covs, method=method,
                          allow_unbalanced_panel=True)
            default = att_gt(panel, "y", covariates=covs, method=method)
            pd.testing.assert_frame_equal(flag.table, default.table, check_exact=True)
            np.testing.assert_array_equal(flag.influence, default.influence)
            assert not flag.details["repeated_cross_section"]
            assert flag.notes[-1] == (f"allow_unbalanced_panel=True, but the panel is "
                                      f"balanced: panel {method} estimator on 2400 rows of "
                                      "300 units")
    # R did keeps the panel estimator too: the same numbers as csdid's balanced run
    _assert_cells_equal(flag, unbalanced_peer(df, "reg", "never", ["x1", "x2"]))
    capsys.readouterr()


def test_notes_name_estimator_and_sample(sim: pd.DataFrame) -> None:
    res = att_gt(_gappy(sim), "y", covariates=["x1", "x2"], method="ipw",
                 allow_unbalanced_panel=True)
    assert res.sample.n_obs == len(sim) and res.sample.n_units == 300
    assert res.notes[-1] == (
        "unbalanced panel: repeated cross-section standardized IPW (std_ipw_did_rc) "
        f"estimator of Sant'Anna and Zhao (2020) on {len(sim)} rows of 300 units (of 2400 "
        "unit-periods), influence functions summed within units")
    assert res.influence.shape == (300, len(res.table))


def test_bad_flag_is_named() -> None:
    panel = to_panel(simulate_staggered(60, seed=0))
    for bad in ("yes", 1, None):
        with pytest.raises(EstimationError, match=r"allow_unbalanced_panel=.* True or False"):
            att_gt(panel, "y", allow_unbalanced_panel=bad)  # type: ignore[arg-type]


def test_cell_without_treated_rows_is_named(sim: pd.DataFrame) -> None:
    df = sim[~((sim["cohort"] == 2005) & (sim["period"] == 2004))]
    with pytest.raises(EstimationError, match=r"cell \(cohort 2005, period 2004\) has no "
                                              r"treated rows in period 2004"):
        att_gt(_gappy(df), "y", allow_unbalanced_panel=True)


def test_default_still_balances(sim: pd.DataFrame) -> None:
    with pytest.warns(RowsDroppedWarning, match=r"units with an absent period"):
        res = att_gt(_gappy(sim), "y")
    assert res.sample.n_obs == res.sample.n_units * 8 < len(sim)


def test_fast_path_equals_kernels(sim: pd.DataFrame) -> None:
    """Without covariates all kernels equal the one-pass means (intercept-only design)."""
    res = att_gt(_gappy(sim), "y", control_group="not_yet", allow_unbalanced_panel=True)
    panel = _gappy(sim)
    from evalmodel.estimators.staggered import _masks, plan_cells
    from evalmodel.estimators.staggered_data import prepare

    data = prepare(panel, "y", control_group="not_yet", allow_unbalanced=True)
    assert data.present is not None
    cells = plan_cells(data.periods, data.cohorts, 0, "varying")
    _, code, treated, control = _masks(data, cells, "not_yet", 0)
    args = (data.present, data.w, code, cells.t_idx, cells.b_idx, treated, control)
    att, inf = rc_cells_without_covariates(data.y, *args)
    np.testing.assert_allclose(att, res.table["estimate"], rtol=0, atol=1e-13)
    none = np.zeros((*data.y.shape, 0))
    for method in ("dr", "ipw", "reg"):
        a, i = rc_cells(data.y, none, data.present, data.w, code, cells.t_idx, cells.b_idx,
                        treated, control, method)
        np.testing.assert_allclose(a, att, rtol=0, atol=1e-10)
        np.testing.assert_allclose(i, inf, rtol=0, atol=1e-8)


def test_bootstrap_and_aggregation_run(sim: pd.DataFrame) -> None:
    panel = _gappy(sim)
    ana = att_gt(panel, "y", covariates=["x1"], allow_unbalanced_panel=True)
    boot = att_gt(panel, "y", covariates=["x1"], allow_unbalanced_panel=True,
                  inference="bootstrap", n_draws=999, seed=3)
    np.testing.assert_allclose(boot.table["std_error"], ana.table["std_error"], rtol=0.15)
    dyn = boot.aggregate("dynamic")
    assert 1.96 < dyn.details["crit_value"] < 3.5
    assert dyn.table["band_lower"].notna().sum() == len(dyn.components)


# -- planted truth --------------------------------------------------------------------------
TAU = 1.5


def _homogeneous(n: int, seed: int) -> Panel:
    """A gappy panel whose effect is TAU in every treated period (selection on x1)."""
    df = simulate_staggered(n, missing=0.08, weights=True, selection=1.0, seed=seed)
    on = (df["cohort"] > 0) & (df["period"] >= df["cohort"])
    df["y"] = df["y"] - df["att"] + TAU * on
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GapWarning)
        return Panel(df.drop(columns="att"), unit="unit", time="period", cohort="cohort",
                     weight="w")


def test_planted_homogeneous_effect() -> None:
    res = att_gt(_homogeneous(600, 11), "y", covariates=["x1", "x2"],
                 allow_unbalanced_panel=True)
    simple = res.aggregate("simple")
    assert abs(simple.estimate - TAU) < 3 * simple.overall["std_error"]


@pytest.mark.slow
def test_monte_carlo_unbiased() -> None:
    est = np.array([
        att_gt(_homogeneous(200, 7000 + draw), "y", covariates=["x1", "x2"],
               allow_unbalanced_panel=True).aggregate("simple").estimate
        for draw in range(100)
    ])
    mc_se = est.std(ddof=1) / np.sqrt(len(est))
    assert abs(est.mean() - TAU) < 2 * mc_se
