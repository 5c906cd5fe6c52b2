"""Aggregations of group-time ATTs (Callaway and Sant'Anna 2021, section 3.1).

* ``simple``: post-treatment cells weighted by cohort size;
* ``dynamic``: by event time ``e = t - g`` (cohort-size weights within ``e``); the overall
  effect is the mean over ``e >= 0``; ``balance_e`` keeps only cohorts observed for at least
  ``balance_e`` periods after adoption, so the composition does not change with ``e``;
* ``group``: the mean post-treatment effect of each cohort; overall weighted by cohort size;
* ``calendar``: by period, over the cohorts already treated; overall the mean over periods.

The cohort-size weights are estimated, and their influence function is added to the
aggregated one (the ``wif`` term of R ``did``), so standard errors match R ``did::aggte``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalmodel.core.clusters import cluster_sums
from evalmodel.errors import EstimationError
from evalmodel.estimators._common import MIN_TREATED_CLUSTERS, unreachable_note, warn_few_clusters
from evalmodel.estimators.drdid import CellFactors
from evalmodel.estimators.staggered_data import cohort_codes
from evalmodel.inference.multiplier import multiplier_bootstrap
from evalmodel.results import EstimateResult, inference_table
from evalmodel.vocabulary import (
    AggregateInference,
    AggregationKind,
    check_number,
    check_option,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from evalmodel.estimators.staggered import AttGtResult

__all__ = ["AggInference", "AggregateInference", "AggregateResult", "AggregationKind", "Kind",
           "aggregate"]

#: The old name of :data:`~evalmodel.vocabulary.AggregationKind`.
Kind = AggregationKind
#: The old name of :data:`~evalmodel.vocabulary.AggregateInference`.
AggInference = AggregateInference
_KEY = {"simple": None, "dynamic": "event_time", "group": "cohort", "calendar": "time"}


@dataclass(frozen=True)
class AggregateResult(EstimateResult):
    """An aggregation of group-time ATTs.

    The :attr:`table` has one row per component (``term`` like ``"e=2"``, ``"g=2006"``,
    ``"t=2007"``, and the key column ``event_time``, ``cohort`` or ``time``) and the
    ``"overall"`` row last. :attr:`influence` holds the influence functions of the rows
    (units x rows), in the same order.
    """

    kind: str = "simple"
    influence: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    cluster_codes: np.ndarray | None = field(default=None, repr=False)

    @property
    def components(self) -> pd.DataFrame:
        """The table without the overall row."""
        return self.table[self.table["term"] != "overall"].reset_index(drop=True)

    @property
    def coefficients(self) -> pd.Series:
        """Component estimates indexed by the key column (event time, cohort or period)."""
        comp = self.components
        key = _KEY[self.kind] or "term"
        return pd.Series(comp["estimate"].to_numpy(), index=pd.Index(comp[key], name=key),
                         name="estimate")

    @property
    def vcov(self) -> pd.DataFrame:
        """Analytic covariance of the component estimates (from the influence functions)."""
        comp = self.influence[:, :-1]
        s = cluster_sums(comp, self.cluster_codes)
        v = s.T @ s / comp.shape[0] ** 2
        idx = self.coefficients.index
        return pd.DataFrame(v, index=idx, columns=idx)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Components with intervals (an event-study figure for ``dynamic``)."""
        from evalmodel.plotting.staggered import aggregate_plot

        return aggregate_plot(self, ax=ax)


