"""Event studies: Sun-Abraham against a hand-built saturated regression, imputation against the
``did_imputation`` peer, dynamic TWFE against linearmodels, and the result contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalmodel.data.sim_staggered import simulate_staggered, to_panel
from evalmodel.errors import EstimationError, GapWarning, RowsDroppedWarning
from evalmodel.estimators.event_study import EventStudyResult, event_study
from evalmodel.panel import Panel

# did_imputation recovers the fixed effects and the imputation weights by iterations stopped at a
# change of 1e-6 (its ``tol``), so it agrees with our exact solution to about that precision.
TOL_PEER = 2e-6


@pytest.fixture(scope="module")
def unbalanced() -> tuple[pd.DataFrame, Panel]:
    df = simulate_staggered(240, missing=0.05, seed=11)
    with pytest.warns(GapWarning):
        panel = to_panel(df)
    return df, panel


def _saturated_sun_abraham(df: pd.DataFrame, events: list[int], ref: int
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Dummies for every unit, period and cohort x event time; plain lstsq and sandwich."""
    g = df["cohort"].to_numpy()
    e = df["period"].to_numpy() - g
    cells = sorted({(gg, ee) for gg, ee in zip(g, e, strict=True) if gg > 0 and ee != ref})
    inter = np.column_stack([((g == gg) & (e == ee)).astype(float) for gg, ee in cells])
    units = pd.get_dummies(df["unit"]).to_numpy(float)
    periods = pd.get_dummies(df["period"]).to_numpy(float)[:, 1:]
    x = np.column_stack([inter, periods, units])
    y = df["y"].to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    u = y - x @ beta
    bread = np.linalg.pinv(x.T @ x)
    codes = pd.factorize(df["unit"])[0]
    s = np.zeros((codes.max() + 1, x.shape[1]))
    np.add.at(s, codes, x * u[:, None])
    n, k = len(y), inter.shape[1] + periods.shape[1]   # unit effects nested in clusters
    gcl = codes.max() + 1
    v = bread @ s.T @ s @ bread * gcl / (gcl - 1) * (n - 1) / (n - k)
    m = len(cells)
    counts = inter.sum(axis=0)
    w = np.zeros((len(events), m))
    for j, ev in enumerate(events):
        sel = np.array([c[1] == ev for c in cells])
        w[j, sel] = counts[sel] / counts[sel].sum()
    return w @ beta[:m], w @ v[:m, :m] @ w.T


def test_sun_abraham_equals_saturated_regression(unbalanced) -> None:  # type: ignore[no-untyped-def]
    df, panel = unbalanced
    res = event_study(panel, "y", window=(-3, 3), estimator="sun_abraham")
    events = [-3, -2, 0, 1, 2, 3]
    est, vcov = _saturated_sun_abraham(df, events, -1)
    np.testing.assert_allclose(res.coefficients.to_numpy(), est, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.vcov.to_numpy(), vcov, rtol=0, atol=1e-8)
    assert res.coefficients.index.tolist() == events


def test_imputation_equals_did_imputation() -> None:
    from did_imputation import did_imputation

    df = simulate_staggered(120, missing=0.05, seed=12)
    with pytest.warns(GapWarning):
        panel = to_panel(df)
    res = event_study(panel, "y", window=(-3, 4), estimator="imputation")
    d = df.assign(Ei=df["cohort"].where(df["cohort"] > 0, np.nan),
                  id=df["unit"].str[1:].astype(int))
    out = did_imputation(d, "y", "id", "period", "Ei", horizons=list(range(5)), pretrends=3,
                         minn=0)
    tab = res.table.set_index("event_time")
    for h in range(5):
        assert tab.loc[h, "estimate"] == pytest.approx(out.estimates[f"tau{h}"], abs=TOL_PEER)
        assert tab.loc[h, "std_error"] == pytest.approx(out.std_errors[f"tau{h}"], abs=TOL_PEER)
    # the pre-trend regression: the peer drops units with a single untreated row (they do not
    # move the coefficients but count in N and G of the small-sample factor); convert
    untreated = d[(d["cohort"] == 0) | (d["period"] < d["cohort"])]
    size = untreated.groupby("unit")["y"].transform("size")
    n, g = len(untreated), untreated["unit"].nunique()
    n_t = untreated["period"].nunique()
    n2, g2 = int((size > 1).sum()), untreated.loc[size > 1, "unit"].nunique()
    ours = g / (g - 1) * (n - 1) / (n - 3 - (n_t - 1))
    peers = g2 / (g2 - 1) * (n2 - 1) / (n2 - 3 - (n_t - 1))
    for k in (1, 2, 3):
        assert tab.loc[-k, "estimate"] == pytest.approx(out.pretrends_estimates[f"pre{k}"],
                                                        abs=TOL_PEER)
        se = tab.loc[-k, "std_error"] * np.sqrt(peers / ours)
        assert se == pytest.approx(out.pretrends_std_errors[f"pre{k}"], abs=TOL_PEER)
    assert res.reference == -4


def test_twfe_equals_linearmodels(unbalanced) -> None:  # type: ignore[no-untyped-def]
    from linearmodels.panel import PanelOLS

    df, panel = unbalanced
    res = event_study(panel, "y", window=(-3, 3), estimator="twfe")
    e = np.clip(df["period"] - df["cohort"], -3, 3)
    x = pd.DataFrame({f"e{k}": ((df["cohort"] > 0) & (e == k)).astype(float)
                      for k in (-3, -2, 0, 1, 2, 3)})
    x.index = pd.MultiIndex.from_frame(df[["unit", "period"]])
    fit = PanelOLS(df["y"].set_axis(x.index), x, entity_effects=True, time_effects=True).fit()
    np.testing.assert_allclose(res.coefficients.to_numpy(), fit.params.to_numpy(), atol=1e-8)


