"""Event studies: dynamic TWFE, Sun-Abraham and the imputation estimator, one result type.

``event_study(panel, outcome, window=(-4, 4), reference=-1, estimator=...)`` returns an
:class:`EventStudyResult` whose :attr:`~EventStudyResult.table` has one row per event time
in the window. **The reference period is included as a row** with estimate 0 and NaN
standard error (for the imputation estimator, which has no reference period, the omitted
category is every untreated observation more than ``-window[0]`` periods before adoption, and
no row is added). :attr:`~EventStudyResult.coefficients` and :attr:`~EventStudyResult.vcov`
exclude the reference row.

* ``"twfe"``: ``y_it = a_i + l_t + sum_e b_e 1{t - g_i = e} + u_it`` with the end points of
  the window binned (``e <= window[0]`` and ``e >= window[1]`` share one dummy each). With
  staggered adoption and dynamic effects its coefficients mix cohorts with weights that can be
  negative (Sun and Abraham 2021): shown beside the robust estimators as a diagnostic.
* ``"sun_abraham"``: :mod:`evalmodel.estimators.sun_abraham`.
* ``"imputation"``: :mod:`evalmodel.estimators.imputation`.

Inference (``inference="auto"``, the default): with fewer than ``MIN_TREATED_CLUSTERS`` (5)
treated clusters cluster-robust errors are not valid, so every event-time coefficient is
re-estimated with the treatment re-assigned to the comparison units and its p-value and
interval come from that permutation test (:mod:`evalmodel.estimators.event_study_placebo`);
otherwise the cluster-robust (CR1) errors. :attr:`EventStudyResult.overall` is the average of
the post-adoption coefficients in the window, with its own test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalmodel.core.twoway import twoway_ols
from evalmodel.errors import EstimationError
from evalmodel.estimators._common import (
    MIN_TREATED_CLUSTERS,
    check_anticipation,
    check_cohort_design,
    check_two_periods,
    unreachable_note,
    use_permutation,
    warn_few_clusters,
)
from evalmodel.estimators.event_study_placebo import event_study_placebo
from evalmodel.estimators.imputation import imputation_fit
from evalmodel.estimators.staggered_data import unit_clusters
from evalmodel.estimators.sun_abraham import sun_abraham_fit
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, Sample, inference_table
from evalmodel.vocabulary import (
    DidInference,
    EventStudyEstimator,
    check_conf_level,
    check_option,
    check_period,
    check_seed,
    check_window,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["EventStudyEstimator", "EventStudyResult", "event_study"]


@dataclass(frozen=True)
class EventStudyResult(EstimateResult):
    """Effects by event time (see :func:`event_study`).

    Attributes
    ----------
    reference : int
        The omitted event time (its row has estimate 0 and NaN standard error).
    estimator : str
        ``"twfe"``, ``"sun_abraham"`` or ``"imputation"``.
    anticipation : int
        Periods before adoption allowed to be affected.
    post_average : pandas.DataFrame
        One row, term ``"post average"`` (``event_time`` missing): the mean of the
        coefficients at event times 0 and later in the window, with the inference of the
        table (:attr:`overall`).
    vcov_matrix : ndarray
        Covariance of :attr:`coefficients`: cluster-robust, or with design-based inference
        the covariance of the placebo coefficient vectors.
    """

    reference: int = -1
    estimator: str = "twfe"
    anticipation: int = 0
    vcov_matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    post_average: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def overall(self) -> pd.Series | None:
        """The headline: the average of the post-adoption event-time effects in the window.

        Analytic: its standard error from :attr:`vcov` (delta method), normal interval.
        Design-based: the same permutation test as the rows, the interval by inverting it for
        a constant additive effect from adoption on.
        """
        return self.post_average.iloc[0] if len(self.post_average) else None

    @property
    def coefficients(self) -> pd.Series:
        """Estimates indexed by event time, reference period excluded."""
        tab = self.table[self.table["event_time"] != self.reference]
        return pd.Series(tab["estimate"].to_numpy(),
                         index=pd.Index(tab["event_time"].to_numpy(), name="event_time"),
                         name="estimate")

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance of :attr:`coefficients`, indexed both ways by event time."""
        idx = self.coefficients.index
        return pd.DataFrame(self.vcov_matrix, index=idx, columns=idx)

    def plot(self, ax: Axes | None = None) -> Axes:
        """The event-study figure: intervals, zero line, reference period, post shading."""
        from evalmodel.plotting.staggered import event_study_plot

        return event_study_plot(self, ax=ax)


