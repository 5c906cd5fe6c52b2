"""Design-based inference of ``event_study`` (issue 13, part 1): ``inference="auto"`` is a
permutation test over the comparison pool with fewer than 5 treated clusters, the analytic
cluster-robust errors otherwise; every row's interval inverts the row's own test."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.cases import Design
from evalmodel.data.sim_staggered import simulate_staggered, to_panel
from evalmodel.errors import EstimationError, FewTreatedClustersWarning, GapWarning
from evalmodel.estimators.event_study import event_study

Y = "N31807"
ESTIMATORS = ("twfe", "sun_abraham", "imputation")
#: Nominal size and the tolerance of the size tests (issue 13: 5 % +- 2.5 pp).
ALPHA, TOL = 0.05, 0.025


@pytest.fixture(scope="module")
def design(municipalities: em.Panel) -> Design:
    return em.cases.get("trelleborg").design(municipalities)


@pytest.fixture(scope="module")
def small(design: Design) -> em.Panel:
    """Trelleborg and 40 comparison units (41 assignments: p-values in steps of 1/41)."""
    return design.panel.select(units=[*design.treated, *design.comparison[:40]])


def _rows(res: em.EventStudyResult) -> pd.DataFrame:
    return res.table[res.table["event_time"] != res.reference]


# -- (1) auto: design-based with one treated unit, analytic with many --------------------------

@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_auto_is_design_based_with_one_treated_unit(small: em.Panel, estimator: str) -> None:
    res = event_study(small, Y, window=(-3, 3), estimator=estimator)  # type: ignore[arg-type]
    assert res.inference.startswith("design-based (placebo in space")
    assert "each of the 40 comparison units in turn" in res.inference
    assert any(n.startswith("1 treated cluster(s), fewer than 5") for n in res.notes)
    rows = _rows(res)
    placebo = res.details["placebo_estimates"]
    assert placebo.shape == (40, len(rows)) and set(placebo.index) <= set(small.units)
    # p-values are ranks among 41 assignments; std_error and vcov come from the placebos
    np.testing.assert_allclose(rows["p_value"] * 41, np.round(rows["p_value"] * 41), atol=1e-9)
    np.testing.assert_allclose(rows["std_error"], placebo.std(ddof=1).to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.vcov.to_numpy(), placebo.cov().to_numpy(), rtol=1e-10)
    # the estimates are the analytic ones, whose errors are far narrower
    with pytest.warns(FewTreatedClustersWarning):
        analytic = event_study(small, Y, window=(-3, 3), estimator=estimator,  # type: ignore[arg-type]
                               inference="analytic")
    np.testing.assert_array_equal(res.table["estimate"], analytic.table["estimate"])
    assert (rows["std_error"].to_numpy() > 3 * _rows(analytic)["std_error"].to_numpy()).all()
    if estimator != "imputation":  # the reference row: 0 and NaN
        ref = res.table[res.table["event_time"] == res.reference].iloc[0]
        assert ref["estimate"] == 0 and ref[["std_error", "ci_lower", "ci_upper",
                                             "p_value"]].isna().all()
    # the headline: the average post-adoption effect, with the same test
    o = res.overall
    assert o is not None and o["term"] == "post average"
    post = rows[rows["event_time"] >= 0]
    assert o["estimate"] == pytest.approx(post["estimate"].mean(), rel=1e-12)
    perm = res.details["permutation"]
    assert (o["p_value"], o["ci_lower"], o["ci_upper"]) == (perm.p_value, perm.ci_lower,
                                                            perm.ci_upper)
    np.testing.assert_allclose(perm.distribution, placebo.loc[:, post["event_time"]].mean(axis=1))


def test_auto_is_analytic_with_many_treated_units() -> None:
    panel = to_panel(simulate_staggered(240, seed=11))
    for estimator in ESTIMATORS:
        auto = event_study(panel, "y", window=(-3, 3), estimator=estimator)  # type: ignore[arg-type]
        analytic = event_study(panel, "y", window=(-3, 3), estimator=estimator,  # type: ignore[arg-type]
                               inference="analytic")
        pd.testing.assert_frame_equal(auto.table, analytic.table)
        assert auto.inference == "cluster-robust by 'unit'" and "permutation" not in auto.details
        assert any("inference='auto': cluster-robust with" in n for n in auto.notes)
        # the headline's analytic error is the delta method on vcov
        post = [e for e in auto.coefficients.index if e >= 0]
        w = np.full(len(post), 1 / len(post))
        o = auto.overall
        assert o is not None
        assert o["estimate"] == pytest.approx(w @ auto.coefficients[post], rel=1e-12)
        assert o["std_error"] == pytest.approx(
            math.sqrt(w @ auto.vcov.loc[post, post].to_numpy() @ w), rel=1e-12)


# -- (2) the interval and the p-value come from one test ---------------------------------------

@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_interval_excludes_zero_exactly_when_the_test_rejects(design: Design,
                                                              estimator: str) -> None:
    seen = []
    for conf_level in (0.95, 0.8, 0.5):
        res = event_study(design.panel, Y, window=(-5, 5), estimator=estimator,  # type: ignore[arg-type]
                          conf_level=conf_level)
        rows = pd.concat([_rows(res), res.post_average])
        excludes = (rows["ci_lower"] > 0) | (rows["ci_upper"] < 0)
        rejects = rows["p_value"] <= 1 - conf_level
        assert (excludes == rejects).all(), rows
        inside = (rows["ci_lower"] <= rows["estimate"]) & (rows["estimate"] <= rows["ci_upper"])
        assert inside.all()
        seen += rejects.tolist()
    assert any(seen) and not all(seen)  # both cases occur


# -- (3) the permutation distribution against a brute-force loop -------------------------------

def _brute(panel: em.Panel, estimator: str, cohorts: list[int], window: tuple[int, int],
           anticipation: int) -> dict[tuple[str, ...], np.ndarray]:
    """Every assignment of ``cohorts`` (the treated units' cohorts in id order, given in that
    order to each set's units in id order) re-estimated from scratch."""
    out = {}
    for combo in itertools.combinations(sorted(panel.units), len(cohorts)):
        p = panel.with_cohorts(dict(zip(combo, cohorts, strict=True)))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FewTreatedClustersWarning)
                r = event_study(p, Y, window=window, estimator=estimator,  # type: ignore[arg-type]
                                anticipation=anticipation, inference="analytic")
        except EstimationError:  # not identified: left out of the test, as in the batch
            continue
        out[combo] = r.coefficients.to_numpy()
    return out