def _cohort_shares(res: AttGtResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cohort values, each unit's cohort code, and P(G = g) with weights of mean one."""
    w = res.unit_weight / res.unit_weight.mean()
    values, code = cohort_codes(res.unit_cohort)  # np.unique's, in one pass (cohort order)
    share = np.bincount(code, weights=w, minlength=len(values)) / len(w)
    return values, code, share


def _combine(inf: np.ndarray | CellFactors, cells: np.ndarray, weights: np.ndarray
             ) -> np.ndarray:
    """``inf[:, cells] @ weights``; from the factored form without building the matrix."""
    if isinstance(inf, np.ndarray):
        return inf[:, cells] @ weights
    full = np.zeros(len(inf.zero))
    full[cells] = weights
    return inf.dot(full)


def _weighted(inf: np.ndarray | CellFactors, att: np.ndarray, cells: np.ndarray,
              cohorts: np.ndarray, res: AttGtResult) -> tuple[float, np.ndarray]:
    """Cohort-share weighted mean of ``att[cells]`` and its influence function (with wif);
    for a matrix ``att`` (cells x columns) the means of its columns only (no influence)."""
    values, code, share = _cohort_shares(res)
    pg = share[np.searchsorted(values, cohorts[cells])]
    total = pg.sum()
    if att.ndim == 2:
        return att[cells].T @ pg / total, None  # type: ignore[return-value]
    est = float(att[cells] @ pg / total)
    w = res.unit_weight / res.unit_weight.mean()
    # influence of the estimated weights: h_ij = w_i 1{G_i = g_j} - pg_j
    per_cohort = np.zeros(len(values))
    np.add.at(per_cohort, np.searchsorted(values, cohorts[cells]), att[cells])
    count = np.zeros(len(values))
    np.add.at(count, np.searchsorted(values, cohorts[cells]), 1.0)
    h_att = w * per_cohort[code] - pg @ att[cells]
    h_one = w * count[code] - total
    wif = h_att / total - h_one * (pg @ att[cells]) / total**2
    return est, _combine(inf, cells, pg / total) + wif


def _components(res: AttGtResult, kind: str, balance_e: int | None = None,
                min_e: float = -np.inf, max_e: float = np.inf, *,
                att: np.ndarray | None = None, inf: np.ndarray | None = None,
                ) -> tuple[list[tuple[str, float, float]], np.ndarray]:
    """Rows ``(term, key, estimate)`` and their influence functions (``att``/``inf`` given:
    those in place of the result's cells). The cells' influence functions are read from
    ``res.influence_source``: in factored form (no covariates, balanced panel) the
    aggregations are computed without the ``(n, K)`` matrix.

    ``att`` may be a matrix (cells x columns), each column a set of cell values: then each
    row's estimate is the array of the columns' aggregations, by the same arithmetic (the
    linear map of the design-based test: with unit vectors each estimate is a single product,
    exact in any order of summation), and no influence function is computed (``None``)."""
    tab = res.table
    att = tab["estimate"].to_numpy(float) if att is None else att
    g = tab["cohort"].to_numpy()
    t = tab["time"].to_numpy()
    e = t - g
    source: np.ndarray | CellFactors = res.influence_source if inf is None else inf
    many = att.ndim == 2  # columns of cell values: estimates only
    window = (e >= min_e) & (e <= max_e)
    post = g <= t
    rows: list[tuple[str, float, float]] = []
    ifs: list[np.ndarray] = []
    if kind == "simple":
        keep = np.flatnonzero(post & window)
        _need(keep, kind)
        est, psi = _weighted(source, att, keep, g, res)
        return [("overall", np.nan, est)], None if many else psi[:, None]  # type: ignore[return-value]
    if kind == "group":
        groups = np.unique(g)
        for gg in groups:
            cells = np.flatnonzero((g == gg) & post & window)
            _need(cells, f"group {gg}")
            if many:
                rows.append((f"g={gg}", gg, att[cells].mean(axis=0)))
                continue
            rows.append((f"g={gg}", gg, float(att[cells].mean())))
            ifs.append(source[:, cells].mean(axis=1) if isinstance(source, np.ndarray) else
                       source.dot(np.bincount(cells, minlength=len(source.zero)) / len(cells)))
        if many:
            est, _ = _weighted(source, np.array([r[2] for r in rows]), np.arange(len(groups)),
                               groups, res)
            return [*rows, ("overall", np.nan, est)], None  # type: ignore[return-value]
        comp = np.column_stack(ifs)
        est, psi = _weighted(comp, np.array([r[2] for r in rows]), np.arange(len(groups)),
                             groups, res)
        return [*rows, ("overall", np.nan, est)], np.column_stack([comp, psi])
    if kind == "dynamic":
        include = np.ones(len(att), dtype=bool)
        if balance_e is not None:
            t_max, t_min = max(res.periods), min(res.periods)
            include = t_max - g >= balance_e
            eseq = np.unique(e[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - t_max + t_min)]
        else:
            eseq = np.unique(e)
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        for ee in eseq:
            cells = np.flatnonzero((e == ee) & include)
            est, psi = _weighted(source, att, cells, g, res)
            rows.append((f"e={ee}", ee, est))
            ifs.append(psi)
        _need(eseq[eseq >= 0], kind)
        pos = eseq >= 0
        if many:
            mean = np.mean([r[2] for r, p in zip(rows, pos, strict=True) if p], axis=0)
            return [*rows, ("overall", np.nan, mean)], None  # type: ignore[return-value]
        comp = np.column_stack(ifs)
        overall = float(np.mean([r[2] for r, p in zip(rows, pos, strict=True) if p]))
        return ([*rows, ("overall", np.nan, overall)],
                np.column_stack([comp, comp[:, pos].mean(axis=1)]))
    # calendar
    periods = np.unique(t[t >= g.min()])
    for tt in periods:
        cells = np.flatnonzero((t == tt) & post)
        if len(cells) == 0:
            continue
        est, psi = _weighted(source, att, cells, g, res)
        rows.append((f"t={tt}", tt, est))
        ifs.append(psi)
    if many:
        mean = np.mean([r[2] for r in rows], axis=0)
        return [*rows, ("overall", np.nan, mean)], None  # type: ignore[return-value]
    comp = np.column_stack(ifs)
    overall = float(np.mean([r[2] for r in rows]))
    return [*rows, ("overall", np.nan, overall)], np.column_stack([comp, comp.mean(axis=1)])


def _need(cells: np.ndarray, what: str) -> None:
    if len(cells) == 0:
        raise EstimationError(
            f"aggregate: no post-treatment ATT(g, t) falls in the event-time window for "
            f"{what}; widen min_e/max_e."
        )


def aggregate(res: AttGtResult, kind: AggregationKind = "dynamic", *, balance_e: int | None = None,
              min_e: float = -np.inf, max_e: float = np.inf,
              inference: AggregateInference = "auto") -> AggregateResult:
    """Aggregate group-time ATTs.

    Parameters
    ----------
    res : AttGtResult
        The output of :func:`~evalmodel.estimators.staggered.att_gt`.
    kind : {"simple", "dynamic", "group", "calendar"}
        The aggregation.
    balance_e : int, optional
        For ``dynamic``: keep only cohorts observed at least ``balance_e`` periods after
        adoption.
    min_e, max_e : float
        Event-time window (``simple``, ``group``, ``dynamic``).
    inference : {"auto", "analytic", "bootstrap"}
        ``"auto"`` (default): when ``res`` came from ``att_gt(inference="auto")`` with fewer
        than ``MIN_TREATED_CLUSTERS`` treated clusters, design-based inference: every row of
        the aggregation is re-estimated with the treatment re-assigned to each comparison
        (never-treated) unit in turn (to drawn sets of units with several treated units), and
        its p-value and interval come from that permutation test (the interval by test
        inversion, so it excludes 0 exactly when ``p < 1 - conf_level``;
        :mod:`evalmodel.estimators.staggered_placebo`). Otherwise the inference of ``res``.
        ``"analytic"`` and ``"bootstrap"`` ask for influence-function standard errors or the
        multiplier bootstrap; with few treated clusters they give a
        :class:`~evalmodel.errors.FewTreatedClustersWarning`.

    Returns
    -------
    AggregateResult
        With bootstrap inference, standard errors and the simultaneous band
        (``band_lower``/``band_upper`` over the components) come from the multiplier bootstrap
        with ``res.seed``. With design-based inference ``std_error`` is the standard deviation
        of the placebo estimates and ``details["permutation"]`` holds the overall row's
        :class:`~evalmodel.inference.permutation.PermutationResult`.
    """
    check_option("aggregate", "kind", kind, AggregationKind)
    check_option("aggregate", "inference", inference, AggregateInference)
    if balance_e is not None and kind != "dynamic":
        raise EstimationError(
            f"aggregate: balance_e={balance_e!r} applies only to kind='dynamic'; "
            f"drop it for kind={kind!r}."
        )
    if balance_e is not None:
        balance_e = check_number("aggregate", "balance_e", balance_e, integer=True,
                                 example=", e.g. balance_e=2 (or None)")
    min_e = check_number("aggregate", "min_e", min_e, integer=True, allow_inf=True,
                         example=" (an event time, e.g. min_e=-3)")
    max_e = check_number("aggregate", "max_e", max_e, integer=True, allow_inf=True,
                         example=" (an event time, e.g. max_e=3)")
    if np.isnan(res.table["estimate"].to_numpy(float)).any():
        raise EstimationError("aggregate: some ATT(g, t) are NaN; they cannot be aggregated.")
    rows, psi = _components(res, kind, balance_e, min_e, max_e)
    est = np.array([r[2] for r in rows])
    key = _KEY[kind]
    index: dict[str, Any] = {"term": [r[0] for r in rows]}
    if key is not None:
        index[key] = pd.array([None if np.isnan(r[1]) else int(r[1]) for r in rows],
                              dtype="Int64")
    crit = None
    extra: list[str] = []
    n_tc = res.n_treated_clusters
    design = inference == "auto" and res.design is not None
    boot = res.bootstrap if inference == "auto" else inference == "bootstrap"
    label = res.inference
    if inference != "auto" or res.design is not None:
        label = res.details["labels"]["bootstrap" if boot else "analytic"]
    if inference != "auto":
        extra += warn_few_clusters("aggregate", n_tc)
    perms = None
    if design:
        from evalmodel.estimators.staggered_placebo import placebo_rows

        try:
            perms = placebo_rows(res, kind, len(rows), {"balance_e": balance_e,
                                                        "min_e": min_e, "max_e": max_e})
        except EstimationError as exc:
            extra.append(f"design-based inference is not possible here ({exc}); the analytic "
                         "standard errors stand and are not reliable with "
                         f"{n_tc} treated cluster(s)")
            label += "; design-based inference not possible"
        if perms and not perms[-1].reaches_level:
            extra.append(unreachable_note("aggregate", perms[-1]))
    if boot and perms is None:
        comp = multiplier_bootstrap(psi[:, :-1], n_draws=res.n_draws, seed=res.seed,
                                    cluster=res.cluster_codes, conf_level=res.conf_level,
                                    multipliers=res.multipliers)
        over = multiplier_bootstrap(psi[:, -1:], n_draws=res.n_draws, seed=res.seed,
                                    cluster=res.cluster_codes, conf_level=res.conf_level,
                                    multipliers=res.multipliers)
        se = np.concatenate([comp.std_error, over.std_error]) if psi.shape[1] > 1 else (
            over.std_error)
        crit = comp.crit_value if psi.shape[1] > 1 else None
    else:
        s = cluster_sums(psi, res.cluster_codes)
        se = np.sqrt(np.einsum("ck,ck->k", s, s)) / psi.shape[0]
    se = np.where(se > 0, se, np.nan)  # e.g. the universal base period's own event time (R: NA)
    table = inference_table(index, est, se, conf_level=res.conf_level)
    if perms is not None:
        for r, perm in enumerate(perms):
            scale = max(1.0, abs(est[r]))
            if abs(perm.estimate - est[r]) > 1e-7 * scale:
                raise EstimationError(
                    f"aggregate: the placebo statistic ({perm.estimate!r}) does not reproduce "
                    f"the estimate ({est[r]!r}) of row {rows[r][0]!r}; please report this.")
        design_cols = np.array([[p.std_error, p.ci_lower, p.ci_upper, p.p_value]
                                for p in perms])
        design_cols[np.isnan(se)] = np.nan  # fixed zero rows (universal base period)
        table[["std_error", "ci_lower", "ci_upper", "p_value"]] = design_cols
        last = perms[-1]
        label = (f"design-based (placebo in space: every row re-estimated with the treatment "
                 f"re-assigned to {last.n_draws:,} "
                 + ("sets of comparison units" if len(last.treated) > 1
                    else "comparison units in turn")
                 + f" of {len(last.pool):,}; p-value and interval from that test, the interval "
                 f"by test inversion) because there are {n_tc} treated cluster(s), fewer than "
                 f"{MIN_TREATED_CLUSTERS}")
        extra.append("aggregations: " + label + "; std_error is the standard deviation of the "
                     "placebo estimates")
    if crit is not None:
        table["band_lower"] = np.where(table["term"] == "overall", np.nan, est - crit * se)
        table["band_upper"] = np.where(table["term"] == "overall", np.nan, est + crit * se)
    window = "" if np.isinf(min_e) and np.isinf(max_e) else f", e in [{min_e}, {max_e}]"
    notes = [*(n for n in res.notes if perms is None or not n.startswith("ATT(g, t) cells:")),
             f"{kind} aggregation of ATT(g, t)"
             + (f", balanced at e = {balance_e}" if balance_e is not None else "") + window,
             *extra]
    return AggregateResult(
        method=f"{res.method}, {kind} aggregation", outcome=res.outcome, table=table,
        inference=label, sample=res.sample, conf_level=res.conf_level,
        overall_term="overall", notes=tuple(notes),
        details={**res.details, "crit_value": crit, "kind": kind,
                 **({"permutation": perms[-1]} if perms is not None else {})},
        kind=kind, influence=psi, cluster_codes=res.cluster_codes,
    )
