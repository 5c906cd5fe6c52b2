"""The passes of a Frank-Wolfe step for :mod:`.fw_kernel`, written as vector code.

Each function here is a numba intrinsic: LLVM code that works on 8 doubles at a time and
adds in an order fixed by the code. Without ``fastmath`` the compiler may not reorder an
addition, so every sum comes out the same whatever vector instructions the machine has
(LLVM splits a vector of 8 into 2 or 4 shorter ones on a machine without 512-bit registers;
each lane keeps its value).

A **fixed-order sum** of ``n`` terms (``n`` a multiple of 16) puts term ``k`` into partial sum
``k % 16``; each partial sum adds its terms in increasing ``k``; the 16 partial sums are
combined in a fixed tree: partial sum ``i`` plus partial sum ``i + 8``, then lane ``i`` plus
lane ``i + 4``, ``i + 2`` and ``i + 1`` (:func:`fixed_order_sum` is the same in Python). 16
chains of additions in place of one: a sum of 285 terms waits on 18 additions, not 285.

The passes of a step (:func:`shift_pass` over the columns, :func:`row_pass` over the rows)
take rows of 2-D arrays by index and the numbers of K problems as tuples, so that one pass
serves the K problems a thread runs side by side (:mod:`.fw_kernel`) and no view of an array
is made per step. They are compiled into :mod:`.fw_kernel`'s functions, whose numba cache on
disk is keyed on ``fw_kernel.py`` alone: after editing this module, touch ``fw_kernel.py``
(or clear its ``__pycache__``) so that the cached kernel is rebuilt.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["CLOSED", "COLUMN_BLOCK", "LANES", "dist", "dot", "fixed_order_sum", "row_pass",
           "shift_pass"]

#: Partial sums of a fixed-order sum (two vectors of 8).
LANES = 16
#: Columns of a pass taken together: 4 sets of 8, each with its own tracker of the vertex.
COLUMN_BLOCK = 32
#: The scaled half gradient of a column that may not be chosen (the largest double): with zeros
#: in its column of the gradient's changes it stays this value, and it is never a vertex.
CLOSED = 1.7976931348623157e308


def fixed_order_sum(terms: Any) -> float:
    """The fixed-order sum of ``terms`` (a multiple of 16 of them) in plain Python."""
    part = [0.0] * LANES
    for k, t in enumerate(terms):
        part[k % LANES] += float(t)
    lanes = [part[i] + part[i + 8] for i in range(8)]
    for width in (4, 2, 1):
        lanes = [lanes[i] + lanes[i + width] for i in range(width)]
    return lanes[0]


def _data(context, builder, signature, args, i):  # type: ignore[no-untyped-def]
    """The data pointer of array argument ``i``."""
    return context.make_array(signature.args[i])(context, builder, value=args[i]).data


def _length(context, builder, signature, args):  # type: ignore[no-untyped-def]
    """The length of the first (array) argument."""
    ary = context.make_array(signature.args[0])(context, builder, value=args[0])
    return builder.extract_value(ary.shape, 0)


def _splat(builder, value):  # type: ignore[no-untyped-def]
    """``value`` in each of 8 lanes."""
    vec = ir.VectorType(value.type, 8)
    one = builder.insert_element(ir.Constant(vec, ir.Undefined), value,
                                 ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(one, ir.Constant(vec, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), 8), [0] * 8))


def _fold(builder, s, combine):  # type: ignore[no-untyped-def]
    """Lane 0 of ``s`` folded by ``combine``: lane i with lane i + 4, then i + 2, then i + 1."""
    i32 = ir.IntType(32)
    for width in (4, 2, 1):
        lo, hi = (builder.shuffle_vector(s, ir.Constant(s.type, ir.Undefined),
                                         ir.Constant(ir.VectorType(i32, width),
                                                     list(range(start, start + width))))
                  for start in (0, width))
        s = combine(lo, hi)
    return builder.extract_element(s, ir.Constant(i32, 0))


def _load(builder, data, at, vec):  # type: ignore[no-untyped-def]
    return builder.load(builder.bitcast(builder.gep(data, [at]), vec.as_pointer()), align=8)


def _store(builder, value, data, at):  # type: ignore[no-untyped-def]
    builder.store(value, builder.bitcast(builder.gep(data, [at]), value.type.as_pointer()),
                  align=8)


def _partial_sums(builder):  # type: ignore[no-untyped-def]
    """Two vectors of 8 partial sums, starting at zero."""
    zero = ir.Constant(ir.VectorType(ir.DoubleType(), 8), [0.0] * 8)
    return [cgutils.alloca_once_value(builder, zero) for _ in range(LANES // 8)]


def _add_to(builder, cell, term):  # type: ignore[no-untyped-def]
    builder.store(builder.fadd(builder.load(cell), term), cell)


def _total(builder, part):  # type: ignore[no-untyped-def]
    """The fixed tree over the 16 partial sums."""
    return _fold(builder, builder.fadd(builder.load(part[0]), builder.load(part[1])),
                 builder.fadd)


def _rows_of_16(context, builder, signature, args):  # type: ignore[no-untyped-def]
    n = _length(context, builder, signature, args)
    return cgutils.for_range_slice(builder, ir.Constant(n.type, 0), n,
                                   ir.Constant(n.type, LANES), n.type)


def _doubles(*ts: types.Type) -> bool:
    return all(isinstance(t, types.Array) and t.dtype == types.float64 and t.ndim == 1
               and t.layout == "C" for t in ts)


def _sum_of(kind: str):  # type: ignore[no-untyped-def]
    """The code of a fixed-order sum of ``p[k] * q[k]`` (``"dot"``) or ``(p[k] - q[k])**2``
    (``"dist"``: one subtraction, one multiplication)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        vec = ir.VectorType(ir.DoubleType(), 8)
        p, q = (_data(context, builder, signature, args, i) for i in range(2))
        part = _partial_sums(builder)
        with _rows_of_16(context, builder, signature, args) as (k, _):
            for half, cell in enumerate(part):
                at = builder.add(k, ir.Constant(k.type, 8 * half))
                u, v = (_load(builder, d, at, vec) for d in (p, q))
                if kind == "dist":
                    u = v = builder.fsub(u, v)
                _add_to(builder, cell, builder.fmul(u, v))
        return _total(builder, part)

    return codegen


