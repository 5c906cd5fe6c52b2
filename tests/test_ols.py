"""core.ols: least squares with HC1 or cluster-robust (CR1) errors, against Stata's published
numbers, statsmodels in the same run, and a planted truth; and the estimators built on it
(did2x2, the triple difference, the displacement test) against statsmodels too."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from statsmodels.datasets import grunfeld
from statsmodels.regression.linear_model import OLS, WLS

import evalmodel as em
from evalmodel import displacement as dp
from evalmodel.core.ols import ols
from evalmodel.displacement.outcome import _unit_did
from evalmodel.errors import EstimationError

#: Agreement with statsmodels, which computes the same formulas (relative).
TIGHT = 1e-12


def _grunfeld() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stata's Grunfeld data (10 firms x 20 years): invest on mvalue, kstock and a constant."""
    d = grunfeld.load_pandas().data.iloc[:200]  # the ten firms Stata's copy has
    x = np.column_stack([d["value"], d["capital"], np.ones(len(d))])
    return d["invest"].to_numpy(), x, 1 / d["value"].to_numpy(), pd.factorize(d["firm"])[0]


def test_grunfeld_equals_stata() -> None:
    """Stata 13 ``regress invest mvalue kstock, vce(cluster company)`` and ``regress invest
    mvalue kstock [aw=1/mvalue], robust`` (HC1), as recorded in statsmodels'
    ``regression/tests/results/results_grunfeld_ols_robust_cluster.py``; the data's csv is
    rounded, hence 1e-7."""
    y, x, w, firm = _grunfeld()
    fit = ols(y, x, cluster=firm)
    np.testing.assert_allclose(fit.params, [.11556215606596, .23067848754982,
                                            -42.714369016733], rtol=1e-7)
    np.testing.assert_allclose(fit.std_errors, [.01589433647768, .08496711097464,
                                                20.425202580078], rtol=1e-7)
    assert fit.n_clusters == 10 and fit.df_resid == 197 and fit.cov_type == "cluster"
    wls = ols(y, x, weights=w)
    np.testing.assert_allclose(wls.params, [.11694307068216, .10410756769914,
                                            -9.2723336171089], rtol=1e-7)
    np.testing.assert_allclose(wls.std_errors, [.00768545583365, .00986959606725,
                                                2.3458404391932], rtol=1e-7)


