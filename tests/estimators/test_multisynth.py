"""multisynth: partially pooled synthetic control for staggered adoption (issue 14, part 4).

Checked against a generic convex solver (cvxpy) on the same objective, against its own limits
(``nu = 0`` is a separate synthetic control per unit), the intercept shift, a brute-force
jackknife, the duality of the placebo p-values and intervals, and planted effects on the
simulated staggered world (slow). augsynth-py 0.6.0 has no multisynth, and scpi-pkg 4.0.0
fails under pandas 3 (see tests/inference/test_prediction_intervals.py), so no peer package
estimates the staggered design in this run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.core.multisynth_solver import (
    NEVER_INDEX,
    default_nu,
    fit_staggered,
    solve_multisynth,
)
from evalmodel.data.sim_staggered import simulate_staggered, to_panel, true_effect
from evalmodel.errors import EstimationError, MissingValueWarning


def _problem(seed: int = 1, lags: tuple[int, ...] = (8, 6, 10, 5), n0: int = 40
             ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    targets = [rng.normal(size=ell) + 1.0 for ell in lags]
    donors = [rng.normal(size=(n0, ell)) for ell in lags]
    return targets, donors


def _cvxpy_weights(targets: list[np.ndarray], donors: list[np.ndarray], nu: float,
                   lam: float) -> tuple[list[np.ndarray], float]:
    """The same objective written out in cvxpy and solved by Clarabel (interior point)."""
    cp = pytest.importorskip("cvxpy")
    g = [cp.Variable(a.shape[0], nonneg=True) for a in donors]
    big = max(x.size for x in targets)
    pooled, separate = 0, 0
    for x, a, w in zip(targets, donors, g, strict=True):
        e = x - a.T @ w
        pad = np.zeros((big, x.size))
        pad[big - x.size:, :] = np.eye(x.size)
        pooled = pooled + pad @ e
        separate = separate + cp.sum_squares(e) / x.size
    objective = (nu / big * cp.sum_squares(pooled) + (1 - nu) * separate
                 + lam * sum(cp.sum_squares(w) for w in g))
    problem = cp.Problem(cp.Minimize(objective), [cp.sum(w) == 1 for w in g])
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return [np.asarray(w.value) for w in g], float(problem.value)


@pytest.mark.parametrize(("nu", "lam"), [(0.0, 0.0), (0.4, 0.0), (1.0, 0.1), (0.7, 0.05)])
def test_solver_matches_a_generic_qp_solver(nu: float, lam: float) -> None:
    targets, donors = _problem()
    fit = solve_multisynth(targets, donors, nu=nu, lam=lam)
    weights, value = _cvxpy_weights(targets, donors, nu, lam)
    assert fit.objective == pytest.approx(value, rel=1e-8)
    for ours, theirs in zip(fit.weights, weights, strict=True):
        assert ours.min() >= 0 and ours.sum() == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_nu_zero_is_a_separate_synthetic_control_per_unit() -> None:
    targets, donors = _problem(seed=2)
    joint = solve_multisynth(targets, donors, nu=0.0)
    for x, a, w in zip(targets, donors, joint.weights, strict=True):
        alone = solve_multisynth([x], [a], nu=0.0).weights[0]
        np.testing.assert_allclose(w, alone, atol=1e-8)


def test_default_nu_is_the_ratio_of_pooled_to_separate_imbalance() -> None:
    targets, donors = _problem(seed=3)
    nu, separate = default_nu(targets, donors)
    big = max(x.size for x in targets)
    summed = np.zeros(big)
    for e in separate.imbalance:
        summed[big - e.size:] += e
    by_hand = np.linalg.norm(summed) / sum(np.linalg.norm(e) for e in separate.imbalance)
    assert nu == pytest.approx(by_hand, rel=1e-12)
    assert 0 < nu < 1


@pytest.fixture(scope="module")
def world() -> em.Panel:
    df = simulate_staggered(40, n_periods=12, cohorts=(2006, 2008, 2009), never_share=0.9,
                            selection=0.0, seed=3)
    return to_panel(df)


def test_intercept_shift_ignores_unit_levels_and_plain_sc_does_not(world: em.Panel) -> None:
    data = world.data.copy()
    levels = {u: 5.0 * np.sin(i) for i, u in enumerate(world.units)}
    data["y"] = data["y"] + data["unit"].map(levels)
    shifted = em.Panel(data, unit="unit", time="period", cohort="cohort")
    a = em.multisynth(world, "y", fixedeff=True, inference="none", nu=0.5)
    b = em.multisynth(shifted, "y", fixedeff=True, inference="none", nu=0.5)
    np.testing.assert_allclose(a.table["estimate"], b.table["estimate"], atol=1e-6)
    c = em.multisynth(world, "y", inference="none", nu=0.5)
    d = em.multisynth(shifted, "y", inference="none", nu=0.5)
    assert abs(c.estimate - d.estimate) > 0.05


def test_table_and_pooled_rows(world: em.Panel) -> None:
    r = em.multisynth(world, "y", fixedeff=True, inference="none")
    assert r.overall is not None and r.overall["term"] == "average"
    units = list(r.adoption.index)
    assert len(units) == int((world.cohorts() > 0).sum())
    per_unit = np.vstack([r.effects(u)["estimate"].to_numpy() for u in units])
    np.testing.assert_allclose(r.effects("pooled")["estimate"], np.nanmean(per_unit, axis=0))
    post = r.effects("pooled")["event_time"].to_numpy() >= 0
    by_unit = np.nanmean(per_unit[:, post], axis=1)
    assert r.estimate == pytest.approx(by_unit.mean())
    np.testing.assert_allclose(r.weights.sum(axis=0), 1.0)
    assert r.imbalance.index.max() == -1 and 0 <= r.nu <= 1


def test_placebo_p_values_and_intervals_are_one_test(world: em.Panel) -> None:
    r = em.multisynth(world, "y", fixedeff=True, n_draws=39, seed=4)
    assert r.inference.startswith("placebos in space")
    t = r.table.dropna(subset=["estimate"])
    excludes = (t["ci_lower"] > 0) | (t["ci_upper"] < 0)
    assert ((t["p_value"] <= 0.05) == excludes).all()
    assert excludes.any() and (~excludes).any()
    again = em.multisynth(world, "y", fixedeff=True, n_draws=39, seed=4)
    pd.testing.assert_frame_equal(r.table, again.table)


def test_jackknife_equals_refitting_without_each_unit(world: em.Panel) -> None:
    r = em.multisynth(world, "y", fixedeff=True, inference="jackknife", nu=0.3)
    y = world.wide("y").reindex(index=world.units, columns=world.periods).to_numpy(float)
    periods = list(world.periods)
    cohort = np.array([NEVER_INDEX if c == 0 else periods.index(c)
                       for c in world.cohorts().reindex(world.units)])
    treated = [int(i) for i in np.flatnonzero(cohort >= 1)]
    kw = {"n_lags": int(cohort[treated].max()), "n_leads": 12 - int(cohort[treated].min()),
          "nu": 0.3, "fixedeff": True}
    overall = []
    for i in range(len(world.units)):
        ex = np.zeros(len(world.units), dtype=bool)
        ex[i] = True
        keep = [j for j in treated if j != i]
        overall.append(fit_staggered(y, cohort, keep, excluded=ex, **kw).overall)
    o = np.array(overall)
    se = np.sqrt((o.size - 1) / o.size * np.sum((o - o.mean()) ** 2))
    assert r.overall is not None
    assert r.overall["std_error"] == pytest.approx(se, rel=1e-8)


def test_bad_input_is_refused_at_the_entry_point(world: em.Panel) -> None:
    with pytest.raises(EstimationError, match=r"nu=1\.5 must be a number in \[0, 1\]"):
        em.multisynth(world, "y", nu=1.5)
    with pytest.raises(EstimationError, match="inference='bootstrap' is not one of"):
        em.multisynth(world, "y", inference="bootstrap")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="outcome 'z' is not in the panel"):
        em.multisynth(world, "z")
    no_role = em.Panel(world.data.drop(columns="cohort"), unit="unit", time="period")
    with pytest.raises(EstimationError, match="no cohort role"):
        em.multisynth(no_role, "y")
    data = world.data.copy()
    unit = world.cohorts()[world.cohorts() > 0].index[0]
    data.loc[(data["unit"] == unit) & (data["period"] == 2003), "y"] = np.nan
    with pytest.warns(MissingValueWarning, match="1 missing values"):
        holed = em.Panel(data, unit="unit", time="period", cohort="cohort")
    with pytest.raises(EstimationError, match=f"treated unit '{unit}' has no .* period 2003"):
        em.multisynth(holed, "y", inference="none")


def _zero_effect_world(seed: int) -> em.Panel:
    df = simulate_staggered(40, n_periods=12, cohorts=(2006, 2008, 2009), never_share=0.9,
                            selection=0.0, seed=seed)
    df["y"] = df["y"] - df["att"]
    return to_panel(df)


@pytest.mark.slow
def test_placebo_test_keeps_its_size_on_the_simulated_world() -> None:
    """With no effect and the treated units drawn at random (as the simulator does with
    ``selection=0``), the placebo test of the average effect rejects at 10 % in about 10 % of
    worlds: 19 draws, so p <= 0.1 needs at most one placebo as extreme (exactly 2/20 under
    exchangeability). 100 worlds: a 99.7 % binomial band of 0.10 +- 0.09."""
    worlds = 100
    rejections = 0
    for s in range(worlds):
        panel = _zero_effect_world(1000 + s)
        r = em.multisynth(panel, "y", fixedeff=True, inference="placebo", n_draws=19, seed=s)
        assert r.overall is not None
        rejections += bool(r.overall["p_value"] <= 0.1)
    rate = rejections / worlds
    print(f"placebo size at 10 %: {rate:.3f} over {worlds} worlds")
    assert abs(rate - 0.1) < 3 * np.sqrt(0.1 * 0.9 / worlds), rate


@pytest.mark.slow
def test_planted_staggered_effects_are_recovered_within_two_mc_se() -> None:
    """120 simulated worlds (60 units, a quarter treated at random in 2006, 2008 or 2009,
    12 periods): the pooled effect at event times 0-3 and the average effect, each against
    the planted truth of that world's treated units, are unbiased within 2 Monte Carlo
    standard errors, and those are small enough (< 0.075) to show a bias of 5 % of the
    smallest planted effect (1.5)."""
    errors = []
    for s in range(120):
        df = simulate_staggered(60, n_periods=12, cohorts=(2006, 2008, 2009),
                                never_share=0.75, selection=0.0, seed=100 + s)
        r = em.multisynth(to_panel(df), "y", fixedeff=True, inference="none")
        pooled = r.effects("pooled").set_index("event_time")["estimate"]
        g = r.adoption.to_numpy()
        truth = [true_effect(g, np.full(g.size, k), 2001).mean() for k in range(4)]
        average = np.mean([true_effect(np.full(2013 - c, c), np.arange(2013 - c), 2001).mean()
                           for c in g])
        errors.append([*(pooled[k] - truth[k] for k in range(4)), r.estimate - average])
    e = np.asarray(errors)
    mc_se = e.std(axis=0, ddof=1) / np.sqrt(len(e))
    assert (mc_se < 0.075).all(), mc_se
    assert (np.abs(e.mean(axis=0)) < 2 * mc_se).all(), (e.mean(axis=0), mc_se)