def _twfe(df: pd.DataFrame, y: str, unit: str, time: str, cohort: str, cluster: np.ndarray,
          events: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    g = df[cohort].to_numpy()
    e = np.clip(df[time].to_numpy() - g, lo, hi)
    x = ((g[:, None] > 0) & (e[:, None] == events[None, :])).astype(float)
    fit = twoway_ols(df[y].to_numpy(float), x, pd.factorize(df[unit])[0],
                     np.unique(df[time].to_numpy(), return_inverse=True)[1],
                     pd.factorize(cluster)[0], "event_study")
    return fit.coef, fit.vcov


def _check_window_observed(fn: str, df: pd.DataFrame, t: str, g: str, lo: int, hi: int) -> None:
    """Raise when ``(lo, hi)`` reaches past the event times of the treated rows: the binned
    end dummies of the TWFE event study are then empty (collinear with the fixed effects)."""
    treated = (df[g] > 0).to_numpy()
    e = df[t].to_numpy()[treated] - df[g].to_numpy()[treated]
    first, last = int(e.min()), int(e.max())
    if lo < first or hi > last:
        raise EstimationError(
            f"{fn}: window=({lo}, {hi}) reaches past the event times of the treated units "
            f"({first} to {last}), so its end bins are empty; pass a window inside them, e.g. "
            f"window=({max(lo, first)}, {min(hi, last)})."
        )


def event_study(
    panel: Panel,
    outcome: str,
    *,
    window: tuple[int, int] = (-4, 4),
    reference: int | None = None,
    estimator: EventStudyEstimator = "twfe",
    cluster: str | None = "unit",
    conf_level: float = 0.95,
    anticipation: int = 0,
    inference: DidInference = "auto",
    n_draws: int | None = None,
    seed: int | None = None,
) -> EventStudyResult:
    """Estimate effects by event time ``e = t - g`` (``g`` the unit's first treated period).

    Parameters
    ----------
    panel : Panel
        Panel with a cohort role (0 = never treated).
    outcome : str
        The outcome variable; rows where it is missing are left out.
    window : (int, int)
        First and last event time reported.
    reference : int, optional
        Omitted event time (``twfe`` and ``sun_abraham``); must lie in the window, before the
        anticipation periods. Default ``-1 - anticipation``.
    estimator : {"twfe", "sun_abraham", "imputation"}
        The estimator.
    cluster : str
        ``"unit"`` or a column constant within units to cluster on.
    conf_level : float
        Coverage of the intervals.
    anticipation : int
        Periods before adoption in which units may already react (as in :func:`att_gt`).
        ``twfe`` and ``sun_abraham`` then estimate those event times freely against a
        reference before them; ``imputation`` fits the untreated model only on observations
        more than ``anticipation`` periods before adoption and reports effects from event time
        ``-anticipation`` on.
    inference : {"auto", "analytic", "permutation"}
        ``"auto"`` (default): with fewer than ``MIN_TREATED_CLUSTERS`` (5) treated clusters
        (one treated municipality is one treated cluster) design-based inference: every
        event-time coefficient and the post-period average are re-estimated with the
        treatment re-assigned to each never-treated unit in turn (given the treated unit's
        cohort; with several treated units, to sets of units as
        :func:`~evalmodel.inference.permutation.permutation_inference` draws them), the
        p-value of a row is its rank in that placebo distribution and its interval inverts the
        same test for a constant additive effect at that event time, so the interval excludes
        0 exactly when ``p_value <= 1 - conf_level``; ``std_error`` is then the standard
        deviation of the placebo estimates and :attr:`~EventStudyResult.vcov` their
        covariance. With enough treated clusters, the cluster-robust errors. ``"analytic"``
        with fewer than 5 treated clusters gives a
        :class:`~evalmodel.errors.FewTreatedClustersWarning`; ``"permutation"`` asks for the
        design-based test whatever the number of treated clusters.
    n_draws, seed : int, optional
        As in :func:`~evalmodel.estimators.did.did2x2`: every placebo assignment is used when
        there are at most ``n_draws`` (default 10,000), else that many drawn with ``seed``.

    Returns
    -------
    EventStudyResult
        The table has one row per event time; :attr:`~EventStudyResult.overall` the average
        post-adoption effect. With design-based inference ``details["permutation"]`` holds the
        test of the average (a :class:`~evalmodel.inference.permutation.PermutationResult`)
        and ``details["placebo_estimates"]`` the placebo coefficients (one row per placebo
        unit or assignment).

    Examples
    --------
    >>> import evalmodel as em
    >>> d = em.cases.get("trelleborg").design(em.datasets.simulated())
    >>> es = em.event_study(d.panel, "N31807", window=(-3, 3))
    >>> es.inference.startswith("design-based")
    True
    >>> bool(((es.table["ci_lower"] > 0) | (es.table["ci_upper"] < 0)).eq(
    ...     es.table["p_value"] <= 0.05).all())
    True
    """
    fn = "event_study"
    check_option(fn, "estimator", estimator, EventStudyEstimator)
    check_option(fn, "inference", inference, DidInference)
    check_conf_level(fn, conf_level)
    if n_draws is not None and (isinstance(n_draws, bool) or not isinstance(
            n_draws, int | np.integer) or n_draws < 1):
        raise EstimationError(f"{fn}: n_draws={n_draws!r} must be a positive integer number "
                              "of placebo assignments, e.g. n_draws=999, or None for all.")
    anticipation = check_anticipation(fn, anticipation)
    check_seed(fn, seed)
    lo, hi = check_window(fn, window)
    if reference is None:
        reference = -1 - anticipation
    reference = check_period(fn, "reference", reference, what="event time")
    if not lo <= reference < 0 <= hi:
        raise EstimationError(
            f"{fn}: window={window!r} and reference={reference!r} must satisfy "
            "window[0] <= reference < 0 <= window[1], e.g. window=(-4, 4), reference=-1."
        )
    if reference > -1 - anticipation:
        raise EstimationError(
            f"{fn}: reference={reference} falls in the {anticipation} anticipation period(s) "
            f"before adoption; use reference={-1 - anticipation} or earlier."
        )
    panel.check_outcome(outcome)
    if panel.cohort is None:
        raise EstimationError(
            f"{fn}: the panel has no cohort role; build it with Panel(..., cohort=...) or "
            "panel.with_cohorts({unit: period})."
        )
    check_two_periods(fn, panel)
    check_cohort_design(fn, panel)
    units, ccode = unit_clusters(panel, cluster, fn)
    df = panel.data
    df["_cl"] = (units.get_indexer(pd.Index(df[panel.unit])) if ccode is None
                 else ccode[units.get_indexer(pd.Index(df[panel.unit]))])
    notes: list[str] = []
    miss = df[outcome].isna()
    if miss.any():
        notes.append(f"{int(miss.sum())} rows with missing {outcome!r} left out")
        df = df[~miss]
    u, t, g = panel.unit, panel.time, panel.cohort
    first = df.groupby(u)[t].transform("min")
    always = (df[g] > 0) & (df[g] - anticipation <= first)
    if always.any() and estimator == "imputation":
        notes.append(f"{df.loc[always, u].nunique()} units treated in their first observed "
                     "period left out (no untreated observation to impute from)")
        df = df[~always]
    if not (df[g] > 0).any():
        raise EstimationError(f"{fn}: no treated units in the panel; check the cohort role.")
    if estimator == "twfe":
        _check_window_observed(fn, df, t, g, lo, hi)
    cl = df["_cl"].to_numpy()
    if estimator == "twfe":
        events = np.array([e for e in range(lo, hi + 1) if e != reference])
        coef, vcov = _twfe(df, outcome, u, t, g, cl, events, lo, hi)
        notes.append(f"two-way fixed effects, end points binned at {lo} and {hi}")
    elif estimator == "sun_abraham":
        events = np.array([e for e in range(lo, hi + 1) if e != reference])
        coef, vcov, cells, more = sun_abraham_fit(df, outcome, u, t, g, cl, reference, events,
                                                  panel.frequency)
        notes += more
    else:
        leads = np.arange(lo, -anticipation)
        horizons = np.arange(-anticipation, hi + 1)
        pre, pre_v, post, post_v = imputation_fit(df, outcome, u, t, g, cl, leads, horizons,
                                                  anticipation=anticipation)
        events = np.concatenate([leads, horizons])
        coef = np.concatenate([pre, post])
        vcov = np.zeros((len(events), len(events)))
        vcov[: len(leads), : len(leads)] = pre_v
        vcov[len(leads):, len(leads):] = post_v
        reference = lo - 1
        notes.append("imputation estimator (BJS); leads from the pre-trend regression on "
                     f"untreated observations, omitted: event times below {lo} and never "
                     "treated; lead-horizon covariances set to 0")
    if anticipation:
        notes.append(f"anticipation {anticipation}: event times {-anticipation} to -1 are "
                     "treated as possibly affected")
    n_tc = int(pd.unique(cl[(df[g] > 0).to_numpy()]).size)
    label = f"cluster-robust by {cluster or 'unit'!r}"
    placebo = None
    if use_permutation(fn, inference, n_tc):
        try:
            placebo = event_study_placebo(
                df, outcome, u, t, g, estimator=estimator, events=events, coef=coef,
                reference=int(reference), window=(lo, hi), anticipation=anticipation,
                n_draws=n_draws, seed=seed, conf_level=conf_level,
                allow_unreachable=inference == "auto")
        except EstimationError as exc:
            if inference != "auto":
                raise
            notes.append(f"design-based inference is not possible here ({exc})")
            notes += warn_few_clusters(fn, n_tc)
            label += "; design-based inference not possible"
        if placebo is not None and not placebo.overall.reaches_level:
            notes.append(unreachable_note(fn, placebo.overall))
    else:
        notes += warn_few_clusters(fn, n_tc)
        if inference == "auto":
            notes.append(f"inference='auto': cluster-robust with {n_tc} treated clusters (at "
                         f"least {MIN_TREATED_CLUSTERS})")
    post = np.asarray(events) >= 0
    w = post / post.sum()
    if placebo is not None:
        vcov = np.atleast_2d(np.cov(placebo.placebo, rowvar=False, ddof=1))
        over = placebo.overall
        n_units = len(over.pool) + len(over.treated)
        if len(over.treated) == 1 and over.exact:
            whom = f"each of the {over.n_draws:,} comparison units in turn"
        else:
            whom = (f"{'all' if over.exact else 'random'} {over.n_draws:,} sets of "
                    f"{len(over.treated)} of the {n_units:,} units"
                    + ("" if over.exact else f" (seed {seed})"))
        label = (f"design-based (placebo in space: every event-time coefficient re-estimated "
                 f"with the treatment re-assigned to {whom}; p-values and intervals from that "
                 "test, the intervals by test inversion)")
        why = (f"{n_tc} treated cluster(s), fewer than {MIN_TREATED_CLUSTERS}: cluster-robust "
               "errors are not valid (Conley and Taber 2011)" if n_tc < MIN_TREATED_CLUSTERS
               else "permutation inference asked for")
        notes.append(f"{why}, so inference is {label}; std_error is the standard deviation "
                     "of the placebo estimates and vcov their covariance")
        if placebo.n_invalid:
            notes.append(f"{placebo.n_invalid} placebo assignments without an identified fit "
                         "left out of the tests")
    se = np.sqrt(np.diag(vcov))
    rows = pd.DataFrame({"event_time": events, "estimate": coef, "std_error": se})
    if placebo is not None:
        rows = rows.assign(ci_lower=placebo.ci_lower, ci_upper=placebo.ci_upper,
                           p_value=placebo.p_value)
    if estimator != "imputation":
        rows = pd.concat([rows, pd.DataFrame({"event_time": [reference], "estimate": [0.0],
                                              "std_error": [np.nan]})])
    rows = rows.sort_values("event_time").reset_index(drop=True)
    index: dict[str, Any] = {"term": [f"e={e}" for e in rows["event_time"]],
                             "event_time": rows["event_time"].astype(int).to_numpy()}
    table = inference_table(index, rows["estimate"].to_numpy(float),
                            rows["std_error"].to_numpy(float), conf_level=conf_level)
    head = pd.DataFrame({"term": ["post average"],
                         "event_time": pd.array([None], dtype="Int64")})
    avg = inference_table(head, [float(w @ coef)], [float(np.sqrt(w @ vcov @ w))],
                          conf_level=conf_level)
    details: dict[str, Any] = {"cells": cells} if estimator == "sun_abraham" else {}
    details["n_treated_clusters"] = n_tc
    if placebo is not None:
        cols = ["ci_lower", "ci_upper", "p_value"]
        table[cols] = rows[cols].to_numpy(float)
        over = placebo.overall
        avg.loc[0, ["std_error", *cols]] = [over.std_error, over.ci_lower, over.ci_upper,
                                            over.p_value]
        details["permutation"] = over
        details["placebo_estimates"] = pd.DataFrame(
            placebo.placebo, index=pd.Index(placebo.labels, name="placebo"),
            columns=pd.Index([int(e) for e in events], name="event_time"))
    n_cl = int(pd.unique(cl).size)
    sample = Sample(n_obs=len(df), n_units=int(df[u].nunique()),
                    n_periods=int(df[t].nunique()),
                    treated_units=tuple(sorted(df.loc[df[g] > 0, u].unique().tolist())),
                    periods=tuple(int(p) for p in np.unique(df[t])), n_clusters=n_cl,
                    frequency=panel.frequency)
    return EventStudyResult(
        method=f"event study ({estimator})", outcome=outcome, table=table, inference=label,
        sample=sample, conf_level=conf_level, notes=tuple(notes), details=details,
        reference=int(reference), estimator=estimator, anticipation=anticipation,
        vcov_matrix=vcov, post_average=avg,
    )
