"""Randomisation inference: reference numbers (Proposition 99), the lead's did2x2/twfe as the
generic statistic, exactness, and the size with one treated unit (planted null)."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.errors import EstimationError
from evalmodel.inference.conley_taber import conley_taber
from evalmodel.inference.permutation import DiD2x2Statistic, permutation_inference
from evalmodel.inference.power import minimum_detectable_effect


def _panel(seed: int, n: int = 30, t: int = 10, effect: float = 2.0) -> em.Panel:
    rng = np.random.default_rng(seed)
    units = [f"u{i:02d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.repeat(units, t), "time": np.tile(np.arange(t), n)})
    df["y"] = rng.normal(size=n).repeat(t) + np.tile(np.arange(t) * 0.3, n) + rng.normal(
        size=n * t)
    df["cohort"] = np.where(df.unit == "u00", 6, 0)
    df.loc[(df.unit == "u00") & (df.time >= 6), "y"] += effect
    return em.Panel(df, unit="unit", time="time", cohort="cohort")


@pytest.fixture(scope="module")
def prop99() -> em.Panel:
    path = files("synthdid") / "data" / "california_prop99.csv"
    df = pd.read_csv(str(path), sep=";")
    df["cohort"] = np.where(df["State"] == "California", 1989, 0)
    return em.Panel(df[["State", "Year", "PacksPerCapita", "cohort"]], unit="State",
                    time="Year", cohort="cohort")


def test_prop99_did_and_exact_placebo(prop99: em.Panel) -> None:
    # CONTEXT.md: plain DiD on Proposition 99 = -27.349 (synthdid's reference)
    stat = DiD2x2Statistic("PacksPerCapita", pre=range(1970, 1989), post=range(1989, 2001))
    pool = [u for u in prop99.units if u != "California"]
    r = permutation_inference(prop99, "PacksPerCapita", statistic=stat, treated=["California"],
                              pool=pool)
    assert r.estimate == pytest.approx(-27.349, abs=5e-4)
    assert r.exact and r.n_draws == 38 and r.min_p_value == pytest.approx(1 / 39)
    # independent count: each state's DiD against the 38 others, from pandas means
    df = prop99.data
    pre = df[df.Year < 1989].groupby("State").PacksPerCapita.mean()
    post = df[df.Year >= 1989].groupby("State").PacksPerCapita.mean()
    ch = post - pre
    did = ch - (ch.sum() - ch) / 38
    n_extreme = int((did.abs() >= abs(did["California"]) - 1e-9).sum())
    assert r.p_value == pytest.approx(n_extreme / 39, abs=1e-12)
    assert n_extreme == 5  # four states' placebo changes are as large as California's
    assert r.ci_lower < r.estimate < r.ci_upper


def test_generic_statistic_matches_fast_path_with_lead_did2x2() -> None:
    p = _panel(0)
    pre, post = list(range(6)), list(range(6, 10))
    fast = permutation_inference(p, "y", statistic=DiD2x2Statistic("y", pre=pre, post=post),
                                 treated=["u00"], pool=p.units[1:])

    def stat(panel: em.Panel, treated: list[str]) -> float:
        return em.did2x2(panel, "y", pre=pre, post=post, treated=treated, cluster=None).estimate

    slow = permutation_inference(p, "y", statistic=stat, treated=["u00"], pool=p.units[1:])
    np.testing.assert_allclose(slow.distribution, fast.distribution, atol=1e-10)
    assert slow.p_value == fast.p_value
    assert slow.ci_lower == pytest.approx(fast.ci_lower, abs=1e-8)
    assert slow.ci_upper == pytest.approx(fast.ci_upper, abs=1e-8)


def test_twfe_statistic_uses_placebo_cohorts() -> None:
    # TWFE with one adoption date on a balanced panel = DiD of all pre vs all post means
    p = _panel(1, n=12)
    fast = permutation_inference(
        p, "y", statistic=DiD2x2Statistic("y", pre=range(6), post=range(6, 10)),
        treated=["u00"], pool=p.units[1:], conf_level=0.8)
    slow = permutation_inference(
        p, "y", statistic=lambda panel, _t: em.twfe(panel, "y", cluster=None,
                                                    inference="analytic").estimate,
        treated=["u00"], pool=p.units[1:], conf_level=0.8)
    np.testing.assert_allclose(slow.distribution, fast.distribution, atol=1e-8)
    assert slow.ci_lower == pytest.approx(fast.ci_lower, abs=1e-6)


def test_interval_covers_planted_effect_and_p_value_counts() -> None:
    p = _panel(2, n=40, effect=3.0)
    r = permutation_inference(p, "y", statistic=DiD2x2Statistic("y", pre=range(6),
                                                                   post=range(6, 10)),
                              treated=["u00"], pool=p.units[1:])
    assert r.ci_lower < 3.0 < r.ci_upper
    count = np.sum(np.abs(r.distribution) >= abs(r.estimate) - 1e-12)
    assert r.p_value == pytest.approx((1 + count) / (1 + r.n_draws))


def test_monte_carlo_path_is_seeded() -> None:
    p = _panel(3, n=14)
    treated = ["u00", "u01", "u02", "u03"]
    stat = DiD2x2Statistic("y", pre=range(6), post=range(6, 10))
    a = permutation_inference(p, "y", statistic=stat, treated=treated, pool=p.units[4:],
                              n_draws=199, seed=5)
    b = permutation_inference(p, "y", statistic=stat, treated=treated, pool=p.units[4:],
                              n_draws=199, seed=5)
    assert not a.exact and a.n_draws == 199  # C(14, 4) = 1001 > 200
    np.testing.assert_array_equal(a.distribution, b.distribution)
    exact = permutation_inference(p, "y", statistic=stat, treated=treated, pool=p.units[4:])
    assert exact.exact and exact.n_draws == 1000


def test_too_few_comparison_units_names_smallest_p() -> None:
    p = _panel(4, n=12)
    stat = DiD2x2Statistic("y", pre=range(6), post=range(6, 10))
    with pytest.raises(EstimationError,
                       match=r"smallest attainable p-value is 0\.0833, above 1 - conf_level = "
                             r"0\.0500; use at least 19 comparison units"):
        permutation_inference(p, "y", statistic=stat, treated=["u00"], pool=p.units[1:])
    with pytest.raises(EstimationError, match="units \\['zz'\\] are not in the panel"):
        permutation_inference(p, "y", statistic=stat, treated=["zz"], pool=p.units[1:])
    with pytest.raises(EstimationError, match=r"conf_level=1\.5"):
        permutation_inference(p, "y", statistic=stat, treated=["u00"], pool=p.units[1:],
                              conf_level=1.5)


def test_conley_taber_and_mde() -> None:
    p = _panel(5, n=60, effect=2.0)
    ct = conley_taber(p, "y", treated=["u00"], pool=p.units[1:], pre=range(6),
                      post=range(6, 10))
    assert ct.ci_lower < 2.0 < ct.ci_upper and ct.n_controls == 59
    # one treated unit: the interval is the estimate minus the controls' centred changes
    stat = DiD2x2Statistic("y", pre=range(6), post=range(6, 10))
    _, d = stat.changes(p)
    e = d[1:] - d[1:].mean()
    assert ct.ci_upper == pytest.approx(ct.estimate - np.quantile(e, 0.025), abs=1e-12)
    rng = np.random.default_rng(0)
    m = minimum_detectable_effect(rng.normal(size=20_000))
    # planted: N(0, 1) placebo -> MDE = z_.975 + z_.8 = 2.80 (normal theory)
    assert m.mde == pytest.approx(2.8016, abs=0.05)
    assert m.normal_mde == pytest.approx(2.8016, abs=0.03)
    with pytest.raises(EstimationError, match="17 comparison units cannot give a 95%"):
        conley_taber(p, "y", treated=["u00"], pool=p.units[1:18], pre=range(6),
                     post=range(6, 10))


@pytest.mark.slow
def test_size_one_treated_unit_permutation_vs_cluster_robust() -> None:
    # planted null: no effect, 1 treated unit among 40, 4 pre and 4 post periods
    reps, n, t = 2000, 40, 8
    rng = np.random.default_rng(2024)
    y = (rng.normal(size=(reps, n, 1)) + np.arange(t) * 0.2
         + rng.normal(size=(reps, n, t)))
    d = y[:, :, 4:].mean(axis=2) - y[:, :, :4].mean(axis=2)  # (reps, n)
    # permutation p-values, vectorised over panels (unit 0 treated) ...
    plac = d - (d.sum(axis=1, keepdims=True) - d) / (n - 1)
    p_perm = (np.abs(plac) >= np.abs(plac[:, :1]) - 1e-12).sum(axis=1) / n
    # ... equal to permutation_inference on the first panels
    for r in range(5):
        df = pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(n)], t),
                           "time": np.tile(np.arange(t), n), "y": y[r].ravel(),
                           "cohort": np.repeat(np.r_[4, np.zeros(n - 1, int)], t)})
        panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
        res = permutation_inference(panel, "y", statistic=DiD2x2Statistic(
            "y", pre=range(4), post=range(4, 8)), treated=["u00"], pool=panel.units[1:])
        assert res.p_value == pytest.approx(p_perm[r], abs=1e-12)
        if r == 0:
            with pytest.warns(em.errors.FewTreatedClustersWarning):
                cr = em.did2x2(panel, "y", pre=list(range(4)), post=list(range(4, 8)),
                               inference="analytic")
            se0 = float(cr.table["std_error"].iloc[0])
    # cluster-robust SE of the 2x2 DiD by unit (statsmodels CRV1): with one treated unit the
    # treated cluster's score is zero after fitting, so only comparison dispersion enters
    dc = d[:, 1:]
    g, k = n, 4
    ssc = g / (g - 1) * (n * t - 1) / (n * t - k)
    se = np.sqrt(ssc * ((dc - dc.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)) / (n - 1)
    assert se[0] == pytest.approx(se0, rel=1e-10)
    from scipy import stats

    est = d[:, 0] - dc.mean(axis=1)
    p_cr = 2 * stats.t.sf(np.abs(est / se), df=g - 1)
    rate_perm, rate_cr = np.mean(p_perm <= 0.05), np.mean(p_cr <= 0.05)
    assert abs(rate_perm - 0.05) <= 0.015
    assert rate_cr > 0.25  # cluster-robust errors over-reject badly with one treated cluster


def test_generic_statistic_keeps_each_treated_units_cohort() -> None:
    """Staggered treated units whose cohorts fall with their ids (u01 from 7, u06 from 4): the
    generic path gave the actual assignment the cohorts sorted (u01 from 4, u06 from 7), so its
    estimate was not the statistic of the panel. Peer: att_gt's vectorised design-based test."""
    import warnings

    from evalmodel.errors import FewTreatedClustersWarning, SmallCohortWarning

    p = _panel(4, n=9).with_cohorts({"u01": 7, "u06": 4})

    def stat(panel: em.Panel, _treated: list[str]) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallCohortWarning)
            warnings.simplefilter("ignore", FewTreatedClustersWarning)  # 2 treated, analytic
            agg = em.att_gt(panel, "y", inference="analytic").aggregate("group")
        return float(agg.table["estimate"].iloc[-1])

    slow = permutation_inference(p, "y", statistic=stat, treated=["u01", "u06"],
                                 pool=[u for u in p.units if u not in ("u01", "u06")])
    assert slow.estimate == pytest.approx(stat(p, []), abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCohortWarning)
        fast = em.att_gt(p, "y").aggregate("group").details["permutation"]
    assert fast.exact and slow.exact and slow.n_draws == fast.n_draws == 35
    np.testing.assert_allclose(slow.distribution, fast.distribution, atol=1e-10)
    assert slow.p_value == fast.p_value
    assert slow.ci_lower == pytest.approx(fast.ci_lower, abs=1e-8)
    assert slow.ci_upper == pytest.approx(fast.ci_upper, abs=1e-8)


