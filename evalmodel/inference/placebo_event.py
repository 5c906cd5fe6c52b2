"""An event study for few treated units with a design-based (placebo) covariance.

With one adoption date, a balanced panel and never-treated comparison units, the TWFE event
study's coefficient at event time ``e`` (reference ``-1``) is the difference in differences of
means ``(ybar_T,e - ybar_T,-1) - (ybar_C,e - ybar_C,-1)``. Its cluster-robust covariance is not
valid with one treated unit; here the covariance is estimated from the placebo coefficient
vectors obtained by treating each comparison unit in turn (against the others), so that the
sensitivity analysis of :func:`evalmodel.inference.sensitivity.sensitivity` rests on the same
design-based footing as the permutation test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalmodel.errors import EstimationError
from evalmodel.months import period_label, period_span
from evalmodel.panel import Panel
from evalmodel.results import Result, inference_table
from evalmodel.vocabulary import check_names, check_period, check_window

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["PlaceboEventStudy", "placebo_event_study"]


@dataclass(frozen=True)
class PlaceboEventStudy(Result):
    """Event-study coefficients with a placebo covariance (duck-typed as an event study).

    Attributes
    ----------
    coefficients : Series
        By event time, the reference left out.
    vcov : DataFrame
        Covariance of the placebo coefficient vectors, by event time both ways.
    reference : int
        Always -1.
    placebo : DataFrame
        One row per comparison unit treated as placebo, one column per event time.
    conf_level : float
        Coverage of the intervals in :attr:`table`.
    """

    coefficients: pd.Series
    vcov: pd.DataFrame
    reference: int
    placebo: pd.DataFrame
    conf_level: float = 0.95

    #: An event study has no single headline effect.
    _headline = None

    @cached_property
    def table(self) -> pd.DataFrame:
        """``event_time`` and the standard columns; normal intervals from the placebo
        covariance."""
        se = np.sqrt(np.diag(self.vcov.to_numpy(dtype=float)))
        return inference_table({"event_time": [int(e) for e in self.coefficients.index]},
                               self.coefficients.to_numpy(dtype=float), se,
                               conf_level=self.conf_level)

    def _title(self) -> str:
        return "Event study with a placebo covariance"

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Inference", self.inference),
                ("Reference event time", str(self.reference)),
                ("Confidence level", f"{self.conf_level:.0%}"))

    @property
    def inference(self) -> str:
        """How the covariance was obtained."""
        return (f"placebo covariance from {len(self.placebo):,} comparison units treated in "
                "turn; normal intervals")

    def describe_sample(self) -> dict[str, str]:
        """Method, inference and the number of comparison units."""
        return {"Method": "placebo_event_study", "Inference": self.inference}

    def plot(self, ax: Axes | None = None) -> Axes:
        """The coefficients by event time with their intervals; returns the Axes."""
        from evalmodel.plotting.staggered import path_plot

        return path_plot(self.table, x="event_time", conf_level=self.conf_level,
                         title=self._title(), reference=self.reference, shade_from=0, ax=ax)


def placebo_event_study(
    panel: Panel,
    outcome: str,
    *,
    treated: Sequence[str],
    pool: Sequence[str],
    adoption: int,
    window: tuple[int, int] = (-5, 5),
) -> PlaceboEventStudy:
    """Event-study coefficients of ``treated`` against ``pool`` with a placebo covariance.

    Parameters
    ----------
    panel : Panel
    outcome : str
    treated, pool : sequence of str
        Treated units (adopting at ``adoption``) and comparison units.
    adoption : int
        First treated period.
    window : (int, int)
        First and last event time; clipped to the panel's periods.

    Raises
    ------
    EstimationError
        With fewer than 3 comparison units, without a pre-period before the reference, or with
        missing outcome values in the window.
    """
    fn = "placebo_event_study"
    panel.check_outcome(outcome)
    adoption = check_period(fn, "adoption", adoption, panel.periods, frequency=panel.frequency)
    window = check_window(fn, window)
    t_set = check_names(fn, "treated", treated)
    c_set = [u for u in check_names(fn, "pool", pool) if u not in set(t_set)]
    if len(c_set) < 3:
        raise EstimationError(
            f"placebo_event_study: {len(c_set)} comparison units; at least 3 are needed for a "
            "placebo covariance."
        )
    w = panel.select(units=sorted(t_set + c_set)).wide(outcome)
    periods = [int(p) for p in w.columns]
    lo = max(window[0], periods[0] - adoption)
    hi = min(window[1], periods[-1] - adoption)
    times = [e for e in range(lo, hi + 1) if e != -1]
    if adoption - 1 not in periods or not any(e < -1 for e in times) or not any(
            e >= 0 for e in times):
        raise EstimationError(
            f"placebo_event_study: adoption {period_label(adoption, panel.frequency)} leaves no "
            f"leads or lags inside the panel's periods "
            f"{period_span(periods[0], periods[-1], panel.frequency)} and window {window}."
        )
    cols = [adoption + e for e in times]
    sub = w[cols].to_numpy(float) - w[[adoption - 1]].to_numpy(float)
    if np.isnan(sub).any():
        raise EstimationError(
            f"placebo_event_study: {outcome!r} has missing values in periods {cols}; "
            "narrow the window or drop those units."
        )
    units = np.array([str(u) for u in w.index])
    is_t = np.isin(units, t_set)
    coef = sub[is_t].mean(axis=0) - sub[~is_t].mean(axis=0)
    c = sub[~is_t]
    n = c.shape[0]
    # unit j against the other comparison units: c_j - (sum - c_j) / (n - 1)
    plac = c - (c.sum(axis=0) - c) / (n - 1)
    k = int(is_t.sum())
    # a placebo vector has variance s2 (1 + 1/(n-1)); the estimate has s2 (1/k + 1/n)
    vc = np.cov(plac, rowvar=False, ddof=1) * (1 / k + 1 / n) / (1 + 1 / (n - 1))
    return PlaceboEventStudy(
        coefficients=pd.Series(coef, index=pd.Index(times, name="event_time")),
        vcov=pd.DataFrame(np.atleast_2d(vc), index=times, columns=times),
        reference=-1,
        placebo=pd.DataFrame(plac, index=units[~is_t], columns=times),
    )
