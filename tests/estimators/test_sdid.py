"""Synthetic DiD: Proposition 99 reference numbers, synthdid-py on the same data, planted truth.

Reference numbers: Arkhangelsky et al. (2021) Table 1 / the R package synthdid's vignette on
``california_prop99``: DiD -27.349, SC -19.61966, SDID -15.60383; SDID time weights on 1988,
1986, 1987 of about 0.427, 0.366, 0.206.
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
import synthdid as sd

import evalmodel as em
from evalmodel.errors import EstimationError, FewTreatedClustersWarning
from evalmodel.estimators.sdid import fit_cohort, sdid
from evalmodel.inference.sdid_se import _refit, jackknife_draws, jackknife_se


@pytest.fixture(scope="module")
def prop99() -> em.Panel:
    df = pd.read_csv(files("synthdid") / "data" / "california_prop99.csv", sep=";")
    return em.Panel(df, unit="State", time="Year", outcomes=["PacksPerCapita"])


@pytest.fixture(scope="module")
def prop99_peer() -> sd.PanelData:
    return sd.panel_matrices(sd.load_california_prop99())


def factor_panel(seed: int, *, n: int = 30, t: int = 20, t0: int = 14, n_tr: int = 1,
                 effect: float = 0.0, cohorts: tuple[int, ...] | None = None) -> em.Panel:
    """Interactive fixed effects panel; the last ``n_tr`` units are treated from ``t0``."""
    rng = np.random.default_rng(seed)
    alpha = rng.normal(0, 2, n)
    load = rng.uniform(0.5, 1.5, (n, 2))
    fac = np.cumsum(rng.normal(0, 1, (t, 2)), axis=0)
    y = alpha[:, None] + load @ fac.T + rng.normal(0, 0.5, (n, t))
    years = np.arange(2000, 2000 + t)
    start = np.zeros(n, dtype=int)
    if cohorts is None:
        start[n - n_tr:] = years[t0]
    else:
        start[n - len(cohorts):] = cohorts
    treated = (start > 0)[:, None] & (years[None, :] >= start[:, None])
    y = y + effect * treated
    units = [f"u{i:02d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.repeat(units, t), "year": np.tile(years, n),
                       "y": y.ravel(), "cohort": np.repeat(start, t)})
    return em.Panel(df, unit="unit", time="year", cohort="cohort")


# -- published reference numbers ---------------------------------------------------------------
@pytest.mark.parametrize(("method", "expected"),
                         [("did", -27.349), ("sc", -19.61966), ("sdid", -15.60383)])
def test_prop99_reference(prop99: em.Panel, method: str, expected: float) -> None:
    r = sdid(prop99, "PacksPerCapita", treated="California", start=1989, method=method,  # type: ignore[arg-type]
             inference="none")
    assert r.estimate == pytest.approx(expected, abs=1e-3)


def test_prop99_time_weights(prop99: em.Panel) -> None:
    r = sdid(prop99, "PacksPerCapita", treated="California", start=1989, inference="none")
    lam = r.time_weights[1989]
    assert lam[[1988, 1986, 1987]].to_numpy() == pytest.approx([0.427, 0.366, 0.206], abs=1e-3)
    assert lam.sum() == pytest.approx(1.0, abs=1e-12)
    assert r.unit_weights[1989].sum() == pytest.approx(1.0, abs=1e-12)


# -- the peer implementation on the same data --------------------------------------------------
@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_prop99_weights_match_synthdid(prop99: em.Panel, prop99_peer: sd.PanelData,
                                       method: str) -> None:
    peer_fn = {"sdid": sd.synthdid_estimate, "sc": sd.sc_estimate, "did": sd.did_estimate}
    peer = peer_fn[method](prop99_peer.Y, prop99_peer.N0, prop99_peer.T0)
    r = sdid(prop99, "PacksPerCapita", treated="California", start=1989, method=method,  # type: ignore[arg-type]
             inference="none")
    assert r.estimate == pytest.approx(float(peer), abs=1e-8)
    names = list(prop99_peer.units[: prop99_peer.N0])
    omega = r.unit_weights[1989].reindex(names).to_numpy()
    assert omega == pytest.approx(np.asarray(peer.weights.omega), abs=1e-8)


def test_placebo_replicates_match_synthdid(prop99: em.Panel, prop99_peer: sd.PanelData) -> None:
    """Each placebo replicate equals synthdid's re-estimate on the same permutation."""
    y = prop99_peer.Y
    n0, t0 = prop99_peer.N0, prop99_peer.T0
    controls = np.arange(n0)
    fit = fit_cohort(y, controls, np.array([n0]), t0, "sdid")
    peer = sd.synthdid_estimate(y, n0, t0)
    rng = np.random.default_rng(7)
    perms = np.stack([rng.permutation(n0) for _ in range(3)])
    ctrl_mask = np.zeros(perms.shape, dtype=bool)
    ctrl_mask[:, : n0 - 1] = True
    ours = _refit(y[perms], ctrl_mask, ~ctrl_mask, np.where(ctrl_mask, fit.omega[perms], 0.0),
                  fit)
    opts = {k: peer.opts[k] for k in ("zeta_omega", "zeta_lambda", "min_decrease")}
    for b, ind in enumerate(perms):
        om = np.asarray(peer.weights.omega)[ind[: n0 - 1]]
        w = {"omega": om / om.sum(), "lambda": peer.weights.lambda_}
        ref = sd.synthdid_estimate(y[ind], n0 - 1, t0, weights=w, update_omega=True,
                                   update_lambda=True, **opts)
        assert ours[b] == pytest.approx(float(ref), abs=1e-6)


