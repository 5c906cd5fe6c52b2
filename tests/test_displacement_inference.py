"""Issue 13, part 1 (displacement designs): ``inference="auto"`` is design-based with few
treated clusters and says so; analytic errors with one treated unit warn; interval and p-value
come from one test; the vectorised permutation agrees with a loop; the triple difference's
default has the right size in a placebo study on the simulated world."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import evalmodel as em
from evalmodel import displacement as dp
from evalmodel.errors import EstimationError, FewTreatedClustersWarning

LEVELS = (0.5, 0.8, 0.9, 0.95)


def _grouped(seed: int = 0, n: int = 24, t: int = 6, n_tr: int = 1, effect: float = 0.0
             ) -> em.Panel:
    """Units x periods x {target, other}; the first ``n_tr`` units treated from period 4,
    ``effect`` added to their target rows then."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a, scale = rng.normal(0, 2), rng.uniform(0.5, 1.5)
        for p in range(1, t + 1):
            common = rng.normal(0, scale)
            for g in ("target", "other"):
                y = a + 0.3 * p + common + rng.normal(0, scale) + (g == "target")
                y += effect * (i < n_tr and p >= 4 and g == "target")
                rows.append({"unit": f"u{i:02d}", "time": p, "group": g, "y": y})
    return em.Panel(pd.DataFrame(rows), unit="unit", time="time", group="group")


PRE, POST = [1, 2, 3], [4, 5, 6]


def _ddd(panel: em.Panel, treated: list[str], **kw: object) -> em.EstimateResult:
    return dp.triple_difference(panel, "y", target="target", pre=PRE, post=POST,
                                treated=treated, **kw)  # type: ignore[arg-type]


def _excludes_zero(tab: pd.DataFrame) -> np.ndarray:
    return ((tab["ci_lower"] > 0) | (tab["ci_upper"] < 0)).to_numpy()


# -- triple difference ---------------------------------------------------------------------------
def test_ddd_auto_is_design_based_with_one_treated_and_says_why() -> None:
    panel = _grouped(1, effect=2.0)
    r = _ddd(panel, ["u00"])
    assert r.inference.startswith("design-based: permutation of the treatment over all sets "
                                  "of 1 of the 24 units (23 placebo assignments)")
    assert "inference='auto': design-based, because 1 treated cluster(s) is fewer than 5" \
        in r.notes
    with pytest.warns(FewTreatedClustersWarning, match="1 treated cluster"):
        a = _ddd(panel, ["u00"], inference="analytic")
    # the same estimates: the permutation statistic is the saturated regression's contrasts
    np.testing.assert_allclose(r.table["estimate"], a.table["estimate"], atol=1e-10)
    assert r.details["permutation"].shape == (23, 4)


