"""Robust confidence sets under bounded violations of parallel trends (Rambachan and Roth, 2023).

Given event-study coefficients ``betahat`` (pre-periods first, then post-periods, the reference
period left out) with covariance ``sigma``, the target is ``theta = l' tau_post``. The
coefficients are ``beta = tau + delta`` where ``delta`` is the violation of parallel trends and
``tau_pre = 0``. Two restrictions on ``delta`` are offered:

* **smoothness** ``Delta^SD(M)``: the slope of ``delta`` changes by at most ``M`` between
  consecutive periods. The interval is the optimal fixed-length confidence interval (FLCI) of
  Armstrong and Kolesar, as in the R package HonestDiD.
* **relative magnitudes** ``Delta^RM(Mbar)``: no post-period first difference of ``delta`` is
  larger than ``Mbar`` times the largest pre-period first difference. ``Delta^RM`` is a union of
  polyhedra, one per location and sign of the largest pre-period difference; for each, the
  conditional-least-favourable hybrid test of Andrews, Roth and Pakes (ARP) is inverted over a
  grid of ``theta`` values and the intervals are joined.

The ARP test (:mod:`evalmodel.inference.arp`) is computed from the vertices of the dual of its
linear programme: the dual polytope does not depend on ``theta``, so every grid point is tested
at once and the truncation points of the conditional distribution are exact.

References
----------
Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends. *Review of
Economic Studies* 90(5), 2555-2591.
Andrews, I., Roth, J. and Pakes, A. (2023). Inference for linear conditional moment
inequalities. *Review of Economic Studies* 90(6), 2763-2791.
Armstrong, T. and Kolesar, M. (2018). Optimal inference in a class of regression models.
*Econometrica* 86(2), 655-683.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import TypeVar

import numpy as np
from scipy import stats

from evalmodel.errors import EstimationError
from evalmodel.inference.arp import arp_accept, lf_draws
from evalmodel.inference.flci import FLCIProblem, flci
from evalmodel.vocabulary import Restriction, check_conf_level, check_option, check_seed

__all__ = ["Restriction", "breakdown_value", "honest_ci", "original_ci"]

T = TypeVar("T")

#: How many FLCI problems (and relative-magnitude intervals) are remembered: a sensitivity
#: analysis asks for the same covariance at many ``m`` (its grid, then the breakdown value's
#: bisection), and the parts that do not depend on ``m`` are computed once for all of them.
_MEMO_SIZE = 16
_problems: OrderedDict[bytes, FLCIProblem] = OrderedDict()
_rm_intervals: OrderedDict[bytes, tuple[float, float]] = OrderedDict()


def _remember(memo: OrderedDict[bytes, T], key: bytes, value: T) -> T:
    """Keep ``value`` under ``key``, forgetting the oldest beyond :data:`_MEMO_SIZE`."""
    memo[key] = value
    while len(memo) > _MEMO_SIZE:
        memo.popitem(last=False)
    return value


def _key(*parts: np.ndarray | float | int | None) -> bytes:
    """The exact bytes of arrays and numbers (shape and dtype included), for the memos."""
    out = []
    for x in parts:
        a = np.asarray(x if x is not None else np.nan, dtype=float)
        out += [str(a.shape).encode(), np.ascontiguousarray(a).tobytes()]
    return b"|".join(out)


# -- input checks -----------------------------------------------------------------------------
def _prepare(
    betahat: np.ndarray | list[float],
    sigma: np.ndarray,
    num_pre_periods: int,
    num_post_periods: int,
    l_vec: np.ndarray | list[float] | None,
    conf_level: float,
    where: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = np.asarray(betahat, dtype=float).ravel()
    s = np.asarray(sigma, dtype=float)
    n = num_pre_periods + num_post_periods
    if num_pre_periods < 1 or num_post_periods < 1:
        raise EstimationError(
            f"{where}: num_pre_periods={num_pre_periods} and num_post_periods="
            f"{num_post_periods}; both must be at least 1 (estimate an event study with "
            "leads before the reference period)."
        )
    if b.size != n or s.shape != (n, n):
        raise EstimationError(
            f"{where}: betahat has {b.size} values and sigma has shape {s.shape}; both must "
            f"match num_pre_periods + num_post_periods = {n}."
        )
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(s))):
        raise EstimationError(f"{where}: betahat and sigma must be finite (no NaN or inf).")
    check_conf_level(where, conf_level)
    if l_vec is None:
        lv = np.zeros(num_post_periods)
        lv[0] = 1.0
    else:
        lv = np.asarray(l_vec, dtype=float).ravel()
        if lv.size != num_post_periods or not np.any(lv != 0):
            raise EstimationError(
                f"{where}: l_vec has {lv.size} values; it needs num_post_periods="
                f"{num_post_periods} weights, not all zero."
            )
    return b, (s + s.T) / 2, lv


def original_ci(
    betahat: np.ndarray | list[float],
    sigma: np.ndarray,
    *,
    num_pre_periods: int,
    num_post_periods: int,
    l_vec: np.ndarray | list[float] | None = None,
    conf_level: float = 0.95,
) -> tuple[float, float, float]:
    """The usual interval for ``theta = l' beta_post`` under exact parallel trends.

    Returns
    -------
    (estimate, ci_lower, ci_upper)
    """
    b, s, lv = _prepare(betahat, sigma, num_pre_periods, num_post_periods, l_vec, conf_level,
                        "original_ci")
    post = slice(num_pre_periods, None)
    est = float(lv @ b[post])
    se = float(np.sqrt(lv @ s[post, post] @ lv))
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    return est, est - z * se, est + z * se


# -- smoothness: the fixed-length confidence interval (solved in evalmodel.inference.flci) ----
def _flci(b: np.ndarray, sigma: np.ndarray, npre: int, lv: np.ndarray, m: float,
          conf_level: float) -> tuple[float, float]:
    key = _key(sigma, npre, lv)
    prob = _problems.get(key) or _remember(_problems, key, FLCIProblem.build(sigma, npre, lv))
    return flci(prob, b, npre, lv, m, conf_level)


# -- relative magnitudes: the conditional least-favourable hybrid ------------------------------
def _rm_constraints(npre: int, npost: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Rows ``A`` with ``A delta <= 0`` for the piece where the largest pre-period first
    difference is the one ending at period ``s`` (``s`` in ``-(npre-1)..0``) with sign +/-."""
    n = npre + npost
    first = np.zeros((n, n + 1))
    idx = np.arange(n)
    first[idx, idx] = -1.0
    first[idx, idx + 1] = 1.0
    vmax = np.zeros(n + 1)
    vmax[npre + s - 1] = -1.0
    vmax[npre + s] = 1.0
    if not positive:
        vmax = -vmax
    ub = np.vstack([np.tile(vmax, (npre, 1)), np.tile(mbar * vmax, (npost, 1))])
    a = np.vstack([first - ub, -first - ub])
    a = a[np.einsum("ij,ij->i", a, a) > 1e-10]
    return np.delete(a, npre, axis=1)  # drop the reference period (delta_0 = 0)