@intrinsic
def dot(typingctx, p, q):  # type: ignore[no-untyped-def]
    """``sum(p * q)`` in the fixed order (``p`` and ``q`` of one length, a multiple of 16)."""
    if _doubles(p, q):
        return types.float64(p, q), _sum_of("dot")
    return None


@intrinsic
def dist(typingctx, p, q):  # type: ignore[no-untyped-def]
    """``sum((p - q)**2)`` in the fixed order (as :func:`dot`)."""
    if _doubles(p, q):
        return types.float64(p, q), _sum_of("dist")
    return None


def _row_of(context, builder, ty, value, row):  # type: ignore[no-untyped-def]
    """The address of row ``row`` of a 2-D C array, and the row's length."""
    ary = context.make_array(ty)(context, builder, value=value)
    width = builder.extract_value(ary.shape, 1)
    return builder.gep(ary.data, [builder.mul(row, width)]), width


def _matrices(*ts: types.Type) -> bool:
    return all(isinstance(t, types.Array) and t.dtype == types.float64 and t.ndim == 2
               and t.layout == "C" for t in ts)


def _tuples(kind: type, *ts: types.Type) -> bool:
    """Tuples of one length, each of ``kind``."""
    count = getattr(ts[0], "count", None)
    return all(isinstance(t, types.UniTuple) and isinstance(t.dtype, kind) and t.count == count
               for t in ts)


