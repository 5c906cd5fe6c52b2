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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from evalmodel.core.twoway import twoway_ols
from evalmodel.errors import EstimationError
from evalmodel.estimators._common import check_anticipation, check_choice, check_conf_level
from evalmodel.estimators.imputation import imputation_fit
from evalmodel.estimators.staggered_data import unit_clusters
from evalmodel.estimators.sun_abraham import sun_abraham_fit
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, Sample, inference_table

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["EventStudyEstimator", "EventStudyResult", "event_study"]

EventStudyEstimator = Literal["twfe", "sun_abraham", "imputation"]


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
    """

    reference: int = -1
    estimator: str = "twfe"
    anticipation: int = 0
    vcov_matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

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

    Returns
    -------
    EventStudyResult
    """
    fn = "event_study"
    check_choice(fn, "estimator", estimator, EventStudyEstimator)
    check_conf_level(fn, conf_level)
    anticipation = check_anticipation(fn, anticipation)
    lo, hi = (int(v) for v in window)
    if reference is None:
        reference = -1 - anticipation
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
    cl = df["_cl"].to_numpy()
    if estimator == "twfe":
        events = np.array([e for e in range(lo, hi + 1) if e != reference])
        coef, vcov = _twfe(df, outcome, u, t, g, cl, events, lo, hi)
        notes.append(f"two-way fixed effects, end points binned at {lo} and {hi}")
    elif estimator == "sun_abraham":
        events = np.array([e for e in range(lo, hi + 1) if e != reference])
        coef, vcov, cells, more = sun_abraham_fit(df, outcome, u, t, g, cl, reference, events)
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
    se = np.sqrt(np.diag(vcov))
    rows = pd.DataFrame({"event_time": events, "estimate": coef, "std_error": se})
    if estimator != "imputation":
        rows = pd.concat([rows, pd.DataFrame({"event_time": [reference], "estimate": [0.0],
                                              "std_error": [np.nan]})])
    rows = rows.sort_values("event_time").reset_index(drop=True)
    index: dict[str, Any] = {"term": [f"e={e}" for e in rows["event_time"]],
                             "event_time": rows["event_time"].astype(int).to_numpy()}
    table = inference_table(index, rows["estimate"].to_numpy(float),
                            rows["std_error"].to_numpy(float), conf_level=conf_level)
    n_cl = int(pd.unique(cl).size)
    sample = Sample(n_obs=len(df), n_units=int(df[u].nunique()),
                    n_periods=int(df[t].nunique()),
                    treated_units=tuple(sorted(df.loc[df[g] > 0, u].unique().tolist())),
                    periods=tuple(int(p) for p in np.unique(df[t])), n_clusters=n_cl)
    label = f"cluster-robust by {cluster or 'unit'!r}"
    details = {"cells": cells} if estimator == "sun_abraham" else {}
    return EventStudyResult(
        method=f"event study ({estimator})", outcome=outcome, table=table, inference=label,
        sample=sample, conf_level=conf_level, notes=tuple(notes), details=details,
        reference=int(reference), estimator=estimator, anticipation=anticipation,
        vcov_matrix=vcov,
    )