def test_result_contract(unbalanced) -> None:  # type: ignore[no-untyped-def]
    _, panel = unbalanced
    res = event_study(panel, "y", window=(-4, 3), reference=-2, estimator="sun_abraham")
    assert isinstance(res, EventStudyResult)
    assert res.reference == -2
    ref = res.table[res.table["event_time"] == -2]
    assert len(ref) == 1 and ref["estimate"].iloc[0] == 0 and np.isnan(ref["std_error"].iloc[0])
    assert -2 not in res.coefficients.index
    assert res.vcov.index.equals(res.coefficients.index)
    assert res.vcov.columns.equals(res.coefficients.index)
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)),
                               res.table.set_index("event_time").loc[
                                   res.coefficients.index, "std_error"])
    assert "e=0" in str(res.summary())


def test_event_study_errors(unbalanced) -> None:  # type: ignore[no-untyped-def]
    _, panel = unbalanced
    with pytest.raises(EstimationError, match=r"estimator='cs' is not one of"):
        event_study(panel, "y", estimator="cs")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"window=\(0, 3\) and reference=-1 must satisfy"):
        event_study(panel, "y", window=(0, 3))
    with pytest.raises(EstimationError, match=r"no treated cohort is observed at event time 6"):
        event_study(panel, "y", window=(-2, 9), estimator="sun_abraham")


def test_figures_and_report_section(unbalanced) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import evalmodel as em
    from evalmodel.estimators.bacon import bacon
    from evalmodel.estimators.staggered import att_gt
    from evalmodel.report.estimates import OutcomeEstimates
    from evalmodel.report.sec_staggered import build_staggered_section

    _, panel = unbalanced
    res = event_study(panel, "y", window=(-3, 3), estimator="imputation")
    ax = res.plot()
    assert ax.get_xlabel() == "event time" and len(ax.lines) >= 1
    with pytest.warns(RowsDroppedWarning, match="to balance the panel"):
        gt = att_gt(panel, "y", inference="bootstrap", n_draws=199, seed=1)
    assert gt.plot().get_ylabel() == "ATT(g, t)"
    dyn = gt.aggregate("dynamic")
    ax = dyn.plot()
    assert any("uniform band" in t.get_text() for t in ax.get_legend().get_texts())
    balanced = to_panel(simulate_staggered(60, seed=2))
    assert "TWFE" in bacon(balanced, "y").plot().get_legend().get_texts()[-1].get_text()
    design = em.cases.get("trelleborg").design(em.datasets.simulated())
    section = build_staggered_section(OutcomeEstimates(design, design.outcomes[0]))
    names = [n for n, _ in section.tables]
    assert names == ["aggregations", "dynamic", "att_gt"]
    agg = section.tables[0][1]
    assert list(agg["aggregation"]) == ["simple", "group", "dynamic", "calendar"]
    assert any("single unit" in n for n in section.notes)
    assert section.figures[0][0] == "event_study"
    plt.close("all")


# -- anticipation ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def anticipating() -> tuple[pd.DataFrame, Panel]:
    """A balanced staggered panel whose treated units react one period before adoption."""
    df = simulate_staggered(1_500, noise=0.5, selection=0.0, seed=21)  # parallel trends hold
    lead = (df["cohort"] > 0) & (df["period"] == df["cohort"] - 1)
    df.loc[lead, "y"] += 1.0
    df.loc[lead, "att"] = 1.0
    return df, to_panel(df)


def _truth_by_event(df: pd.DataFrame) -> pd.Series:
    tr = df[df["cohort"] > 0]
    return tr.groupby(tr["period"] - tr["cohort"])["att"].mean()


@pytest.mark.parametrize("estimator", ["sun_abraham", "imputation"])
def test_anticipation_recovers_lead_and_post_effects(anticipating, estimator: str) -> None:  # type: ignore[no-untyped-def]
    """With anticipation=1 the lead effect (1.0) and every post effect lie within 4 SE of the
    truth; without it the estimators are biased (the contaminated period enters the comparison)."""
    df, panel = anticipating
    truth = _truth_by_event(df)
    r = event_study(panel, "y", window=(-3, 3), estimator=estimator, anticipation=1)  # type: ignore[arg-type]
    assert r.anticipation == 1
    tab = r.table.set_index("event_time")
    for e in (-1, 0, 1, 2, 3):
        z = (tab.loc[e, "estimate"] - truth[e]) / tab.loc[e, "std_error"]
        assert abs(z) < 4, (e, z)
    if estimator == "sun_abraham":
        assert r.reference == -2 and tab.loc[-2, "estimate"] == 0.0
    naive = event_study(panel, "y", window=(-3, 3), estimator=estimator).table.set_index(  # type: ignore[arg-type]
        "event_time")
    z0 = (naive.loc[0, "estimate"] - truth[0]) / naive.loc[0, "std_error"]
    assert abs(z0) > 8


def test_anticipation_defaults_and_errors(unbalanced) -> None:  # type: ignore[no-untyped-def]
    _, panel = unbalanced
    a = event_study(panel, "y", window=(-3, 3))
    b = event_study(panel, "y", window=(-3, 3), reference=-1, anticipation=0)
    pd.testing.assert_frame_equal(a.table, b.table)
    with pytest.raises(EstimationError, match=r"anticipation=-1 must be a non-negative"):
        event_study(panel, "y", anticipation=-1)
    with pytest.raises(EstimationError, match=r"reference=-1 falls in the 1 anticipation "
                                              r"period\(s\) before adoption; use reference=-2"):
        event_study(panel, "y", reference=-1, anticipation=1)
