"""The design-based test of ``att_gt``'s aggregations needs each row's weight on each cell.
It is made by aggregating every unit vector of cells at once (a matrix of cell values,
issue 16); the weights must be those of aggregating one unit vector at a time, to the last
bit, for every kind and window; and the aggregation of the result's own cells through the
weights reproduces its estimates."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import evalmodel as em
from evalmodel.errors import SmallCohortWarning
from evalmodel.estimators.aggregate import _components
from evalmodel.estimators.staggered_placebo import AggregateStatistic


def _one_at_a_time(res: Any, kind: str, options: dict[str, Any]) -> np.ndarray:
    """The weights as they were made before: one unit vector per call."""
    k = len(res.table)
    zeros = np.zeros((len(res.unit_cohort), k))
    cols = []
    for j in range(k):
        basis = np.zeros(k)
        basis[j] = 1.0
        rows, _ = _components(res, kind, att=basis, inf=zeros, **options)
        cols.append([r[2] for r in rows])
    return np.array(cols).T


@pytest.fixture(scope="module")
def two_cohorts(municipalities: em.Panel) -> em.Panel:
    d = em.cases.get("trelleborg").design(municipalities)
    pool = sorted(d.comparison)[:40]
    panel = d.panel.select(units=[*d.treated, *pool])
    adoption = int(panel.cohorts()[d.treated[0]])
    return panel.with_cohorts({**{u: adoption - 3 for u in pool[:3]}, d.treated[0]: adoption})


@pytest.mark.parametrize("control_group", ["never", "not_yet"])
def test_weights_equal_one_unit_vector_at_a_time(two_cohorts: em.Panel,
                                                 control_group: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCohortWarning)
        res = em.att_gt(two_cohorts, "N31807", control_group=control_group)  # type: ignore[arg-type]
    att = res.table["estimate"].to_numpy(float)
    free = {"balance_e": None, "min_e": -np.inf, "max_e": np.inf}
    cases = [("simple", free), ("group", free), ("calendar", free), ("dynamic", free),
             ("dynamic", {"balance_e": 1, "min_e": -np.inf, "max_e": np.inf}),
             ("dynamic", {"balance_e": None, "min_e": -2, "max_e": 3}),
             ("simple", {"balance_e": None, "min_e": 0, "max_e": 2}),
             ("group", {"balance_e": None, "min_e": -np.inf, "max_e": 4})]
    for kind, options in cases:
        stat = AggregateStatistic(res, kind, options)
        assert stat.fast
        np.testing.assert_array_equal(stat.linear, _one_at_a_time(res, kind, options))
        # the weights aggregate the result's own cells into its rows
        rows, _ = _components(res, kind, **options)
        np.testing.assert_allclose(stat.linear @ att, [r[2] for r in rows], rtol=1e-12,
                                   atol=1e-12)
        assert np.count_nonzero(stat.linear) > stat.linear.shape[0]  # not trivially empty