@intrinsic
def shift_pass(typingctx, g, g_rows, c, c_rows, alphas):  # type: ignore[no-untyped-def]
    """One pass over the columns of K problems at once (K = the tuples' length).

    For each problem ``k``: row ``g_rows[k]`` of ``g`` plus ``alphas[k]`` times row
    ``c_rows[k]`` of ``c``, written back; returned, per problem, the next vertex, the first
    column with the smallest new value below :data:`CLOSED` (the column a plain scan with
    ``<`` finds; -1 if none), and that value. A column that may not be chosen holds
    ``CLOSED`` with zeros in its column of ``c``, so it keeps ``CLOSED`` and is never chosen.

    The K problems go through the columns together, block by block, so that one problem's
    additions fill the time the other waits on (each step of one problem waits on the vertex
    of the step before). The vertex is tracked during the pass, so nothing just written is
    read back: for each of the 8 lanes of each of the 4 sets of 8 columns in a block of 32,
    the smallest value so far and the first column holding it. At the end, the smallest value
    of all and the first column holding it, as the plain scan (``-0.0`` equals ``0.0``, a NaN
    is never smaller). The rows' length is a multiple of 32.
    """
    if not (_matrices(g, c) and _tuples(types.Integer, g_rows, c_rows)
            and _tuples(types.Float, alphas) and alphas.count == g_rows.count):
        return None
    n_probs = g_rows.count
    sig = types.Tuple((types.intp, types.float64) * n_probs)(g, g_rows, c, c_rows, alphas)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        f64, i64 = ir.DoubleType(), ir.IntType(64)
        fvec, ivec = ir.VectorType(f64, 8), ir.VectorType(i64, 8)
        gp, cp, alpha = [], [], []
        width = None
        for k in range(n_probs):
            row, width = _row_of(context, builder, signature.args[0], args[0],
                                 builder.extract_value(args[1], k))
            gp.append(row)
            cp.append(_row_of(context, builder, signature.args[2], args[2],
                              builder.extract_value(args[3], k))[0])
            alpha.append(_splat(builder, builder.extract_value(args[4], k)))
        iota = ir.Constant(ivec, list(range(8)))
        sets = COLUMN_BLOCK // 8
        inf = ir.Constant(fvec, [float("inf")] * 8)
        lane_g = [[cgutils.alloca_once_value(builder, inf) for _ in range(sets)]
                  for _ in range(n_probs)]
        lane_col = [[cgutils.alloca_once_value(builder, ir.Constant(ivec, [-1] * 8))
                     for _ in range(sets)] for _ in range(n_probs)]
        assert width is not None
        with cgutils.for_range_slice(builder, ir.Constant(width.type, 0), width,
                                     ir.Constant(width.type, COLUMN_BLOCK),
                                     width.type) as (k0, _):
            for q in range(sets):
                at = builder.add(k0, ir.Constant(k0.type, 8 * q))
                col = builder.add(_splat(builder, at), iota)
                for k in range(n_probs):
                    gv = builder.fadd(_load(builder, gp[k], at, fvec),
                                      builder.fmul(alpha[k], _load(builder, cp[k], at, fvec)))
                    _store(builder, gv, gp[k], at)
                    lower = builder.fcmp_ordered("<", gv, builder.load(lane_g[k][q]))
                    for cell, new in ((lane_g[k][q], gv), (lane_col[k][q], col)):
                        builder.store(builder.select(lower, new, builder.load(cell)), cell)
        out = []
        for k in range(n_probs):
            out += _first_smallest(builder, [builder.load(v) for v in lane_g[k]],
                                   [builder.load(v) for v in lane_col[k]])
        return context.make_tuple(builder, signature.return_type, out)

    return sig, codegen


