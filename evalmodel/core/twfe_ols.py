"""Least squares with unit and period effects absorbed, and its robust covariance.

The fast path of :func:`evalmodel.twfe`. The columns are demeaned two ways
(:func:`~evalmodel.core.demean.twoway_demean`), the coefficients solve the normal equations
of the demeaned (weighted) data, and the covariance is the sandwich of the scores
``w * x_tilde * e_tilde``: summed within clusters (cluster-robust) or not
(heteroskedasticity-robust). The small-sample factor is linearmodels' ``PanelOLS`` default
(``debiased=True``, the effects counted): ``n / (n - n_units - n_periods + 1 - k)``, with no
factor in the number of clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalmodel.core.demean import blockwise_demean, twoway_demean
from evalmodel.errors import EstimationError
from evalmodel.vocabulary import DemeanMethod

__all__ = ["TwfeFit", "twfe_ols"]

#: A column whose demeaned (weighted) norm is below this fraction of its norm before demeaning
#: is absorbed by the effects.
ABSORBED = 1e-8


@dataclass(frozen=True)
class TwfeFit:
    """Coefficients, covariance and sample of a two-way fixed-effects regression.

    Attributes
    ----------
    params, std_errors : ndarray (k,)
        Coefficients and their standard errors, in the order of the regressors.
    cov : ndarray (k, k)
        Their covariance.
    nobs, n_units, n_periods : int
        Rows used and the numbers of unit and period effects (levels with a row).
    n_clusters : int or None
        Clusters of the covariance (None: heteroskedasticity-robust).
    df_resid : int
        ``nobs - (n_units + n_periods - n_blocks) - k`` (one block unless ``blocks`` is
        given); the covariance is scaled by
        ``nobs / df_resid``.
    resid : ndarray (n,)
        Residuals of the demeaned regression (not weighted).
    """

    params: np.ndarray
    std_errors: np.ndarray
    cov: np.ndarray
    nobs: int
    n_units: int
    n_periods: int
    n_clusters: int | None
    df_resid: int
    resid: np.ndarray


def _compact(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes renumbered 0..m-1 over the levels that occur (order kept), and m."""
    present = np.bincount(codes) > 0
    if present.all():
        return codes, len(present)
    remap = np.cumsum(present) - 1
    return remap[codes], int(present.sum())


def twfe_ols(
    y: np.ndarray,
    x: np.ndarray,
    ucode: np.ndarray,
    tcode: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    names: list[str] | None = None,
    method: DemeanMethod = "auto",
    fn: str = "twfe",
    blocks: np.ndarray | None = None,
) -> TwfeFit:
    """Regress ``y`` on ``x`` with unit and period effects; robust or clustered covariance.

    Parameters
    ----------
    y : ndarray (n,)
        Outcome.
    x : ndarray (n, k)
        Regressors (no constant: the effects absorb it).
    ucode, tcode : ndarray of int (n,)
        Unit and period codes (non-negative; levels without rows are ignored).
    weights : ndarray (n,), optional
        Weights of weighted least squares.
    cluster : ndarray of int (n,), optional
        Cluster codes; None gives the heteroskedasticity-robust covariance.
    names : list of str, optional
        Names of the columns of ``x``, for the error messages.
    method : {"auto", "closed", "direct", "alternating"}
        The demeaning method (:func:`~evalmodel.core.demean.twoway_demean`).
    fn : str
        The caller's name, which starts the error messages.
    blocks : ndarray of int (n,), optional
        Separate components of the design (no unit or period code in two blocks), demeaned one
        by one (:func:`~evalmodel.core.demean.blockwise_demean`); the effects then have rank
        ``n_units + n_periods - n_blocks``, which the small-sample factor counts (e.g.
        unit-by-calendar-month with period effects: 12 blocks, one per calendar month).

    Returns
    -------
    TwfeFit

    Raises
    ------
    EstimationError
        When a regressor is absorbed by the effects or the regressors are collinear, or no
        residual degrees of freedom are left.
    """
    n, k = x.shape
    names = names or [f"x{j}" for j in range(k)]
    ucode, n_u = _compact(np.asarray(ucode, dtype=np.intp))
    tcode, n_t = _compact(np.asarray(tcode, dtype=np.intp))
    # demeaned in place: one n x (k+1) array in all, by columns (each column contiguous, so
    # the demeaning's sums read it without a copy)
    stacked = np.empty((n, k + 1), order="F")
    stacked[:, 0] = y
    stacked[:, 1:] = x
    n_blocks = 1
    if blocks is None:
        twoway_demean(stacked, ucode, tcode, weights=weights, n_units=n_u, n_periods=n_t,
                      method=method, overwrite=True)
    else:
        n_blocks = len(np.unique(blocks))
        blockwise_demean(stacked, ucode, tcode, blocks, weights=weights, method=method,
                         overwrite=True)
    yd, xd = stacked[:, 0], stacked[:, 1:]
    w = None if weights is None else np.asarray(weights, dtype=float)
    wx = xd if w is None else xd * w[:, None]  # no copy when unweighted
    gram = wx.T @ xd
    before = (np.einsum("ij,ij->j", x, x) if w is None else
              np.einsum("ij,ij,i->j", x, x, w))
    absorbed = [nm for nm, g, b in zip(names, np.diag(gram), before, strict=True)
                if g <= ABSORBED**2 * b]
    if absorbed:
        raise EstimationError(
            f"{fn}: the treatment indicator (or a covariate) is absorbed by the unit and period "
            "effects: it does not vary within units over time apart from common period shocks "
            f"({absorbed}); check the cohorts, the treatment column and the covariates."
        )
    scale = np.sqrt(np.diag(gram))
    if np.linalg.matrix_rank(gram / np.outer(scale, scale), tol=1e-10) < k:
        raise EstimationError(
            f"{fn}: the regressors {names} are collinear once the unit and period effects are "
            "removed; leave one of them out."
        )
    df_resid = n - (n_u + n_t - n_blocks) - k
    if df_resid <= 0:
        raise EstimationError(
            f"{fn}: no residual degrees of freedom ({n} rows, {n_u} unit and {n_t} period "
            f"effects, {k} regressors); add periods or units."
        )
    bread = np.linalg.inv(gram)
    params = bread @ (wx.T @ yd)
    resid = xd @ params  # the fitted values, overwritten by the residuals: one n-vector
    np.subtract(yd, resid, out=resid)
    scores = np.multiply(wx, resid[:, None], out=wx)  # wx (or xd) is not read after this
    n_clusters: int | None = None
    if cluster is not None:
        ccode, n_clusters = _compact(np.asarray(cluster, dtype=np.intp))
        scores = np.column_stack([np.bincount(ccode, weights=scores[:, j], minlength=n_clusters)
                                  for j in range(k)])
    meat = scores.T @ scores
    cov = bread @ meat @ bread * (n / df_resid)
    cov = (cov + cov.T) / 2
    return TwfeFit(params=params, std_errors=np.sqrt(np.diag(cov)), cov=cov, nobs=n,
                   n_units=n_u, n_periods=n_t, n_clusters=n_clusters, df_resid=df_resid,
                   resid=resid)
