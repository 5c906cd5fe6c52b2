"""did2x2 and twfe: equal to hand-built peer fits, covering the planted truth, named errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from linearmodels.panel import PanelOLS

import evalmodel as em
from evalmodel.data.simulate import simple_panel
from evalmodel.errors import EstimationError, FewTreatedClustersWarning, MissingValueWarning


@pytest.fixture(scope="module")
def simple() -> tuple[pd.DataFrame, em.Panel]:
    df, _ = simple_panel(n_units=80, n_periods=10, seed=3)
    df.loc[[5, 17, 300], "y"] = np.nan  # some missing outcomes
    with pytest.warns(MissingValueWarning, match="3 missing values kept"):
        panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
    return df, panel


def test_did2x2_equals_statsmodels_and_cell_means(simple: tuple[pd.DataFrame, em.Panel]) -> None:
    df, panel = simple
    pre, post = [3, 4, 5], [6, 7, 8]
    with pytest.warns(MissingValueWarning, match=r"rows with missing 'y' left out"):
        r = em.did2x2(panel, "y", pre=pre, post=post)
    d = df[df["time"].isin(pre + post)].dropna(subset=["y"]).copy()
    d["treat"] = (d["cohort"] > 0).astype(float)
    d["post"] = d["time"].isin(post).astype(float)
    groups = pd.factorize(d["unit"])[0]
    peer = smf.ols("y ~ treat * post", data=d).fit(cov_type="cluster",
                                                   cov_kwds={"groups": groups})
    row = r.overall
    assert row is not None
    assert abs(row["estimate"] - peer.params["treat:post"]) < 1e-10
    assert abs(row["std_error"] - peer.bse["treat:post"]) < 1e-10
    m = d.groupby(["treat", "post"])["y"].mean()
    means_form = (m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0])
    assert abs(row["estimate"] - means_form) < 1e-10
    cells = r.details["cell_means"]
    assert abs(cells.loc["treated", "change"] - cells.loc["comparison", "change"]
               - means_form) < 1e-10
    assert r.sample.n_obs == len(d) and r.sample.n_clusters == 80
    assert list(r.table.columns) == ["term", "estimate", "std_error", "ci_lower", "ci_upper",
                                     "p_value"]


def test_twfe_equals_linearmodels_and_dummy_ols(simple: tuple[pd.DataFrame, em.Panel]) -> None:
    df, panel = simple
    with pytest.warns(MissingValueWarning):
        r = em.twfe(panel, "y", covariates=["x"])
    d = df.dropna(subset=["y"]).copy()
    d["D"] = ((d["cohort"] > 0) & (d["time"] >= d["cohort"])).astype(float)
    idx = d.set_index(["unit", "time"])
    peer = PanelOLS(idx["y"], idx[["D", "x"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    row = r.table.set_index("term")
    assert abs(row.loc["treated", "estimate"] - peer.params["D"]) < 1e-10
    assert abs(row.loc["treated", "std_error"] - peer.std_errors["D"]) < 1e-10
    assert abs(row.loc["x", "estimate"] - peer.params["x"]) < 1e-10
    dummies = smf.ols("y ~ D + x + C(unit) + C(time)", data=d).fit()
    assert abs(row.loc["treated", "estimate"] - dummies.params["D"]) < 1e-10


def test_twfe_weights_match_weighted_peer() -> None:
    df, _ = simple_panel(n_units=40, seed=5)
    df["w"] = np.repeat(np.random.default_rng(5).uniform(0.5, 2, 40), 10)
    panel = em.Panel(df, unit="unit", time="time", cohort="cohort", weight="w")
    r = em.twfe(panel, "y")
    d = df.assign(D=((df["cohort"] > 0) & (df["time"] >= df["cohort"])).astype(float))
    peer = smf.wls("y ~ D + C(unit) + C(time)", data=d, weights=d["w"]).fit()
    assert abs(r.estimate - peer.params["D"]) < 1e-10
    r2 = em.did2x2(panel, "y", pre=[4, 5], post=[6, 7])
    sub = d[d["time"].isin([4, 5, 6, 7])].assign(treat=lambda x: (x["cohort"] > 0) * 1.0,
                                                 post=lambda x: (x["time"] >= 6) * 1.0)
    peer2 = smf.wls("y ~ treat * post", data=sub, weights=sub["w"]).fit()
    assert abs(r2.estimate - peer2.params["treat:post"]) < 1e-10


def test_one_draw_covers_planted_truth() -> None:
    df, truth = simple_panel(n_units=100, seed=11)
    panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
    for r in (em.did2x2(panel, "y", pre=[1, 2, 3, 4, 5], post=[6, 7, 8, 9, 10]),
              em.twfe(panel, "y", covariates=["x"])):
        row = r.overall
        assert row is not None and row["ci_lower"] < truth < row["ci_upper"]


@pytest.mark.slow
def test_monte_carlo_unbiased_and_nominal_coverage() -> None:
    draws = 200
    est = np.empty((draws, 2))
    cover = np.empty((draws, 2), dtype=bool)
    for i in range(draws):
        df, truth = simple_panel(n_units=60, seed=1000 + i)
        panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
        for j, r in enumerate((em.did2x2(panel, "y", pre=[1, 2, 3, 4, 5],
                                         post=[6, 7, 8, 9, 10]),
                               em.twfe(panel, "y", covariates=["x"]))):
            row = r.overall
            assert row is not None
            est[i, j] = row["estimate"]
            cover[i, j] = row["ci_lower"] <= truth <= row["ci_upper"]
    mc_se = est.std(axis=0, ddof=1) / np.sqrt(draws)
    assert (np.abs(est.mean(axis=0) - 1.0) < 3 * mc_se).all()
    # Coverage of 95 % intervals: MC standard error sqrt(.95 * .05 / 200) = 0.0154.
    assert ((cover.mean(axis=0) > 0.90) & (cover.mean(axis=0) < 0.995)).all()


def test_embedded_case_estimates_near_truth(municipalities: em.Panel) -> None:
    d = em.cases.get("trelleborg").design(municipalities)
    window = dict(pre=[2007, 2008, 2009], post=[2010, 2011, 2012, 2013])
    r = em.did2x2(d.panel, "N31814", **window)  # one treated unit: permutation by default
    truth = municipalities.truth
    planted = truth[(truth["case"] == "trelleborg") & (truth["outcome"] == "N31814")
                    & truth["period"].between(2010, 2013)]["effect"].mean()
    row = r.overall
    assert row is not None and row["ci_lower"] < planted < row["ci_upper"]
    assert abs(r.estimate - planted) < 1.0  # noise of one municipality's long-term share
    assert r.inference == "permutation over 286 comparison units (exact)"
    assert any("fewer than 5: cluster-robust errors are not valid" in n for n in r.notes)
    assert row["p_value"] == pytest.approx(1 / 287)  # the most extreme of 287 assignments
    with pytest.warns(FewTreatedClustersWarning, match=r"1 treated cluster\(s\) are not"):
        rc = em.did2x2(d.panel, "N31814", inference="analytic", **window)
    assert rc.estimate == r.estimate and "cluster-robust" in rc.inference
    with pytest.warns(FewTreatedClustersWarning):
        em.twfe(d.panel, "N31814", inference="analytic")


def test_auto_keeps_the_permutation_test_when_the_pool_cannot_reach_the_level(
        districts: em.Panel) -> None:
    """14 comparison districts give 15 assignments, so p >= 1/15 = 0.0667 > 0.05: the default
    still permutes (cluster-robust errors would over-reject), never rejects at 5 %, and says
    why and what to do; an explicit permutation request is refused."""
    d = em.cases.get("lindangen").design(districts)
    window = {"pre": [2008, 2009, 2010], "post": [2011, 2012]}
    with pytest.warns(FewTreatedClustersWarning, match=r"smallest attainable p-value is 0\.0667"):
        r = em.did2x2(d.panel, "N31807", **window)
    row = r.overall
    assert row is not None
    assert r.inference == "permutation over 14 comparison units (exact)"
    assert row["ci_lower"] == -np.inf and row["ci_upper"] == np.inf
    assert row["p_value"] >= 1 / 15 - 1e-12
    assert any("lower conf_level to at most 0.9333" in n for n in r.notes)
    # at a level the 15 assignments can reach, the same test gives a finite interval
    r90 = em.did2x2(d.panel, "N31807", conf_level=0.9, **window)
    row90 = r90.overall
    assert row90 is not None and np.isfinite(row90["ci_lower"]) and np.isfinite(
        row90["ci_upper"])
    assert row90["p_value"] == row["p_value"]  # the same exact test
    with pytest.warns(FewTreatedClustersWarning, match=r"0\.0667"):
        t = em.twfe(d.panel, "N31807")
    assert t.inference.startswith("permutation over 14") and t.overall is not None
    assert t.overall["ci_upper"] == np.inf
    with pytest.raises(EstimationError, match=r"smallest attainable p-value is 0\.0667"):
        em.did2x2(d.panel, "N31807", inference="permutation", **window)


def test_twfe_permutation_batch_equals_refitting_each_placebo() -> None:
    df, _ = simple_panel(n_units=14, n_periods=8, seed=9)
    df = df.assign(cohort=np.where(df["unit"].isin(["u000", "u003"]), 5, 0)).drop(index=[7, 40])
    with pytest.warns(em.errors.GapWarning):
        panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
    fast = em.twfe(panel, "y", covariates=["x"], inference="permutation")
    perm = fast.details["permutation"]
    assert perm.exact and perm.n_draws == 91 - 1  # C(14, 2) assignments, the actual left out
    slow = em.permutation_inference(
        panel, "y", treated=["u000", "u003"], pool=[u for u in panel.units
                                                     if u not in ("u000", "u003")],
        statistic=lambda p, _t: em.twfe(p, "y", covariates=["x"], cluster=None,
                                        inference="analytic").estimate)
    np.testing.assert_allclose(np.sort(perm.distribution), np.sort(slow.distribution),
                               rtol=0, atol=1e-10)
    assert fast.overall is not None and fast.overall["p_value"] == pytest.approx(slow.p_value)


def test_errors_named(simple: tuple[pd.DataFrame, em.Panel]) -> None:
    _, panel = simple
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingValueWarning)
        with pytest.raises(EstimationError, match=r"post has periods not in the panel \(\[11\]\)"):
            em.did2x2(panel, "y", pre=[5], post=[11])
        with pytest.raises(EstimationError, match=r"pre and post share periods \[5\]"):
            em.did2x2(panel, "y", pre=[4, 5], post=[5, 6])
        with pytest.raises(EstimationError, match=r"treated has units not in the panel"):
            em.did2x2(panel, "y", pre=[4], post=[6], treated=["nope"])
        with pytest.raises(EstimationError,
                           match=r"conf_level=95 must be a number strictly between"):
            em.did2x2(panel, "y", pre=[4], post=[6], conf_level=95)
        with pytest.raises(EstimationError, match=r"covariate 'z' is not a variable"):
            em.twfe(panel, "y", covariates=["z"])
        with pytest.raises(EstimationError, match=r"cluster='county' is not 'unit', None"):
            em.twfe(panel, "y", cluster="county")
        with pytest.raises(EstimationError, match=r"inference='bootstrap' is not one of "
                                                  r"\['auto', 'analytic', 'permutation'\]"):
            em.did2x2(panel, "y", pre=[4], post=[6], inference="bootstrap")  # type: ignore
    never = em.Panel(simple_panel(seed=2)[0].assign(cohort=0), unit="unit", time="time",
                     cohort="cohort")
    with pytest.raises(EstimationError, match=r"there are no treated units"):
        em.did2x2(never, "y", pre=[4], post=[6])
    with pytest.raises(EstimationError, match=r"treatment indicator does not vary"):
        em.twfe(never, "y")
    const = em.Panel(simple_panel(seed=2)[0].assign(k=1.0), unit="unit", time="time",
                     cohort="cohort")
    with pytest.raises(EstimationError, match=r"covariate 'k' is constant"):
        em.twfe(const, "y", covariates=["k"])


def test_result_views(simple: tuple[pd.DataFrame, em.Panel]) -> None:
    _, panel = simple
    with pytest.warns(MissingValueWarning):
        r = em.twfe(panel, "y", covariates=["x"])
    s = r.summary()
    assert "twfe: y" in str(s) and "cluster-robust by unit (80 clusters)" in str(s)
    assert "<table" in s._repr_html_()
    assert "\\toprule" in s.to_latex() and "\\bottomrule" in s.to_latex()
    assert "| term |" in s.to_markdown()
    ax = r.plot()
    assert ax.get_title() == "twfe: y"
    with pytest.raises(AttributeError):
        r.method = "other"  # type: ignore[misc]
