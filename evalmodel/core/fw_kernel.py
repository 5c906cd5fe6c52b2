"""Compiled Frank-Wolfe steps for the synthetic DiD weights (see :mod:`.sdid_solver`).

The same algorithm as :func:`evalmodel.core.sdid_solver.frank_wolfe`, step for step: an
exact line search towards the vertex with the smallest gradient entry, the half gradient and the
residual updated in O(n + m) per step from the Gram matrix, and a stop once a step lowers the
objective by no more than ``min_decrease**2``. Each problem of a batch runs to its own stop in
its own thread, so the thousands of steps cost no Python overhead.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from evalmodel.core.jit import njit

__all__ = ["frank_wolfe_batch"]


@njit(fastmath=False)
def _support(x: np.ndarray, supp: np.ndarray) -> int:
    """Write the columns with ``x != 0`` into ``supp`` in increasing order; return how many."""
    ns = 0
    for k in range(x.shape[0]):
        if x[k] != 0.0:
            supp[ns] = k
            ns += 1
    return ns


@njit(fastmath=False)
def _solve_one(a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: float, zeta2: float,
               n_rows: float, tol: float, max_iter: int, mask: np.ndarray) -> None:
    """Run Frank-Wolfe on one problem, updating ``x`` in place.

    ``g'x`` is summed over the support of ``x`` only (kept in increasing column order): the
    terms left out are exact zeros, so the sum, and every weight, is the same to the last bit
    as the sum over all columns, at a fraction of its cost once the weights are sparse.
    """
    n, m = a.shape
    at = np.ascontiguousarray(a.T)
    gram = at @ a
    atb = at @ b
    resid = a @ x - b
    g = at @ resid + eta * x
    xx = 0.0
    for k in range(m):
        xx += x[k] * x[k]
    supp = np.empty(m, dtype=np.int64)  # the columns with x != 0, in increasing order
    ns = _support(x, supp)
    prev = 0.0
    for it in range(max_iter):
        j = -1
        best = np.inf
        for k in range(m):
            if mask[k] and g[k] < best:
                best = g[k]
                j = k
        if j < 0:
            return
        x_j, g_j = x[j], g[j]
        gx = 0.0
        for i in range(ns):
            gx += g[supp[i]] * x[supp[i]]
        dd = 0.0
        for r in range(n):
            e = at[j, r] - b[r] - resid[r]
            dd += e * e
        denom = dd + eta * (xx - 2.0 * x_j + 1.0)
        step = -(g_j - gx) / denom if denom > 0 else 0.0
        step = min(max(step, 0.0), 1.0)
        keep = 1.0 - step
        xx = keep * keep * xx + 2.0 * step * keep * x_j + step * step
        for k in range(m):
            x[k] *= keep
            g[k] = keep * g[k] + step * (gram[j, k] - atb[k])
        x[j] += step
        g[j] += eta * step
        if keep == 0.0 or (x_j == 0.0 and x[j] != 0.0):  # the support changed
            ns = _support(x, supp)
        ss = 0.0
        for r in range(n):
            resid[r] = keep * resid[r] + step * (at[j, r] - b[r])
            ss += resid[r] * resid[r]
        val = zeta2 * xx + ss / n_rows
        if it >= 1 and not prev - val > tol:
            return
        prev = val


@njit(parallel=True)
def _solve_batch(a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: np.ndarray,
                 zeta2: np.ndarray, n_rows: np.ndarray, tol: np.ndarray, max_iter: int,
                 mask: np.ndarray) -> None:
    for p in prange(a.shape[0]):
        _solve_one(a[p], b[p], x[p], eta[p], zeta2[p], n_rows[p], tol[p], max_iter, mask[p])


def frank_wolfe_batch(a: np.ndarray, b: np.ndarray, x0: np.ndarray, *, zeta: np.ndarray,
                      n_rows: np.ndarray, min_decrease: np.ndarray, max_iter: int,
                      col_mask: np.ndarray | None) -> np.ndarray:
    """Solve a batch of problems (arguments as :func:`.sdid_solver.frank_wolfe`)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    x = np.array(x0, dtype=np.float64, copy=True, order="C")
    zeta = np.asarray(zeta, dtype=np.float64)
    n_rows = np.asarray(n_rows, dtype=np.float64)
    mask = (np.ones(x.shape, dtype=np.bool_) if col_mask is None
            else np.ascontiguousarray(col_mask, dtype=np.bool_))
    tol = np.asarray(min_decrease, dtype=np.float64) ** 2
    _solve_batch(a, b, x, n_rows * zeta**2, zeta**2, n_rows, tol, int(max_iter), mask)
    return x
