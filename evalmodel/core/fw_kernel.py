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
  machine and library;
- the recipe's two rounds run in one call (``first_iter``): each problem is set up once
  (``A'A`` and what follows from it, :func:`_set_up`) for both, and sparsified in between
  with numpy's arithmetic (:func:`_sparsify`, its row sum in numpy's pairwise order), so the
  weights are those of two calls with :func:`.sdid_solver.sparsify` between them, bit for bit.

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
def _set_up(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What one problem's rounds share, whatever their starting weights.

    ``at``: ``A'``; ``amb`` (m + 1, n16): row ``k`` is column ``k`` of ``A`` minus ``b`` (row
    ``m`` and the padding zero); ``c`` (m + 1, mp): row ``k`` is ``G_k - A'b``, the change of
    the half gradient towards vertex ``k`` (row ``m`` and the padding zero), with ``G = A'A``
    numba's matrix product (BLAS). Computed once per problem, not once per round.
    """
    n, m = a.shape
    mp = (m + COLUMN_BLOCK - 1) // COLUMN_BLOCK * COLUMN_BLOCK
    n16 = (n + LANES - 1) // LANES * LANES
    at = np.ascontiguousarray(a.T)
    gram = at @ a
    atb = at @ b
    amb = np.zeros((m + 1, n16))
    for k in range(m):
        for r in range(n):
            amb[k, r] = at[k, r] - b[r]
    c = np.zeros((m + 1, mp))
    for k in range(m):
        for kk in range(m):
            c[k, kk] = gram[k, kk] - atb[kk]
    return at, amb, c


@njit(fastmath=False)
def _block_sum(x: np.ndarray, lo: int, n: int) -> float:
    """``x[lo:lo + n]``, ``n <= 128``, summed as numpy sums a block of a row (one term after
    another below 8 terms, else 8 accumulators combined in a fixed tree, then the rest)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += x[i]
        return res
    r = x[lo:lo + 8].copy()
    i = 8
    while i < n - (n % 8):
        for k in range(8):
            r[k] += x[lo + i + k]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += x[lo + i]
        i += 1
    return res


@njit(fastmath=False)
def _pairwise_sum(x: np.ndarray) -> float:
    """``x`` summed in numpy's order for a row: halves (the first a multiple of 8 long) summed
    apart down to blocks of at most 128 (:func:`_block_sum`), so that :func:`_sparsify` is
    :func:`.sdid_solver.sparsify`. The halving runs on a stack, not by recursion (numba's cache
    does not load recursive functions reliably)."""
    if x.shape[0] <= 128:
        return _block_sum(x, 0, x.shape[0])
    los = np.zeros(64, dtype=np.int64)  # pending halves: start, length, what is done of them
    ns = np.zeros(64, dtype=np.int64)
    stage = np.zeros(64, dtype=np.int64)
    vals = np.zeros(64)  # sums of finished halves, in order
    ns[0] = x.shape[0]
    top, nv = 0, 0
    while top >= 0:
        lo, n = los[top], ns[top]
        if n <= 128:
            vals[nv] = _block_sum(x, lo, n)
            nv += 1
            top -= 1
            continue
        n2 = n // 2
        n2 -= n2 % 8
        if stage[top] == 2:  # both halves done: their sum replaces them
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            top -= 1
            continue
        first = stage[top] == 0
        stage[top] += 1
        top += 1
        los[top], ns[top], stage[top] = (lo, n2, 0) if first else (lo + n2, n - n2, 0)
    return vals[0]


@njit(fastmath=False)
def _sparsify(x: np.ndarray) -> None:
    """:func:`.sdid_solver.sparsify` of one row, in place and to the bit."""
    m = x.shape[0]
    top = x[0]
    for k in range(1, m):
        top = max(top, x[k])
    cut = top / 4
    for k in range(m):
        if x[k] <= cut:
            x[k] = 0.0
    total = 0.0 + _pairwise_sum(x)
    for k in range(m):
        x[k] = x[k] / total if total > 0 else 0.0


@njit(fastmath=False)
def _solve_one(a: np.ndarray, b: np.ndarray, at: np.ndarray, amb: np.ndarray, c: np.ndarray,
               x_out: np.ndarray, eta: float, zeta2: float, n_rows: float, tol: float,
               max_iter: int, mask: np.ndarray) -> None:
    """Run Frank-Wolfe on one problem set up by :func:`_set_up`, updating ``x_out`` in place.

    The columns are padded with zeros to a multiple of 32 and the rows to a multiple of 16:
    padded weights and gradients stay exact zeros, are never chosen and add exact zeros to the
    sums.
    """
    n, m = a.shape
    mp = c.shape[1]
    resid = np.zeros(amb.shape[1])
    resid[:n] = a @ x_out - b
    x = np.zeros(mp)
    x[:m] = x_out
    g = np.zeros(mp)
    g[:m] = at @ resid[:n] + eta * x_out
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


@njit(fastmath=False)
def _rounds(a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: float, zeta2: float,
            n_rows: float, tol: float, first_iter: int, max_iter: int, mask: np.ndarray) -> None:
    """One problem: ``first_iter`` steps and :func:`_sparsify` (when ``first_iter > 0``), then
    ``max_iter`` steps, all on one :func:`_set_up`."""
    at, amb, c = _set_up(a, b)
    if first_iter > 0:
        _solve_one(a, b, at, amb, c, x, eta, zeta2, n_rows, tol, first_iter, mask)
        _sparsify(x)
    _solve_one(a, b, at, amb, c, x, eta, zeta2, n_rows, tol, max_iter, mask)


@njit(parallel=True)
def _solve_batch(a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: np.ndarray,
                 zeta2: np.ndarray, n_rows: np.ndarray, tol: np.ndarray, first_iter: int,
                 max_iter: int, mask: np.ndarray) -> None:
    for p in prange(a.shape[0]):
        _rounds(a[p], b[p], x[p], eta[p], zeta2[p], n_rows[p], tol[p], first_iter, max_iter,
                mask[p])


def frank_wolfe_batch(a: np.ndarray, b: np.ndarray, x0: np.ndarray, *, zeta: np.ndarray,
                      n_rows: np.ndarray, min_decrease: np.ndarray, max_iter: int,
                      col_mask: np.ndarray | None, first_iter: int = 0) -> np.ndarray:
    """Solve a batch of problems (arguments as :func:`.sdid_solver.frank_wolfe`).

    With ``first_iter > 0``, the synthdid recipe's two rounds: ``first_iter`` steps, then
    :func:`.sdid_solver.sparsify` (here the same arithmetic, compiled), then ``max_iter``
    steps from there; the same weights bit for bit as two calls with :func:`.sparsify`
    between them, but ``A'A`` and what follows from it are computed once per problem.
    """
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    x = np.array(x0, dtype=np.float64, copy=True, order="C")
    zeta = np.asarray(zeta, dtype=np.float64)
    n_rows = np.asarray(n_rows, dtype=np.float64)
    mask = (np.ones(x.shape, dtype=np.bool_) if col_mask is None
            else np.ascontiguousarray(col_mask, dtype=np.bool_))
    tol = np.asarray(min_decrease, dtype=np.float64) ** 2
    _solve_batch(a, b, x, n_rows * zeta**2, zeta**2, n_rows, tol, int(first_iter),
                 int(max_iter), mask)
    return x
