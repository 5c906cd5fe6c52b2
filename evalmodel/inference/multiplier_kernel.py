"""Compiled Rademacher multiplier draws (see :mod:`.multiplier`).

Draw ``b`` is ``sum_c V_bc s_c`` with signs ``V_bc = 2 bit_b(c) - 1`` read from packed random
bytes (``bits[c, b // 8]``, bit ``b % 8``). Three ideas make it cheap:

- **Support patterns.** Influence functions of group-time estimates vanish outside the cells a
  unit takes part in (a unit of cohort g enters only cohort g's cells as treated), so clusters
  are grouped by the set of columns where ``s`` is non-zero and each group touches only its
  columns.
- **Low rank.** A large pattern whose rows span few dimensions (the never-treated units'
  influence functions are linear in their handful of outcome differences) is summed in a
  verified factorisation ``z @ v.T`` (:func:`evalmodel.inference.multiplier.low_rank`): over
  the few columns of ``z``, rotated back with ``v`` at the end.
- **Tables over eight clusters** (the "method of four Russians"). For eight clusters at a time
  the 256 possible signed sums of their rows are tabulated once (each entry one addition from an
  earlier one), and each draw then adds a single table row, found by gathering the draw's eight
  sign bits with a multiply (an 8 x 8 bit transpose). Per draw and eight clusters this is one
  vector addition instead of eight.

The clusters of each pattern are split into a fixed number of parts that run in parallel and
are added in a fixed order, so a seed gives the same numbers on any number of cores.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from evalmodel.core.jit import njit

__all__ = ["rademacher_draws_kernel"]

_LOW_BITS = np.uint64(0x0101010101010101)
_GATHER = np.uint64(0x0102040810204080)  # moves the low bit of byte k to bit 56 + k
_SHIFT = np.uint64(56)


@njit()
def _table(vals: np.ndarray, vrow: np.ndarray, g0: int, m: int, cols: np.ndarray,
           v: np.ndarray, table: np.ndarray) -> None:
    """The 256 signed sums of rows ``vals[vrow[g0:g0 + m]]`` (m <= 8; zero rows pad to 8)."""
    nc = cols.size
    for k in range(8):
        for q in range(nc):
            v[k, q] = vals[vrow[g0 + k], cols[q]] if k < m else 0.0
    for q in range(nc):
        t0 = 0.0
        for k in range(8):
            t0 -= v[k, q]
        table[0, q] = t0
    for idx in range(1, 256):  # entry idx = entry idx-without-its-lowest-bit + 2 v_k
        k = 0
        while not (idx >> k) & 1:
            k += 1
        prev = idx ^ (1 << k)
        for q in range(nc):
            table[idx, q] = table[prev, q] + 2.0 * v[k, q]


@njit()
def _byte(bits: np.ndarray, order: np.ndarray, g0: int, m: int, j: int) -> np.uint64:
    """Byte column ``j`` of up to eight clusters' bits packed into one 64-bit word."""
    x = np.uint64(0)
    for k in range(m):
        x |= np.uint64(bits[order[g0 + k], j]) << np.uint64(8 * k)
    return x


@njit()
def _pattern_part(vals: np.ndarray, vrow: np.ndarray, bits: np.ndarray, order: np.ndarray,
                  g_lo: int, g_hi: int, cols: np.ndarray, n_boot: int, tables: np.ndarray,
                  v: np.ndarray, acc: np.ndarray) -> None:
    """Add the draws of clusters ``order[g_lo:g_hi]`` (values ``vals[vrow[...], cols]``)
    into ``acc``.

    Clusters go sixteen at a time: two tables, and one addition of two table rows per draw.
    """
    nc = cols.size
    idx1 = np.empty(n_boot, dtype=np.int64)
    idx2 = np.empty(n_boot, dtype=np.int64)
    for g0 in range(g_lo, g_hi, 16):
        m1 = min(8, g_hi - g0)
        m2 = max(0, min(8, g_hi - g0 - 8))
        _table(vals, vrow, g0, m1, cols, v, tables[0])
        _table(vals, vrow, g0 + 8, m2, cols, v, tables[1])
        for j in range(bits.shape[1]):  # each draw's byte of sign bits, for both tables
            x1 = _byte(bits, order, g0, m1, j)
            x2 = _byte(bits, order, g0 + 8, m2, j)
            for t in range(min(8, n_boot - 8 * j)):
                sh = np.uint64(t)
                idx1[8 * j + t] = int((((x1 >> sh) & _LOW_BITS) * _GATHER) >> _SHIFT)
                idx2[8 * j + t] = int((((x2 >> sh) & _LOW_BITS) * _GATHER) >> _SHIFT)
        t1, t2 = tables[0], tables[1]
        for b in range(n_boot):
            i1, i2 = idx1[b], idx2[b]
            for q in range(nc):
                acc[b, q] += t1[i1, q] + t2[i2, q]