def _data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Heteroskedastic, within-cluster correlated errors; 37 clusters of unequal size with
    codes that skip values; positive weights."""
    rng = np.random.default_rng(seed)
    n = 600
    cluster = rng.choice(np.arange(0, 74, 2), size=n)
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n),
                         rng.uniform(size=n)])
    e = rng.normal(size=37 * 2)[cluster] + rng.normal(size=n) * (0.5 + x[:, 3])
    y = x @ [1.0, -0.5, 2.0, 0.3] + e
    return y, x, rng.uniform(0.2, 3.0, n), cluster


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("clustered", [False, True])
def test_equals_statsmodels(weighted: bool, clustered: bool) -> None:
    y, x, w, cluster = _data(1)
    fit = ols(y, x, weights=w if weighted else None, cluster=cluster if clustered else None)
    model = WLS(y, x, weights=w) if weighted else OLS(y, x)
    peer = (model.fit(cov_type="cluster", cov_kwds={"groups": cluster}) if clustered else
            model.fit(cov_type="HC1"))
    np.testing.assert_allclose(fit.params, peer.params, rtol=TIGHT)
    np.testing.assert_allclose(fit.cov, peer.cov_params(), rtol=TIGHT)
    np.testing.assert_allclose(fit.std_errors, peer.bse, rtol=TIGHT)
    np.testing.assert_allclose(fit.resid, peer.resid, rtol=TIGHT, atol=1e-12)
    assert fit.df_resid == peer.df_resid and fit.nobs == 600
    assert fit.n_clusters == (37 if clustered else None)
    again = fit.to_statsmodels()  # the same regression by statsmodels, on request
    np.testing.assert_allclose(again.bse, peer.bse, rtol=TIGHT)
    assert again.cov_type == peer.cov_type


def test_planted_truth_and_cluster_robust_spread() -> None:
    """Over 300 draws with errors correlated within 40 clusters the estimates centre on the
    planted slope, and the mean CR1 variance matches their spread (HC1 understates it)."""
    rng = np.random.default_rng(7)
    n, g = 400, 40
    cluster = np.repeat(np.arange(g), n // g)
    est, cr1, hc1 = [], [], []
    for _ in range(300):
        xs = rng.normal(size=g)[cluster] + 0.5 * rng.normal(size=n)
        e = rng.normal(size=g)[cluster] + rng.normal(size=n)
        x = np.column_stack([np.ones(n), xs])
        y = 1.0 + 0.7 * xs + e
        fit = ols(y, x, cluster=cluster)
        est.append(fit.params[1])
        cr1.append(fit.cov[1, 1])
        hc1.append(ols(y, x).cov[1, 1])
    spread = np.var(est, ddof=1)
    assert abs(np.mean(est) - 0.7) < 3 * np.sqrt(spread / 300)
    assert 0.8 < np.mean(cr1) / spread < 1.2
    assert np.mean(hc1) / spread < 0.6


def test_refusals_and_undefined_covariance() -> None:
    y, x, _, cluster = _data(2)
    collinear = np.column_stack([x, x[:, 1] + x[:, 2]])
    with pytest.raises(EstimationError, match=r"did2x2: the regressors \['a', 'b', 'c', 'd', "
                                              r"'e'\] are collinear \(rank 4 of 5\)"):
        ols(y, collinear, names=list("abcde"), fn="did2x2")
    with pytest.raises(EstimationError, match="ols: 3 rows for 4 regressors"):
        ols(y[:3], x[:3])
    one = ols(y, x, cluster=np.zeros(len(y), dtype=int))  # one cluster: not defined
    assert one.n_clusters == 1 and np.isnan(one.cov).all()
    np.testing.assert_allclose(one.params, ols(y, x).params, rtol=TIGHT)
    shifted = ols(y, x, cluster=cluster - 2)  # codes -2, 0, 2, ...: each value a cluster
    np.testing.assert_allclose(shifted.cov, ols(y, x, cluster=cluster).cov, rtol=TIGHT)
    exact = ols(y[:4], x[:4])  # no residual degrees of freedom
    assert exact.df_resid == 0 and np.isnan(exact.std_errors).all()


def _weighted_panel() -> em.Panel:
    df, _ = em.data.simulate.simple_panel(n_units=60, n_periods=8, seed=5)
    df["pop"] = np.random.default_rng(0).uniform(1, 5, len(df)).round(3)
    return em.Panel(df, unit="unit", time="time", cohort="cohort", weight="pop")


@pytest.mark.parametrize("cluster", ["unit", None])
def test_did2x2_equals_statsmodels_weighted(cluster: str | None) -> None:
    panel = _weighted_panel()
    pre, post = [2, 3, 4], [5, 6, 7]
    r = em.did2x2(panel, "y", pre=pre, post=post, cluster=cluster, inference="analytic")
    d = panel.data[panel.data["time"].isin(pre + post)]
    treat = (d["cohort"] > 0).to_numpy(float)
    after = d["time"].isin(post).to_numpy(float)
    x = np.column_stack([np.ones(len(d)), treat, after, treat * after])
    model = WLS(d["y"].to_numpy(), x, weights=d["pop"].to_numpy())
    peer = (model.fit(cov_type="HC1") if cluster is None else
            model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(d["unit"])[0]}))
    row = r.table.iloc[0]
    assert row["estimate"] == pytest.approx(peer.params[3], rel=TIGHT)
    assert row["std_error"] == pytest.approx(peer.bse[3], rel=TIGHT)
    fit = r.details["fit"]
    np.testing.assert_allclose(fit.cov, peer.cov_params(), rtol=TIGHT)  # type: ignore[attr-defined]


def test_ddd_hc1_and_displacement_equal_statsmodels() -> None:
    rng = np.random.default_rng(3)
    units = [f"a{i:02d}" for i in range(24)]
    rows = [(u, g, t) for u in units for g in ("target", "other") for t in range(1, 7)]
    df = pd.DataFrame(rows, columns=["area", "group", "year"])
    treated = df["area"].isin(units[:6])
    df["y"] = rng.normal(size=len(df)) + treated * (df["year"] >= 4) * (df["group"] == "target")
    df["cohort"] = np.where(treated, 4, 0)
    panel = em.Panel(df, unit="area", time="year", group="group", cohort="cohort")
    r = dp.triple_difference(panel, "y", target="target", pre=[1, 2, 3], post=[4, 5, 6],
                             cluster=None, inference="analytic")
    T, P = treated.to_numpy(float), (df["year"] >= 4).to_numpy(float)
    G = (df["group"] == "target").to_numpy(float)
    x = np.column_stack([np.ones_like(T), T, P, G, T * P, T * G, P * G, T * P * G])
    peer = OLS(df["y"].to_numpy(), x).fit(cov_type="HC1")
    tab = r.table.set_index("term")
    assert tab.loc["ddd", "estimate"] == pytest.approx(peer.params[7], rel=TIGHT)
    assert tab.loc["ddd", "std_error"] == pytest.approx(peer.bse[7], rel=TIGHT)
    # the displacement test's analytic error: HC1 of the unit DiDs on a treated dummy
    plain = em.Panel(df[df["group"] == "target"].drop(columns="group"), unit="area",
                     time="year", cohort="cohort")
    t = dp.outcome_displacement(plain, "y", treated=units[:6], pool=units[6:], pre=[2, 3],
                                post=[4, 5, 6], inference="analytic")
    wide = plain.data.pivot(index="area", columns="year", values="y")
    did, _ = _unit_did(wide, units[6:], [2, 3], [4, 5, 6], [1, 2, 3])
    dx = np.column_stack([np.ones(24), np.r_[np.ones(6), np.zeros(18)]])
    se = OLS(did[units].to_numpy(), dx).fit(cov_type="HC1").bse[1]
    assert t.std_error == pytest.approx(se, rel=TIGHT)


def test_ddd_refuses_an_empty_cell() -> None:
    rng = np.random.default_rng(4)
    units = [f"a{i:02d}" for i in range(12)]
    rows = [(u, g, t) for u in units for g in ("target", "other") for t in range(1, 5)]
    df = pd.DataFrame(rows, columns=["area", "group", "year"])
    df["y"] = rng.normal(size=len(df))
    treated = df["area"].isin(units[:6])
    df["cohort"] = np.where(treated, 3, 0)
    df.loc[treated & (df["group"] == "target") & (df["year"] >= 3), "y"] = np.nan
    with pytest.warns(em.errors.MissingValueWarning):
        panel = em.Panel(df, unit="area", time="year", group="group", cohort="cohort")
        with pytest.raises(EstimationError, match=r"triple_difference: the regressors .* are "
                                                  r"collinear \(rank 7 of 8\)"):
            dp.triple_difference(panel, "y", target="target", pre=[1, 2], post=[3, 4],
                                 inference="analytic")


def test_the_small_regressions_leave_statsmodels_unimported() -> None:
    """The 2x2 and the displacement test (the report's) run without statsmodels'
    regression module (its import costs each report worker about 0.2 s)."""
    code = (
        "import sys, warnings; warnings.simplefilter('ignore'); import evalmodel as em\n"
        "from evalmodel import displacement as dp\n"
        "p = em.datasets.simulated(); c = em.cases.get('trelleborg').design(p)\n"
        "em.did2x2(c.panel, 'N31814', pre=[2007, 2008], post=[2011, 2012],"
        " inference='analytic')\n"
        "units = list(c.comparison)\n"
        "dp.outcome_displacement(c.panel, 'N31814', treated=units[:6], pool=units[6:60],"
        " pre=[2007, 2008], post=[2011, 2012], inference='analytic')\n"
        "print(sorted(m for m in sys.modules if m.startswith('statsmodels.regression')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
