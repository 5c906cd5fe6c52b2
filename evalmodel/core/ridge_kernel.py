"""Held-out ridge predictions of many units over a penalty grid, compiled when possible.

The cross-validation of the augmented synthetic control's placebos
(:mod:`evalmodel.core.ascm_placebo`) needs, for every unit ``j`` and every fold, the ridge
prediction of a held-out period over a grid of penalties,

.. math::

    \\hat r_j(\\lambda) = k_j' (K_j + \\lambda I)^{-1} r_j,

with :math:`K_j` the unit's pool cross-products over the fold's columns, :math:`k_j` their
column of the held-out period and :math:`r_j` the unit's synthetic-control residual. One
symmetric eigen-decomposition per unit and fold gives every penalty at once; so does a
Householder reduction of :math:`K_j` to tridiagonal form :math:`Q' K_j Q = T`, with :math:`Q`
applied to :math:`k_j` and :math:`r_j`, after which each penalty is one tridiagonal solve
(:math:`T + \\lambda I` is symmetric positive definite for :math:`\\lambda > 0`, so no pivoting
is needed). The reduction costs a fraction of the decomposition and runs compiled over all
units in one call. The numbers equal the eigen-decomposition's to rounding (about 1e-13
relative, tested), not bit for bit.

The same Python function runs compiled by numba (:mod:`evalmodel.core.jit`) or as plain
Python when numba is missing or ``EVALMODEL_NUMBA=0``.
"""

from __future__ import annotations

import numpy as np

from evalmodel.core.jit import njit, use_numba

__all__ = ["ridge_predictions"]


def _predictions(k: np.ndarray, keep: np.ndarray, t: int, resid: np.ndarray,
                 grids: np.ndarray) -> np.ndarray:
    units = k.shape[0]
    n = keep.size
    g = grids.shape[1]
    out = np.zeros((units, g))
    a = np.empty((n, n))
    x = np.empty(n)
    y = np.empty(n)
    v = np.empty(n)
    p = np.empty(n)
    d = np.empty(n)
    e = np.zeros(n)
    c = np.empty((n, g))
    z = np.empty((n, g))
    for j in range(units):
        for r in range(n):
            x[r] = resid[j, keep[r]]
            y[r] = k[j, t, keep[r]]
            for s in range(n):
                a[r, s] = k[j, keep[r], keep[s]]
        # Householder reduction to tridiagonal form, Q applied to x and y on the way
        for col in range(n - 2):
            norm = 0.0
            for r in range(col + 1, n):
                norm += a[r, col] * a[r, col]
            norm = np.sqrt(norm)
            if norm == 0.0:
                continue
            alpha = -norm if a[col + 1, col] >= 0.0 else norm
            vv = 0.0
            for r in range(col + 1, n):
                v[r] = a[r, col]
            v[col + 1] -= alpha
            for r in range(col + 1, n):
                vv += v[r] * v[r]
            if vv == 0.0:
                continue
            scale = 1.0 / np.sqrt(vv)
            for r in range(col + 1, n):
                v[r] *= scale
            vp = 0.0
            for r in range(col + 1, n):
                acc = 0.0
                for s in range(col + 1, n):
                    acc += a[r, s] * v[s]
                p[r] = 2.0 * acc
                vp += v[r] * acc
            for r in range(col + 1, n):
                p[r] -= 2.0 * vp * v[r]  # w = 2 A v - 2 (v'Av) v
            for r in range(col + 1, n):
                for s in range(col + 1, n):
                    a[r, s] -= v[r] * p[s] + p[r] * v[s]
            a[col + 1, col] = alpha
            a[col, col + 1] = alpha
            for r in range(col + 2, n):
                a[r, col] = 0.0
                a[col, r] = 0.0
            vx, vy = 0.0, 0.0
            for r in range(col + 1, n):
                vx += v[r] * x[r]
                vy += v[r] * y[r]
            for r in range(col + 1, n):
                x[r] -= 2.0 * vx * v[r]
                y[r] -= 2.0 * vy * v[r]
        for r in range(n):
            d[r] = a[r, r]
            e[r] = a[r + 1, r] if r + 1 < n else 0.0
        # Thomas algorithm for (T + lam I) z = x, every penalty at once: row r of c and z
        # holds that step of each penalty's elimination (the same operations per penalty as
        # one solve after another, so the same numbers, in independent chains the processor
        # overlaps instead of waiting on each division)
        for q in range(g):
            m = d[0] + grids[j, q]
            c[0, q] = e[0] / m
            z[0, q] = x[0] / m
        for r in range(1, n):
            for q in range(g):
                m = d[r] + grids[j, q] - e[r - 1] * c[r - 1, q]
                c[r, q] = e[r] / m
                z[r, q] = (x[r] - e[r - 1] * z[r - 1, q]) / m
        for r in range(n - 2, -1, -1):
            for q in range(g):
                z[r, q] -= c[r, q] * z[r + 1, q]
        for q in range(g):
            out[j, q] = 0.0
        for r in range(n):
            for q in range(g):
                out[j, q] += y[r] * z[r, q]
    return out


if use_numba():
    _predictions = njit()(_predictions)


def ridge_predictions(k: np.ndarray, keep: np.ndarray, t: int, resid: np.ndarray,
                      grids: np.ndarray) -> np.ndarray:
    """Each unit's ridge prediction of column ``t`` from the columns ``keep``, per penalty.

    Parameters
    ----------
    k : ndarray, shape (J, T, T)
        Each unit's pool cross-products over all columns (symmetric).
    keep : ndarray of int
        The fold's fitted columns (at least 1).
    t : int
        The held-out column.
    resid : ndarray, shape (J, T)
        Each unit's synthetic-control residual.
    grids : ndarray, shape (J, G)
        Each unit's penalties (positive).

    Returns
    -------
    ndarray, shape (J, G)
        ``k[j, t, keep] @ inv(k[j][keep, keep] + grids[j, g] I) @ resid[j, keep]``.
    """
    return np.asarray(_predictions(np.ascontiguousarray(k, dtype=np.float64),
                                   np.ascontiguousarray(keep, dtype=np.int64), int(t),
                                   np.ascontiguousarray(resid, dtype=np.float64),
                                   np.ascontiguousarray(grids, dtype=np.float64)))
