"""The vectorised placebo cells of att_gt's design-based aggregations
(``AggregateStatistic._cells``) build each cohort's mask and the never-treated mask once per
batch (as floats, for every outcome asked on the same assignments); every cell's ATT must be
the one of the plain per-cell formula to the last bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import evalmodel as em
from evalmodel.errors import SmallCohortWarning
from evalmodel.estimators.staggered_placebo import AggregateStatistic

OUTCOME = "N31807"


def _plain_cells(stat: AggregateStatistic, y: np.ndarray, cohort: np.ndarray) -> np.ndarray:
    """Each cell on its own, as the statistic computed them before (issue 16)."""
    never = stat.res.details["control_group"] == "never"
    out = np.zeros((cohort.shape[0], len(stat.cell_g)))
    periods = np.asarray(stat.res.periods)
    for j in np.flatnonzero(~stat.zero):
        dy = y[:, stat.t_idx[j]] - y[:, stat.b_idx[j]]
        treated = cohort == stat.cell_g[j]
        control = cohort == 0
        if not never:
            horizon = max(periods[stat.t_idx[j]], periods[stat.b_idx[j]]) + stat.res.anticipation
            control |= (cohort > horizon) & ~treated
        out[:, j] = treated @ dy / treated.sum(1) - control @ dy / control.sum(1)
    return out


@pytest.mark.parametrize("control_group", ["never", "not_yet"])
def test_cells_equal_the_per_cell_formula(municipalities: em.Panel, control_group: str) -> None:
    d = em.cases.get("trelleborg").design(municipalities)
    pool = sorted(d.comparison)[:40]
    panel = d.panel.select(units=[*d.treated, *pool])
    rng = np.random.default_rng(5)
    adoption = int(panel.cohorts()[d.treated[0]])
    later = {u: adoption + 3 for u in pool[:4]}  # a second, later cohort
    panel = panel.with_cohorts({**later, d.treated[0]: adoption})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCohortWarning)
        res = em.att_gt(panel, OUTCOME, control_group=control_group)  # type: ignore[arg-type]
    stat = AggregateStatistic(res, "simple", {"balance_e": None, "min_e": -np.inf,
                                              "max_e": np.inf})
    assert stat.fast and len(set(stat.cell_g.tolist())) == 2
    y = panel.wide(OUTCOME).reindex(index=list(panel.units),
                                    columns=list(res.periods)).to_numpy(float)
    # random placebo assignments: each unit never treated or in one of the two cohorts,
    # every assignment with at least one unit of each
    cohorts = np.array([0, adoption, adoption + 3])
    cohort = cohorts[rng.choice(3, size=(60, len(panel.units)), p=[0.8, 0.1, 0.1])]
    cohort[:, :2] = [adoption, adoption + 3]
    cohort[:, 2] = 0
    y_d = rng.normal(size=y.shape)  # a second outcome on the same assignments
    fast, fast_d = stat._cells([y, y_d], cohort)
    plain = _plain_cells(stat, y, cohort)
    assert np.isfinite(fast[:, ~stat.zero]).all()
    assert np.array_equal(fast, plain)
    assert np.array_equal(fast_d, _plain_cells(stat, y_d, cohort))
    # fast_rows_of (the placebo study's batch) is fast_rows of each outcome, bit for bit
    rows, rows_d = stat.fast_rows_of([y, y_d], cohort)
    assert np.array_equal(rows, stat.fast_rows(y, cohort))
    assert np.array_equal(rows_d, stat.fast_rows(y_d, cohort))
    assert np.array_equal(rows, plain @ stat.linear.T)


def test_aggregations_share_one_setup_and_the_cells(municipalities: em.Panel) -> None:
    """The four aggregations of one att_gt result test on one set of assignments
    (``res.placebo_setup``) and one computation of the placebo cells (``res.placebo_cells``:
    the outcome's and D's); every table equals, bit for bit, that of the aggregation alone on
    a fresh result and the rows of permutation_tests on their own setup (the path before the
    sharing)."""
    from evalmodel.inference.permutation import permutation_tests

    d = em.cases.get("trelleborg").design(municipalities)
    panel = d.panel.select(units=[*d.treated, *sorted(d.comparison)[:40]])
    kinds = ("simple", "group", "dynamic", "calendar")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCohortWarning)
        res = em.att_gt(panel, OUTCOME)
        shared = {k: res.aggregate(k) for k in kinds}  # type: ignore[arg-type]
        assert res.design is not None and len(res.placebo_cells) == 2
        for k in kinds:
            alone = em.att_gt(panel, OUTCOME).aggregate(k)  # type: ignore[arg-type]
            assert shared[k].table.equals(alone.table)
            assert "design-based" in alone.inference
        dyn = em.att_gt(panel, OUTCOME)
        n_rows = len(shared["dynamic"].table)
        stat = AggregateStatistic(dyn, "dynamic", {"balance_e": None, "min_e": -np.inf,
                                                   "max_e": np.inf})
        design = dyn.design
        assert design is not None
        before = permutation_tests(design["panel"], OUTCOME,
                                   statistics=[stat.row(r) for r in range(n_rows)],
                                   treated=design["treated"], pool=design["pool"],
                                   n_draws=design["n_draws"], seed=dyn.seed,
                                   conf_level=dyn.conf_level, allow_unreachable=True)
    table = shared["dynamic"].table
    assert np.array_equal(table["p_value"].to_numpy(float), [p.p_value for p in before])
    # (no interval for the leads: the pattern D is zero there)
    for col in ("ci_lower", "ci_upper"):
        assert np.array_equal(table[col].to_numpy(float), [getattr(p, col) for p in before],
                              equal_nan=True)
        assert np.isfinite(table[col]).sum() > 5
    assert len(np.unique(table["p_value"])) > 2
