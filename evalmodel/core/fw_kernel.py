"""Compiled Frank-Wolfe steps for the synthetic DiD weights (see :mod:`.sdid_solver`).

The algorithm is the R package synthdid's, step for step, as in
:func:`evalmodel.core.sdid_solver.frank_wolfe`: the vertex is the first column with the
smallest gradient entry (among the columns the mask allows), the step is the exact line
search towards it, the half gradient and the residual are updated in O(n + m) per step from
the Gram matrix, and the run stops once a step lowers the objective by no more than
``min_decrease**2`` (or after ``max_iter`` steps).

**The arithmetic of a step** (:func:`_plan` and the passes of :mod:`.fw_passes`). The
weights ``x`` and the half gradient ``g = A'(A x - b) + eta x`` are kept **scaled**, as
``x = s * xt`` and ``g = s * gt`` with one number ``s``: a step ``x <- keep * x + step * e_j``
multiplies ``s`` by ``keep`` and adds ``alpha = step / s`` to ``xt[j]`` and ``alpha`` times
row ``j`` of ``C = A'A - 1 (A'b)' + eta I`` to ``gt``, so the pass over the columns writes
one array, not two, and multiplies nothing by ``keep``. The vertex is the first smallest
entry of ``gt`` (``s > 0``); a column that may not be chosen holds
:data:`~.fw_passes.CLOSED` in ``gt`` and zeros in ``C``, so no mask is read. When ``s``
would fall below ``rescale_below`` (or to 0, a step onto a vertex) ``x`` and ``g`` are
written out in full and ``s`` starts again at 1. ``g'x`` comes from the rows, as
``r'(r + b) + eta |x|^2`` with the residual ``r = A x - b`` (the gradient's own identity),
``|x|^2`` by its O(1) update, and the three row sums ``|r|^2``, ``|A e_j - A x|^2`` and
``r'b`` in one pass over the rows. Every sum is a fixed-order sum (:mod:`.fw_passes`: 16
partial sums combined in a fixed tree), compiled without ``fastmath``.

**Two problems at a time.** A step waits on the step before it (its vertex, its step
length), and those waits, not the additions, took most of a step's time. Each thread
therefore runs two problems of its share of the batch side by side: one pass over the
columns and one over the rows serve both (:func:`_pair`), so that the additions of one fill
the waits of the other; when one stops, the next problem of the share takes its place, and
the last one runs alone (:func:`_alone`). A problem's arithmetic does not depend on its
partner, its place or the thread, so

- the weights are **deterministic**: the same problem gives the same bits every time, alone
  or in any batch, with any number of threads, whatever vector instructions the machine has;
- they agree with the plain sequential loop (``test_sdid.py``: the same steps unscaled, each
  sum one term after another) to about 1e-13, and with the R package's steps through the
  peer package ``synthdid`` to the tolerances of the peer tests (1e-8 estimates and weights);
  ``test_sdid.py`` also replays the kernel's own arithmetic in plain Python, bit for bit;
- the products that set a problem up (``A'A``, ``A'b``, ``A x``, ``A'r``) are numba's matrix
  products, that is BLAS: their order of addition is the BLAS library's, fixed for one
  machine and library;
- the recipe's two rounds run in one call (``first_iter``): each problem is set up once
  (:func:`_set_up`) for both, and sparsified in between with numpy's arithmetic
  (:func:`_sparsify`, its row sum in numpy's pairwise order), so the weights are those of two
  calls with :func:`.sdid_solver.sparsify` between them, bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from evalmodel.core.fw_passes import (
    CLOSED,
    COLUMN_BLOCK,
    LANES,
    dist,
    dot,
    row_pass,
    shift_pass,
)
from evalmodel.core.jit import njit

__all__ = ["RESCALE_BELOW", "frank_wolfe_batch"]

#: ``x`` and ``g`` are written out in full when their scale would fall below this.
RESCALE_BELOW = 1e-100
#: Problems a thread runs side by side.
_SLOTS = 2
# the numbers of a running problem (columns of the work space's ``state``): x_j, g_j, |x|^2,
# |A e_j - A x|^2, g'x, the scale s, the objective after the previous step
_XJ, _GJ, _XX, _DD, _GX, _S, _PREV = range(7)
# the integers of a slot (columns of ``ints``): vertex (-1: no round running), step count,
# step limit, problem, round (0 none, 1 before sparsifying, 2 after)
_J, _IT, _LIM, _P, _ROUND = range(5)


@njit(fastmath=False)
def _set_up(a: np.ndarray, b: np.ndarray, mask: np.ndarray, eta: float, at: np.ndarray,
            amb: np.ndarray, c: np.ndarray, bp: np.ndarray) -> None:
    """What one problem's rounds share, whatever their starting weights, written into a slot.

    ``at``: ``A'``; ``amb`` (m + 1, n16): row ``k`` is column ``k`` of ``A`` minus ``b`` (row
    ``m`` and the padding zero); ``c`` (m + 1, mp): row ``k`` is the change of the half
    gradient towards vertex ``k`` per unit of step, ``G_k - A'b + eta e_k`` with ``G = A'A``
    numba's matrix product (BLAS), zero in the columns that may not be chosen (row ``m`` and
    the padding zero); ``bp``: ``b`` padded with zeros.
    """
    n, m = a.shape
    at[:, :] = a.T
    gram = at @ a
    atb = at @ b
    amb[:, :] = 0.0
    c[:, :] = 0.0
    bp[:] = 0.0
    bp[:n] = b
    for k in range(m):
        for r in range(n):
            amb[k, r] = at[k, r] - b[r]
        for kk in range(m):
            if mask[kk]:
                c[k, kk] = gram[k, kk] - atb[kk]
        if mask[k]:
            c[k, k] += eta


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
def _plan(x_j: float, g_j: float, xx: float, dd: float, gx: float, s: float, eta: float,
          rescale_below: float) -> tuple[float, float, float, float, float, bool]:
    """The step towards vertex ``j``: its length and ``keep = 1 - step``, the new ``|x|^2``
    and scale, ``alpha`` (the step in the scaled weights) and whether to rescale first."""
    denom = dd + eta * (xx - 2.0 * x_j + 1.0)
    step = -(g_j - gx) / denom if denom > 0 else 0.0
    step = min(max(step, 0.0), 1.0)
    keep = 1.0 - step
    xx = keep * keep * xx + 2.0 * step * keep * x_j + step * step
    s_new = keep * s
    if s_new < rescale_below:
        return step, keep, xx, s_new, step, True
    return step, keep, xx, s_new, step / s_new, False


@njit(fastmath=False)
def _rescale(xt: np.ndarray, gt: np.ndarray, mask: np.ndarray, factor: float) -> None:
    """``x`` and ``g`` written out at scale ``factor`` (the scale becomes 1)."""
    for k in range(mask.shape[0]):
        xt[k] *= factor
        if mask[k]:
            gt[k] *= factor


@njit(fastmath=False)
def _work_space(a: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays of a thread's slots, a leading slot axis (``amb`` and ``c`` stack the slots'
    rows): ``at``, ``amb``, ``c`` and ``bp`` of :func:`_set_up`; the residual ``r``, the
    scaled weights ``xt`` and half gradient ``gt``; the numbers of a running step (``state``,
    columns ``_XJ`` to ``_PREV``) and the integers of a slot (``ints``, columns ``_J`` to
    ``_ROUND``)."""
    _, n, m = a.shape
    mp = (m + COLUMN_BLOCK - 1) // COLUMN_BLOCK * COLUMN_BLOCK
    n16 = (n + LANES - 1) // LANES * LANES
    return (np.zeros((_SLOTS, m, n)), np.zeros((_SLOTS * (m + 1), n16)),
            np.zeros((_SLOTS * (m + 1), mp)), np.zeros((_SLOTS, n16)), np.zeros((_SLOTS, n16)),
            np.zeros((_SLOTS, mp)), np.zeros((_SLOTS, mp)), np.zeros((_SLOTS, 8)),
            np.full((_SLOTS, 5), -1, dtype=np.int64))