def _gamma(lv: np.ndarray) -> np.ndarray:
    """An invertible matrix whose first row is ``l'``."""
    j = int(np.flatnonzero(lv)[0])
    rows = [lv] + [np.eye(lv.size)[i] for i in range(lv.size) if i != j]
    return np.vstack(rows)


def _rm_ci(b: np.ndarray, sigma: np.ndarray, npre: int, lv: np.ndarray, mbar: float,
           conf_level: float, thetas: np.ndarray, lf_sims: int, seed: int | None
           ) -> tuple[float, float]:
    npost = lv.size
    alpha = 1 - conf_level
    kappa = alpha / 10
    ginv_cols = np.linalg.inv(_gamma(lv))
    accept = np.zeros(thetas.size, dtype=bool)
    seen: set[bytes] = set()
    for s, positive in itertools.product(range(-(npre - 1), 1), (True, False)):
        a = _rm_constraints(npre, npost, mbar, s, positive)
        a_post = a[:, npre:]
        rows = np.flatnonzero(np.any(a_post != 0, axis=1)) if npost > 1 else np.arange(len(a))
        agi = a_post @ ginv_cols
        sig_y = (a @ sigma @ a.T)[np.ix_(rows, rows)]
        y0 = (a @ b)[rows]
        # a piece with the same moments as one tested (every piece at Mbar = 0) accepts the
        # same thetas
        moments = _key(y0, agi[rows], sig_y)
        if moments in seen:
            continue
        seen.add(moments)
        draws = lf_draws(seed, lf_sims, sig_y)  # the seed's normals, scaled to this piece
        accept |= arp_accept(y0, agi[rows, 0], agi[rows, 1:], sig_y, thetas, alpha, kappa,
                             draws)
    if not accept.any():
        return float("nan"), float("nan")
    return float(thetas[accept].min()), float(thetas[accept].max())


