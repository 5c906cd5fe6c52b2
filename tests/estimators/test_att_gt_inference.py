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


def test_pool_too_small_falls_back_to_analytic_with_a_note(small) -> None:  # type: ignore[no-untyped-def]
    panel, treated, pool = small
    res = _fit(panel.select(units=[treated, *pool[:10]]))
    agg = res.aggregate("simple")
    assert agg.inference.endswith("design-based inference not possible")
    assert any("design-based inference is not possible here" in n for n in agg.notes)


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
