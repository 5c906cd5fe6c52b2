"""Callaway and Sant'Anna (2021) group-time average treatment effects, ``att_gt``.

For each cohort ``g`` (units first treated in period ``g``) and period ``t``, ATT(g, t) is a
two-period DiD between the cohort and a comparison group (never-treated units, or units not
yet treated by ``max(t, base) + anticipation``), estimated by outcome regression, IPW or the
doubly robust estimator of :mod:`evalmodel.estimators.drdid`. The base period is the last
period before ``g - anticipation`` for post-treatment cells; for pre-treatment cells it is the
previous period (``base_period="varying"``) or the same last pre-treatment period
(``"universal"``, whose own cell is then reported as 0 with a NaN standard error).

With ``allow_unbalanced_panel=True`` an unbalanced panel is not balanced by dropping units:
each cell is estimated from the rows present in its two periods by the repeated-cross-section
estimators of :mod:`evalmodel.estimators.drdid_rc`, whose row influence functions are summed
within units (R ``did`` with ``allow_unbalanced_panel = TRUE``). A panel that is balanced
anyway keeps the panel estimators, as in R ``did``.

Standard errors come from the influence functions, stacked over all units (analytic,
clustered at the unit or a coarser level), or from the multiplier bootstrap with simultaneous
bands (:mod:`evalmodel.inference.multiplier`). Aggregations are in
:mod:`evalmodel.estimators.aggregate`. The numbers follow R ``did`` 2.x.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from evalmodel.core.clusters import cluster_sums
from evalmodel.errors import EstimationError
from evalmodel.estimators._common import (
    MIN_TREATED_CLUSTERS,
    check_anticipation,
    check_two_periods,
    warn_few_clusters,
)
from evalmodel.estimators.drdid import KERNELS, CellFactors, cell_factors
from evalmodel.estimators.drdid_rc import observed_counts, rc_cells, rc_cells_without_covariates
from evalmodel.estimators.staggered_data import StaggeredData, cohort_codes, prepare
from evalmodel.inference.multiplier import multiplier_bootstrap
from evalmodel.inference.permutation import PermutationSetup, permutation_setup
from evalmodel.months import period_label
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, Sample, inference_table
from evalmodel.vocabulary import (
    AggregateInference,
    AggregationKind,
    AttGtInference,
    BasePeriod,
    ControlGroup,
    DrDidMethod,
    Multipliers,
    check_conf_level,
    check_names,
    check_option,
    check_seed,
    draws_argument,
    renamed_attribute,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from evalmodel.estimators.aggregate import AggregateResult

__all__ = ["AttGtInference", "AttGtResult", "BasePeriod", "ControlGroup", "Inference", "Pretest",
           "att_gt"]

#: The old name of :data:`~evalmodel.vocabulary.AttGtInference`.
Inference = AttGtInference


@dataclass(frozen=True)
class Pretest:
    """Wald test that every pre-treatment ATT(g, t) is zero (parallel pre-trends)."""

    statistic: float
    df: int
    p_value: float

    def __str__(self) -> str:
        return f"Wald pre-test: W = {self.statistic:.4f}, df = {self.df}, p = {self.p_value:.4f}"


@dataclass(frozen=True)
class Cells:
    """The (g, t) cells: cohort, period, base period, and whether it is the fixed zero cell."""

    cohort: np.ndarray
    time: np.ndarray
    base: np.ndarray
    t_idx: np.ndarray
    b_idx: np.ndarray
    zero: np.ndarray


def plan_cells(periods: np.ndarray, cohorts: np.ndarray, anticipation: int,
               base_period: str) -> Cells:
    """Every (g, t) cell with its base period (R ``did``'s rules)."""
    rows = []
    first = 1 if base_period == "varying" else 0
    for g in cohorts:
        pre = np.flatnonzero(periods + anticipation < g)
        last_pre = int(pre[-1])
        for ti in range(first, len(periods)):
            bi = last_pre
            if base_period == "varying" and g - anticipation > periods[ti]:
                bi = ti - 1
            rows.append((g, periods[ti], periods[bi], ti, bi, base_period == "universal"
                         and bi == ti))
    arr = np.array(rows, dtype=np.int64).reshape(-1, 6)
    return Cells(cohort=arr[:, 0], time=arr[:, 1], base=arr[:, 2], t_idx=arr[:, 3],
                 b_idx=arr[:, 4], zero=arr[:, 5].astype(bool))


def _masks(data: StaggeredData, cells: Cells, control_group: str, anticipation: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cohort codes per unit and, per cohort code x cell, the treated and comparison masks."""
    codes_of, code = cohort_codes(data.cohort)
    treated = codes_of[:, None] == cells.cohort[None, :]
    if control_group == "never":
        control = np.repeat((codes_of == 0)[:, None], len(cells.cohort), axis=1)
    else:
        horizon = np.maximum(cells.time, cells.base) + anticipation
        control = (codes_of[:, None] == 0) | (
            (codes_of[:, None] > horizon[None, :]) & ~treated)
    return codes_of, code, treated, control


def _check_rows(data: StaggeredData, present: np.ndarray, cells: Cells, code: np.ndarray,
                treated: np.ndarray, control: np.ndarray) -> None:
    """Raise naming the first cell without treated or comparison rows in one of its periods."""
    counts = observed_counts(present, code, treated.shape[0])
    for sel, idx, who in ((treated, cells.t_idx, "treated"), (treated, cells.b_idx, "treated"),
                          (control, cells.t_idx, "comparison"),
                          (control, cells.b_idx, "comparison")):
        empty = (np.einsum("ck,ck->k", counts[:, idx], sel) == 0) & ~cells.zero
        if empty.any():
            k = int(np.flatnonzero(empty)[0])
            g, t, p = (period_label(v, data.frequency)
                       for v in (cells.cohort[k], cells.time[k], data.periods[idx[k]]))
            raise EstimationError(
                f"att_gt: cell (cohort {g}, period {t}) has no "
                f"{who} rows in period {p} of the unbalanced panel; drop "
                "that cohort, use control_group='never', or set allow_unbalanced_panel=False."
            )


def _estimate_rc(data: StaggeredData, present: np.ndarray, cells: Cells, method: str,
                 code: np.ndarray, treated: np.ndarray, control: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Every cell of an unbalanced panel by the repeated-cross-section estimators."""
    _check_rows(data, present, cells, code, treated, control)
    if data.x is None:
        return rc_cells_without_covariates(data.y, present, data.w, code, cells.t_idx,
                                           cells.b_idx, treated, control)
    return rc_cells(data.y, data.x, present, data.w, code, cells.t_idx, cells.b_idx,
                    treated, control, method)


def _estimate(data: StaggeredData, cells: Cells, method: str, control_group: str,
              anticipation: int) -> tuple[np.ndarray, np.ndarray | CellFactors]:
    """ATT and the (n, K) influence functions of every cell (in factored form without
    covariates on a balanced panel)."""
    _, code, treated, control = _masks(data, cells, control_group, anticipation)
    if data.present is not None:
        att, inf = _estimate_rc(data, data.present, cells, method, code, treated, control)
        att[cells.zero] = 0.0
        inf[:, cells.zero] = 0.0
        return att, inf
    per_code = np.bincount(code, minlength=treated.shape[0])  # units per cohort code
    n_t, n_c = per_code @ treated, per_code @ control
    empty = (n_t == 0) | (n_c == 0)
    if empty[~cells.zero].any():
        k = int(np.flatnonzero(empty & ~cells.zero)[0])
        g, t = (period_label(v, data.frequency) for v in (cells.cohort[k], cells.time[k]))
        raise EstimationError(
            f"att_gt: cell (cohort {g}, period {t}) has no "
            f"{'comparison' if n_c[k] == 0 else 'treated'} units; use "
            "control_group='never' or drop that cohort."
        )
    if data.x is None:
        att, factors = cell_factors(data.y, data.w, code, cells.t_idx, cells.b_idx, treated,
                                    control, zero=cells.zero)
        att[cells.zero] = 0.0
        return att, factors
    else:
        kernel = KERNELS[method]
        n, k_all = data.n, len(cells.cohort)
        att, inf = np.zeros(k_all), np.zeros((n, k_all))
        for k in np.flatnonzero(~cells.zero).tolist():
            sub = treated[code, k] | control[code, k]
            ti, bi = int(cells.t_idx[k]), int(cells.b_idx[k])
            dy = data.y[sub, ti] - data.y[sub, bi]
            x = data.x[sub, min(ti, bi), :]
            d = treated[code[sub], k].astype(float)
            a, psi = kernel(dy, d, np.column_stack([np.ones(len(dy)), x]), data.w[sub])
            att[k] = a
            inf[sub, k] = psi * (n / sub.sum())
    att[cells.zero] = 0.0
    inf[:, cells.zero] = 0.0
    return att, inf


_RC_NAMES = {"dr": "locally efficient doubly robust (drdid_rc)",
             "ipw": "standardized IPW (std_ipw_did_rc)",
             "reg": "outcome regression (reg_did_rc)"}


def _sample_note(data: StaggeredData, method: str) -> str:
    """Which estimator ran, on how many rows and units (``allow_unbalanced_panel=True``)."""
    if data.present is None:
        return (f"allow_unbalanced_panel=True, but the panel is balanced: panel {method} "
                f"estimator on {data.n_rows} rows of {data.n} units")
    return (f"unbalanced panel: repeated cross-section {_RC_NAMES[method]} estimator of "
            f"Sant'Anna and Zhao (2020) on {data.n_rows} rows of {data.n} units "
            f"(of {data.n * len(data.periods)} unit-periods), influence functions summed "
            "within units")


def _as_text(ids: np.ndarray) -> tuple[str, ...]:
    """Unit ids as a tuple of text (a Panel's ids already are: no ``str`` call per id then)."""
    if ids.dtype.kind == "U" or (ids.dtype == object
                                 and pd.api.types.infer_dtype(ids, skipna=False) == "string"):
        return tuple(ids.tolist())
    return tuple(str(u) for u in ids)


def _gram(a: np.ndarray) -> np.ndarray:
    """``a.T @ a`` as a general product of two copies, as before (BLAS's symmetric product
    is faster but may differ in the last bit)."""
    return a.T @ a.copy()


def _pretest(att: np.ndarray, v: np.ndarray) -> Pretest | None:
    """Wald test of the pre-treatment cells ``att`` with their analytic covariance ``v``."""
    keep = np.diag(v) > 0
    v, a = v[np.ix_(keep, keep)], att[keep]
    if len(a) == 0 or 1.0 / np.linalg.cond(v, 1) <= np.finfo(float).eps:
        return None
    w = float(a @ np.linalg.solve(v, a))
    return Pretest(statistic=w, df=len(a), p_value=float(stats.chi2.sf(w, len(a))))


@dataclass(frozen=True)
class AttGtResult(EstimateResult):
    """Group-time ATTs with their influence functions (see :func:`att_gt`).

    The :attr:`table` has one row per (cohort, time) with ``event_time = time - cohort``,
    ``base_period`` and the value columns; with bootstrap inference also the simultaneous band
    ``band_lower``/``band_upper``. :meth:`aggregate` combines the cells; :attr:`pretest` is
    the Wald test of the pre-treatment cells (rows :attr:`pre_cells` of the table), computed
    when first read. :attr:`design` is set when the aggregations
    use design-based inference by default (``inference="auto"`` with few treated clusters):
    the panel, treated units and comparison pool of the placebo test.
    """

    influence_source: np.ndarray | CellFactors = field(
        default_factory=lambda: np.zeros((0, 0)), repr=False)
    unit_cohort: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    unit_weight: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    cluster_codes: np.ndarray | None = field(default=None, repr=False)
    periods: tuple[int, ...] = ()
    pre_cells: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp),
                                  repr=False)
    n_draws: int = 999
    seed: int | None = None
    anticipation: int = 0
    multipliers: Multipliers = "rademacher"
    n_treated_clusters: int = 0
    design: dict[str, Any] | None = field(default=None, repr=False)

    @cached_property
    def influence(self) -> np.ndarray:
        """The ``(n, K)`` influence functions of the cells (built when first read from
        :attr:`influence_source` when that holds them in factored form)."""
        src = self.influence_source
        return src if isinstance(src, np.ndarray) else src.matrix()

    @cached_property
    def pretest(self) -> Pretest | None:
        """Wald test that the pre-treatment cells (:attr:`pre_cells`, rows of :attr:`table`)
        are all zero, with their analytic covariance (computed when first read)."""
        if len(self.pre_cells) == 0:
            return None
        s = cluster_sums(np.take(self.influence, self.pre_cells, axis=1), self.cluster_codes)
        att = self.table["estimate"].to_numpy(dtype=float)[self.pre_cells]
        return _pretest(att, _gram(s) / self.influence.shape[0] ** 2)

    @cached_property
    def placebo_setup(self) -> PermutationSetup:
        """The checked assignments of the aggregations' design-based test on :attr:`design`
        (:func:`~evalmodel.inference.permutation.permutation_setup`, levels it cannot reach
        allowed), made when first read and shared by every aggregation of this result: each
        row's test on it is :func:`~evalmodel.inference.permutation.permutation_inference`'s,
        bit for bit. Raises ``EstimationError`` as that function does."""
        if self.design is None:
            raise EstimationError("aggregate: this att_gt result has no design-based test "
                                  "(it was not fitted with inference='auto' and few treated "
                                  "clusters); please report this.")
        d = self.design
        return permutation_setup(d["panel"], self.outcome, treated=d["treated"],
                                 pool=d["pool"], n_draws=d["n_draws"], seed=self.seed,
                                 conf_level=self.conf_level, allow_unreachable=True)

    @cached_property
    def placebo_cells(self) -> dict[tuple[int, int], tuple[Panel, np.ndarray, np.ndarray]]:
        """The placebo cells of the aggregations' vectorised test
        (:class:`~evalmodel.estimators.staggered_placebo.AggregateStatistic`) by the identity
        of the panel and assignments they were computed for (both kept, so the ids stay
        theirs; :attr:`placebo_setup` gives every aggregation the same objects): the cells do
        not depend on the aggregation, so its four kinds compute them once."""
        return {}

    @property
    def n_boot(self) -> int:
        """Deprecated name of :attr:`n_draws` (warns ``DeprecationWarning``)."""
        return int(renamed_attribute(self, "n_boot", "n_draws"))

    @property
    def bootstrap(self) -> bool:
        """Whether inference is by the multiplier bootstrap."""
        return self.inference.startswith("multiplier bootstrap")

    def aggregate(self, kind: AggregationKind = "dynamic", *, balance_e: int | None = None,
                  min_e: float = -np.inf, max_e: float = np.inf,
                  inference: AggregateInference = "auto") -> AggregateResult:
        """Aggregate the cells: ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.

        ``inference="auto"`` (default) is design-based (placebo over the comparison pool)
        with fewer than ``MIN_TREATED_CLUSTERS`` treated clusters when this result was
        estimated with ``inference="auto"``, else this result's inference. See
        :func:`evalmodel.estimators.aggregate.aggregate`.
        """
        from evalmodel.estimators.aggregate import aggregate

        return aggregate(self, kind, balance_e=balance_e, min_e=min_e, max_e=max_e,
                         inference=inference)

    def plot(self, ax: Axes | None = None) -> Axes:
        """ATT(g, t) by event time, one colour per cohort; returns the Axes."""
        from evalmodel.plotting.staggered import att_gt_plot

        return att_gt_plot(self, ax=ax)