@njit(parallel=True)
def _draws(s: np.ndarray, z: np.ndarray, src: np.ndarray, vrow: np.ndarray, bits: np.ndarray,
           order: np.ndarray, row_ptr: np.ndarray, col_idx: np.ndarray, out_idx: np.ndarray,
           col_ptr: np.ndarray, n_boot: int, parts: np.ndarray) -> None:
    n_parts = parts.shape[0]
    n_pat = row_ptr.size - 1
    max_c = 1
    for p in range(n_pat):
        max_c = max(max_c, col_ptr[p + 1] - col_ptr[p])
    for part in prange(n_parts):
        tables = np.empty((2, 256, max_c))
        v = np.zeros((8, max_c))
        for p in range(n_pat):
            c0, c1 = col_ptr[p], col_ptr[p + 1]
            if c1 == c0:
                continue
            n_groups = (row_ptr[p + 1] - row_ptr[p] + 15) // 16  # of sixteen clusters
            per = (n_groups + n_parts - 1) // n_parts
            g_lo = row_ptr[p] + 16 * min(n_groups, part * per)
            g_hi = min(row_ptr[p + 1], row_ptr[p] + 16 * min(n_groups, (part + 1) * per))
            if g_lo >= g_hi:
                continue
            cols = col_idx[c0:c1]
            acc = np.zeros((n_boot, c1 - c0))
            vals = z if src[p] else s
            _pattern_part(vals, vrow, bits, order, g_lo, g_hi, cols, n_boot, tables, v, acc)
            dest = out_idx[c0:c1]
            for b in range(n_boot):
                for q in range(c1 - c0):
                    parts[part, b, dest[q]] += acc[b, q]


def rademacher_draws_kernel(
    s: np.ndarray, bits: np.ndarray, n_boot: int, *, pattern: np.ndarray, cols: list[np.ndarray],
    factors: dict[int, tuple[np.ndarray, np.ndarray]] | None = None, n_parts: int = 2,
) -> np.ndarray:
    """``V @ s`` for the signs in ``bits`` (see the module notes).

    Parameters
    ----------
    s : ndarray (C, K)
        Cluster sums of the influence functions.
    bits : ndarray of uint8 (C, ceil(n_boot / 8))
        Packed sign bits, bit ``b % 8`` of ``bits[c, b // 8]`` for draw ``b``.
    n_boot : int
        Number of draws.
    pattern : ndarray of int (C,)
        Support-pattern code of each cluster (0..P-1).
    cols : list of ndarray
        The columns of each pattern.
    factors : dict, optional
        For some patterns ``p``, a factorisation ``(z, v)`` of their rows (in cluster order)
        restricted to ``cols[p]``: ``s[rows, cols[p]] = z @ v.T``. Those patterns are summed
        over the columns of ``z`` and rotated back with ``v``.
    n_parts : int
        Each pattern's clusters are split into this many parts, run in parallel and added in
        order at the end; the result depends on it only through rounding, so it is fixed rather
        than taken from the number of cores, and a seed gives the same numbers everywhere.

    Returns
    -------
    ndarray (n_boot, K)
    """
    factors = factors or {}
    k = s.shape[1]
    order = np.argsort(pattern, kind="stable").astype(np.int64)
    row_ptr = np.searchsorted(pattern[order], np.arange(len(cols) + 1)).astype(np.int64)
    vrow = order.copy()
    src = np.zeros(len(cols), dtype=np.int8)
    read, write = list(cols), list(cols)
    width = max([z.shape[1] for z, _ in factors.values()], default=1)
    z_all = np.zeros((sum(len(z) for z, _ in factors.values()) or 1, width))
    r0, c0 = 0, k
    for p, (z, _) in sorted(factors.items()):
        lo, hi = int(row_ptr[p]), int(row_ptr[p + 1])
        z_all[r0:r0 + len(z), :z.shape[1]] = z
        vrow[lo:hi] = r0 + np.arange(hi - lo)
        src[p] = 1
        read[p] = np.arange(z.shape[1])
        write[p] = c0 + np.arange(z.shape[1])  # the rotated sums, after the K real columns
        r0, c0 = r0 + len(z), c0 + z.shape[1]
    col_ptr = np.concatenate([[0], np.cumsum([len(c) for c in read])]).astype(np.int64)
    col_idx = np.concatenate([np.zeros(0), *read]).astype(np.int64)
    out_idx = np.concatenate([np.zeros(0), *write]).astype(np.int64)
    parts = np.zeros((n_parts, n_boot, c0))
    _draws(np.ascontiguousarray(s, dtype=np.float64), z_all, src, vrow,
           np.ascontiguousarray(bits), order, row_ptr, col_idx, out_idx, col_ptr, int(n_boot),
           parts)
    out = parts[0]
    for part in parts[1:]:
        out += part
    draws = np.ascontiguousarray(out[:, :k])
    c0 = k
    for p, (z, v) in sorted(factors.items()):
        draws[:, cols[p]] += out[:, c0:c0 + z.shape[1]] @ v.T
        c0 += z.shape[1]
    return draws