@pytest.mark.parametrize(("estimator", "two_treated"), [
    ("twfe", False), ("sun_abraham", False), ("imputation", False),
    ("sun_abraham", True), ("imputation", True), ("imputation", "reversed")])
def test_placebo_distribution_equals_brute_force(design: Design, estimator: str,
                                                 two_treated: bool | str) -> None:
    """Each comparison unit in turn (or, with two treated units in two cohorts, every pair)
    as the fake treated, on an unbalanced panel: the same placebo estimates and p-values.
    ``"reversed"``: Trelleborg (the first id) in the later cohort, so the cohorts do not
    rise with the ids (the placebo sets used to get them sorted, not in id order)."""
    pool = list(design.comparison[:12 if two_treated else 25])
    treated = [*design.treated, *([design.comparison[-1]] if two_treated else [])]
    adoptions = [design.adoption, design.adoption + 2]
    cohorts = dict(zip(treated, adoptions[::-1] if two_treated == "reversed" else adoptions,
                       strict=False))
    panel = design.panel.select(units=treated + pool).with_cohorts(cohorts)
    df = panel.data
    holes = df[df[panel.unit].isin(pool[:4]) & df[panel.time].isin([2006, 2009, 2012])]
    with pytest.warns(GapWarning):
        panel = em.Panel(df.drop(holes.index[::2]), unit=panel.unit, time=panel.time,
                         cohort=panel.cohort)
    window, anticipation = ((-4, 2), 1) if two_treated else ((-3, 3), 0)
    res = event_study(panel, Y, window=window, estimator=estimator,  # type: ignore[arg-type]
                      anticipation=anticipation)
    fits = _brute(panel, estimator, [cohorts[u] for u in sorted(treated)], window,
                  anticipation)
    actual = fits.pop(tuple(sorted(treated)))
    np.testing.assert_allclose(actual, res.coefficients.to_numpy(), rtol=1e-12, atol=1e-12)
    placebo = res.details["placebo_estimates"]
    keys = ["+".join(k) for k in fits]
    assert sorted(placebo.index) == sorted(keys)
    brute = np.array(list(fits.values()))
    np.testing.assert_allclose(placebo.loc[keys].to_numpy(), brute, atol=1e-10)
    a0 = np.abs(res.coefficients.to_numpy())
    p = (1 + (np.abs(brute) >= a0 - 1e-12 * np.maximum(1, a0)).sum(axis=0)) / (1 + len(brute))
    np.testing.assert_array_equal(_rows(res)["p_value"].to_numpy(), p)
    n_all = math.comb(len(pool) + len(treated), len(treated)) - 1
    dropped = n_all - len(fits)  # assignments a hole leaves unidentified, in both
    assert any(f"{dropped} placebo assignments without an identified fit" in n
               for n in res.notes) if dropped else len(placebo) == n_all


# -- (4) size of the default inference on the simulated world -------------------------------

def _study(design: Design, estimator: str, **kw: object) -> em.PlaceboStudyResult:
    return em.placebo_study(design.panel, Y, em.calibrate.event_study(estimator),
                            pool=design.comparison, adoption=design.adoption, **kw)  # type: ignore[arg-type]