def att_gt(
    panel: Panel,
    outcome: str,
    *,
    control_group: ControlGroup = "never",
    method: DrDidMethod = "dr",
    covariates: Sequence[str] | None = None,
    anticipation: int = 0,
    base_period: BasePeriod = "varying",
    inference: AttGtInference = "auto",
    n_draws: int = 999,
    seed: int | None = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
    multipliers: Multipliers = "rademacher",
    allow_unbalanced_panel: bool = False,
    n_boot: int | None = None,
) -> AttGtResult:
    """Group-time average treatment effects of Callaway and Sant'Anna (2021).

    Parameters
    ----------
    panel : Panel
        Panel with a cohort role (first treated period, 0 = never treated) and optionally a
        weight role (sampling weights, constant within unit).
    outcome : str
        The outcome variable.
    control_group : {"never", "not_yet"}
        Comparison units: never treated, or never treated plus not yet treated.
    method : {"dr", "ipw", "reg"}
        Doubly robust, inverse probability weighting, or outcome regression.
    covariates : sequence of str, optional
        Covariates, taken in the earlier period of each cell's two periods.
    anticipation : int
        Periods before adoption in which units may already react.
    base_period : {"varying", "universal"}
        Base period of the pre-treatment cells.
    inference : {"auto", "analytic", "bootstrap"}
        ``"auto"`` (default): influence-function standard errors for the cells; for the
        aggregations (``AttGtResult.aggregate``), design-based inference when there are
        fewer than ``MIN_TREATED_CLUSTERS`` (5) treated clusters -- the aggregated effect
        re-estimated with each comparison unit in turn as the fake treated unit, p-value and
        interval from that permutation test -- and influence-function standard errors
        otherwise. ``"analytic"``: influence-function standard errors throughout;
        ``"bootstrap"``: the multiplier bootstrap with simultaneous bands. Both give a
        :class:`~evalmodel.errors.FewTreatedClustersWarning` with few treated clusters.
    n_draws : int
        Bootstrap draws.
    seed : int, optional
        Seed of the bootstrap multipliers.
    cluster : str, optional
        ``None``/``"unit"`` for unit-level inference, or a column constant within units to
        cluster at a coarser level.
    conf_level : float
        Coverage of the intervals.
    multipliers : {"rademacher", "gaussian"}
        Bootstrap multipliers; ``"gaussian"`` draws the same bootstrap distribution directly
        from the influence functions' covariance, much faster with many units.
    allow_unbalanced_panel : bool
        ``False`` (R ``did``'s default): units with an absent period or a missing value are
        dropped to balance the panel. ``True``: they are kept, and when the panel is
        unbalanced each cell is estimated from the rows present in its two periods by the
        repeated-cross-section estimators of Sant'Anna and Zhao (2020) (``reg_did_rc``,
        ``std_ipw_did_rc``, ``drdid_rc``; covariates taken from each row), with the row
        influence functions summed within units; a panel balanced anyway keeps the panel
        estimators (as R ``did``).
    n_boot : int, optional
        Deprecated name of ``n_draws`` (warns ``DeprecationWarning``).

    Returns
    -------
    AttGtResult

    Raises
    ------
    EstimationError
        For a bad option (the message lists the allowed values), a panel without cohorts,
        constant or collinear covariates, no never-treated units with
        ``control_group="never"``, an outcome missing for a whole cohort, or (unbalanced
        panel) a cell without treated or comparison rows in one of its periods.

    Notes
    -----
    Units with absent periods or missing values are dropped to balance the panel (with
    ``allow_unbalanced_panel=True`` only the rows with a missing value), and units treated in
    the first period are dropped; both with a :class:`~evalmodel.errors.RowsDroppedWarning`
    giving the count. A cohort of one unit gives a
    :class:`~evalmodel.errors.SmallCohortWarning`. The notes of the result say which
    estimator was used and on how many rows and units.
    """
    fn = "att_gt"
    n_draws = draws_argument(fn, n_draws, default=999, minimum=2, n_boot=n_boot)
    check_option(fn, "control_group", control_group, ControlGroup)
    check_option(fn, "method", method, DrDidMethod)
    check_option(fn, "base_period", base_period, BasePeriod)
    check_option(fn, "inference", inference, AttGtInference)
    check_option(fn, "multipliers", multipliers, Multipliers)
    anticipation = check_anticipation(fn, anticipation)
    if not isinstance(allow_unbalanced_panel, bool | np.bool_):
        raise EstimationError(
            f"{fn}: allow_unbalanced_panel={allow_unbalanced_panel!r} must be True or False."
        )
    check_conf_level(fn, conf_level)
    check_seed(fn, seed)
    if not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise EstimationError(f"{fn}: n_draws={n_draws!r} must be an integer of at least 2.")
    check_two_periods(fn, panel)
    covs = check_names(fn, "covariates", covariates or [], what="variable", allow_empty=True)
    data = prepare(panel, outcome, covariates=covs, anticipation=anticipation,
                   control_group=control_group, cluster=cluster,
                   allow_unbalanced=bool(allow_unbalanced_panel), fn=fn)
    cells = plan_cells(data.periods, data.cohorts, anticipation, base_period)
    att, inf = _estimate(data, cells, method, control_group, anticipation)
    index = {"cohort": cells.cohort, "time": cells.time,
             "event_time": cells.time - cells.cohort, "base_period": cells.base}
    if isinstance(inf, CellFactors) and (data.cluster is not None or inference == "bootstrap"):
        inf = inf.matrix()
    if isinstance(inf, CellFactors):  # unit-level: the sums of squares without the matrix
        se = np.sqrt(inf.sum_squares()) / data.n  # analytic standard errors
    else:
        s = cluster_sums(inf, data.cluster)
        se = np.sqrt(np.einsum("ij,ij->j", s, s)) / inf.shape[0]  # analytic standard errors
    is_treated = data.cohort > 0
    n_tc = int(is_treated.sum()) if data.cluster is None else len(
        np.unique(data.cluster[is_treated]))
    few = n_tc < MIN_TREATED_CLUSTERS
    extra: list[str] = []
    if inference != "auto":
        extra = warn_few_clusters(fn, n_tc)
    n_cl = None if data.cluster is None else int(data.cluster.max()) + 1
    clustered = "" if n_cl is None else f", clustered by {cluster!r}"
    labels = {"analytic": "analytic (influence function)" + clustered,
              "bootstrap": f"multiplier bootstrap ({n_draws} {multipliers} draws, seed {seed})"
              + clustered}
    if inference == "bootstrap":
        inf = inf.matrix() if isinstance(inf, CellFactors) else inf  # already built above
        boot = multiplier_bootstrap(inf, n_draws=n_draws, seed=seed, cluster=data.cluster,
                                    conf_level=conf_level, multipliers=multipliers)
        se = boot.std_error
    label = labels["bootstrap" if inference == "bootstrap" else "analytic"]
    design = None
    if inference == "auto" and few:
        pool = data.units[~is_treated]
        design = {"panel": panel.select(units=[str(u) for u in data.units]),
                  "treated": tuple(str(u) for u in data.units[is_treated]),
                  "pool": tuple(str(u) for u in pool), "n_draws": None}
        why = (f"{n_tc} treated cluster(s), fewer than {MIN_TREATED_CLUSTERS}")
        label = (f"{label} for the ATT(g, t) cells; aggregations design-based (placebo in "
                 f"space over {len(pool)} comparison units), because there are {why}")
        extra = [f"ATT(g, t) cells: analytic standard errors, not reliable with {why} "
                 "(Conley and Taber 2011); read the aggregations, whose inference is "
                 "design-based by default"]
    elif inference == "auto":
        extra = [f"inference='auto': analytic (influence function) with {n_tc} treated "
                 f"clusters (at least {MIN_TREATED_CLUSTERS})"]
    se = np.where(se > 0, se, np.nan)
    table = inference_table(index, att, se, conf_level=conf_level)
    if inference == "bootstrap":
        table["band_lower"] = att - boot.crit_value * se
        table["band_upper"] = att + boot.crit_value * se
    pre = np.flatnonzero((cells.cohort - anticipation > cells.time) & ~cells.zero)
    sample = Sample(
        n_obs=data.n_rows, n_units=data.n, n_periods=len(data.periods),
        treated_units=_as_text(data.units[is_treated]),
        periods=tuple(int(p) for p in data.periods), n_clusters=n_cl,
        frequency=panel.frequency,
    )
    notes = [*data.notes,
             f"{method} estimator, {control_group} comparison group, {base_period} base period"
             + (f", anticipation {anticipation}" if anticipation else "")
             + (f", covariates {covs}" if covs else "")]
    notes += extra
    if allow_unbalanced_panel:
        notes.append(_sample_note(data, method))
    return AttGtResult(
        method=f"att_gt ({method})", outcome=outcome, table=table, inference=label,
        sample=sample, conf_level=conf_level, notes=tuple(notes),
        details={"control_group": control_group, "base_period": base_period,
                 "covariates": tuple(covs), "estimator": method,
                 "allow_unbalanced_panel": bool(allow_unbalanced_panel),
                 "repeated_cross_section": data.present is not None,
                 "crit_value": boot.crit_value if inference == "bootstrap" else None,
                 "cluster": cluster, "labels": labels, "inference_option": inference},
        influence_source=inf, unit_cohort=data.cohort, unit_weight=data.w,
        cluster_codes=data.cluster, periods=tuple(int(p) for p in data.periods),
        pre_cells=pre,
        n_draws=n_draws, seed=seed,
        anticipation=anticipation, multipliers=multipliers,
        n_treated_clusters=n_tc, design=design,
    )
