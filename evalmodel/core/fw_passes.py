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

The intrinsics are compiled into :func:`.fw_kernel._solve_one`, whose numba cache on disk is
keyed on ``fw_kernel.py`` alone: after editing this module, touch ``fw_kernel.py`` (or clear
its ``__pycache__``) so that the cached kernel is rebuilt.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["LANES", "column_pass", "dist", "dot", "fixed_order_sum", "row_pass"]

#: Partial sums of a fixed-order sum (two vectors of 8).
LANES = 16
#: Columns of a pass taken together: 4 sets of 8, each with its own tracker of the vertex.
COLUMN_BLOCK = 32


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


@intrinsic
def column_pass(typingctx, x, g, cj, gate, keep, step, dg, j):  # type: ignore[no-untyped-def]
    """One pass over the columns: ``x`` and ``g`` updated, then ``g'x`` and the next vertex.

    ``x[k] = keep * x[k]`` and ``g[k] = keep * g[k] + step * cj[k]``, then ``step`` and
    ``dg`` added to column ``j``'s (``j = -1``: none). Returns the next vertex, the first column
    with the smallest ``g[k] + gate[k]`` below infinity (the column a plain scan with ``<``
    finds; -1 if none), its ``x`` and ``g + gate`` (``g`` itself: ``gate`` is 0 on the columns
    that may be chosen and infinity elsewhere), and ``g'x`` as a fixed-order sum.

    The vertex is tracked during the pass, so nothing just written is read back: for each of
    the 8 lanes of each of the 4 sets of 8 columns in a block of 32, the smallest value so far,
    the first column holding it and that column's ``x``. At the end, the smallest value of all
    and the first column holding it, as the plain scan (``-0.0`` equals ``0.0``, a NaN is never
    smaller). The arrays' length is a multiple of 32.
    """
    if not (_doubles(x, g, cj, gate) and isinstance(j, types.Integer)):
        return None
    sig = types.Tuple((types.intp, types.float64, types.float64, types.float64))(
        x, g, cj, gate, types.float64, types.float64, types.float64, types.intp)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        f64, i64 = ir.DoubleType(), ir.IntType(64)
        fvec, ivec = ir.VectorType(f64, 8), ir.VectorType(i64, 8)
        xp, gp, cp, tp = (_data(context, builder, signature, args, i) for i in range(4))
        keep, step, dg = (_splat(builder, v) for v in args[4:7])
        j = _splat(builder, args[7])
        zero = ir.Constant(fvec, [0.0] * 8)
        iota = ir.Constant(ivec, list(range(8)))
        part = _partial_sums(builder)
        sets = COLUMN_BLOCK // 8
        inf = ir.Constant(fvec, [float("inf")] * 8)
        lane_g, lane_col, lane_x = ([cgutils.alloca_once_value(builder, init)
                                     for _ in range(sets)]
                                    for init in (inf, ir.Constant(ivec, [-1] * 8), zero))

        def block(k0, with_j):  # type: ignore[no-untyped-def]
            for q in range(sets):
                at = builder.add(k0, ir.Constant(k0.type, 8 * q))
                col = builder.add(_splat(builder, at), iota)
                xv = builder.fmul(_load(builder, xp, at, fvec), keep)
                gv = builder.fadd(builder.fmul(keep, _load(builder, gp, at, fvec)),
                                  builder.fmul(step, _load(builder, cp, at, fvec)))
                if with_j:  # the block holding column j: it moves towards the vertex
                    here = builder.icmp_signed("==", col, j)
                    xv = builder.fadd(xv, builder.select(here, step, zero))
                    gv = builder.fadd(gv, builder.select(here, dg, zero))
                _store(builder, xv, xp, at)
                _store(builder, gv, gp, at)
                # columns k0 + 8q + i (k0 a multiple of 32) belong to partial sum 8(q % 2) + i
                _add_to(builder, part[q % 2], builder.fmul(gv, xv))
                gated = builder.fadd(gv, _load(builder, tp, at, fvec))
                lower = builder.fcmp_ordered("<", gated, builder.load(lane_g[q]))
                for cell, new in ((lane_g[q], gated), (lane_col[q], col), (lane_x[q], xv)):
                    builder.store(builder.select(lower, new, builder.load(cell)), cell)

        n = _length(context, builder, signature, args)
        with cgutils.for_range_slice(builder, ir.Constant(n.type, 0), n,
                                     ir.Constant(n.type, COLUMN_BLOCK), n.type) as (k0, _):
            end = builder.add(k0, ir.Constant(k0.type, COLUMN_BLOCK))
            has_j = builder.and_(builder.icmp_signed("<=", k0, args[7]),
                                 builder.icmp_signed("<", args[7], end))
            with builder.if_else(has_j, likely=False) as (then, otherwise):
                with then:
                    block(k0, True)
                with otherwise:
                    block(k0, False)

        def fewer(u, v):  # type: ignore[no-untyped-def]
            return builder.select(builder.icmp_signed("<", u, v), u, v)

        def below(u, v):  # type: ignore[no-untyped-def]
            return builder.select(builder.fcmp_ordered("<", v, u), v, u)

        gs = [builder.load(c) for c in lane_g]
        low = gs[0]
        for v in gs[1:]:
            low = below(low, v)
        best = _fold(builder, low, below)
        last = ir.Constant(ivec, [2**63 - 1] * 8)
        cols = [builder.select(builder.fcmp_ordered("==", v, _splat(builder, best)),
                               builder.load(c), last) for v, c in zip(gs, lane_col, strict=True)]
        low = cols[0]
        for col in cols[1:]:
            low = fewer(low, col)
        first = _fold(builder, low, fewer)
        bits = ir.Constant(ivec, [0] * 8)  # the x of column `first`, from its one lane
        for col, c in zip(cols, lane_x, strict=True):
            bits = builder.or_(bits, builder.select(
                builder.icmp_signed("==", col, _splat(builder, first)),
                builder.bitcast(builder.load(c), ivec), ir.Constant(ivec, [0] * 8)))
        x_first = builder.bitcast(_fold(builder, bits, builder.or_), f64)
        found = builder.fcmp_ordered("<", best, ir.Constant(f64, float("inf")))
        first = builder.select(found, first, ir.Constant(i64, -1))
        return context.make_tuple(builder, signature.return_type,
                                  (first, x_first, best, _total(builder, part)))

    return sig, codegen


