"""Exact two-way fixed-effects least squares for the event-study estimators.

Unit effects are absorbed by demeaning within unit (exact for any panel, balanced or not);
period effects enter as explicit dummies, which is cheap because periods are few. The
cluster-robust covariance is CR1 with the small-sample factor of ``fixest``/``reghdfe``:
``G/(G-1) * (N-1)/(N-K)``, where ``K`` counts the regressors and period dummies but not the
unit effects, which are nested in the (unit or coarser) clusters.

:func:`fe_normal_solve` solves the normal equations of a unit-plus-period dummy design by the
Schur complement on the period block, for many right-hand sides at once (the imputation
estimator needs it for its weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalmodel.core.clusters import cluster_sums
from evalmodel.errors import EstimationError

__all__ = ["TwoWayFit", "fe_normal_solve", "twoway_ols", "unit_demean"]


def unit_demean(a: np.ndarray, ucode: np.ndarray, n_units: int) -> np.ndarray:
    """Subtract unit means from the rows of ``a`` (1-D or 2-D)."""
    count = np.bincount(ucode, minlength=n_units).astype(float)
    if a.ndim == 1:
        return a - (np.bincount(ucode, weights=a, minlength=n_units) / count)[ucode]
    # one bincount per column: the same sums in the same row order as np.add.at (bit for bit),
    # about four times faster
    sums = np.zeros((n_units, a.shape[1]))
    for k in range(a.shape[1]):
        sums[:, k] = np.bincount(ucode, weights=a[:, k], minlength=n_units)
    return a - (sums / count[:, None])[ucode]


def _demeaned_design(x: np.ndarray, ucode: np.ndarray, tcode: np.ndarray, n_units: int,
                     n_t: int) -> np.ndarray:
    """``[x, dummies of periods 1..n_t-1]`` demeaned within unit, made in one array.

    What :func:`unit_demean` gives for the stacked matrix, bit for bit: each column's unit
    sums in row order (``bincount``) divided by the unit's count and subtracted. A unit's sum
    of a period dummy is its count of rows in that period, an exact whole number whatever
    the order of the additions, so those come from one ``bincount`` of the (unit, period)
    cells instead of one pass per column; and the matrix is filled in place instead of being
    stacked from parts.
    """
    p = x.shape[1]
    count = np.bincount(ucode, minlength=n_units).astype(float)
    means = np.empty((n_units, p + n_t - 1))
    for k in range(p):
        means[:, k] = np.bincount(ucode, weights=x[:, k], minlength=n_units)
    cells = np.bincount(ucode * n_t + tcode, minlength=n_units * n_t).reshape(n_units, n_t)
    means[:, p:] = cells[:, 1:]
    means /= count[:, None]
    z = np.zeros((len(ucode), p + n_t - 1))
    z[:, :p] = x
    rows = np.flatnonzero(tcode > 0)
    z[rows, p + tcode[rows] - 1] = 1.0
    z -= means[ucode]
    return z


@dataclass(frozen=True)
class TwoWayFit:
    """Coefficients of the regressors of interest and their cluster-robust covariance."""

    coef: np.ndarray
    vcov: np.ndarray
    n_obs: int
    n_clusters: int
    residual: np.ndarray


def twoway_ols(y: np.ndarray, x: np.ndarray, ucode: np.ndarray, tcode: np.ndarray,
               cluster: np.ndarray, fn: str, *, covariance: bool = True) -> TwoWayFit:
    """OLS of ``y`` on ``x`` with unit and period effects; CR1 covariance by ``cluster``
    (``covariance=False``: the coefficients only, the same numbers; the covariance NaN and
    no residuals, for callers that read only the estimates)."""
    n_units = int(ucode.max()) + 1
    n_t = int(tcode.max()) + 1
    z = _demeaned_design(x, ucode, tcode, n_units, n_t)
    yd = unit_demean(y, ucode, n_units)
    zz = z.T @ z
    try:
        bread = np.linalg.inv(zz)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            f"{fn}: the event-time dummies are collinear with the unit and period effects; "
            "narrow the window or add never-treated units."
        ) from exc
    if np.linalg.matrix_rank(zz) < zz.shape[0]:
        raise EstimationError(
            f"{fn}: the event-time dummies are collinear with the unit and period effects "
            "(no never-treated or not-yet-treated units to identify the period effects); "
            "narrow the window or add never-treated units."
        )
    beta = bread @ (z.T @ yd)
    p = x.shape[1]
    if not covariance:
        return TwoWayFit(coef=beta[:p], vcov=np.full((p, p), np.nan), n_obs=len(y),
                         n_clusters=0, residual=np.zeros(0))
    u = yd - z @ beta
    s = cluster_sums(z * u[:, None], cluster)
    g = s.shape[0]
    n, k = len(y), zz.shape[0]
    adj = g / (g - 1) * (n - 1) / (n - k)
    v = bread @ (s.T @ s) @ bread * adj
    return TwoWayFit(coef=beta[:p], vcov=v[:p, :p], n_obs=n, n_clusters=g, residual=u)


def fe_normal_solve(ucode: np.ndarray, tcode: np.ndarray, n_units: int, n_t: int,
                    b_unit: np.ndarray, b_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``Z'Z (a, l) = (b_unit, b_time)`` for unit and period dummies ``Z``.

    The first period's effect is fixed at zero. Right-hand sides may have several columns.
    Returns the unit effects ``a`` (n_units x m) and period effects ``l`` (n_t x m).
    """
    bu = b_unit.reshape(n_units, -1)
    bt = b_time.reshape(n_t, -1)
    du = np.bincount(ucode, minlength=n_units).astype(float)
    if (du == 0).any():
        raise EstimationError("imputation: a unit has no untreated observation to fit its effect.")
    # observations per (unit, period): whole numbers, exact in any order of addition
    inc = np.bincount(ucode * n_t + tcode, minlength=n_units * n_t).reshape(
        n_units, n_t).astype(float)
    dt = inc.sum(axis=0)
    # Schur complement on the period block (periods 1..T-1)
    nd = inc / du[:, None]
    schur = np.diag(dt) - inc.T @ nd
    rhs = bt - nd.T @ bu
    lam = np.zeros((n_t, bu.shape[1]))
    try:
        lam[1:] = np.linalg.solve(schur[1:, 1:], rhs[1:])
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "imputation: the period effects are not identified from the untreated "
            "observations (some period has none); narrow the panel's periods."
        ) from exc
    alpha = (bu - inc @ lam) / du[:, None]
    return alpha, lam
