"""The weights of partially pooled synthetic control (Ben-Michael, Feller and Rothstein 2022).

Each treated unit ``j`` gets simplex weights ``g_j`` over its own donors. With ``x_j`` its
``L_j`` pre-adoption outcomes (lags ``L_j, ..., 1`` before its adoption) and ``A_j`` the donors'
outcomes at the same lags (donors x lags), the unit's imbalance is ``e_j = x_j - A_j' g_j``.
The weights minimise

.. math::

    \\frac{\\nu}{L} \\Big\\| \\sum_j P_j e_j \\Big\\|^2
    + (1 - \\nu) \\sum_j \\frac{\\| e_j \\|^2}{L_j} + \\lambda \\sum_j \\| g_j \\|^2,

where ``P_j`` aligns unit ``j``'s lags with the longest window ``L`` (lag 1 with lag 1; a unit
with fewer lags adds zeros), so the first term is the imbalance of the pooled (average)
synthetic control and the second the units' separate imbalances. ``nu = 0`` is a separate
synthetic control per unit, ``nu = 1`` only balances the average. This is the objective of
the R package augsynth's ``multisynth`` (twice its quadratic form, the same minimiser).

The problem is a non-negative least-squares problem once the sum-to-one constraints are
written as heavily weighted rows (Lawson-Hanson, :func:`scipy.optimize.nnls`); the weights on
the support it finds are then re-solved with the constraints exact (one KKT system), and kept
when they stay non-negative and lower the objective.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

__all__ = ["NEVER_INDEX", "MultisynthWeights", "StaggeredFit", "default_nu", "fit_staggered",
           "solve_multisynth"]


@dataclass(frozen=True)
class MultisynthWeights:
    """Solution of :func:`solve_multisynth`.

    Attributes
    ----------
    weights : list of ndarray
        One simplex weight vector per treated unit, over that unit's donors.
    imbalance : list of ndarray
        ``e_j = x_j - A_j' g_j`` per unit (its own lags, oldest first).
    pooled_l2 : float
        Norm of the summed lag-aligned imbalance ``||sum_j P_j e_j||`` (augsynth's
        ``global_l2`` with one unit per group).
    separate_l2 : float
        Sum of the units' imbalance norms ``sum_j ||e_j||`` (augsynth's ``ind_l2``).
    objective : float
        The minimised objective.
    """

    weights: list[np.ndarray]
    imbalance: list[np.ndarray]
    pooled_l2: float
    separate_l2: float
    objective: float


def _design(targets: Sequence[np.ndarray], donors: Sequence[np.ndarray], nu: float,
            lam: float) -> tuple[np.ndarray, np.ndarray, list[slice]]:
    """``D`` and ``b`` with objective ``||b - D g||^2`` over the stacked weights ``g``."""
    sizes = [a.shape[0] for a in donors]
    lags = [x.size for x in targets]
    big = max(lags)
    cols = np.cumsum([0, *sizes])
    blocks = [slice(int(cols[j]), int(cols[j + 1])) for j in range(len(sizes))]
    n = int(cols[-1])
    rows = big + sum(lags) + (n if lam > 0 else 0)
    d = np.zeros((rows, n))
    b = np.zeros(rows)
    wp = np.sqrt(nu / big)
    r = big
    for j, (x, a) in enumerate(zip(targets, donors, strict=True)):
        lj = x.size
        d[big - lj:big, blocks[j]] = wp * a.T  # pooled rows, aligned on the last lag
        b[big - lj:big] += wp * x
        ws = np.sqrt((1.0 - nu) / lj)
        d[r:r + lj, blocks[j]] = ws * a.T
        b[r:r + lj] = ws * x
        r += lj
    if lam > 0:
        d[r:, :] = np.sqrt(lam) * np.eye(n)
    return d, b, blocks


def _kkt_polish(d: np.ndarray, b: np.ndarray, g: np.ndarray, blocks: list[slice]
                ) -> np.ndarray | None:
    """Least squares on the support of ``g`` with each block summing to one exactly."""
    support = np.flatnonzero(g > 0)
    if support.size == 0:
        return None
    ds = d[:, support]
    e = np.zeros((len(blocks), support.size))
    for j, blk in enumerate(blocks):
        e[j, (support >= blk.start) & (support < blk.stop)] = 1.0
    k = len(blocks)
    h = ds.T @ ds
    kkt = np.block([[h, e.T], [e, np.zeros((k, k))]])
    rhs = np.concatenate([ds.T @ b, np.ones(k)])
    try:
        sol = np.linalg.solve(kkt, rhs)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(sol)) or (sol[:support.size] < 0).any():
        return None
    out = np.zeros_like(g)
    out[support] = sol[:support.size]
    return out


def solve_multisynth(targets: Sequence[np.ndarray], donors: Sequence[np.ndarray], *,
                     nu: float, lam: float = 0.0) -> MultisynthWeights:
    """Partially pooled synthetic control weights.

    Parameters
    ----------
    targets : sequence of ndarray
        Per treated unit, its pre-adoption outcomes at the lags balanced, oldest first.
    donors : sequence of ndarray
        Per treated unit, its donors' outcomes at the same lags (donors x lags).
    nu : float
        Weight of the pooled imbalance, in ``[0, 1]``.
    lam : float
        Ridge penalty on the weights (augsynth's ``lambda``; 0 by default there too).

    Returns
    -------
    MultisynthWeights
    """
    d, b, blocks = _design(targets, donors, nu, lam)
    scale = max(float(np.abs(d).max()), float(np.abs(b).max()), 1e-12)
    big = 1e4 * scale
    k = len(blocks)
    rows = np.zeros((k, d.shape[1]))
    for j, blk in enumerate(blocks):
        rows[j, blk] = big
    g, _ = optimize.nnls(np.vstack([d, rows]), np.concatenate([b, np.full(k, big)]),
                         maxiter=50 * d.shape[1])
    for blk in blocks:  # the penalty rows leave sums within ~1e-8 of one: close them
        s = g[blk].sum()
        if s > 0:
            g[blk] /= s
    polished = _kkt_polish(d, b, g, blocks)

    def objective(w: np.ndarray) -> float:
        return float(np.sum((b - d @ w) ** 2))

    if polished is not None and objective(polished) <= objective(g) + 1e-12 * (1 + objective(g)):
        g = polished
    weights = [g[blk].copy() for blk in blocks]
    imbalance = [x - a.T @ w for x, a, w in zip(targets, donors, weights, strict=True)]
    big_lag = max(x.size for x in targets)
    pooled = np.zeros(big_lag)
    for e in imbalance:
        pooled[big_lag - e.size:] += e
    return MultisynthWeights(
        weights=weights, imbalance=imbalance, pooled_l2=float(np.linalg.norm(pooled)),
        separate_l2=float(sum(np.linalg.norm(e) for e in imbalance)), objective=objective(g))


def default_nu(targets: Sequence[np.ndarray], donors: Sequence[np.ndarray], *,
               lam: float = 0.0) -> tuple[float, MultisynthWeights]:
    """The heuristic ``nu`` of Ben-Michael, Feller and Rothstein (2022) and augsynth.

    Fit separate synthetic controls (``nu = 0``) and return the ratio of the pooled imbalance
    to the sum of the separate ones, ``||sum_j e_j|| / sum_j ||e_j||`` (in ``[0, 1]`` by the
    triangle inequality: near 0 when the separate fits' errors cancel, so little is gained by
    pooling, near 1 when they share a direction), with that separate fit.
    """
    fit = solve_multisynth(targets, donors, nu=0.0, lam=lam)
    if fit.separate_l2 <= 0:
        return 0.0, fit
    return float(min(1.0, fit.pooled_l2 / fit.separate_l2)), fit


#: Cohort index of a never-treated unit in :func:`fit_staggered`.
NEVER_INDEX = -1


@dataclass(frozen=True)
class StaggeredFit:
    """Effects of :func:`fit_staggered` by treated unit and event time.

    Attributes
    ----------
    event_times : ndarray of int
        Event times of the columns (negative: the balanced pre-adoption lags).
    unit_effects : ndarray, shape (J, E)
        Treated minus synthetic outcome per treated unit; NaN outside the unit's window.
    pooled : ndarray, shape (E,)
        Mean of ``unit_effects`` over the units observed at each event time.
    overall : float
        Mean over units of each unit's mean effect over its post-adoption window.
    nu : float
        The ``nu`` used.
    weights : list of ndarray
        Per treated unit, weights over the indices in ``donors``.
    donors : list of ndarray
        Per treated unit, the row indices of its donors.
    solution : MultisynthWeights
        The solver's output (imbalances and their norms).
    """

    event_times: np.ndarray
    unit_effects: np.ndarray
    pooled: np.ndarray
    overall: float
    nu: float
    weights: list[np.ndarray]
    donors: list[np.ndarray]
    solution: MultisynthWeights

    def statistics(self) -> np.ndarray:
        """``[overall, pooled..., unit_effects (row by row)...]`` as one vector."""
        return np.concatenate([[self.overall], self.pooled, self.unit_effects.ravel()])


def fit_staggered(y: np.ndarray, cohort: np.ndarray, treated: Sequence[int], *,
                  n_lags: int, n_leads: int, nu: float | None, lam: float = 0.0,
                  fixedeff: bool = False, not_yet: bool = True,
                  excluded: np.ndarray | None = None) -> StaggeredFit:
    """Partially pooled synthetic control of units adopting at different times.

    Parameters
    ----------
    y : ndarray, shape (n, T)
        Outcomes, units by periods (finite where used).
    cohort : ndarray of int, shape (n,)
        Index of each unit's first treated period, :data:`NEVER_INDEX` for never treated.
    treated : sequence of int
        Rows of the treated units (each with a cohort index of at least 1).
    n_lags : int
        Most pre-adoption periods balanced per unit (fewer where a unit has fewer).
    n_leads : int
        Most post-adoption periods estimated per unit (fewer where the panel ends).
    nu : float or None
        Weight of the pooled imbalance; None for the heuristic of :func:`default_nu`.
    lam : float
        Ridge penalty on the weights.
    fixedeff : bool
        Remove each unit's mean over the periods before the treated unit's adoption first
        (an intercept shift: the synthetic control matches changes, not levels).
    not_yet : bool
        Donors are the never treated and the units first treated after the unit's window;
        False: never treated only.
    excluded : ndarray of bool, optional
        Rows that may not be donors.

    Returns
    -------
    StaggeredFit
    """
    n, t_all = y.shape
    treated = [int(j) for j in treated]
    starts = cohort[treated]
    leads = np.minimum(n_leads, t_all - starts)
    lags = np.minimum(n_lags, starts)
    never = cohort == NEVER_INDEX
    ok = np.ones(n, dtype=bool) if excluded is None else ~excluded
    targets, donor_blocks, donor_rows, shifts = [], [], [], []
    for j, t0, k, ell in zip(treated, starts, leads, lags, strict=True):
        pool = never | ((cohort >= t0 + k) if not_yet else np.zeros(n, dtype=bool))
        pool &= ok
        pool[j] = False
        rows = np.flatnonzero(pool)
        shift = y[:, :t0].mean(axis=1) if fixedeff else np.zeros(n)
        targets.append(y[j, t0 - ell:t0] - shift[j])
        donor_blocks.append(y[rows, t0 - ell:t0] - shift[rows, None])
        donor_rows.append(rows)
        shifts.append(shift)
    if nu is None:
        nu, first = default_nu(targets, donor_blocks, lam=lam)
        solution = first if nu == 0.0 else solve_multisynth(targets, donor_blocks, nu=nu, lam=lam)
    else:
        solution = solve_multisynth(targets, donor_blocks, nu=float(nu), lam=lam)
    e_min, e_max = -int(lags.max()), int(leads.max()) - 1
    event_times = np.arange(e_min, e_max + 1)
    effects = np.full((len(treated), event_times.size), np.nan)
    for i, (j, t0, k, ell) in enumerate(zip(treated, starts, leads, lags, strict=True)):
        cols = np.arange(t0 - ell, t0 + k)
        rows, w, shift = donor_rows[i], solution.weights[i], shifts[i]
        gap = (y[j, cols] - shift[j]) - w @ (y[np.ix_(rows, cols)] - shift[rows, None])
        effects[i, cols - t0 - e_min] = gap
    with np.errstate(invalid="ignore"):
        pooled = np.nanmean(np.where(np.isnan(effects), np.nan, effects), axis=0)
    post = event_times >= 0
    overall = float(np.mean(np.nanmean(effects[:, post], axis=1)))
    return StaggeredFit(event_times=event_times, unit_effects=effects, pooled=pooled,
                        overall=overall, nu=float(nu), weights=solution.weights,
                        donors=donor_rows, solution=solution)
