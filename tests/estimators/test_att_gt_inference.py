"""``att_gt``'s default inference (issue 13, part 1): design-based aggregations with few
treated clusters, the analytic numbers unchanged with many."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.errors import FewTreatedClustersWarning, SmallCohortWarning
from evalmodel.estimators.staggered_placebo import AggregateStatistic
from evalmodel.panel import Panel

OUTCOME = "N31807"


@pytest.fixture(scope="module")
def small(municipalities: em.Panel) -> tuple[Panel, str, list[str]]:
    """The Trelleborg case cut to the treated unit and 40 comparison units."""
    d = em.cases.get("trelleborg").design(municipalities)
    pool = sorted(d.comparison)[:40]
    return d.panel.select(units=[*d.treated, *pool]), d.treated[0], pool


def _fit(panel: Panel, **kw: object) -> em.AttGtResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCohortWarning)
        return em.att_gt(panel, OUTCOME, **kw)  # type: ignore[arg-type]


def test_one_treated_unit_aggregate_is_design_based_by_default(small) -> None:  # type: ignore[no-untyped-def]
    panel, treated, pool = small
    res = _fit(panel)
    assert res.design is not None and res.n_treated_clusters == 1
    assert "design-based" in res.inference and "for the ATT(g, t) cells" in res.inference
    agg = res.aggregate("simple")
    assert agg.inference.startswith("design-based (placebo in space")
    assert "1 treated cluster(s), fewer than 5" in agg.inference
    perm = agg.details["permutation"]
    assert perm.n_draws == len(pool) and perm.exact
    # the placebo estimates, each re-estimated independently with one pool unit as treated
    adoption = int(panel.cohorts()[treated])
    placebo = []
    for u in pool:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = em.att_gt(panel.with_cohorts({u: adoption}), OUTCOME, inference="analytic")
            placebo.append(float(p.aggregate("simple").overall["estimate"]))  # type: ignore[index]
    np.testing.assert_allclose(np.sort(perm.distribution), np.sort(placebo), atol=1e-10)
    o = agg.overall
    assert o is not None
    share = (1 + np.sum(np.abs(placebo) >= abs(o["estimate"]) - 1e-10)) / (1 + len(placebo))
    assert o["p_value"] == pytest.approx(share, abs=1e-12)
    assert o["std_error"] == pytest.approx(np.std(placebo, ddof=1))
    assert not any(n.startswith("ATT(g, t) cells:") for n in agg.notes)
    assert any(n.startswith("ATT(g, t) cells:") for n in res.notes)


@pytest.mark.parametrize("kind", ["simple", "dynamic", "group", "calendar"])
def test_interval_excludes_zero_iff_p_below_level(small, kind: str) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = small
    tab = _fit(panel).aggregate(kind).table  # type: ignore[arg-type]
    done = tab.dropna(subset=["ci_lower", "ci_upper", "p_value"])
    assert len(done) >= 1
    excludes = (done["ci_lower"] > 0) | (done["ci_upper"] < 0)
    assert (excludes == (done["p_value"] < 0.05)).all()
    # pre-treatment rows (dynamic): a placebo p-value, no interval (no treatment to invert)
    pre = tab[tab["term"].str.startswith("e=-")]
    assert pre["p_value"].notna().all() and pre["ci_lower"].isna().all()


@pytest.mark.parametrize("kind", ["simple", "dynamic", "calendar"])
def test_vectorised_placebo_equals_re_estimation(small, kind: str) -> None:  # type: ignore[no-untyped-def]
    panel, treated, pool = small
    res = _fit(panel)
    stat = AggregateStatistic(res, kind, {"balance_e": None, "min_e": -np.inf,
                                          "max_e": np.inf})
    assert stat.fast
    sub = panel.select(units=[treated, *pool[:6]])
    z = np.eye(len(sub.units), dtype=bool)
    fast = stat.rows(sub, z)
    stat.fast, stat._cache = False, {}
    np.testing.assert_allclose(stat.rows(sub, z), fast, atol=1e-9)


def test_analytic_with_one_treated_unit_warns(small) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = small
    with pytest.warns(FewTreatedClustersWarning, match="1 treated cluster"):
        res = _fit(panel, inference="analytic")
    assert res.design is None
    agg = res.aggregate("simple")
    assert agg.inference == "analytic (influence function)"
    with pytest.warns(FewTreatedClustersWarning):
        analytic = _fit(panel).aggregate("simple", inference="analytic")
    assert analytic.inference == "analytic (influence function)"
    pd.testing.assert_frame_equal(analytic.table, agg.table)


def test_bad_inference_option(small) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = small
    with pytest.raises(em.EstimationError, match="inference"):
        _fit(panel, inference="permutation")
    with pytest.raises(em.EstimationError, match="inference"):
        _fit(panel).aggregate("simple", inference="placebo")  # type: ignore[arg-type]


def test_pool_too_small_keeps_the_permutation_test_with_a_note(small) -> None:  # type: ignore[no-untyped-def]
    """10 comparison units, 11 assignments: p >= 0.0909 > 0.05. The aggregation keeps its
    design-based test (analytic errors over-reject with one treated unit): exact p-value,
    whole-line interval, a warning and a note with the fix."""
    panel, treated, pool = small
    res = _fit(panel.select(units=[treated, *pool[:10]]))
    with pytest.warns(FewTreatedClustersWarning, match=r"smallest attainable p-value is 0\.0909"):
        agg = res.aggregate("simple")
    assert agg.inference.startswith("design-based")
    assert any("lower conf_level to at most 0.9091" in n for n in agg.notes)
    row = agg.overall
    assert row is not None and row["p_value"] >= 1 / 11 - 1e-12
    assert (row["ci_lower"], row["ci_upper"]) == (-np.inf, np.inf)
    assert agg.details["permutation"].p_value == row["p_value"]


def test_several_treated_units_reassigned_over_all_pairs(small) -> None:  # type: ignore[no-untyped-def]
    panel, treated, pool = small
    cohorts = {treated: int(panel.cohorts()[treated]), pool[0]: 2012}
    res = _fit(panel.with_cohorts(cohorts), seed=1)
    assert res.n_treated_clusters == 2
    agg = res.aggregate("group")
    assert agg.inference.startswith("design-based")
    perm = agg.details["permutation"]
    assert len(perm.treated) == 2 and perm.n_draws == 41 * 40 // 2 - 1
    o = agg.overall
    assert o is not None
    assert ((o["ci_lower"] > 0) | (o["ci_upper"] < 0)) == (o["p_value"] < 0.05)


def test_many_treated_units_keep_the_analytic_numbers(mpdta_panel: Panel) -> None:
    auto = em.att_gt(mpdta_panel, "lemp")
    analytic = em.att_gt(mpdta_panel, "lemp", inference="analytic")
    assert auto.design is None and auto.n_treated_clusters >= 5
    assert auto.inference == analytic.inference == "analytic (influence function)"
    pd.testing.assert_frame_equal(auto.table, analytic.table)
    for kind in ("simple", "dynamic", "group", "calendar"):
        a, b = auto.aggregate(kind), analytic.aggregate(kind)  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(a.table, b.table)
        assert a.inference == "analytic (influence function)"


@pytest.fixture(scope="module")
def mpdta_panel() -> Panel:
    from moderndid import load_mpdta

    df = load_mpdta().to_pandas()
    df["countyreal"] = df["countyreal"].astype(str)
    return Panel(df, unit="countyreal", time="year", cohort="first.treat", outcomes=["lemp"])


# -- treated units scattered in id order (the placebo cohorts follow the ids, not the cohorts)
# Until this was fixed, the k-th unit of every assignment, the actual one included, took the
# k-th smallest cohort, so the actual assignment reproduced the estimate only when the treated
# units' cohorts rose with their ids (as in every test above: one treated unit, or a pool unit
# sorted before Trelleborg given the earlier cohort), and ``aggregate`` raised otherwise.
SCATTERED = {2: 2005, 5: 2003, 7: 2005}  # ids u02, u05, u07: cohorts 2005, 2003, 2005
KINDS = ("simple", "group", "calendar", "dynamic")


def _scattered(cohorts: dict[int, int] = SCATTERED, n: int = 10, n_t: int = 7,
               monthly: bool = False, seed: int = 3) -> Panel:
    """``n`` units x ``n_t`` periods from 2000 (months from 2020-01 when ``monthly``), the
    cohorts on the units of ``cohorts``; the effect is 1 in the first period, rising by 0.5 a
    period, with unit effects and noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        g, alpha = cohorts.get(i, 0), rng.normal()
        for t in range(2000, 2000 + n_t):
            effect = 1.0 + 0.5 * (t - g) if g and t >= g else 0.0
            rows.append((f"u{i:02d}", t, g, alpha + rng.normal() + effect))
    df = pd.DataFrame(rows, columns=["unit", "time", "cohort", "y"])
    if monthly:  # 2000 + m -> "2020-(m+1)"
        df["time"] = [f"2020-{t - 1999:02d}" for t in df["time"]]
        df["cohort"] = [f"2020-{g - 1999:02d}" if g else None for g in df["cohort"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.errors.CoercedValuesWarning)  # month labels
        return Panel(df, unit="unit", time="time", cohort="cohort", outcomes=["y"])


def _att(panel: Panel) -> em.AttGtResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCohortWarning)  # cohort 2003 is one unit
        return em.att_gt(panel, "y")


