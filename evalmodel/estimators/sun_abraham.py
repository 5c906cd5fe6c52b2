"""Sun and Abraham (2021) interaction-weighted event-study estimator.

A saturated regression of the outcome on unit and period effects and cohort x event-time
dummies (every relative period of every treated cohort except the reference period), with the
never-treated units as the comparison group (or, without them, the last-treated cohort, whose
periods from its adoption on are dropped). The cohort-specific effects CATT(g, e) are then
averaged across cohorts with the cohorts' shares of the observations at each event time; the
standard errors come from the cluster-robust covariance of the CATTs by the delta method,
treating the shares as fixed (as ``fixest::sunab`` does).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalmodel.core.twoway import twoway_ols
from evalmodel.errors import EstimationError
from evalmodel.months import period_label

__all__ = ["sun_abraham_fit"]


def sun_abraham_fit(df: pd.DataFrame, y: str, unit: str, time: str, cohort: str,
                    cluster: np.ndarray, reference: int, events: np.ndarray,
                    frequency: str = "year", *, covariance: bool = True
                    ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, list[str]]:
    """Interaction-weighted estimates at ``events``, their covariance, and the CATT table.

    ``df`` holds one row per observation with no missing outcome; ``cluster`` gives each row's
    cluster code. ``covariance=False`` leaves the covariance NaN (the same estimates, without
    the cluster-robust sums: the placebo study's batch reads only them).
    """
    notes: list[str] = []
    g = df[cohort].to_numpy()
    if not (g == 0).any():
        last = int(g.max())
        keep = df[time].to_numpy() < last
        df, cluster = df[keep], cluster[keep]
        g = df[cohort].to_numpy()
        g = np.where(g == last, 0, g)
        shown = period_label(last, frequency)  # "2021-01" on a monthly panel
        notes.append(f"no never-treated units: cohort {shown} is the comparison group and "
                     f"periods from {shown} on are dropped")
    t = df[time].to_numpy()
    e = np.where(g > 0, t - g, 0)
    treated = (g > 0) & (e != reference)
    cells = pd.DataFrame({"g": g[treated], "e": e[treated]}).drop_duplicates()
    cells = cells.sort_values(["g", "e"]).reset_index(drop=True)
    key = pd.MultiIndex.from_frame(cells)
    col = np.full(len(df), -1)
    col[treated] = key.get_indexer(pd.MultiIndex.from_arrays([g[treated], e[treated]]))
    x = np.zeros((len(df), len(cells)))
    x[np.flatnonzero(treated), col[treated]] = 1.0
    ucode = pd.factorize(df[unit])[0]
    tcode = np.searchsorted(np.unique(t), t)
    fit = twoway_ols(df[y].to_numpy(float), x, ucode, tcode, pd.factorize(cluster)[0],
                     "event_study", covariance=covariance)
    counts = np.bincount(col[treated], minlength=len(cells)).astype(float)
    cells = cells.assign(estimate=fit.coef, n_obs=counts)
    weights = np.zeros((len(events), len(cells)))
    for j, ev in enumerate(events):
        m = (cells["e"] == ev).to_numpy()
        if not m.any():
            raise EstimationError(
                f"event_study: no treated cohort is observed at event time {ev}; narrow the "
                "window."
            )
        weights[j, m] = counts[m] / counts[m].sum()
    est = weights @ fit.coef
    vcov = weights @ fit.vcov @ weights.T
    return est, vcov, cells, notes
