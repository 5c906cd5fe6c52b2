"""The restricted wild cluster bootstrap (WCR) for one coefficient of a linear regression.

For ``y = X beta + u`` with errors clustered by ``cluster``, the hypothesis ``beta_j = r`` is
imposed, the restricted residuals are multiplied by one weight per cluster (Rademacher or
Webb), and the cluster-robust t-statistic is recomputed in every draw. All draws are computed
at once from cluster sums (Roodman, MacKinnon, Nielsen and Webb 2019, "Fast and wild"): with
``s_g = a_j' X_g' u~_g`` and ``C_gh = a_j' X_g' X_g A X_h' u~_h`` (``A = (X'X)^{-1}``) the
numerator of draw ``v`` is ``s' v`` and the cluster scores are ``(diag(s) - C) v``.

Confidence intervals invert the test: the same draws are used at every ``r`` and the bounds
are where the p-value crosses ``1 - conf_level``.

References
----------
Cameron, A. C., Gelbach, J. and Miller, D. (2008). Bootstrap-based improvements for inference
with clustered errors. *Review of Economics and Statistics* 90(3), 414-427.
MacKinnon, J. and Webb, M. (2017). Wild bootstrap inference for wildly different cluster
sizes. *Journal of Applied Econometrics* 32(2), 233-254.
Webb, M. (2023). Reworking wild bootstrap-based inference for clustered errors. *Canadian
Journal of Economics* 56(3), 839-858.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalmodel.core.inversion import invert_test
from evalmodel.errors import EstimationError
from evalmodel.results import Result, single_row_table
from evalmodel.vocabulary import (
    WildWeights,
    check_conf_level,
    check_option,
    check_seed,
    draws_argument,
    renamed_attribute,
)

__all__ = ["WildBootstrapResult", "WildWeights", "wild_bootstrap", "wild_weights"]

_VALUES = {
    "rademacher": np.array([-1.0, 1.0]),
    "webb": np.concatenate([-np.sqrt(np.array([3.0, 2.0, 1.0]) / 2),
                            np.sqrt(np.array([1.0, 2.0, 3.0]) / 2)]),
}


def wild_weights(
    n_clusters: int, n_draws: int, *, weights: WildWeights = "rademacher",
    seed: int | None = None
) -> np.ndarray:
    """Cluster weights, ``n_clusters x n_draws``.

    Rademacher weights are fully enumerated (``2**G`` columns) when ``2**G < n_draws``.
    Otherwise the draws are ``default_rng(seed).choice(values, G * n_draws)`` reshaped by
    cluster, the same stream as the ``wildboottest`` package for the same seed.
    """
    check_option("wild_bootstrap", "weights", weights, WildWeights)
    if weights == "rademacher" and n_clusters < 30 and 2**n_clusters < n_draws:
        return np.array(list(itertools.product([-1.0, 1.0], repeat=n_clusters))).T
    rng = np.random.default_rng(seed)
    return np.asarray(rng.choice(_VALUES[weights], size=n_clusters * n_draws)).reshape(
        n_clusters, n_draws
    )


@dataclass(frozen=True)
class WildBootstrapResult(Result):
    """A wild cluster bootstrap test of one coefficient and its inverted interval.

    Attributes
    ----------
    term : str
        The coefficient tested.
    estimate, std_error : float
        OLS estimate and its CRV1 standard error (small-sample factor
        ``G/(G-1) (N-1)/(N-k)``).
    t_stat : float
        ``(estimate - null) / std_error``.
    p_value : float
        Share of bootstrap ``|t*|`` strictly above ``|t|`` (symmetric two-tailed).
    ci_lower, ci_upper : float
        Test-inversion interval at ``conf_level`` (NaN if not computed).
    null : float
    n_draws : int
        Draws used (``2**G`` under full enumeration); ``n_boot``, its old name, is deprecated.
    n_clusters : int
    weights : str
    seed : int or None
    conf_level : float
    full_enumeration : bool
    t_boot : ndarray
        The bootstrap t-statistics under the null.
    """

    term: str
    estimate: float
    std_error: float
    t_stat: float
    p_value: float
    ci_lower: float
    ci_upper: float
    null: float
    n_draws: int
    n_clusters: int
    weights: str
    seed: int | None
    conf_level: float
    full_enumeration: bool
    t_boot: np.ndarray

    @property
    def n_boot(self) -> int:
        """Deprecated name of :attr:`n_draws` (warns ``DeprecationWarning``)."""
        return int(renamed_attribute(self, "n_boot", "n_draws"))

    @property
    def table(self) -> pd.DataFrame:
        """One tidy row: term, estimate, std_error, ci_lower, ci_upper, p_value."""
        return single_row_table(self, self.term)

    @property
    def inference(self) -> str:
        """How the p-value and interval were obtained."""
        draws = ("all 2^G sign patterns" if self.full_enumeration
                 else f"{self.n_draws:,} draws, seed {self.seed}")
        return (f"wild cluster bootstrap-t ({self.weights} weights, {draws}) over "
                f"{self.n_clusters} clusters; interval by test inversion")

    def _title(self) -> str:
        return f"Wild cluster bootstrap: {self.term}"

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Inference", self.inference),
                ("Null", f"{self.null:g} (t = {self.t_stat:.3f})"),
                ("Confidence level", f"{self.conf_level:.0%}"),
                ("Clusters", f"{self.n_clusters:,}"))

    def describe_sample(self) -> dict[str, str]:
        """Method, term, inference and the number of clusters."""
        return {"Method": "wild bootstrap", "Outcome": self.term, "Inference": self.inference,
                "Clusters": f"{self.n_clusters:,}"}


class _WCR:
    """Cluster-sum pieces shared by every null value ``r``."""

    def __init__(self, y: np.ndarray, x: np.ndarray, codes: np.ndarray, n_g: int, j: int):
        n, k = x.shape
        self.j, self.n_g = j, n_g
        xtx = x.T @ x
        try:
            self.a = np.linalg.inv(xtx)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "wild_bootstrap: X'X is singular; drop collinear columns of X."
            ) from exc
        self.beta = self.a @ (x.T @ y)
        self.ssc = n_g / (n_g - 1) * (n - 1) / (n - k)
        aj = self.a[j]
        # cluster sums of X'X a_j (G x k) and of X_g' ⊗ stuff via one-hot aggregation
        onehot = np.zeros((n_g, n))
        onehot[codes, np.arange(n)] = 1.0
        self.onehot = onehot
        xa = x @ aj  # n
        # c_g = X_g' X_g a_j  (G x k)
        self.cg = onehot @ (x * xa[:, None])
        self.x = x
        # restricted residuals u~(r) = m0 - r m1 (regress y - r x_j on X_-j)
        keep = [c for c in range(k) if c != j]
        xr = x[:, keep]
        if xr.shape[1]:
            q, _ = np.linalg.qr(xr)
            self.m0 = y - q @ (q.T @ y)
            self.m1 = x[:, j] - q @ (q.T @ x[:, j])
        else:
            self.m0, self.m1 = y.copy(), x[:, j].copy()
        u = y - x @ self.beta
        score = onehot @ (u * xa)  # a_j' X_g' u_g
        self.se = float(np.sqrt(self.ssc * np.sum(score**2)))
        self.xa = xa

    def t_stats(self, r: float, v: np.ndarray) -> tuple[float, np.ndarray]:
        ut = self.m0 - r * self.m1
        s = self.onehot @ (ut * self.xa)  # G: a_j' X_g' u~_g
        t_h = (self.onehot @ (self.x * ut[:, None])) @ self.a  # G x k: (A X_h' u~_h)'
        c = self.cg @ t_h.T  # G x G: c_g' t_h
        numer = s @ v
        scores = s[:, None] * v - c @ v
        denom = np.sqrt(self.ssc * np.einsum("gb,gb->b", scores, scores))
        with np.errstate(divide="ignore", invalid="ignore"):
            t_boot = numer / denom
        t_obs = (self.beta[self.j] - r) / self.se
        return float(t_obs), t_boot


def _pvalue(t_obs: float, t_boot: np.ndarray) -> float:
    return float(np.mean(np.abs(t_obs) < np.abs(t_boot)))


def wild_bootstrap(
    y: np.ndarray | pd.Series,
    x: np.ndarray | pd.DataFrame,
    cluster: np.ndarray | pd.Series,
    *,
    coef: int | str,
    null: float = 0.0,
    weights: WildWeights = "rademacher",
    n_draws: int = 9999,
    seed: int | None = None,
    conf_level: float = 0.95,
    interval: bool = True,
    n_boot: int | None = None,
) -> WildBootstrapResult:
    """Restricted wild cluster bootstrap (WCR) test of ``beta[coef] = null``.

    Parameters
    ----------
    y : array-like, shape (n,)
        Outcome.
    x : array-like or DataFrame, shape (n, k)
        Regressors, including the constant and any fixed-effect dummies (or outcomes and
        regressors already demeaned by fixed effects nested in the clusters).
    cluster : array-like, shape (n,)
        Cluster ids.
    coef : int or str
        Column position, or name when ``x`` is a DataFrame.
    null : float
        Value under the null hypothesis.
    weights : {"rademacher", "webb"}
        Cluster weight distribution; use Webb with fewer than about 12 clusters.
    n_draws : int
        Draws (Rademacher with ``2**G < n_draws`` is enumerated instead).
    seed : int, optional
        Seed of ``numpy.random.default_rng``.
    conf_level : float
        Coverage of the inverted interval.
    interval : bool
        Whether to invert the test for the interval.
    n_boot : int, optional
        Deprecated name of ``n_draws`` (warns ``DeprecationWarning``).

    Returns
    -------
    WildBootstrapResult

    Raises
    ------
    EstimationError
        For mismatched lengths, missing values, fewer than 2 clusters, an unknown column,
        ``n_draws < 99`` or a singular design.
    """
    n_draws = draws_argument("wild_bootstrap", n_draws, default=9999, n_boot=n_boot)
    check_option("wild_bootstrap", "weights", weights, WildWeights)
    check_conf_level("wild_bootstrap", conf_level)
    check_seed("wild_bootstrap", seed)
    xdf = x if isinstance(x, pd.DataFrame) else None
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float).ravel()
    cl = np.asarray(cluster).ravel()
    if xa.ndim == 1:
        xa = xa[:, None]
    n, k = xa.shape
    if ya.size != n or cl.size != n:
        raise EstimationError(
            f"wild_bootstrap: y has {ya.size} rows, x {n} and cluster {cl.size}; they must match."
        )
    if not (np.all(np.isfinite(ya)) and np.all(np.isfinite(xa))):
        raise EstimationError("wild_bootstrap: y and x must be finite; drop rows with NaN first.")
    if isinstance(coef, str):
        if xdf is None or coef not in xdf.columns:
            raise EstimationError(
                f"wild_bootstrap: coef={coef!r} is not a column of x; pass a column name of a "
                "DataFrame x or a column position."
            )
        j = int(list(xdf.columns).index(coef))
        term = coef
    else:
        if not 0 <= coef < k:
            raise EstimationError(
                f"wild_bootstrap: coef={coef!r} is not a column position 0..{k - 1}."
            )
        j = int(coef)
        term = str(xdf.columns[j]) if xdf is not None else f"x{j}"
    if n_draws < 99:
        raise EstimationError(f"wild_bootstrap: n_draws={n_draws!r}; use at least 99 draws "
                              "(9999 for published p-values).")
    ids, codes = np.unique(cl, return_inverse=True)
    n_g = ids.size
    if n_g < 2:
        raise EstimationError(f"wild_bootstrap: {n_g} cluster; at least 2 are needed.")
    v = wild_weights(n_g, n_draws, weights=weights, seed=seed)
    full = v.shape[1] != n_draws
    wcr = _WCR(ya, xa, codes, n_g, j)
    t_obs, t_boot = wcr.t_stats(null, v)
    p = _pvalue(t_obs, t_boot)
    lo = hi = float("nan")
    if interval:
        lo, hi = _invert(wcr, v, 1 - conf_level)
    return WildBootstrapResult(
        term=term, estimate=float(wcr.beta[j]), std_error=wcr.se, t_stat=t_obs, p_value=p,
        ci_lower=lo, ci_upper=hi, null=float(null), n_draws=v.shape[1], n_clusters=n_g,
        weights=weights, seed=seed, conf_level=conf_level, full_enumeration=full, t_boot=t_boot,
    )


def _invert(wcr: _WCR, v: np.ndarray, alpha: float) -> tuple[float, float]:
    """Bounds where the bootstrap p-value falls to ``alpha``, by bisection from the estimate."""
    est, se = float(wcr.beta[wcr.j]), wcr.se
    if se == 0:
        return est, est

    def p(r: float) -> float:
        return _pvalue(*wcr.t_stats(r, v))

    return invert_test(p, est, alpha, first_step=2.0 * se, tol=1e-6 * se, max_expand=40,
                       max_bisect=50)