# -- public entry points ----------------------------------------------------------------------
def honest_ci(
    betahat: np.ndarray | list[float],
    sigma: np.ndarray,
    *,
    num_pre_periods: int,
    num_post_periods: int,
    restriction: Restriction,
    m: float,
    l_vec: np.ndarray | list[float] | None = None,
    conf_level: float = 0.95,
    grid_points: int = 1000,
    grid_bounds: tuple[float, float] | None = None,
    lf_sims: int = 1000,
    seed: int | None = 0,
) -> tuple[float, float]:
    """Robust confidence interval for ``theta = l' tau_post`` under one restriction.

    Parameters
    ----------
    betahat : array-like
        Event-study coefficients, the ``num_pre_periods`` leads first (earliest first), then the
        ``num_post_periods`` post-period coefficients; the reference period is left out.
    sigma : array
        Their covariance matrix.
    num_pre_periods, num_post_periods : int
        How many coefficients are leads and how many are post-period effects.
    restriction : {"relative_magnitude", "smoothness"}
        ``Delta^RM(Mbar)`` (C-LF hybrid, inverted over a grid) or ``Delta^SD(M)`` (FLCI).
    m : float
        ``Mbar`` for relative magnitudes, ``M`` for smoothness; non-negative.
    l_vec : array-like, optional
        Weights on the post-period effects; by default the first post period.
    conf_level : float
        Coverage.
    grid_points, grid_bounds : int, (float, float)
        The ``theta`` grid of the relative-magnitudes test; by default 1000 points on
        ``+/- 20`` standard errors of ``l' beta_post`` around zero, as in HonestDiD.
    lf_sims, seed : int
        Draws (and their seed) for the least-favourable critical value of the hybrid test.

    Returns
    -------
    (ci_lower, ci_upper)
        NaN when no ``theta`` on the grid is accepted.
    """
    b, s, lv = _prepare(betahat, sigma, num_pre_periods, num_post_periods, l_vec, conf_level,
                        "honest_ci")
    check_option("honest_ci", "restriction", restriction, Restriction)
    check_seed("honest_ci", seed)
    if isinstance(m, bool) or not isinstance(m, int | float | np.number) or not (
            np.isfinite(m) and m >= 0):
        raise EstimationError(f"honest_ci: m={m!r} must be a finite number >= 0.")
    if restriction == "smoothness":
        return _flci(b, s, num_pre_periods, lv, float(m), conf_level)
    if grid_bounds is None:
        post = slice(num_pre_periods, None)
        sd = float(np.sqrt(lv @ s[post, post] @ lv))
        grid_bounds = (-20 * sd, 20 * sd)
    thetas = np.linspace(grid_bounds[0], grid_bounds[1], grid_points)
    # the same interval is asked for again (m = 0 by the grid and the breakdown value)
    key = _key(b, s, num_pre_periods, lv, m, conf_level, thetas, lf_sims, seed)
    found = _rm_intervals.get(key)
    if found is None:
        found = _remember(_rm_intervals, key, _rm_ci(b, s, num_pre_periods, lv, float(m),
                                                     conf_level, thetas, lf_sims, seed))
    return found


def breakdown_value(
    betahat: np.ndarray | list[float],
    sigma: np.ndarray,
    *,
    num_pre_periods: int,
    num_post_periods: int,
    restriction: Restriction,
    l_vec: np.ndarray | list[float] | None = None,
    conf_level: float = 0.95,
    null: float = 0.0,
    m_max: float | None = None,
    tol: float | None = None,
    **kwargs: float | int | tuple[float, float] | None,
) -> float:
    """The smallest ``m`` at which the robust interval first contains ``null``.

    Below it the conclusion "theta differs from ``null``" survives every violation the
    restriction allows. Zero when even ``m = 0`` cannot reject; ``inf`` when no ``m`` up to
    ``m_max`` (default: 10 for relative magnitudes, 10 standard errors for smoothness) can.
    """
    b, s, lv = _prepare(betahat, sigma, num_pre_periods, num_post_periods, l_vec, conf_level,
                        "breakdown_value")
    check_option("breakdown_value", "restriction", restriction, Restriction)
    post = slice(num_pre_periods, None)
    sd = float(np.sqrt(lv @ s[post, post] @ lv))
    if m_max is None:
        m_max = 10.0 if restriction == "relative_magnitude" else 10 * sd
    if tol is None:
        tol = 1e-3 if restriction == "relative_magnitude" else sd * 1e-3

    def covers(m: float) -> bool:
        lo, hi = honest_ci(b, s, num_pre_periods=num_pre_periods,
                           num_post_periods=num_post_periods, restriction=restriction, m=m,
                           l_vec=lv, conf_level=conf_level, **kwargs)  # type: ignore[arg-type]
        return bool(np.isnan(lo) or lo <= null <= hi)

    if covers(0.0):
        return 0.0
    if not covers(m_max):
        return float("inf")
    lo, hi = 0.0, float(m_max)
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if covers(mid):
            hi = mid
        else:
            lo = mid
    return hi