@pytest.fixture(scope="module")
def scattered() -> Panel:
    return _scattered()


@pytest.mark.parametrize("kind", KINDS)
def test_scattered_treated_units_reproduce_the_estimate(scattered: Panel, kind: str) -> None:
    res = _att(scattered)
    assert res.design is not None and res.design["treated"] != tuple(sorted(
        res.design["treated"]))  # att_gt's cohort blocks are not in id order
    agg = res.aggregate(kind)  # type: ignore[arg-type]
    assert agg.inference.startswith("design-based")
    with pytest.warns(FewTreatedClustersWarning):
        analytic = res.aggregate(kind, inference="analytic")  # type: ignore[arg-type]
    np.testing.assert_array_equal(agg.table["estimate"], analytic.table["estimate"])
    perm = agg.details["permutation"]  # the last row, "overall"
    assert perm.estimate == pytest.approx(float(analytic.table["estimate"].iloc[-1]),
                                          abs=1e-12)
    assert perm.exact and perm.n_draws == 10 * 9 * 8 // 6 - 1


def test_scattered_p_values_equal_brute_force(scattered: Panel) -> None:
    """Every placebo set re-estimated from scratch: the cohorts of u02, u05, u07 (2005, 2003,
    2005) go in that order to the set's units in id order; att_gt with analytic inference on
    the re-assigned panel, then each aggregation; two-sided rank p-values."""
    import itertools

    res = _att(scattered)
    units = list(scattered.units)
    pattern = [SCATTERED[i] for i in sorted(SCATTERED)]
    actual = tuple(sorted(SCATTERED))
    placebo: dict[str, list[np.ndarray]] = {k: [] for k in KINDS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for chosen in itertools.combinations(range(len(units)), len(pattern)):
            if chosen == actual:
                continue
            p = em.att_gt(scattered.with_cohorts(
                {units[i]: g for i, g in zip(chosen, pattern, strict=True)}), "y",
                inference="analytic")
            for k in KINDS:
                placebo[k].append(p.aggregate(k).table["estimate"].to_numpy(float))  # type: ignore[arg-type]
    for k in KINDS:
        agg = res.aggregate(k)  # type: ignore[arg-type]
        dist = np.array(placebo[k])  # placebo sets x rows
        assert dist.shape == (119, len(agg.table))
        est = agg.table["estimate"].to_numpy(float)
        share = (1 + (np.abs(dist) >= np.abs(est) - 1e-10).sum(0)) / (1 + len(dist))
        ok = agg.table["p_value"].notna().to_numpy()
        assert ok.sum() >= 1
        np.testing.assert_allclose(agg.table["p_value"].to_numpy(float)[ok], share[ok],
                                   rtol=0, atol=1e-12)
        perm = agg.details["permutation"]
        np.testing.assert_allclose(np.sort(perm.distribution), np.sort(dist[:, -1]),
                                   atol=1e-10)
        o = agg.overall
        assert o is not None
        assert o["std_error"] == pytest.approx(np.std(dist[:, -1], ddof=1), rel=1e-10)


@pytest.mark.parametrize("kind", ["group", "dynamic"])
def test_scattered_vectorised_placebo_equals_re_estimation(scattered: Panel, kind: str
                                                           ) -> None:
    res = _att(scattered)
    stat = AggregateStatistic(res, kind, {"balance_e": None, "min_e": -np.inf,
                                          "max_e": np.inf})
    assert stat.fast
    z = np.zeros((4, 10), dtype=bool)
    for a, chosen in enumerate([(2, 5, 7), (0, 1, 9), (7, 8, 9), (3, 4, 6)]):
        z[a, list(chosen)] = True
    fast = stat.rows(scattered, z)
    stat.fast, stat._cache = False, {}
    np.testing.assert_allclose(stat.rows(scattered, z), fast, atol=1e-9)
    with pytest.warns(FewTreatedClustersWarning):
        analytic = res.aggregate(kind, inference="analytic")  # type: ignore[arg-type]
    np.testing.assert_allclose(fast[0], analytic.table["estimate"], atol=1e-12)


def test_scattered_monthly_panel_reproduces_the_estimate() -> None:
    panel = _scattered(monthly=True)
    assert panel.frequency == "month"
    res = _att(panel)
    yearly = _att(_scattered())
    for kind in KINDS:
        agg = res.aggregate(kind)  # type: ignore[arg-type]
        assert agg.inference.startswith("design-based")
        ref = yearly.aggregate(kind)  # type: ignore[arg-type]
        # the same data with months for years: the same estimates and placebo p-values
        np.testing.assert_allclose(agg.table["estimate"], ref.table["estimate"], atol=1e-12)
        np.testing.assert_allclose(agg.table["p_value"], ref.table["p_value"], atol=1e-12)