def _first_smallest(builder, gs, cols):  # type: ignore[no-untyped-def]
    """The smallest of the lanes' values ``gs`` and the first column holding it (-1 when it is
    not below :data:`CLOSED`), as a plain scan would find them."""
    f64, i64 = ir.DoubleType(), ir.IntType(64)
    ivec = ir.VectorType(i64, 8)

    def fewer(u, v):  # type: ignore[no-untyped-def]
        return builder.select(builder.icmp_signed("<", u, v), u, v)

    def below(u, v):  # type: ignore[no-untyped-def]
        return builder.select(builder.fcmp_ordered("<", v, u), v, u)

    low = gs[0]
    for v in gs[1:]:
        low = below(low, v)
    best = _fold(builder, low, below)
    last = ir.Constant(ivec, [2**63 - 1] * 8)
    holding = [builder.select(builder.fcmp_ordered("==", v, _splat(builder, best)), c, last)
               for v, c in zip(gs, cols, strict=True)]
    low = holding[0]
    for col in holding[1:]:
        low = fewer(low, col)
    first = _fold(builder, low, fewer)
    found = builder.fcmp_ordered("<", best, ir.Constant(f64, CLOSED))
    return [builder.select(found, first, ir.Constant(i64, -1)), best]


@intrinsic
def row_pass(typingctx, r, r_rows, amb, j_rows, next_rows, b,  # type: ignore[no-untyped-def]
             b_rows, keeps, steps):
    """One pass over the rows of K problems at once (K = the tuples' length).

    For each problem ``k``, with ``res`` row ``r_rows[k]`` of ``r``: ``res = keeps[k] * res +
    steps[k] * amb[j_rows[k]]``, written back; returned, per problem, ``|res|^2``,
    ``|amb[next_rows[k]] - res|^2`` and ``res'b[b_rows[k]]`` as fixed-order sums (rows'
    length a multiple of 16)."""
    if not (_matrices(r, amb, b) and _tuples(types.Integer, r_rows, j_rows, next_rows, b_rows)
            and _tuples(types.Float, keeps, steps) and keeps.count == r_rows.count):
        return None
    n_probs = r_rows.count
    sig = types.UniTuple(types.float64, 3 * n_probs)(r, r_rows, amb, j_rows, next_rows, b,
                                                     b_rows, keeps, steps)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        vec = ir.VectorType(ir.DoubleType(), 8)

        def row(arg, index, k):  # type: ignore[no-untyped-def]
            """Row ``args[index][k]`` of the matrix ``args[arg]``, and its length."""
            return _row_of(context, builder, signature.args[arg], args[arg],
                           builder.extract_value(args[index], k))

        probs = []
        n = None
        for k in range(n_probs):
            rp, n = row(0, 1, k)
            jp, np_, bp = row(2, 3, k)[0], row(2, 4, k)[0], row(5, 6, k)[0]
            keep, step = (_splat(builder, builder.extract_value(args[i], k)) for i in (7, 8))
            probs.append((rp, jp, np_, bp, keep, step, [_partial_sums(builder) for _ in range(3)]))
        assert n is not None
        with cgutils.for_range_slice(builder, ir.Constant(n.type, 0), n,
                                     ir.Constant(n.type, LANES), n.type) as (r0, _):
            for half in range(2):
                at = builder.add(r0, ir.Constant(r0.type, 8 * half))
                for rp, jp, np_, bp, keep, step, (ss, dd, rb) in probs:
                    res = builder.fadd(builder.fmul(keep, _load(builder, rp, at, vec)),
                                       builder.fmul(step, _load(builder, jp, at, vec)))
                    _store(builder, res, rp, at)
                    _add_to(builder, ss[half], builder.fmul(res, res))
                    e = builder.fsub(_load(builder, np_, at, vec), res)
                    _add_to(builder, dd[half], builder.fmul(e, e))
                    _add_to(builder, rb[half], builder.fmul(res, _load(builder, bp, at, vec)))
        out = [_total(builder, part) for *_, sums in probs for part in sums]
        return context.make_tuple(builder, signature.return_type, out)

    return sig, codegen
