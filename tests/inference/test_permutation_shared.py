"""Several permutation tests over one set of assignments (issue 16).

``permutation_tests`` checks the arguments and draws the assignments once, then tests each
statistic as ``permutation_inference`` tests it alone; the design-based rows of ``att_gt``'s
aggregations go through it, each row's statistic reading one cached computation. Every
number must be the one of the separate calls, to the last bit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalmodel as em
from evalmodel.errors import EstimationError, SmallCohortWarning
from evalmodel.estimators.staggered_placebo import AggregateStatistic, placebo_rows
from evalmodel.inference.permutation import (
    DiD2x2Statistic,
    PermutationResult,
    permutation_inference,
    permutation_tests,
)

FIELDS = ("estimate", "p_value", "ci_lower", "ci_upper", "n_draws", "exact", "min_p_value",
          "conf_level", "treated", "pool", "seed")


def _same(a: PermutationResult, b: PermutationResult) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x == y or (x != x and y != y), (name, x, y)  # NaN equals NaN here
    np.testing.assert_array_equal(a.distribution, b.distribution)


def _panel(seed: int, n: int = 10, t: int = 8, treated: int = 2) -> em.Panel:
    rng = np.random.default_rng(seed)
    units = [f"u{i:02d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.repeat(units, t), "time": np.tile(np.arange(t), n)})
    df["y"] = rng.normal(size=n).repeat(t) + rng.normal(size=n * t)
    df["cohort"] = np.where(df.unit.isin(units[:treated]), 5, 0)
    df.loc[df.unit.isin(units[:treated]) & (df.time >= 5), "y"] += 1.5
    return em.Panel(df, unit="unit", time="time", cohort="cohort")


@pytest.mark.parametrize("n_draws", [None, 29])
def test_shared_assignments_give_each_tests_own_numbers(n_draws: int | None) -> None:
    p = _panel(1)
    treated, pool = ["u00", "u01"], p.units[2:]
    windows = [(range(5), range(5, 8)), ([4], [5]), ([2, 3, 4], [6, 7])]
    stats = [DiD2x2Statistic("y", pre=a, post=b) for a, b in windows]

    def plain(panel: em.Panel, units: list[str]) -> float:  # no batch: one fit per assignment
        return float(stats[1](panel, units))

    together = permutation_tests(p, "y", statistics=[*stats, plain], treated=treated,
                                 pool=pool, n_draws=n_draws, seed=3, conf_level=0.9)
    alone = [permutation_inference(p, "y", statistic=s, treated=treated, pool=pool,
                                   n_draws=n_draws, seed=3, conf_level=0.9)
             for s in [*stats, plain]]
    assert len(together) == 4
    assert together[0].exact is (n_draws is None)
    for a, b in zip(together, alone, strict=True):
        _same(a, b)
    # the plain statistic is the batch one evaluated one assignment at a time
    np.testing.assert_allclose(together[3].distribution, together[1].distribution, atol=1e-12)
    # different windows give different tests (the comparison above can fail)
    assert together[0].estimate != together[1].estimate


def test_shared_assignments_check_their_arguments() -> None:
    p = _panel(2)
    stat = DiD2x2Statistic("y", pre=range(5), post=range(5, 8))
    with pytest.raises(EstimationError, match="smallest attainable p-value"):
        permutation_tests(p, "y", statistics=[stat], treated=["u00", "u01"],
                          pool=["u02", "u03"])
    with pytest.raises(EstimationError, match="not in the panel"):
        permutation_tests(p, "y", statistics=[stat], treated=["u00"], pool=["nope"])


def _separate_rows(res: em.AttGtResult, kind: str, n_rows: int) -> list[PermutationResult]:
    """Each row's test by its own call, as before issue 16 (one statistic, whose rows then
    shared their computation through the hash of the outcome and assignments)."""
    design = res.design
    assert design is not None
    stat = AggregateStatistic(res, kind, {"balance_e": None, "min_e": -np.inf,
                                          "max_e": np.inf})
    return [permutation_inference(design["panel"], res.outcome, statistic=stat.row(r),
                                  treated=design["treated"], pool=design["pool"],
                                  n_draws=design["n_draws"], seed=res.seed,
                                  conf_level=res.conf_level, allow_unreachable=True)
            for r in range(n_rows)]


@pytest.mark.parametrize("n_treated", [1, 2])
def test_aggregation_rows_equal_separate_tests(municipalities: em.Panel, n_treated: int) -> None:
    d = em.cases.get("trelleborg").design(municipalities)
    # enough units to reach the 95 % level (so the intervals are inverted), few assignments
    pool = sorted(d.comparison)[:30 if n_treated == 1 else 12]
    panel = d.panel.select(units=[*d.treated, *pool])
    adoption = int(panel.cohorts()[d.treated[0]])
    # a second, later cohort of treated units when there are several
    extra = {u: adoption + 2 for u in pool[:n_treated - 1]}
    panel = panel.with_cohorts({**extra, d.treated[0]: adoption})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCohortWarning)
        res = em.att_gt(panel, "N31807", seed=7)
    assert res.design is not None and len(res.design["treated"]) == n_treated
    for kind in ("simple", "group", "dynamic", "calendar"):
        table = res.aggregate(kind).table  # type: ignore[arg-type]
        n_rows = len(table)
        opts = {"balance_e": None, "min_e": -np.inf, "max_e": np.inf}
        shared = placebo_rows(res, kind, n_rows, opts)
        assert len(shared) == n_rows
        for a, b in zip(shared, _separate_rows(res, kind, n_rows), strict=True):
            _same(a, b)
        # the overall row's interval is inverted (pre-period rows have none: D is 0 there)
        assert np.isfinite(shared[-1].ci_lower) and shared[-1].reaches_level
        # the design-based table reads those tests
        np.testing.assert_array_equal(table["p_value"].to_numpy(float),
                                      [r.p_value for r in shared])


def test_scalar_rank_p_value_is_rank_p_values() -> None:
    """The test inversion's p-value, written out for one statistic, is rank_p_values' to the
    last bit: ties, near-ties inside and outside the tolerance, zero and NaN patterns."""
    from evalmodel.core.inversion import rank_p_values
    from evalmodel.inference.permutation import _pvals

    rng = np.random.default_rng(11)
    a = rng.normal(size=200)
    c = rng.normal(size=200) * 0.1
    a0, c0 = float(a[3]), 0.9
    a[4] = a0  # an exact tie at tau = 0
    a[5] = a0 * (1 - 5e-11)  # inside the tolerance below
    a[6] = a0 * (1 - 5e-9)  # outside it
    c[7] = 0.0
    taus = [0.0, -0.0, 1e-300, *rng.normal(size=300).tolist(), a0 / c0, 1e6, np.nan]
    for aa in (a, np.where(np.arange(200) == 9, np.nan, a)):
        for tau in taus:  # (a NaN placebo or tau compares as False in both)
            old = float(rank_p_values(np.array([a0 - tau * c0]), (aa - tau * c)[:, None],
                                      rel_tol=1e-10)[0])
            assert _pvals(a0, c0, aa, c, tau) == old, tau
    assert len({_pvals(a0, c0, a, c, t) for t in taus[:50]}) > 5  # the p-values vary
