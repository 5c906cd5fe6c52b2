"""Compiled Frank-Wolfe steps for the synthetic DiD weights (see :mod:`.sdid_solver`).

The same algorithm as :func:`evalmodel.core.sdid_solver.frank_wolfe`, step for step: an
exact line search towards the vertex with the smallest gradient entry, the half gradient and the
residual updated in O(n + m) per step from the Gram matrix, and a stop once a step lowers the
objective by no more than ``min_decrease**2``. Each problem of a batch runs to its own stop in
its own thread, so the thousands of steps cost no Python overhead.

Each step does the arithmetic of the plain loop (``test_sdid.py`` holds it in Python and checks
the weights to the last bit), arranged to cost less:

- the next vertex is found through integer keys (the bits of a double, the negative ones
  flipped, order as the doubles do). Their minimum is taken in the same pass over the columns
  that updates ``x`` and ``g`` (column ``j``, updated once more after that pass, is left out
  of it and added after), and a second pass finds the first column holding it; both compile
  to vector instructions, with no branch per column. Where the keys and the comparison ``<``
  of doubles could disagree (a minimum of zero, of either sign; a NaN; no allowed column below
  infinity) the plain scan decides;
- ``G_k - A'b`` is stored once per problem (row ``k``: the change of ``g`` towards vertex
  ``k``), the same subtraction as in the plain loop, so the same bits;
- the support's column numbers are unsigned, so reading ``g`` and ``x`` through them needs no
  check for negative indices (``g'x`` over the support is a chain of dependent additions and
  the longest wait of a step);
- the residual update, its sum of squares and the squared distance to the next vertex
  (``|A e_j - A x|^2``) share one pass over the rows, with ``A e_k - b`` stored once.

Issue 16 measured these on the report's replayed problems (``benchmarks/bench_sdid.py``).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import prange
from numba.core import types
from numba.extending import intrinsic

from evalmodel.core.jit import njit

__all__ = ["frank_wolfe_batch"]


@njit(fastmath=False)
def _support(x: np.ndarray, supp: np.ndarray) -> int:
    """Write the columns with ``x != 0`` into ``supp`` in increasing order; return how many."""
    ns = 0
    for k in range(x.shape[0]):
        if x[k] != 0.0:
            supp[ns] = np.uint64(k)
            ns += 1
    return ns


#: The largest int64: the key of a column that may not be chosen.
_KEY_MAX = np.int64(0x7FFF_FFFF_FFFF_FFFF)
#: Columns scanned together for their smallest key.
_CHUNK = 32


@njit(fastmath=False)
def _first_min_scan(g: np.ndarray, mask: np.ndarray) -> int:
    """The first column ``k`` with ``mask[k]`` and the smallest ``g[k] < inf``; -1 if none."""
    j = -1
    best = np.inf
    for k in range(g.shape[0]):
        if mask[k] and g[k] < best:
            best = g[k]
            j = k
    return j


@njit(fastmath=False)
def _first_min(g: np.ndarray, bits: np.ndarray, allowed: np.ndarray, mask: np.ndarray) -> int:
    """:func:`_first_min_scan`'s column, found through integer keys.

    ``bits`` is ``g`` viewed as int64, ``allowed`` is ``-2**63`` on the columns that may be
    chosen and ``2**63 - 1`` elsewhere. ``key = bits ^ ((bits >> 63) & (2**63 - 1))`` orders
    as the doubles do, except that -0.0 comes before +0.0 and NaNs sort to the ends: those
    cases (and no allowed column below infinity) go to the plain scan.
    """
    m = g.shape[0]
    best = _KEY_MAX
    chunk = -1
    c0 = 0
    while c0 + _CHUNK <= m:
        lo = _KEY_MAX
        for k in range(c0, c0 + _CHUNK):  # a fixed length: compiled to vector instructions
            b = bits[k]
            lo = min(lo, max(b ^ ((b >> 63) & _KEY_MAX), allowed[k]))
        if lo < best:
            best = lo
            chunk = c0
        c0 += _CHUNK
    lo = _KEY_MAX
    for k in range(c0, m):
        b = bits[k]
        lo = min(lo, max(b ^ ((b >> 63) & _KEY_MAX), allowed[k]))
    if lo < best:
        best = lo
        chunk = c0
    if chunk >= 0:
        for k in range(chunk, m):
            b = bits[k]
            if max(b ^ ((b >> 63) & _KEY_MAX), allowed[k]) == best:
                v = g[k]
                if v == v and v != 0.0 and v != np.inf:
                    return k
                break
    return _first_min_scan(g, mask)


@intrinsic
def _bits_of(typingctx, v):  # type: ignore[no-untyped-def]
    """The bits of a float64 as an int64 (a reinterpretation, no conversion)."""
    if not (isinstance(v, types.Float) and v.bitwidth == 64):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@njit(fastmath=False, inline="always")
def _key(v: float, allowed: int) -> int:
    """The integer key of ``v`` (ordered as the doubles), or ``allowed`` if larger."""
    b: int = _bits_of(v)  # type: ignore[call-arg]
    return max(b ^ ((b >> 63) & _KEY_MAX), allowed)


@njit(fastmath=False, inline="always")
def _update(x: np.ndarray, g: np.ndarray, cj: np.ndarray, allowed: np.ndarray, keep: float,
            step: float) -> int:
    """``x`` and ``g`` scaled and moved; the smallest key returned."""
    best: int = _KEY_MAX  # type: ignore[assignment]
    for k in range(x.shape[0]):
        x[k] *= keep
        v = keep * g[k] + step * cj[k]
        g[k] = v
        best = min(best, _key(v, allowed[k]))
    return best


@njit(fastmath=False, inline="always")
def _index_of(g: np.ndarray, allowed: np.ndarray, best: int) -> int:
    """The first column whose key is ``best`` (the number of columns if none)."""
    m = g.shape[0]
    k = m
    for kk in range(m):
        k = min(k, kk if _key(g[kk], allowed[kk]) == best else m)
    return k


@njit(fastmath=False, inline="always")
def _first_at(g: np.ndarray, allowed: np.ndarray, mask: np.ndarray, best: int) -> int:
    """The plain scan's vertex, given the smallest key ``best`` of the allowed columns."""
    m = g.shape[0]
    if best != _KEY_MAX:
        k = _index_of(g, allowed, best)
        if k < m:
            v = g[k]
            if v == v and v != 0.0 and v != np.inf and mask[k]:
                return k
    return _first_min_scan(g, mask)


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
    amb = np.empty((m, n))  # row k: column k of A minus b
    for k in range(m):
        for r in range(n):
            amb[k, r] = at[k, r] - b[r]
    bits = g.view(np.int64)
    c = np.empty((m, m))  # row k: G_k - A'b, the change of g towards vertex k
    for k in range(m):
        for kk in range(m):
            c[k, kk] = gram[k, kk] - atb[kk]
    allowed = np.empty(m, dtype=np.int64)
    for k in range(m):
        allowed[k] = -_KEY_MAX - 1 if mask[k] else _KEY_MAX
    xx = 0.0
    for k in range(m):
        xx += x[k] * x[k]
    supp = np.empty(m, dtype=np.uint64)  # the columns with x != 0, in increasing order
    ns = _support(x, supp)
    if max_iter <= 0:
        return
    j = _first_min(g, bits, allowed, mask)
    if j < 0:
        return
    dd = 0.0  # |A e_j - A x|^2 for the vertex j of this step
    for r in range(n):
        e = amb[j, r] - resid[r]
        dd += e * e
    prev = 0.0
    for it in range(max_iter):
        x_j, g_j = x[j], g[j]
        gx = 0.0
        for i in range(ns):
            gx += g[supp[i]] * x[supp[i]]
        denom = dd + eta * (xx - 2.0 * x_j + 1.0)
        step = -(g_j - gx) / denom if denom > 0 else 0.0
        step = min(max(step, 0.0), 1.0)
        keep = 1.0 - step
        xx = keep * keep * xx + 2.0 * step * keep * x_j + step * step
        cj = c[j]
        al_j = allowed[j]
        allowed[j] = _KEY_MAX  # g_j changes once more below
        best = _update(x, g, cj, allowed, keep, step)
        allowed[j] = al_j
        x[j] += step
        g[j] += eta * step
        best = min(best, _key(g[j], al_j))
        if keep == 0.0 or (x_j == 0.0 and x[j] != 0.0):  # the support changed
            ns = _support(x, supp)
        nxt = _first_at(g, allowed, mask, best)  # the next step's vertex
        ss = 0.0
        dd = 0.0
        if nxt >= 0:
            for r in range(n):
                res = keep * resid[r] + step * amb[j, r]
                resid[r] = res
                ss += res * res
                e = amb[nxt, r] - res
                dd += e * e
        else:
            for r in range(n):
                res = keep * resid[r] + step * amb[j, r]
                resid[r] = res
                ss += res * res
        val = zeta2 * xx + ss / n_rows
        if (it >= 1 and not prev - val > tol) or nxt < 0:
            return
        prev = val
        j = nxt


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