def test_ddd_auto_is_analytic_with_enough_treated_clusters() -> None:
    panel = _grouped(2, n_tr=6)
    t = [f"u{i:02d}" for i in range(6)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = _ddd(panel, t)
    assert r.inference.startswith("cluster-robust by unit")
    assert "inference='auto': analytic, with 6 treated clusters (at least 5)" in r.notes
    pd.testing.assert_frame_equal(r.table, _ddd(panel, t, inference="analytic").table)
    with pytest.raises(EstimationError, match=r"inference='bayes' is not one of"):
        _ddd(panel, t, inference="bayes")


def test_ddd_interval_and_p_value_are_one_test() -> None:
    panel = _grouped(3, effect=1.2)
    seen = set()
    for c in LEVELS:
        r = _ddd(panel, ["u00"], conf_level=c)
        reject = (r.table["p_value"] <= 1 - c).to_numpy()
        np.testing.assert_array_equal(_excludes_zero(r.table), reject)
        seen |= set(reject.tolist())
    assert seen == {True, False}


def test_ddd_permutation_against_a_loop_of_regressions() -> None:
    """Each placebo unit in turn as the treated one, the DDD by OLS on the saturated model;
    the p-values by counting; the interval by re-estimating on y - tau D over a grid."""
    panel = _grouped(4, n=12, effect=1.5)
    r = _ddd(panel, ["u00"], conf_level=0.8)
    df = panel.data
    df = df[df["time"].isin(PRE + POST)]
    P = df["time"].isin(POST).to_numpy(float)
    G = (df["group"] == "target").to_numpy(float)

    def ddd_terms(y: np.ndarray, unit: str) -> np.ndarray:
        T = (df["unit"] == unit).to_numpy(float)
        X = np.column_stack([np.ones_like(T), T, P, G, T * P, T * G, P * G, T * P * G])
        b = sm.OLS(y, X).fit().params
        return np.array([b[4] + b[7], b[4], b[7], 2 * b[4] + b[7]])

    y = df["y"].to_numpy()
    units = sorted(df["unit"].unique())
    placebo = np.array([ddd_terms(y, u) for u in units if u != "u00"])
    np.testing.assert_allclose(r.details["permutation"], placebo, atol=1e-9)
    obs = ddd_terms(y, "u00")
    for j, term in enumerate(["target", "non_target", "ddd", "net"]):
        row = r.table.iloc[j]
        count = sum(abs(v) >= abs(obs[j]) - 1e-12 for v in placebo[:, j])
        assert row["p_value"] == pytest.approx((1 + count) / 12), term
    # target term: the effect tau on u00's post target rows; accepted taus = the interval
    d = ((df["unit"] == "u00") & (P == 1) & (G == 1)).to_numpy(float)
    row = r.table.iloc[0]
    for tau in np.linspace(row["ci_lower"] - 1, row["ci_upper"] + 1, 41):
        yt = y - tau * d
        o = ddd_terms(yt, "u00")[0]
        ps = [ddd_terms(yt, u)[0] for u in units if u != "u00"]
        p_tau = (1 + sum(abs(v) >= abs(o) - 1e-12 for v in ps)) / 12
        near = min(abs(tau - row["ci_lower"]), abs(tau - row["ci_upper"])) < 1e-6
        assert near or (p_tau > 0.2) == (row["ci_lower"] <= tau <= row["ci_upper"])


def test_ddd_needs_enough_units_for_the_level() -> None:
    panel = _grouped(5, n=12)
    with pytest.raises(EstimationError, match=r"smallest attainable p-value is 0\.083 > 0\.050"):
        _ddd(panel, ["u00"])


# -- outcome displacement and spill-over ---------------------------------------------------------
def _plain(seed: int = 6, n: int = 40, t: int = 8) -> em.Panel:
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1, (n, 1)) + np.cumsum(rng.normal(0, 0.5, (n, t)), axis=1)
    y[:2, 5:] += 1.5
    df = pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(n)], t),
                       "time": np.tile(np.arange(1, t + 1), n), "y": y.ravel()})
    return em.Panel(df, unit="unit", time="time")


def test_outcome_displacement_auto_and_analytic() -> None:
    panel = _plain()
    units = list(panel.units)
    kw = {"pre": [4, 5], "post": [6, 7, 8]}
    r = dp.outcome_displacement(panel, "y", treated=units[:1], pool=units[6:], **kw)
    assert r.inference.startswith("placebo in space") and "because 1 treated cluster" in \
        r.inference
    with pytest.warns(FewTreatedClustersWarning, match="analytic errors with 1 treated"):
        a = dp.outcome_displacement(panel, "y", treated=units[:1], pool=units[6:],
                                    inference="analytic", **kw)
    assert a.estimate == pytest.approx(r.estimate) and np.isfinite(a.std_error)
    many = dp.outcome_displacement(panel, "y", treated=units[:6], pool=units[6:], **kw)
    assert many.inference.startswith("analytic") and "with 6 treated clusters" in many.inference
    assert (many.ci_upper - many.estimate) / many.std_error == pytest.approx(
        float(stats.t(39).ppf(0.975)))