def test_jackknife_matches_synthdid() -> None:
    panel = factor_panel(3, n=25, n_tr=4, effect=2.0)
    with pytest.warns(FewTreatedClustersWarning, match="jackknife standard errors with 4"):
        r = sdid(panel, "y", inference="jackknife")
    y = panel.wide("y").to_numpy()
    peer = sd.synthdid_estimate(y, 21, 14)
    assert r.estimate == pytest.approx(float(peer), abs=1e-8)
    se_peer = float(np.sqrt(sd.vcov(peer, method="jackknife").item()))
    assert r.overall["std_error"] == pytest.approx(se_peer, rel=1e-8)


def test_jackknife_closed_form_equals_refits() -> None:
    """Leave-one-out with fixed weights, recomputed by brute force."""
    panel = factor_panel(4, n=12, n_tr=3)
    y = panel.wide("y").to_numpy()
    controls, treated = np.arange(9), np.arange(9, 12)
    fit = fit_cohort(y, controls, treated, 14, "sdid")
    jk = jackknife_draws(y, controls, [fit])
    assert jk is not None
    brute = []
    for i in range(12):
        keep_c = controls[controls != i]
        om = fit.omega[controls != i]
        om = om / om.sum()
        tr = treated[treated != i]
        d = y[:, 14:].mean(axis=1) - y[:, :14] @ fit.lam
        brute.append(d[tr].mean() - om @ d[keep_c])
    assert jk[1] == pytest.approx(np.array(brute), abs=1e-12)
    assert jackknife_se(jk[1]) > 0


# -- planted truth -----------------------------------------------------------------------------
def test_planted_effect_in_placebo_interval() -> None:
    panel = factor_panel(11, effect=3.0)
    r = sdid(panel, "y", seed=5, n_draws=100)
    row = r.overall
    assert row["ci_lower"] < 3.0 < row["ci_upper"]
    assert r.estimate == pytest.approx(3.0, abs=1.0)
    assert r.inference.startswith("placebo")
    assert r.replicates.shape == (100,)


def test_staggered_cohorts_combine_with_unit_period_weights() -> None:
    panel = factor_panel(8, n=30, t=20, effect=2.0, cohorts=(2012, 2012, 2016))
    with pytest.warns(FewTreatedClustersWarning, match="bootstrap standard errors with 3"):
        r = sdid(panel, "y", inference="bootstrap", n_draws=20, seed=2)
    tab = r.table.set_index("term")
    y = panel.wide("y").to_numpy()
    # each cohort equals synthdid on that cohort against the never-treated
    a = float(sd.synthdid_estimate(y[[*range(27), 27, 28]], 27, 12))
    b = float(sd.synthdid_estimate(y[[*range(27), 29]], 27, 16))
    assert tab.loc["cohort 2012", "estimate"] == pytest.approx(a, abs=1e-8)
    assert tab.loc["cohort 2016", "estimate"] == pytest.approx(b, abs=1e-8)
    assert r.estimate == pytest.approx((2 * 8 * a + 1 * 4 * b) / 20, abs=1e-10)
    assert r.estimate == pytest.approx(2.0, abs=1.0)
    assert np.isfinite(tab["std_error"]).all()


@pytest.mark.slow
def test_placebo_interval_coverage_monte_carlo() -> None:
    """Planted effect 1.0: the 90% placebo interval covers it in about 90% of panels."""
    hits = []
    for s in range(40):
        r = sdid(factor_panel(100 + s, n=16, t=10, t0=7, effect=1.0), "y", n_draws=30, seed=s,
                 conf_level=0.9)
        hits.append(r.overall["ci_lower"] < 1.0 < r.overall["ci_upper"])
    # 40 panels: a binomial(40, 0.9) count is at least 31 with probability > 0.99
    assert np.mean(hits) >= 31 / 40


# -- errors ------------------------------------------------------------------------------------
def test_errors(prop99: em.Panel) -> None:
    kw = {"treated": "California", "start": 1989}
    with pytest.raises(EstimationError, match=r"method='synth' is not one of"):
        sdid(prop99, "PacksPerCapita", method="synth", **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"inference='wild' is not one of"):
        sdid(prop99, "PacksPerCapita", inference="wild", **kw)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match=r"treated unit 'Stockholm' is not in the panel"):
        sdid(prop99, "PacksPerCapita", treated="Stockholm", start=1989)
    with pytest.raises(EstimationError, match=r"donor pool has 1 unit"):
        sdid(prop99, "PacksPerCapita", donors=["Utah"], **kw)
    with pytest.raises(EstimationError, match=r"start=1971 leaves 1 pre-period"):
        sdid(prop99, "PacksPerCapita", treated="California", start=1971)
    with pytest.raises(EstimationError, match=r"n_draws=1 must be an integer of at least 2"):
        sdid(prop99, "PacksPerCapita", n_draws=1, **kw)


def test_missing_outcome_named(prop99: em.Panel) -> None:
    df = prop99.data
    df.loc[(df["State"] == "Utah") & (df["Year"] == 1980), "PacksPerCapita"] = np.nan
    with pytest.warns(em.EvalModelWarning, match="missing values"):
        panel = em.Panel(df, unit="State", time="Year")
    with pytest.raises(EstimationError, match=r"missing for unit 'Utah' in period 1980"):
        sdid(panel, "PacksPerCapita", treated="California", start=1989)


def test_plot_and_summary(prop99: em.Panel) -> None:
    import matplotlib

    matplotlib.use("Agg")
    r = sdid(prop99, "PacksPerCapita", treated="California", start=1989, inference="none")
    ax = r.plot()
    assert ax.get_title().startswith("synthetic DiD")
    assert "ATT" in str(r.summary())
