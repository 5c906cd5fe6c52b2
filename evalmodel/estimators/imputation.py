"""Borusyak, Jaravel and Spiess (2024) imputation event-study estimator.

1. Fit ``y_it = a_i + l_t`` by least squares on the untreated observations (never treated,
   and treated units before adoption, or before ``g - anticipation``).
2. Impute ``y_it(0)`` for every treated observation and take ``tau_it = y_it - a_i - l_t``.
3. The effect at horizon ``h`` is the mean of ``tau_it`` over treated observations with
   ``t - g = h``.

Each estimate is linear in the outcomes, ``sum_it v_it y_it``: the treated observations carry
their averaging weight, the untreated ones ``-Z0 (Z0'Z0)^-1 Z1' w1``, computed exactly by
:func:`~evalmodel.core.twoway.fe_normal_solve`. The (conservative) variance is
``sum_c (sum_{it in c} v_it e_it)^2`` over clusters ``c`` (BJS Theorem 3), with ``e_it`` the
fixed-effects residual for untreated observations and ``tau_it`` minus its mean within the
(cohort, period) cell for treated ones. Pre-trend coefficients come from BJS's test: the same
two-way regression on the untreated observations with dummies for the leads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalmodel.core.clusters import cluster_sums
from evalmodel.core.twoway import TwoWayFit, fe_normal_solve, twoway_ols
from evalmodel.errors import EstimationError

__all__ = ["imputation_fit"]


def imputation_fit(df: pd.DataFrame, y: str, unit: str, time: str, cohort: str,
                   cluster: np.ndarray, leads: np.ndarray, horizons: np.ndarray,
                   anticipation: int = 0, *, covariance: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lead and horizon estimates with their covariances (pre, post blocks).

    ``df`` holds one row per observation with no missing outcome; units without an untreated
    observation must already be removed. Observations less than ``anticipation`` periods
    before adoption count as treated (their horizons are negative). Returns ``(pre_est,
    pre_vcov, post_est, post_vcov)``; with ``covariance=False`` the covariances are NaN (the
    same estimates, without the weights and cluster sums behind the variance).
    """
    g = df[cohort].to_numpy()
    t = df[time].to_numpy()
    periods = np.unique(t)
    ucode, units = pd.factorize(df[unit])
    tcode = np.searchsorted(periods, t)
    n_u, n_t = len(units), len(periods)
    yv = df[y].to_numpy(float)
    untreated = (g == 0) | (t < g - anticipation)
    e = np.where(g > 0, t - g, np.iinfo(np.int64).min)
    u0, t0, y0 = ucode[untreated], tcode[untreated], yv[untreated]
    alpha, lam = fe_normal_solve(u0, t0, n_u, n_t,
                                 np.bincount(u0, weights=y0, minlength=n_u),
                                 np.bincount(t0, weights=y0, minlength=n_t))
    fitted = alpha[ucode, 0] + lam[tcode, 0]
    tau = yv - fitted
    tr = ~untreated
    w1 = (e[tr][:, None] == horizons[None, :]).astype(float)
    counts = w1.sum(axis=0)
    if (counts == 0).any():
        h = int(horizons[np.flatnonzero(counts == 0)[0]])
        raise EstimationError(
            f"event_study: no treated observation at event time {h}; narrow the window."
        )
    w1 /= counts
    post = w1.T @ tau[tr]
    if not covariance:
        post_vcov = np.full((len(horizons), len(horizons)), np.nan)
        if len(leads) == 0:
            return np.zeros(0), np.zeros((0, 0)), post, post_vcov
        lead = _lead_fit(yv, e, ucode, tcode, cluster, untreated, leads, covariance=False)
        return lead.coef, lead.vcov, post, post_vcov
    # weights of the untreated observations, one column per horizon
    bu = np.zeros((n_u, len(horizons)))
    np.add.at(bu, ucode[tr], w1)
    bt = np.zeros((n_t, len(horizons)))
    np.add.at(bt, tcode[tr], w1)
    aw, lw = fe_normal_solve(u0, t0, n_u, n_t, bu, bt)
    v = np.zeros((len(yv), len(horizons)))
    v[tr] = w1
    v[untreated] = -(aw[u0] + lw[t0])
    resid = np.where(untreated, tau, 0.0)
    cell = pd.factorize(pd.MultiIndex.from_arrays([g[tr], t[tr]]))[0]
    cell_mean = np.bincount(cell, weights=tau[tr]) / np.bincount(cell)
    resid[tr] = tau[tr] - cell_mean[cell]
    s = cluster_sums(v * resid[:, None], cluster)
    post_vcov = s.T @ s
    if len(leads) == 0:
        return np.zeros(0), np.zeros((0, 0)), post, post_vcov
    fit = _lead_fit(yv, e, ucode, tcode, cluster, untreated, leads, covariance=True)
    return fit.coef, fit.vcov, post, post_vcov


def _lead_fit(yv: np.ndarray, e: np.ndarray, ucode: np.ndarray, tcode: np.ndarray,
              cluster: np.ndarray, sub: np.ndarray, leads: np.ndarray, *, covariance: bool
              ) -> TwoWayFit:
    """BJS's pre-trend regression: the untreated observations on lead dummies."""
    x = (e[sub][:, None] == leads[None, :]).astype(float)
    return twoway_ols(yv[sub], x, pd.factorize(ucode[sub])[0],
                      np.unique(tcode[sub], return_inverse=True)[1],
                      pd.factorize(cluster[sub])[0], "event_study", covariance=covariance)