@pytest.mark.slow
def test_size_event_study_twfe_full_pool(design: Design) -> None:
    """Every one of the 286 pool units as the fake treated unit (about 9 s). Each meets the
    same exact placebo distribution, so the rejection share is the rank threshold
    floor(alpha 286) / 286 -- which analytic errors (p-values near 0) would miss by far."""
    s = _study(design, "twfe")
    assert s.n == 286 and s.n_failed == 0, s.notes
    assert s.size == pytest.approx(math.floor(ALPHA * 286) / 286)
    assert abs(s.size - ALPHA) <= TOL and abs(s.coverage - 0.95) <= TOL, s.describe()
    pl = s.placebos
    assert (pl["rejected"] == ~pl["covered"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["sun_abraham", "imputation"])
def test_size_event_study_robust_estimators(design: Design, estimator: str) -> None:
    """200 placebo units drawn with a seed (about 9 s each)."""
    s = _study(design, estimator, n_units=200, seed=13)
    assert s.n == 200 and s.n_failed == 0, s.notes
    assert abs(s.size - ALPHA) <= TOL and abs(s.coverage - 0.95) <= TOL, s.describe()


def test_adapter_headline_and_event_time(design: Design, small: em.Panel) -> None:
    unit = design.comparison[0]
    p = small.select(units=list(design.comparison[:40])).with_cohorts({unit: 2010})
    res = em.calibrate.event_study("imputation")(p, Y, unit, 2010)
    assert isinstance(res, em.EventStudyResult) and res.overall is not None
    row = res.table.set_index("event_time").loc[2]
    four = em.calibrate.event_study("imputation", event_time=2)(p, Y, unit, 2010)
    assert four == (row["estimate"], row["ci_lower"], row["ci_upper"], row["p_value"])
    assert em.calibrate.event_study("twfe", event_time=0).label == "event_study (twfe, e=0)"
    with pytest.raises(EstimationError, match=r"event_time=6 is not in the window \(-4, 4\)"):
        em.calibrate.event_study(event_time=6)


# -- (5) warnings, fallbacks and errors ------------------------------------------------------

def test_analytic_with_one_treated_unit_warns(small: em.Panel) -> None:
    with pytest.warns(FewTreatedClustersWarning, match="1 treated cluster"):
        res = event_study(small, Y, inference="analytic")
    assert res.inference == "cluster-robust by 'unit'"
    assert any("not reliable" in n for n in res.notes) and "permutation" not in res.details


def test_too_small_pool_keeps_the_permutation_test_or_raises(design: Design) -> None:
    """10 comparison units: 11 assignments, p >= 0.0909 > 0.05. The default still permutes
    (analytic errors over-reject with one treated unit): every interval is the whole line,
    the p-values are the exact test's (equal to those at a level it can reach), a warning and
    a note name the fix; an explicit permutation request is refused."""
    tiny = design.panel.select(units=[*design.treated, *design.comparison[:10]])
    with pytest.warns(FewTreatedClustersWarning, match=r"smallest attainable p-value is 0\.0909"):
        res = event_study(tiny, Y)
    assert "design-based inference not possible" not in res.inference
    assert any("lower conf_level to at most 0.9091" in n for n in res.notes)
    rows = _rows(res)
    assert np.isneginf(rows["ci_lower"]).all() and np.isposinf(rows["ci_upper"]).all()
    assert (rows["p_value"] >= 1 / 11 - 1e-12).all()
    r85 = _rows(event_study(tiny, Y, conf_level=0.85))
    assert np.isfinite(r85["ci_lower"]).all()
    np.testing.assert_array_equal(rows["p_value"].to_numpy(), r85["p_value"].to_numpy())
    with pytest.raises(EstimationError, match="smallest attainable p-value"):
        event_study(tiny, Y, inference="permutation")


def test_permutation_asked_for_with_many_treated_draws_sets() -> None:
    panel = to_panel(simulate_staggered(40, seed=3))
    a = event_study(panel, "y", window=(-2, 2), inference="permutation", n_draws=99, seed=1)
    b = event_study(panel, "y", window=(-2, 2), inference="permutation", n_draws=99, seed=1)
    n_treated = len(a.sample.treated_units)
    assert n_treated >= 5 and f"random 99 sets of {n_treated} of the 40 units (seed 1)" in \
        a.inference
    assert any(n.startswith("permutation inference asked for") for n in a.notes)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert (_rows(a)["p_value"] >= 0.01).all()
    with pytest.raises(EstimationError, match=r"n_draws=0 must be a positive integer"):
        event_study(panel, "y", n_draws=0)
    with pytest.raises(EstimationError, match=r"inference='placebo' is not one of"):
        event_study(panel, "y", inference="placebo")  # type: ignore[arg-type]