@njit(fastmath=False)
def _begin(sl: int, a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: float, mask: np.ndarray,
           ws: tuple[np.ndarray, ...]) -> int:
    """Start a round of slot ``sl``'s problem from its weights ``x``: the scaled arrays, the
    first vertex (returned; -1 when the round ends at once) and the numbers of a step."""
    at, amb, c, bp, r, xt, gt, state, ints = ws
    n, m = a.shape
    base = sl * (m + 1)
    r[sl, :] = 0.0
    r[sl, :n] = a @ x - b
    xt[sl, :] = 0.0
    xt[sl, :m] = x
    gt[sl, :] = CLOSED
    g0 = at[sl] @ r[sl, :n] + eta * x
    for k in range(m):
        if mask[k]:
            gt[sl, k] = g0[k]
    state[sl, _S] = 1.0
    ints[sl, _IT] = 0
    if ints[sl, _LIM] <= 0:
        return -1
    # changes nothing: row m is zero
    j, g_j = shift_pass(gt, (sl,), c, (base + m,), (0.0,))  # type: ignore[call-arg,var-annotated]
    if j < 0:
        return -1
    xx = dot(xt[sl], xt[sl])
    state[sl, _XJ], state[sl, _GJ], state[sl, _XX] = xt[sl, j], g_j, xx
    state[sl, _DD] = dist(amb[base + j], r[sl])
    state[sl, _GX] = (dot(r[sl], r[sl]) + dot(r[sl], bp[sl])) + eta * xx
    state[sl, _PREV] = 0.0
    return j


