"""Conformal inference for synthetic controls (Chernozhukov, Wuthrich and Zhu 2021).

To test the null that the effect is ``theta``, subtract ``theta`` from the treated unit's
post-period outcomes, fit the (augmented) synthetic control on **every** period (pre and post,
so that under the null the residuals are exchangeable over time) and compare the post-period
residuals with the pre-period ones:

- **per period** ``t``: the data are the pre-periods and ``t``; the p-value is the share of
  the ``T0 + 1`` absolute residuals at least as large as period ``t``'s (every permutation of
  the residuals gives one of these ``T0 + 1`` values at the post position, so moving-block and
  iid permutations coincide);
- **the average effect** (a constant ``theta`` in every post-period): the statistic is the mean
  absolute post-period residual, ``S = mean |u_post|``; its reference distribution is the
  ``T`` cyclic shifts of the residual path (moving blocks, the paper's default, exact under
  exchangeability and robust to weak serial dependence), ``p = #{S_j >= S} / T``, or ``n_draws``
  random permutations (``"iid"``, ``p = (1 + #{S_j >= S}) / (1 + n_draws)``).

The interval is the set of nulls the same test accepts, ``{theta : p(theta) > alpha}``,
found by inverting the test on a grid: a grid of ``grid_size`` nulls around the estimate
(widened while the accepted set reaches its edge), then each end refined by bisection between
the last accepted and first rejected point. The table's ``p_value`` is ``p(0)``, from the
same test, so the interval excludes 0 exactly when ``p_value <= alpha`` (unless the accepted
set is not an interval, which is reported in the notes: the interval is then the envelope).

The refit is passed in (``refit(cols, y1) -> residuals``), so that this module knows nothing of
the estimator (DESIGN.md, layers); :func:`evalmodel.core.ascm.ascm_residuals` gives the
synthetic control's and the augmented synthetic control's refits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalmodel.vocabulary import ConformalScheme, check_conf_level

__all__ = ["ConformalResult", "ConformalScheme", "Refit", "conformal_inference",
           "conformal_p_value", "permutations"]

#: ``refit(cols, y1_adjusted) -> residuals``: the treated outcome over the periods ``cols``
#: (adjusted by the null) minus its synthetic control fitted on those periods.
Refit = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Statistics within this share of the outcome's mean absolute level count as tied: a fit
#: that interpolates every period leaves residuals at rounding level, which must not rank.
_TIE = 1e-6


@dataclass(frozen=True)
class ConformalResult:
    """Conformal p-values and intervals of the per-period and average effects.

    Attributes
    ----------
    table : pandas.DataFrame
        ``term``, ``estimate``, ``ci_lower``, ``ci_upper``, ``p_value`` (at the null 0) and
        ``contiguous`` (whether the accepted nulls form an interval).
    scheme : str
        Permutations of the average effect's test.
    conf_level : float
        Coverage of the intervals.
    notes : tuple of str
        Intervals that are envelopes of non-contiguous sets, or unbounded.
    """

    table: pd.DataFrame
    scheme: str
    conf_level: float
    notes: tuple[str, ...]


def permutations(t: int, n_post: int, scheme: ConformalScheme = "moving_block", *,
                 n_draws: int = 1000, seed: int | None = None) -> np.ndarray:
    """The permutations of ``t`` residuals behind the test (one per row).

    One post-period: the ``t`` rotations (every permutation puts one of the ``t`` residuals at
    the post position, so this is the exact test of both schemes). ``"moving_block"``: the
    ``t`` cyclic shifts, the identity first. ``"iid"``: the identity and ``n_draws`` random
    permutations.
    """
    shifts = (np.arange(t)[None, :] - np.arange(t)[:, None]) % t
    if n_post == 1 or scheme == "moving_block":
        return shifts
    rng = np.random.default_rng(seed)
    return np.vstack([np.arange(t), *(rng.permutation(t) for _ in range(n_draws))])


def conformal_p_value(refit: Refit, y1: np.ndarray, cols: np.ndarray, n_post: int,
                      null: float, perms: np.ndarray) -> float:
    """The conformal p-value of a constant effect ``null`` in the last ``n_post`` of ``cols``.

    Parameters
    ----------
    refit : callable
        ``refit(cols, y1_adjusted) -> residuals`` over ``cols``.
    y1 : ndarray
        The treated unit's outcome over all periods.
    cols : ndarray of int
        Periods used (pre-periods first, then the post-periods tested).
    n_post : int
        Number of post-periods at the end of ``cols``.
    null : float
        The effect under the null.
    perms : ndarray, shape (n, len(cols))
        Permutations (:func:`permutations`), the identity first; ``p = #{S_j >= S_0} / n``
        with ``S`` the mean absolute post-period residual (for random permutations this is
        the add-one p-value of the ``n - 1`` draws).
    """
    y = np.asarray(y1, dtype=float)[cols].copy()
    y[-n_post:] -= null
    u = np.abs(np.asarray(refit(cols, y), dtype=float))
    stats = u[perms[:, -n_post:]].mean(axis=1)
    tie = _TIE * max(float(np.abs(y).mean()), 1e-300)
    return float(np.mean(stats >= stats[0] - tie))


def _invert(p: Callable[[float], float], centre: float, spread: float, alpha: float,
            grid_size: int, tol: float) -> tuple[float, float, bool, bool]:
    """Lower and upper end of ``{theta: p(theta) > alpha}``, whether it is contiguous on the
    grid and whether it stayed within the widest grid."""
    cache: dict[float, bool] = {}

    def ok(x: float) -> bool:
        if x not in cache:
            cache[x] = p(x) > alpha + 1e-12  # 1 - 0.9 is 0.0999...98, not 0.1
        return cache[x]

    spread = spread if spread > 0 else max(abs(centre), 1.0)
    for _ in range(9):
        grid = np.union1d(np.linspace(centre - spread, centre + spread, grid_size), [0.0])
        acc = np.array([ok(float(x)) for x in grid])
        if not acc.any():
            return float("nan"), float("nan"), True, True
        idx = np.flatnonzero(acc)
        if idx[0] > 0 and idx[-1] < grid.size - 1:
            break
        spread *= 2
    else:
        lo_inf, hi_inf = idx[0] == 0, idx[-1] == grid.size - 1
        return (-np.inf if lo_inf else float(grid[idx[0]]),
                np.inf if hi_inf else float(grid[idx[-1]]), bool(np.all(np.diff(idx) == 1)),
                False)
    contiguous = bool(np.all(np.diff(idx) == 1))
    ends = []
    for inner, outer in ((grid[idx[0]], grid[idx[0] - 1]), (grid[idx[-1]], grid[idx[-1] + 1])):
        a, b = float(inner), float(outer)
        while abs(b - a) > tol:
            mid = (a + b) / 2
            if ok(mid):
                a = mid
            else:
                b = mid
        ends.append(a)
    return ends[0], ends[1], contiguous, True


def conformal_inference(
    refit: Refit,
    y1: np.ndarray,
    *,
    pre_cols: np.ndarray,
    post_cols: np.ndarray,
    estimates: np.ndarray,
    terms: list[str],
    conf_level: float = 0.95,
    scheme: ConformalScheme = "moving_block",
    n_draws: int = 1000,
    seed: int | None = None,
    grid_size: int = 50,
    rel_tol: float = 1e-4,
    per_period: bool = True,
) -> ConformalResult:
    """Conformal p-values and intervals for each post-period and for the average effect.

    Parameters
    ----------
    refit : callable
        ``refit(cols, y1_adjusted) -> residuals`` over the periods ``cols``.
    y1 : ndarray, shape (T,)
        The treated unit's outcome over all periods.
    pre_cols, post_cols : ndarray of int
        Pre- and post-period columns.
    estimates : ndarray
        Point estimates: one per post-period, then the average; they centre the grids.
    terms : list of str
        Table terms in the same order.
    conf_level : float
        Coverage of the intervals.
    scheme : {"moving_block", "iid"}
        Permutations of the average effect's test.
    n_draws : int
        Random permutations of ``"iid"``.
    seed : int, optional
        Seed of ``"iid"``.
    grid_size : int
        Points of the first grid of each inversion.
    rel_tol : float
        Bisection tolerance of the interval ends, relative to the grid's half-width.
    per_period : bool
        Test each post-period too (else only the average: one row).

    Returns
    -------
    ConformalResult

    Notes
    -----
    With ``T0`` pre-periods the smallest per-period p-value is ``1 / (T0 + 1)`` (and the
    average effect's ``1 / T`` under moving blocks): where it exceeds ``1 - conf_level`` the
    interval is unbounded, and a note says so.
    """
    check_conf_level("conformal_inference", conf_level)
    alpha = 1 - conf_level
    pre_cols, post_cols = np.asarray(pre_cols), np.asarray(post_cols)
    y1 = np.asarray(y1, dtype=float)
    est = np.asarray(estimates, dtype=float)
    post_est = est[: post_cols.size]
    sd = float(np.std(post_est, ddof=1)) if post_cols.size > 1 else 0.0
    rows, notes, unbounded = [], [], []
    tests = [(np.append(pre_cols, c), 1) for c in post_cols]
    tests.append((np.append(pre_cols, post_cols), post_cols.size))
    todo = list(zip(terms, est, tests, strict=True))
    for term, e, (cols, n_post) in todo if per_period else todo[-1:]:
        perms = permutations(cols.size, n_post, scheme, n_draws=n_draws, seed=seed)

        def p(theta: float, cols: np.ndarray = cols, n_post: int = n_post,
              perms: np.ndarray = perms) -> float:
            return conformal_p_value(refit, y1, cols, n_post, theta, perms)

        p0 = p(0.0)
        if 1 / perms.shape[0] > alpha + 1e-12:  # the smallest p-value cannot reach alpha
            unbounded.append(f"{term} (smallest p-value 1/{perms.shape[0]})")
            rows.append({"term": term, "estimate": float(e), "ci_lower": -np.inf,
                         "ci_upper": np.inf, "p_value": p0, "contiguous": True})
            continue
        u = refit(cols, y1[cols])
        spread = 6 * max(sd, float(np.std(u[:-n_post], ddof=1)) if cols.size > 2 else 0.0)
        lo, hi, contiguous, bounded = _invert(p, float(e), spread, alpha, grid_size,
                                              rel_tol * max(spread, 1e-12))
        if not contiguous:
            notes.append(f"{term}: the accepted effects are not an interval; "
                         f"[{lo:.4g}, {hi:.4g}] is their envelope")
        if not bounded:
            notes.append(f"{term}: the test accepts effects beyond the widest grid; the "
                         "interval is unbounded")
        rows.append({"term": term, "estimate": float(e), "ci_lower": lo, "ci_upper": hi,
                     "p_value": p0, "contiguous": contiguous})
    if unbounded:
        notes.insert(0, f"conformal intervals unbounded at {conf_level:.0%} where the smallest "
                     f"attainable p-value exceeds {alpha:.3g}: {', '.join(unbounded)}; more "
                     "pre-periods or a lower conf_level bound them")
    return ConformalResult(table=pd.DataFrame(rows), scheme=scheme, conf_level=conf_level,
                           notes=tuple(notes))
