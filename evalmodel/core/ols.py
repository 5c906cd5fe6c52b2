"""Least squares with a heteroskedasticity-robust (HC1) or cluster-robust (CR1) covariance.

The small regressions of the package: the 2x2 difference-in-differences, the triple
difference and the displacement test's one-row-per-unit comparison. The conventions are those
of statsmodels' ``OLS``/``WLS`` with ``cov_type="HC1"`` or ``cov_type="cluster"`` (the tests
compare them to 1e-12), so the numbers did not move when statsmodels left the report's path:

- weights ``w`` enter as in weighted least squares: the rows are scaled by ``sqrt(w)``, and
  the scores are ``w * x * e``;
- HC1: ``cov = B (sum_i s_i s_i') B * n / (n - k)`` with ``B = (X'WX)^-1`` and scores ``s_i``;
- CR1: the scores are summed within clusters first, and the factor is
  ``G / (G - 1) * (n - 1) / (n - k)`` with ``G`` clusters.

The coefficients come from the pseudo-inverse of the weighted design (a singular value
decomposition), as statsmodels computes them; a design of less than full rank (numpy's
``matrix_rank`` tolerance) is refused rather than solved by the minimum-norm solution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evalmodel.errors import EstimationError
from evalmodel.vocabulary import OlsCovType

__all__ = ["OlsFit", "ols"]

#: The pseudo-inverse's cut-off (statsmodels' and numpy's default): singular values at most
#: this fraction of the largest count as zero, or ``max(n, k)`` machine epsilons if that is
#: more (numpy's ``matrix_rank``), and a design with any is refused.
RCOND = 1e-15


@dataclass(frozen=True, eq=False)
class OlsFit:
    """Coefficients and robust covariance of a least-squares regression (:func:`ols`).

    The attribute names are those of :class:`~evalmodel.core.twfe_ols.TwfeFit`.

    Attributes
    ----------
    params, std_errors : ndarray (k,)
        Coefficients and their standard errors, in the order of the columns of ``x``.
    cov : ndarray (k, k)
        Their covariance (NaN where it is not defined: no residual degrees of freedom, or one
        cluster).
    nobs : int
        Rows used.
    df_resid : int
        ``nobs - k``.
    n_clusters : int or None
        Clusters of the covariance (None: heteroskedasticity-robust).
    cov_type : {"HC1", "cluster"}
        The covariance: heteroskedasticity-robust (HC1) or cluster-robust (CR1).
    resid : ndarray (n,)
        Residuals ``y - x @ params`` (not weighted).
    """

    params: np.ndarray
    std_errors: np.ndarray
    cov: np.ndarray
    nobs: int
    df_resid: int
    n_clusters: int | None
    cov_type: OlsCovType
    resid: np.ndarray
    _data: tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None] = field(
        repr=False)

    def to_statsmodels(self) -> Any:
        """The same regression fitted by statsmodels (imported on this call), for its summary
        and diagnostics: ``OLS`` (``WLS`` with weights) with this fit's covariance type.

        Returns
        -------
        statsmodels.regression.linear_model.RegressionResultsWrapper
            Its ``params``, ``bse`` and ``cov_params()`` equal this fit's ``params``,
            ``std_errors`` and ``cov`` to rounding.
        """
        from statsmodels.regression.linear_model import OLS, WLS

        y, x, weights, cluster = self._data
        model = OLS(y, x) if weights is None else WLS(y, x, weights=weights)
        if cluster is None:
            return model.fit(cov_type="HC1")
        return model.fit(cov_type="cluster", cov_kwds={"groups": cluster})


def ols(
    y: np.ndarray,
    x: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    names: list[str] | None = None,
    fn: str = "ols",
) -> OlsFit:
    """Regress ``y`` on the columns of ``x``; HC1 or cluster-robust (CR1) covariance.

    Parameters
    ----------
    y : ndarray (n,)
        Outcome.
    x : ndarray (n, k)
        Regressors, a column of ones among them if the model has a constant.
    weights : ndarray (n,), optional
        Positive weights of weighted least squares.
    cluster : ndarray of int (n,), optional
        Cluster codes (each distinct value a cluster, -1 too); None gives the
        heteroskedasticity-robust covariance.
    names : list of str, optional
        Names of the columns of ``x``, for the error message.
    fn : str
        The caller's name, which starts the error message.

    Returns
    -------
    OlsFit
        With a NaN covariance when it is not defined (``n <= k``, or fewer than two
        clusters); the coefficients are still those of the fit.

    Raises
    ------
    EstimationError
        When there are fewer rows than columns or the columns of ``x`` are collinear (the
        coefficients are not identified).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    if n < k:
        raise EstimationError(f"{fn}: {n} rows for {k} regressors; the coefficients are not "
                              "identified: add rows (units or periods).")
    if weights is None:
        wy, wx = y, x
    else:
        root = np.sqrt(np.asarray(weights, dtype=float))
        wy, wx = y * root, x * root[:, None]
    u, s, vt = np.linalg.svd(wx, full_matrices=False)
    tol = s.max(initial=0.0) * max(RCOND, max(n, k) * np.finfo(float).eps)
    rank = int((s > tol).sum())
    if rank < k:
        names = names or [f"x{j}" for j in range(k)]
        raise EstimationError(
            f"{fn}: the regressors {names} are collinear (rank {rank} of {k}), so "
            "their coefficients are not identified; check that every cell of the design has "
            "rows."
        )
    pinv = np.dot(vt.T, (1.0 / s)[:, None] * u.T)  # (k, n): the pseudo-inverse of wx
    params = pinv @ wy
    resid = y - x @ params
    wresid = wy - wx @ params
    df_resid = n - k
    n_clusters: int | None = None
    cov: np.ndarray
    if cluster is None:
        if df_resid > 0:
            cov = pinv @ ((n / df_resid * wresid**2)[:, None] * pinv.T)
        else:
            cov = np.full((k, k), np.nan)
    else:
        levels, codes = np.unique(np.asarray(cluster), return_inverse=True)  # any integers
        n_clusters = len(levels)
        if df_resid > 0 and n_clusters > 1:
            scores = wx * wresid[:, None]
            sums = np.array([np.bincount(codes, weights=scores[:, j]) for j in range(k)]).T
            bread = pinv @ pinv.T
            cov = bread @ (sums.T @ sums) @ bread.T
            cov *= n_clusters / (n_clusters - 1.0) * ((n - 1.0) / df_resid)
        else:
            cov = np.full((k, k), np.nan)
    return OlsFit(params=params, std_errors=np.sqrt(np.diag(cov)), cov=cov, nobs=n,
                  df_resid=df_resid, n_clusters=n_clusters,
                  cov_type="HC1" if cluster is None else "cluster", resid=resid,
                  _data=(y, x, None if weights is None else np.asarray(weights, float),
                         None if cluster is None else np.asarray(cluster)))