@njit(fastmath=False)
def _next_round(sl: int, a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: np.ndarray,
                mask: np.ndarray, first_iter: int, max_iter: int, share: np.ndarray, queue: int,
                ws: tuple[np.ndarray, ...]) -> int:
    """Slot ``sl`` has no running round: write out the weights of the one that ended,
    sparsify them after a first round, and begin the next round (of this problem or of the
    next problem of the thread's ``share``). Returns the position in the share; the slot's
    vertex stays -1 when the share is done."""
    at, amb, c, bp, _, xt, _, state, ints = ws
    m = a.shape[2]
    base = sl * (m + 1)
    while ints[sl, _J] < 0:
        p = ints[sl, _P]
        if ints[sl, _ROUND] > 0:
            for k in range(m):
                x[p, k] = state[sl, _S] * xt[sl, k]
        if ints[sl, _ROUND] == 1:
            _sparsify(x[p])
            ints[sl, _ROUND], ints[sl, _LIM] = 2, max_iter
        else:
            ints[sl, _ROUND] = 0
            if queue >= share.shape[0]:
                return queue
            p = share[queue]
            queue += 1
            ints[sl, _P] = p
            _set_up(a[p], b[p], mask[p], eta[p], at[sl], amb[base:base + m + 1],
                    c[base:base + m + 1], bp[sl])
            ints[sl, _ROUND] = 1 if first_iter > 0 else 2
            ints[sl, _LIM] = first_iter if first_iter > 0 else max_iter
        ints[sl, _J] = _begin(sl, a[p], b[p], x[p], eta[p], mask[p], ws)
    return queue


