"""Compiled Frank-Wolfe steps for the synthetic DiD weights (see :mod:`.sdid_solver`).

The algorithm is the R package synthdid's, step for step, as in
:func:`evalmodel.core.sdid_solver.frank_wolfe`: the vertex is the first column with the
smallest gradient entry (among the columns the mask allows), the step is the exact line
search towards it, the half gradient and the residual are updated in O(n + m) per step from
the Gram matrix, and the run stops once a step lowers the objective by no more than
``min_decrease**2`` (or after ``max_iter`` steps). Each problem of a batch runs to its own
stop in its own thread, so the thousands of steps cost no Python overhead.

**What is guaranteed.** Every multiplication and addition of a step is the one the plain
loop does, except the order of the additions in the three sums of a step: ``g'x`` (over all
columns), ``|A x - b|^2`` and ``|A e_j - A x|^2`` (over the rows). Those are fixed-order sums
(:mod:`.fw_passes`: 16 partial sums combined in a fixed tree), compiled without ``fastmath``,
so

- the weights are **deterministic**: the same problem gives the same bits every time, alone
  or in any batch, with any number of threads, whatever vector instructions the machine has;
- they agree with the plain sequential loop (the same steps summing one term after another,
  ``test_sdid.py``) to about 1e-13, and with the R package's steps through the peer package
  ``synthdid`` to the tolerances of the peer tests (1e-8 estimates and weights);
- the products that set a problem up (``A'A``, ``A'b``, ``A x``, ``A'r``) are numba's matrix
  products, that is BLAS: their order of addition is the BLAS library's, fixed for one
  machine and library.

**Why it is fast.** Per step, the time went into chains of dependent additions (``g'x`` over
the support: 160 additions waiting on each other for the unit weights of a municipality case;
``|r|^2`` over 285 rows for the time weights) and into passes that read back what the previous
pass had just written. Now one pass over the columns updates ``x`` and ``g``, sums ``g'x`` and
finds the next vertex (tracked per lane as it goes), and one pass over the rows updates the
residual and sums both squared norms (``benchmarks/bench_sdid.py`` measures it).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from evalmodel.core.fw_passes import COLUMN_BLOCK, LANES, column_pass, dist, dot, row_pass
from evalmodel.core.jit import njit

__all__ = ["frank_wolfe_batch"]


@njit(fastmath=False)
def _solve_one(a: np.ndarray, b: np.ndarray, x_out: np.ndarray, eta: float, zeta2: float,
               n_rows: float, tol: float, max_iter: int, mask: np.ndarray) -> None:
    """Run Frank-Wolfe on one problem, updating ``x_out`` in place.

    The columns are padded with zeros to a multiple of 32 and the rows to a multiple of 16:
    padded weights and gradients stay exact zeros, are never chosen and add exact zeros to the
    sums.
    """
    n, m = a.shape
    mp = (m + COLUMN_BLOCK - 1) // COLUMN_BLOCK * COLUMN_BLOCK
    n16 = (n + LANES - 1) // LANES * LANES
    at = np.ascontiguousarray(a.T)
    gram = at @ a
    atb = at @ b
    resid = np.zeros(n16)
    resid[:n] = a @ x_out - b
    x = np.zeros(mp)
    x[:m] = x_out
    g = np.zeros(mp)
    g[:m] = at @ resid[:n] + eta * x_out
    amb = np.zeros((m + 1, n16))  # row k: column k of A minus b (row m: zeros)
    for k in range(m):
        for r in range(n):
            amb[k, r] = at[k, r] - b[r]
    c = np.zeros((m + 1, mp))  # row k: G_k - A'b, the change of g towards vertex k (m: none)
    for k in range(m):
        for kk in range(m):
            c[k, kk] = gram[k, kk] - atb[kk]
    gate = np.full(mp, np.inf)  # 0 on the columns that may be chosen
    for k in range(m):
        if mask[k]:
            gate[k] = 0.0
    if max_iter <= 0:
        return
    # the first vertex: a pass that changes nothing (keep 1, step 0 towards the zero row)
    j: int
    x_j: float
    g_j: float
    gx: float
    j, x_j, g_j, gx = column_pass(x, g, c[m], gate, 1.0, 0.0, 0.0, -1)  # type: ignore[call-arg]
    if j < 0:
        return
    xx = dot(x, x)
    dd = dist(amb[j], resid)  # |A e_j - A x|^2 for the vertex j of this step
    prev = 0.0
    for it in range(max_iter):
        denom = dd + eta * (xx - 2.0 * x_j + 1.0)
        step = -(g_j - gx) / denom if denom > 0 else 0.0
        step = min(max(step, 0.0), 1.0)
        keep = 1.0 - step
        xx = keep * keep * xx + 2.0 * step * keep * x_j + step * step
        nxt, x_n, g_n, gx = column_pass(x, g, c[j], gate, keep, step, eta * step, j)
        ss, dd = row_pass(resid, amb[j], amb[nxt if nxt >= 0 else m], keep, step)
        val = zeta2 * xx + ss / n_rows
        if (it >= 1 and not prev - val > tol) or nxt < 0:
            break
        prev = val
        j, x_j, g_j = nxt, x_n, g_n
    x_out[:] = x[:m]


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
