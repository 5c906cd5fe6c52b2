"""Callaway-Sant'Anna ``att_gt`` and ``aggregate``: published mpdta numbers and the csdid peer.

Reference numbers: R ``did`` on ``mpdta`` (Callaway and Sant'Anna 2021; the package's
vignette), as listed in ../shared/CONTEXT.md. The peer is ``csdid`` (a port of R ``did``) run
in the same test on the same simulated panel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.sim_staggered import simulate_staggered, to_panel
from evalmodel.errors import GapWarning, RowsDroppedWarning
from evalmodel.estimators.staggered import att_gt
from evalmodel.panel import Panel

# R did 2.x, mpdta, lemp, never treated, no covariates, varying base period
MPDTA_ATT = {
    (2004, 2004): -0.0105, (2004, 2005): -0.0704, (2004, 2006): -0.1373, (2004, 2007): -0.1008,
    (2006, 2004): 0.0065, (2006, 2005): -0.0028, (2006, 2006): -0.0046, (2006, 2007): -0.0412,
    (2007, 2004): 0.0305, (2007, 2005): -0.0027, (2007, 2006): -0.0311, (2007, 2007): -0.0261,
}
MPDTA_SE_2004 = [0.0233, 0.0310, 0.0364, 0.0344]
MPDTA_DYNAMIC = [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373, -0.1008]
DEC4 = 0.5e-4  # "to 4 decimals": the published numbers are rounded


@pytest.fixture(scope="module")
def mpdta() -> Panel:
    from moderndid import load_mpdta

    df = load_mpdta().to_pandas()
    df["countyreal"] = df["countyreal"].astype(str)  # ids are text in a Panel
    return Panel(df, unit="countyreal", time="year", cohort="first.treat",
                 outcomes=["lemp", "lpop"])


@pytest.fixture(scope="module")
def mpdta_res(mpdta: Panel):  # type: ignore[no-untyped-def]
    return att_gt(mpdta, "lemp")


def test_mpdta_group_time_effects(mpdta_res) -> None:  # type: ignore[no-untyped-def]
    tab = mpdta_res.table
    got = {(int(g), int(t)): e for g, t, e in tab[["cohort", "time", "estimate"]].itertuples(
        index=False)}
    assert got.keys() == MPDTA_ATT.keys()
    for key, ref in MPDTA_ATT.items():
        assert got[key] == pytest.approx(ref, abs=DEC4), key
    se = tab.loc[tab["cohort"] == 2004, "std_error"].to_numpy()
    np.testing.assert_allclose(se, MPDTA_SE_2004, atol=0.5e-4)
    assert (tab["event_time"] == tab["time"] - tab["cohort"]).all()


def test_mpdta_aggregations(mpdta_res) -> None:  # type: ignore[no-untyped-def]
    simple = mpdta_res.aggregate("simple")
    assert simple.estimate == pytest.approx(-0.0400, abs=DEC4)
    assert simple.overall["std_error"] == pytest.approx(0.0120, abs=DEC4)
    dyn = mpdta_res.aggregate("dynamic")
    assert dyn.estimate == pytest.approx(-0.0772, abs=DEC4)
    np.testing.assert_allclose(dyn.coefficients.to_numpy(), MPDTA_DYNAMIC, atol=DEC4)
    assert dyn.coefficients.index.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    grp = mpdta_res.aggregate("group")
    assert grp.estimate == pytest.approx(-0.0310, abs=DEC4)
    np.testing.assert_allclose(grp.coefficients.to_numpy(), [-0.0797, -0.0229, -0.0261],
                               atol=DEC4)
    cal = mpdta_res.aggregate("calendar")
    assert cal.estimate == pytest.approx(-0.0417, abs=DEC4)


def test_mpdta_pretest(mpdta_res) -> None:  # type: ignore[no-untyped-def]
    pt = mpdta_res.pretest
    assert pt.df == 5
    assert pt.p_value == pytest.approx(0.168, abs=0.5e-3)


def test_universal_base_period_reference_row(mpdta: Panel) -> None:
    res = att_gt(mpdta, "lemp", base_period="universal")
    ref = res.table[res.table["event_time"] == -1]
    assert (ref["estimate"] == 0).all() and ref["std_error"].isna().all()
    post = res.table[res.table["event_time"] >= 0]["estimate"].to_numpy()
    varying = att_gt(mpdta, "lemp").table
    np.testing.assert_allclose(post, varying[varying["event_time"] >= 0]["estimate"], atol=1e-12)


# -- the csdid peer on a simulated panel with covariates, weights and absent rows -----------------
@pytest.fixture(scope="module")
def sim() -> tuple[pd.DataFrame, Panel]:
    df = simulate_staggered(300, missing=0.02, weights=True, seed=1)
    with pytest.warns(GapWarning):
        panel = to_panel(df)
    return df, panel


@pytest.mark.parametrize("control", ["never", "not_yet"])
@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_equals_csdid(sim, method: str, control: str, capsys, csdid_fit,  # type: ignore[no-untyped-def]
                      csdid_aggregations_equal) -> None:
    df, panel = sim
    with pytest.warns(RowsDroppedWarning, match=r"dropped \d+ units with an absent period"):
        res = att_gt(panel, "y", covariates=["x1", "x2"], method=method, control_group=control)
    peer = csdid_fit(df, method, control)
    tab = res.table
    np.testing.assert_array_equal(tab["cohort"], np.asarray(peer.results["group"]))
    np.testing.assert_array_equal(tab["time"], np.asarray(peer.results["year"]))
    np.testing.assert_allclose(tab["estimate"], peer.results["att"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(tab["std_error"], peer.results["se"], rtol=0, atol=1e-8)
    csdid_aggregations_equal(res, peer, se_approx={"abs": 1e-8}, se_allclose={"atol": 1e-8})
    capsys.readouterr()


def test_balance_e_and_window_equal_csdid(sim, capsys, csdid_fit) -> None:  # type: ignore[no-untyped-def]
    df, panel = sim
    with pytest.warns(RowsDroppedWarning):
        res = att_gt(panel, "y", covariates=["x1", "x2"])
    peer = csdid_fit(df, "dr", "never")
    agg = res.aggregate("dynamic", balance_e=2, min_e=-2, max_e=2)
    ref = peer.aggte(typec="dynamic", balance_e=2, min_e=-2, max_e=2, bstrap=False).atte
    np.testing.assert_array_equal(agg.coefficients.index, ref["egt"])
    np.testing.assert_allclose(agg.components["estimate"], ref["att_egt"], atol=1e-8)
    np.testing.assert_allclose(agg.components["std_error"], ref["se_egt"], atol=1e-8)
    assert agg.estimate == pytest.approx(ref["overall_att"], abs=1e-8)
    assert agg.overall["std_error"] == pytest.approx(ref["overall_se"], abs=1e-8)
    capsys.readouterr()


def test_cluster_and_anticipation_equal_csdid(sim, capsys, csdid_fit) -> None:  # type: ignore[no-untyped-def]
    df, _ = sim
    df = df.assign(region=df["unit"].str[1:].astype(int) % 25)
    with pytest.warns(GapWarning):
        panel = Panel(df.drop(columns="att"), unit="unit", time="period", cohort="cohort",
                      weight="w")
    with pytest.warns(RowsDroppedWarning):
        res = att_gt(panel, "y", covariates=["x1"], anticipation=1, cluster="region",
                     control_group="not_yet")
    peer = csdid_fit(df, "dr", "not_yet", ["x1"], anticipation=1, clustervar="region")
    np.testing.assert_allclose(res.table["estimate"], peer.results["att"], atol=1e-8)
    np.testing.assert_allclose(res.table["std_error"], peer.results["se"], atol=1e-8)
    assert res.sample.n_clusters == 25
    capsys.readouterr()


def test_bootstrap_is_reproducible_and_close_to_analytic(mpdta: Panel) -> None:
    a = att_gt(mpdta, "lemp", inference="bootstrap", n_draws=999, seed=7)
    b = att_gt(mpdta, "lemp", inference="bootstrap", n_draws=999, seed=7)
    pd.testing.assert_frame_equal(a.table, b.table)
    ana = att_gt(mpdta, "lemp").table["std_error"].to_numpy()
    np.testing.assert_allclose(a.table["std_error"], ana, rtol=0.12)
    crit = a.details["crit_value"]
    assert 1.96 < crit < 3.5
    np.testing.assert_allclose(a.table["band_upper"] - a.table["estimate"],
                               crit * a.table["std_error"])
    da, db = a.aggregate("dynamic"), b.aggregate("dynamic")
    pd.testing.assert_frame_equal(da.table, db.table)
    c = att_gt(mpdta, "lemp", inference="bootstrap", n_draws=999, seed=8)
    assert not np.allclose(c.table["std_error"], a.table["std_error"])
