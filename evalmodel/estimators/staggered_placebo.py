"""Design-based inference for the aggregations of ``att_gt`` with few treated clusters.

The aggregated effect (every row of the aggregation) is re-estimated with the treatment
re-assigned to other units: each comparison (never-treated) unit in turn as the fake treated
unit when one unit is treated, or sets of units drawn by
:func:`~evalmodel.inference.permutation.permutation_inference` when there are several. The
p-value and the interval come from that one permutation test (the interval by inverting it
for a constant additive effect, valid because every aggregation is linear in the outcome), so
the interval excludes 0 exactly when the p-value is below ``1 - conf_level``.

Without covariates, on a balanced panel with equal unit weights, every cell is a difference
of means and every aggregation is a fixed linear combination of cells (the cohort sizes do
not change under re-assignment), so all placebo assignments are evaluated at once; otherwise
``att_gt`` and the aggregation are re-run for each assignment.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from evalmodel.errors import EstimationError
from evalmodel.inference.permutation import PermutationResult
from evalmodel.panel import Panel

if TYPE_CHECKING:  # pragma: no cover
    from evalmodel.estimators.staggered import AttGtResult

__all__ = ["AggregateStatistic", "placebo_rows"]


class AggregateStatistic:
    """Every row of one aggregation as a permutation statistic (``batch`` over assignments).

    The rows of all assignments are computed once per panel and assignment matrix and cached,
    so :meth:`row` views of the same statistic share one computation; on the vectorised path
    the cells behind them are kept on the result (``res.placebo_cells``) and shared by its
    other aggregations.
    """

    def __init__(self, res: AttGtResult, kind: str, options: dict[str, Any]) -> None:
        self.res = res
        self.kind = kind
        self.options = options  # balance_e, min_e, max_e
        self.outcome = res.outcome
        # each actually treated unit's cohort, by id (``res.unit_cohort`` is in the cohort
        # blocks' order of ``att_gt``, and so are its treated units in ``res.sample``)
        treated = res.sample.treated_units
        is_treated = res.unit_cohort > 0
        self.cohort_of = dict(zip(treated, res.unit_cohort[is_treated].astype(np.int64).tolist(),
                                  strict=True))
        self._cache: dict[bytes, np.ndarray] = {}  # re-run rows, by content
        # the rows by the identity of the panel and assignments asked with (both kept, so the
        # ids stay theirs): every row of one permutation test asks with the same objects,
        # which are then neither reshaped nor hashed again
        self._seen: dict[tuple[int, int], tuple[Panel, np.ndarray, np.ndarray]] = {}
        d = res.details
        w = res.unit_weight
        self.fast = (not d["covariates"] and not d["repeated_cross_section"]
                     and bool(np.all(w == w[0])))
        if self.fast:
            self._prepare_fast()

    # -- the vectorised path --------------------------------------------------------------
    def _prepare_fast(self) -> None:
        from evalmodel.estimators.aggregate import _components

        tab = self.res.table
        periods = np.asarray(self.res.periods)
        self.cell_g = tab["cohort"].to_numpy(np.int64)
        self.cell_t = tab["time"].to_numpy(np.int64)
        self.t_idx = np.searchsorted(periods, self.cell_t)
        self.b_idx = np.searchsorted(periods, tab["base_period"].to_numpy(np.int64))
        self.zero = self.t_idx == self.b_idx
        # each row's weight on each cell: the aggregation of every unit vector of cells at
        # once (each a single product, so the numbers of one unit vector at a time)
        rows, _ = _components(self.res, self.kind, att=np.eye(len(self.cell_g)),
                              **self.options)
        self.linear = np.array([r[2] for r in rows])  # rows x cells

    def _cells(self, ys: list[np.ndarray], cohort: np.ndarray) -> list[np.ndarray]:
        """ATT of every cell for each assignment, for each outcome matrix of ``ys`` (units x
        periods): ``cohort`` is (A, n), 0 = never treated."""
        never = self.res.details["control_group"] == "never"
        ant = self.res.anticipation
        out = [np.zeros((cohort.shape[0], len(self.cell_g))) for _ in ys]
        periods = np.asarray(self.res.periods)
        # the masks and their sizes are shared by the cells of a cohort (and, with never-
        # treated controls, by every cell) and by the outcomes: made once, as the floats that
        # the products would cast them to on each call (the same products, so the same bits)
        never_treated = cohort == 0
        n_never = never_treated.sum(1)
        never_f = never_treated.astype(float)
        by_cohort: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for j in np.flatnonzero(~self.zero):
            g = int(self.cell_g[j])
            if g not in by_cohort:
                mask = cohort == g
                by_cohort[g] = (mask, mask.astype(float), mask.sum(1))
            treated, treated_f, n_treated = by_cohort[g]
            control_f, n_control = never_f, n_never
            if not never:
                horizon = max(periods[self.t_idx[j]], periods[self.b_idx[j]]) + ant
                control = never_treated | ((cohort > horizon) & ~treated)
                control_f, n_control = control.astype(float), control.sum(1)
            for y, o in zip(ys, out, strict=True):
                dy = y[:, self.t_idx[j]] - y[:, self.b_idx[j]]
                o[:, j] = treated_f @ dy / n_treated - control_f @ dy / n_control
        return out

    def fast_rows(self, y: np.ndarray, cohort: np.ndarray) -> np.ndarray:
        """(assignments x rows) aggregated estimates of the vectorised path, from the outcome
        (units x periods) and each assignment's cohorts (assignments x units, 0 = never
        treated)."""
        return self._cells([y], cohort)[0] @ self.linear.T

    def fast_rows_of(self, ys: list[np.ndarray], cohort: np.ndarray) -> list[np.ndarray]:
        """:meth:`fast_rows` of each outcome matrix of ``ys`` on the same assignments (the
        masks made once; each result that of ``fast_rows`` alone, bit for bit): the placebo
        study's batch of single treated units asks for the outcome and the pattern D."""
        return [cells @ self.linear.T for cells in self._cells(ys, cohort)]

    # -- the statistic --------------------------------------------------------------------
    def _cohorts(self, units: list[str], assignments: np.ndarray) -> np.ndarray:
        """Each assignment's cohorts over ``units`` (0 = never treated).

        The treated units' cohorts, read in the order of ``units``, go in that order to the
        units each assignment treats, so the actual assignment gets back the actual cohorts
        (whatever the ids of the treated units), and every placebo set keeps that pattern: the
        sets are uniform given the pattern, a randomisation test conditional on it.
        """
        pattern = np.array([self.cohort_of[u] for u in units if u in self.cohort_of],
                           dtype=np.int64)
        z = assignments.astype(bool)
        if len(pattern) != len(self.cohort_of) or bool(np.any(z.sum(1) != len(pattern))):
            raise EstimationError(
                f"aggregate: the placebo assignments treat {sorted(set(z.sum(1).tolist()))} "
                f"units of a panel holding {len(pattern)} of the {len(self.cohort_of)} treated "
                "units; each must treat exactly as many units as are treated; please report "
                "this.")
        cohort = np.zeros(z.shape, dtype=np.int64)
        rows, cols = np.nonzero(z)  # row-major: each row's units in the order of ``units``
        cohort[rows, cols] = np.tile(pattern, z.shape[0])
        return cohort

    def rows(self, panel: Panel, assignments: np.ndarray) -> np.ndarray:
        """(assignments x rows) aggregated estimates; ``assignments`` is over ``panel.units``."""
        ident = (id(panel), id(assignments))
        seen = self._seen.get(ident)
        if seen is not None:
            return seen[2]
        if self.fast:
            # the cells of the panel and assignments asked with (the same objects for every
            # aggregation of the result: its placebo_setup), shared by the aggregations (the
            # cells do not depend on the kind), then this aggregation's weights: fast_rows
            shared = self.res.placebo_cells.get(ident)
            if shared is None:
                cohort = self._cohorts([str(u) for u in panel.units], assignments)
                shared = (panel, assignments, self._cells([self._outcome(panel)], cohort)[0])
                self.res.placebo_cells[ident] = shared
            out = shared[2] @ self.linear.T
        else:
            y = self._outcome(panel)
            key = hashlib.sha1(np.ascontiguousarray(y).tobytes()
                               + np.ascontiguousarray(assignments, dtype=bool).tobytes()
                               ).digest()
            if key not in self._cache:
                cohort = self._cohorts([str(u) for u in panel.units], assignments)
                self._cache[key] = np.array([self._rerun(panel, row) for row in cohort])
            out = self._cache[key]
        self._seen[ident] = (panel, assignments, out)
        return out

    def _outcome(self, panel: Panel) -> np.ndarray:
        """The outcome of ``panel`` as a (units x periods) matrix in the panel's unit order and
        the result's periods."""
        wide = panel.wide(self.outcome).reindex(index=list(panel.units),
                                                columns=list(self.res.periods))
        return wide.to_numpy(float)

    def _rerun(self, panel: Panel, cohort: np.ndarray) -> np.ndarray:
        from evalmodel.estimators.staggered import att_gt

        units = list(panel.units)
        mapping = {units[i]: int(cohort[i]) for i in np.flatnonzero(cohort)}
        d = self.res.details
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = att_gt(panel.with_cohorts(mapping), self.outcome,
                         control_group=d["control_group"], method=d["estimator"],
                         covariates=list(d["covariates"]) or None,
                         anticipation=self.res.anticipation, base_period=d["base_period"],
                         inference="analytic", cluster=d.get("cluster"),
                         allow_unbalanced_panel=d["allow_unbalanced_panel"])
            agg = res.aggregate(self.kind, inference="analytic",  # type: ignore[arg-type]
                                **self.options)
        return agg.table["estimate"].to_numpy(float)

    def row(self, r: int) -> _Row:
        """The statistic of row ``r``."""
        return _Row(self, r)


class _Row:
    def __init__(self, stat: AggregateStatistic, r: int) -> None:
        self.stat, self.r = stat, r

    def batch(self, panel: Panel, assignments: np.ndarray, values: str | None = None
              ) -> np.ndarray:
        return self.stat.rows(panel, assignments)[:, self.r]

    def __call__(self, panel: Panel, treated: Any) -> float:  # pragma: no cover - batch used
        z = np.isin(list(panel.units), list(treated))[None, :]
        return float(self.batch(panel, z)[0])


def placebo_rows(res: AttGtResult, kind: str, n_rows: int, options: dict[str, Any]
                 ) -> list[PermutationResult]:
    """One permutation test per aggregation row (raises ``EstimationError`` if impossible).

    A pool too small to reach the level still gets the test (exact p-values, whole-line
    intervals; the caller notes it): the default never falls back to analytic errors, which
    over-reject with few treated units."""
    assert res.design is not None
    stat = AggregateStatistic(res, kind, options)
    # one set of assignments for every row and every aggregation of ``res`` (each row's test
    # as permutation_inference's)
    setup = res.placebo_setup
    return [setup.test(stat.row(r)) for r in range(n_rows)]