def test_outcome_displacement_interval_inverts_the_studentised_test() -> None:
    panel = _plain(7)
    units = list(panel.units)
    seen = set()
    for c in LEVELS:
        r = dp.outcome_displacement(panel, "y", treated=units[:1], pool=units[1:], pre=[4, 5],
                                    post=[6, 7, 8], conf_level=c)
        reject = r.p_value <= 1 - c
        assert reject == (r.ci_lower > 0 or r.ci_upper < 0)
        seen.add(reject)
        # the half-width is the K-th largest placebo |t| times the treated noise scale
        half = (r.ci_upper - r.ci_lower) / 2
        assert r.ci_lower + half == pytest.approx(r.estimate)
    assert seen == {True, False}


def test_spillover_default_is_design_based_and_analytic_warns_once(
        districts: em.Panel) -> None:
    case = em.cases.get("lindangen")
    d = case.design(districts)
    kw = {"treated": d.treated, "exposed": case.exclude, "pool": d.comparison,
          "pre": [2008, 2009, 2010], "post": [2011, 2012]}
    ring = dp.spillover(districts, "N31807", **kw)  # type: ignore[arg-type]
    assert ring.exposed.inference.startswith("placebo in space")
    # 17 comparison units cannot give a 5 % permutation test of the treated rows: no inference
    assert ring.table.iloc[:2]["p_value"].isna().all()
    with pytest.warns(FewTreatedClustersWarning) as caught:
        a = dp.spillover(districts, "N31807", inference="analytic", **kw)  # type: ignore[arg-type]
    assert len(caught) == 1
    assert a.exposed.inference.startswith("analytic")
    assert np.isfinite(a.table["p_value"]).all()
    assert a.table["estimate"].to_numpy() == pytest.approx(ring.table["estimate"].to_numpy())


# -- size of the triple difference's default on the simulated world ----------------------------
def test_size_triple_difference_default(municipalities: em.Panel) -> None:
    """Target rows U31804 (young adults with assistance), the other group N31807, window
    2007-2009 vs 2010-2012. Every one of the 286 never-treated Trelleborg comparison units in
    turn gets a fake adoption in 2010; the default (design-based with one treated unit)
    rejects 5 % +- 2.5 pp (the exact permutation over the same pool makes this the rank
    threshold: a check of the machinery), and the intervals cover 0 as often as they should.
    The analytic cluster-robust errors with one treated cluster reject far too often."""
    d = em.cases.get("trelleborg").design(municipalities)
    w = d.panel.data
    w = w[w[d.panel.unit].isin(d.comparison)]
    long = pd.concat([w[[d.panel.unit, d.panel.time]].assign(group=g, y=w[k].to_numpy())
                      for g, k in (("target", "U31804"), ("other", "N31807"))])
    gp = em.Panel(long, unit=d.panel.unit, time=d.panel.time, group="group")
    est = em.calibrate.triple_difference(target="target", pre=[2007, 2008, 2009],
                                         post=[2010, 2011, 2012])
    s = em.placebo_study(gp, "y", est, pool=d.comparison, adoption=2010)
    assert s.n == 286 and s.n_failed == 0
    assert abs(s.size - 0.05) <= 0.025, s.describe()
    assert abs(s.coverage - 0.95) <= 0.025, s.describe()
    assert (s.placebos["rejected"] == ~s.placebos["covered"]).all()
    bad = em.calibrate.triple_difference(target="target", pre=[2007, 2008, 2009],
                                         post=[2010, 2011, 2012], inference="analytic")
    a = em.placebo_study(gp, "y", bad, pool=d.comparison, adoption=2010, n_units=60, seed=1)
    assert a.size > 0.3, a.describe()
    assert dict(a.warnings).get("FewTreatedClustersWarning") == 60