def test_unreachable_level_runs_when_allowed_and_holds_its_size() -> None:
    """12 units (one treated) give 12 assignments, so p >= 1/12 > 0.05. Refused by default;
    with ``allow_unreachable`` the p-value is the same exact test's as at a level it can reach
    (90 %), the interval is the whole line, and over 200 null worlds it never rejects at 5 %
    (the size holds), while the planted effect of 4 gets the smallest p-value 1/12."""
    stat = DiD2x2Statistic("y", pre=range(6), post=range(6, 10))
    p = _panel(3, n=12, effect=4.0)
    pool = [u for u in p.units if u != "u00"]
    with pytest.raises(EstimationError, match=r"smallest attainable p-value is 0\.0833"):
        permutation_inference(p, "y", statistic=stat, treated=["u00"], pool=pool)
    r = permutation_inference(p, "y", statistic=stat, treated=["u00"], pool=pool,
                              allow_unreachable=True)
    r90 = permutation_inference(p, "y", statistic=stat, treated=["u00"], pool=pool,
                                conf_level=0.9)
    assert not r.reaches_level and r90.reaches_level
    assert r.p_value == r90.p_value == pytest.approx(1 / 12)
    assert (r.ci_lower, r.ci_upper) == (-np.inf, np.inf)
    assert np.isfinite(r90.ci_lower) and np.isfinite(r90.ci_upper)
    assert "cannot reject at the 95% level" in r.describe()
    rejected = 0
    for seed in range(200):
        q = _panel(100 + seed, n=12, effect=0.0)
        rejected += permutation_inference(q, "y", statistic=stat, treated=["u00"], pool=pool,
                                          allow_unreachable=True).p_value <= 0.05
    assert rejected == 0