@njit(fastmath=False)
def _pair(eta: np.ndarray, zeta2: np.ndarray, n_rows: np.ndarray, tol: np.ndarray,
          mask: np.ndarray, rescale_below: float, ws: tuple[np.ndarray, ...]) -> None:
    """Steps of the problems in slots 0 and 1 together, until one of them stops (its vertex
    is then -1 in the work space)."""
    _, amb, c, bp, r, xt, gt, state, ints = ws
    m = mask.shape[1]
    ba, bb = 0, m + 1  # the slots' first rows in amb and c
    pa, pb = ints[0, _P], ints[1, _P]
    ja, jb = ints[0, _J], ints[1, _J]
    ita, itb = ints[0, _IT], ints[1, _IT]
    xja, gja, xxa, dda, gxa, sa, preva = state[0, :7]
    xjb, gjb, xxb, ddb, gxb, sb, prevb = state[1, :7]
    live_a = live_b = True
    while live_a and live_b:
        step_a, keep_a, xxa, sa, alpha_a, rescale_a = _plan(xja, gja, xxa, dda, gxa, sa,
                                                            eta[pa], rescale_below)
        step_b, keep_b, xxb, sb, alpha_b, rescale_b = _plan(xjb, gjb, xxb, ddb, gxb, sb,
                                                            eta[pb], rescale_below)
        if rescale_a:
            _rescale(xt[0], gt[0], mask[pa], sa)
            sa = 1.0
        if rescale_b:
            _rescale(xt[1], gt[1], mask[pb], sb)
            sb = 1.0
        xt[0, ja] += alpha_a
        xt[1, jb] += alpha_b
        na, best_a, nb, best_b = shift_pass(  # type: ignore[call-arg,var-annotated]
            gt, (0, 1), c, (ba + ja, bb + jb), (alpha_a, alpha_b))
        ssa, dda, rba, ssb, ddb, rbb = row_pass(
            r, (0, 1), amb, (ba + ja, bb + jb), (ba + (na if na >= 0 else m),
                                                 bb + (nb if nb >= 0 else m)),
            bp, (0, 1), (keep_a, keep_b), (step_a, step_b))
        val_a = zeta2[pa] * xxa + ssa / n_rows[pa]
        val_b = zeta2[pb] * xxb + ssb / n_rows[pb]
        gxa = (ssa + rba) + eta[pa] * xxa
        gxb = (ssb + rbb) + eta[pb] * xxb
        if (ita >= 1 and not preva - val_a > tol[pa]) or na < 0 or ita + 1 >= ints[0, _LIM]:
            live_a = False
        else:
            ita, ja, preva = ita + 1, na, val_a
            xja, gja = sa * xt[0, na], sa * best_a
        if (itb >= 1 and not prevb - val_b > tol[pb]) or nb < 0 or itb + 1 >= ints[1, _LIM]:
            live_b = False
        else:
            itb, jb, prevb = itb + 1, nb, val_b
            xjb, gjb = sb * xt[1, nb], sb * best_b
    state[0, :7] = (xja, gja, xxa, dda, gxa, sa, preva)
    state[1, :7] = (xjb, gjb, xxb, ddb, gxb, sb, prevb)
    ints[0, _IT], ints[1, _IT] = ita, itb
    ints[0, _J] = ja if live_a else -1
    ints[1, _J] = jb if live_b else -1


@njit(fastmath=False)
def _alone(sl: int, eta: float, zeta2: float, n_rows: float, tol: float, mask: np.ndarray,
           rescale_below: float, ws: tuple[np.ndarray, ...]) -> None:
    """The steps of :func:`_pair` for the problem in slot ``sl`` alone, to its stop."""
    _, amb, c, bp, r, xt, gt, state, ints = ws
    m = mask.shape[0]
    base = sl * (m + 1)
    j, it = ints[sl, _J], ints[sl, _IT]
    x_j, g_j, xx, dd, gx, s, prev = state[sl, :7]
    while True:
        step, keep, xx, s, alpha, rescale = _plan(x_j, g_j, xx, dd, gx, s, eta, rescale_below)
        if rescale:
            _rescale(xt[sl], gt[sl], mask, s)
            s = 1.0
        xt[sl, j] += alpha
        nxt, best = shift_pass(  # type: ignore[call-arg,var-annotated]
            gt, (sl,), c, (base + j,), (alpha,))
        ss, dd, rb = row_pass(r, (sl,), amb, (base + j,), (base + (nxt if nxt >= 0 else m),),
                              bp, (sl,), (keep,), (step,))
        val = zeta2 * xx + ss / n_rows
        gx = (ss + rb) + eta * xx
        if (it >= 1 and not prev - val > tol) or nxt < 0 or it + 1 >= ints[sl, _LIM]:
            break
        it, j, prev = it + 1, nxt, val
        x_j, g_j = s * xt[sl, j], s * best
    state[sl, _S] = s
    ints[sl, _J] = -1