@intrinsic
def row_pass(typingctx, resid, amb_j, amb_next, keep, step):  # type: ignore[no-untyped-def]
    """One pass over the rows: ``resid = keep * resid + step * amb_j``; returns ``|resid|^2``
    and ``|amb_next - resid|^2`` as fixed-order sums (lengths a multiple of 16)."""
    if not _doubles(resid, amb_j, amb_next):
        return None
    sig = types.UniTuple(types.float64, 2)(resid, amb_j, amb_next, types.float64,
                                           types.float64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        vec = ir.VectorType(ir.DoubleType(), 8)
        rp, jp, np_ = (_data(context, builder, signature, args, i) for i in range(3))
        keep, step = (_splat(builder, v) for v in args[3:5])
        ss, dd = _partial_sums(builder), _partial_sums(builder)
        with _rows_of_16(context, builder, signature, args) as (r0, _):
            for half in range(2):
                at = builder.add(r0, ir.Constant(r0.type, 8 * half))
                res = builder.fadd(builder.fmul(keep, _load(builder, rp, at, vec)),
                                   builder.fmul(step, _load(builder, jp, at, vec)))
                _store(builder, res, rp, at)
                _add_to(builder, ss[half], builder.fmul(res, res))
                e = builder.fsub(_load(builder, np_, at, vec), res)
                _add_to(builder, dd[half], builder.fmul(e, e))
        return context.make_tuple(builder, signature.return_type,
                                  (_total(builder, ss), _total(builder, dd)))

    return sig, codegen