@njit(fastmath=False)
def _share(a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: np.ndarray, zeta2: np.ndarray,
           n_rows: np.ndarray, tol: np.ndarray, first_iter: int, max_iter: int,
           mask: np.ndarray, rescale_below: float, share: np.ndarray) -> None:
    """The problems ``share`` of the batch, two at a time, each round to its own stop."""
    ws = _work_space(a)
    ints = ws[8]
    ints[:, _ROUND] = 0
    queue = 0
    while True:
        for sl in range(_SLOTS):
            queue = _next_round(sl, a, b, x, eta, mask, first_iter, max_iter, share, queue, ws)
        running = [sl for sl in range(_SLOTS) if ints[sl, _J] >= 0]
        if len(running) == 0:
            return
        if len(running) == _SLOTS:
            _pair(eta, zeta2, n_rows, tol, mask, rescale_below, ws)
        else:  # the share's last problem
            sl = running[0]
            p = ints[sl, _P]
            _alone(sl, eta[p], zeta2[p], n_rows[p], tol[p], mask[p], rescale_below, ws)


@njit(parallel=True)
def _solve_batch(a: np.ndarray, b: np.ndarray, x: np.ndarray, eta: np.ndarray,
                 zeta2: np.ndarray, n_rows: np.ndarray, tol: np.ndarray, first_iter: int,
                 max_iter: int, mask: np.ndarray, rescale_below: float, n_shares: int) -> None:
    for t in prange(n_shares):
        _share(a, b, x, eta, zeta2, n_rows, tol, first_iter, max_iter, mask, rescale_below,
               np.arange(t, a.shape[0], n_shares))


def frank_wolfe_batch(a: np.ndarray, b: np.ndarray, x0: np.ndarray, *, zeta: np.ndarray,
                      n_rows: np.ndarray, min_decrease: np.ndarray, max_iter: int,
                      col_mask: np.ndarray | None, first_iter: int = 0,
                      rescale_below: float = RESCALE_BELOW) -> np.ndarray:
    """Solve a batch of problems (arguments as :func:`.sdid_solver.frank_wolfe`).

    With ``first_iter > 0``, the synthdid recipe's two rounds: ``first_iter`` steps, then
    :func:`.sdid_solver.sparsify` (here the same arithmetic, compiled), then ``max_iter``
    steps from there; the same weights bit for bit as two calls with :func:`.sparsify`
    between them, but ``A'A`` and what follows from it are computed once per problem.
    ``rescale_below`` is the scale below which the scaled weights and gradient are written out
    (the tests set it high to exercise the rescaling; the weights barely depend on it).
    """
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    x = np.array(x0, dtype=np.float64, copy=True, order="C")
    zeta = np.asarray(zeta, dtype=np.float64)
    n_rows = np.asarray(n_rows, dtype=np.float64)
    mask = (np.ones(x.shape, dtype=np.bool_) if col_mask is None
            else np.ascontiguousarray(col_mask, dtype=np.bool_))
    tol = np.asarray(min_decrease, dtype=np.float64) ** 2
    n_shares = max(1, min(numba.get_num_threads(), a.shape[0]))
    _solve_batch(a, b, x, n_rows * zeta**2, zeta**2, n_rows, tol, int(first_iter),
                 int(max_iter), mask, float(rescale_below), n_shares)
    return x
