"""Exact least squares over the unit simplex by an active-set method, compiled when possible.

The inner problem of the synthetic control method, :math:`\\min_w \\lVert A w - b \\rVert^2`
subject to :math:`w \\ge 0,\\ \\mathbf 1' w = 1`, is solved by the simplex analogue of the
Lawson-Hanson active-set algorithm for non-negative least squares (Lawson and Hanson 1974,
*Solving Least Squares Problems*, ch. 23). A passive set :math:`P` of columns carries the
weight; on :math:`P` the equality-constrained problem is solved through its KKT system

.. math::

    \\begin{pmatrix} A_P' A_P & \\mathbf 1 \\\\ \\mathbf 1' & 0 \\end{pmatrix}
    \\begin{pmatrix} z_P \\\\ \\nu \\end{pmatrix} =
    \\begin{pmatrix} A_P' b \\\\ 1 \\end{pmatrix},

and a step back to the feasible segment is taken when some :math:`z_i \\le 0`. The column with
the most negative reduced gradient :math:`g_j - \\bar g_P` (:math:`g = A'(Aw - b)`) enters
while one is below ``-tol``; at the end the KKT conditions hold to ``tol``. The solution has at
most as many non-zero weights as the passive set ever holds (usually the number of rows plus
one), so each step costs :math:`O(nJ)` for the gradient and a small dense solve.

The same Python function runs compiled by numba (:mod:`evalmodel.core.jit`) or, when numba is
missing or ``EVALMODEL_NUMBA=0`` when this module is first imported, as plain Python; both
give the same numbers to rounding. The module is imported on first use, not with evalmodel.
"""

from __future__ import annotations

import numpy as np

from evalmodel.core.jit import njit, use_numba

__all__ = ["leave_one_out_weights", "placebo_weights", "simplex_ls"]

#: Relative size of a reduced gradient (against ``|A|_max * (|A|_max + |b|_max)``) that still
#: counts as optimal.
_TOL = 1e-11
#: Relative predictor discrepancy below which the target counts as inside the donors' hull.
_EXACT = 1e-10
#: Weight of the predictor rows against the outcome rows when breaking ties inside the hull.
_TIE_WEIGHT = 1e3
#: Relative square residual (against the target's and the support columns' square norms) at
#: or below which a warm-started leave-one-out fit counts as inside the hull (its optimum not
#: unique) and is redone from the cold start; generous, as a fit redone costs only time.
_INSIDE = 1e-8


def _kkt_solve(a: np.ndarray, b: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Weights on the columns ``idx`` minimising ``||A z - b||`` subject to ``sum z = 1``.

    The KKT system is built and solved by Gaussian elimination with partial pivoting (small
    systems, where a LAPACK call costs more than the arithmetic); a numerically singular system
    gets a ridge of ``1e-12`` times its largest entry on the Gram block.
    """
    p = idx.size
    n = b.size
    size = p + 1
    kkt = np.zeros((size, size))
    rhs = np.zeros(size)
    for r in range(n):
        br = b[r]
        for i in range(p):
            ari = a[r, idx[i]]
            rhs[i] += ari * br
            for j in range(i + 1):
                kkt[i, j] += ari * a[r, idx[j]]
    # the adding-up row scaled like the Gram block, which keeps the system well conditioned
    s = 0.0
    for i in range(p):
        s = max(s, kkt[i, i])
    s = s if s > 0.0 else 1.0
    for i in range(p):
        for j in range(i):
            kkt[j, i] = kkt[i, j]
        kkt[i, p] = s
        kkt[p, i] = s
    rhs[p] = s
    x = _eliminate(kkt.copy(), rhs.copy(), 1e-13)
    if x.size == 0:  # numerically singular: a tiny ridge on the Gram block
        big = 0.0
        for i in range(p):
            big = max(big, kkt[i, i])
        for i in range(p):
            kkt[i, i] += 1e-12 * big
        x = _eliminate(kkt, rhs, 0.0)
    return x[:p]


def _eliminate(m: np.ndarray, x: np.ndarray, rel_pivot: float) -> np.ndarray:
    """Solve ``m y = x`` by Gaussian elimination with partial pivoting (in place); an empty
    array when a pivot is below ``rel_pivot`` times the largest entry."""
    size = x.size
    big = 0.0
    for i in range(size):
        for j in range(size):
            big = max(big, abs(m[i, j]))
    for c in range(size):
        piv = c
        for r in range(c + 1, size):
            if abs(m[r, c]) > abs(m[piv, c]):
                piv = r
        if abs(m[piv, c]) <= rel_pivot * big or m[piv, c] == 0.0:
            return np.empty(0)
        if piv != c:
            for j in range(size):
                m[c, j], m[piv, j] = m[piv, j], m[c, j]
            x[c], x[piv] = x[piv], x[c]
        for r in range(c + 1, size):
            f = m[r, c] / m[c, c]
            if f != 0.0:
                for j in range(c, size):
                    m[r, j] -= f * m[c, j]
                x[r] -= f * x[c]
    for c in range(size - 1, -1, -1):
        acc = x[c]
        for j in range(c + 1, size):
            acc -= m[c, j] * x[j]
        x[c] = acc / m[c, c]
    return x


def _insert(on: np.ndarray, p: int, j: int) -> int:
    """Insert column ``j`` into the ascending list ``on[:p]``; returns the new length."""
    q = p
    while q > 0 and on[q - 1] > j:
        on[q] = on[q - 1]
        q -= 1
    on[q] = j
    return p + 1


def _abs_max(a: np.ndarray) -> float:
    """The largest ``|a[r, j]|`` (NaNs skipped; 0 for an empty array): the number one running
    ``max(scale, abs(a[r, j]))`` over the entries gives (a maximum does not depend on the
    order), taken in four interleaved runs, which the processor overlaps instead of waiting
    for each comparison (about 3x faster on the placebo problems' 20 x 290 matrices)."""
    n, m = a.shape
    s0, s1, s2, s3 = 0.0, 0.0, 0.0, 0.0
    for r in range(n):
        j = 0
        while j + 4 <= m:
            s0 = max(s0, abs(a[r, j]))
            s1 = max(s1, abs(a[r, j + 1]))
            s2 = max(s2, abs(a[r, j + 2]))
            s3 = max(s3, abs(a[r, j + 3]))
            j += 4
        while j < m:
            s0 = max(s0, abs(a[r, j]))
            j += 1
    return max(max(s0, s1), max(s2, s3))


def _simplex_ls(a: np.ndarray, b: np.ndarray, w0: np.ndarray, max_iter: int) -> np.ndarray:
    """The active-set method. The passive set is kept both as flags and as an ascending list
    of its columns, so that the residual, the mean reduced gradient and the KKT system visit
    the passive columns in the order a scan over all columns would, without the scan: the
    same sums in the same order, so the same numbers."""
    n, m = a.shape
    scale, bscale = _abs_max(a), 0.0
    for r in range(n):
        bscale = max(bscale, abs(b[r]))
    tol = _TOL * max(scale * (scale + bscale), 1e-300)
    w = np.zeros(m)
    passive = np.zeros(m, dtype=np.bool_)
    total0, support = 0.0, 0
    for j in range(m):
        total0 += w0[j]
        support += w0[j] > 0.0
    # a warm start must be a feasible point whose support can be a passive set (at most n + 1
    # affinely independent columns); otherwise start cold
    warm = total0 > 0.0 and support <= n + 1
    enter = -1
    if warm:  # a feasible point and its support
        for j in range(m):
            w[j] = w0[j] / total0
            passive[j] = w[j] > 0.0
    else:  # the best single vertex
        dist = np.zeros(m)
        for r in range(n):
            for j in range(m):
                e = a[r, j] - b[r]
                dist[j] += e * e
        enter = 0
        for j in range(1, m):
            if dist[j] < dist[enter]:
                enter = j
        w[enter] = 1.0
        passive[enter] = True
    j_any = 0
    for j in range(1, m):
        if w[j] > w[j_any]:
            j_any = j
    resid = np.empty(n)
    g = np.empty(m)
    on = np.empty(m, dtype=np.int64)  # the passive columns, ascending
    p = 0
    for j in range(m):
        if passive[j]:
            on[p] = j
            p += 1
    for _ in range(max_iter):
        if not warm:
            for r in range(n):
                acc = -b[r]
                for q in range(p):
                    acc += a[r, on[q]] * w[on[q]]
                resid[r] = acc
            g[:] = 0.0
            for r in range(n):
                rr = resid[r]
                for j in range(m):
                    g[j] += a[r, j] * rr
            gbar = 0.0
            for q in range(p):
                gbar += g[on[q]]
            gbar /= p
            enter, low = -1, -tol
            for j in range(m):
                if not passive[j] and g[j] - gbar < low:
                    low, enter = g[j] - gbar, j
            if enter < 0:
                break
            passive[enter] = True
            p = _insert(on, p, enter)
        warm = False
        stop = False
        while True:
            idx = on[:p].copy()
            at_enter = -1
            for q in range(p):
                if idx[q] == enter:
                    at_enter = q
            z = _kkt_solve(a, b, idx)
            zmin = np.inf
            for q in range(p):
                zmin = min(zmin, z[q])
            if zmin > 0.0:
                w[:] = 0.0
                for q in range(p):
                    w[idx[q]] = z[q]
                break
            if at_enter >= 0 and w[enter] == 0.0 and z[at_enter] <= 0.0:
                # rounding: the entering column would get no weight; w is optimal
                passive[enter] = False
                p = 0
                for q in range(idx.size):
                    if idx[q] != enter:
                        on[p] = idx[q]
                        p += 1
                stop = True
                break
            alpha = 1.0
            for q in range(p):
                if z[q] <= 0.0:
                    wq = w[idx[q]]
                    alpha = min(alpha, wq / (wq - z[q]))
            kept = 0
            for q in range(p):
                i = idx[q]
                w[i] += alpha * (z[q] - w[i])
                if w[i] <= 1e-14:
                    w[i] = 0.0
                    passive[i] = False
                else:
                    on[kept] = i
                    kept += 1
            p = kept
            if p == 0:
                passive[j_any] = True
                w[j_any] = 1.0
                on[0] = j_any
                p = 1
                break
        if stop:
            break
    total = 0.0
    for j in range(m):
        total += w[j]
    for j in range(m):
        w[j] /= total
    return w


def _w_of_v(v: np.ndarray, x0: np.ndarray, x1: np.ndarray, z0: np.ndarray,
            z1: np.ndarray, warm: np.ndarray, max_iter: int) -> np.ndarray:
    k, m = x0.shape
    t = z0.shape[0]
    a = np.empty((k, m))
    b = np.empty(k)
    for r in range(k):
        root = np.sqrt(v[r])
        b[r] = root * x1[r]
        for j in range(m):
            a[r, j] = root * x0[r, j]
    w = _simplex_ls(a, b, warm[0], max_iter)
    warm[0, :] = w
    dd, bb = 0.0, 0.0
    for r in range(k):
        acc = -b[r]
        for j in range(m):
            acc += a[r, j] * w[j]
        dd += acc * acc
        bb += b[r] * b[r]
    if dd > _EXACT * (bb + 1.0):
        return w
    # inside the hull: predictor rows weighted _TIE_WEIGHT times the outcome rows
    scale = 1.0 / np.sqrt(float(t))
    stacked = np.empty((k + t, m))
    rhs = np.empty(k + t)
    for r in range(k):
        rhs[r] = _TIE_WEIGHT * b[r]
        for j in range(m):
            stacked[r, j] = _TIE_WEIGHT * a[r, j]
    for r in range(t):
        rhs[k + r] = scale * z1[r]
        for j in range(m):
            stacked[k + r, j] = scale * z0[r, j]
    w = _simplex_ls(stacked, rhs, warm[1], max_iter)
    warm[1, :] = w
    return w


def _v_loss(x: np.ndarray, x0: np.ndarray, x1: np.ndarray, z0: np.ndarray, z1: np.ndarray,
            warm: np.ndarray, max_iter: int) -> float:
    total = 0.0
    for r in range(x.size):
        total += abs(x[r])
    if not total > 0.0:
        return np.inf
    v = np.empty(x.size)
    for r in range(x.size):
        v[r] = abs(x[r]) / total
    w = _w_of_v(v, x0, x1, z0, z1, warm, max_iter)
    t, m = z0.shape
    out = 0.0
    for r in range(t):
        acc = z1[r]
        for j in range(m):
            acc -= z0[r, j] * w[j]
        out += acc * acc
    return out / t


def _put_row(out: np.ndarray, i: int, w: np.ndarray) -> None:
    """Write ``w`` (weights on every unit but ``i``, in order) into row ``i`` of ``out``,
    leaving ``out[i, i]`` as it is."""
    q = 0
    for k in range(out.shape[1]):
        if k != i:
            out[i, k] = w[q]
            q += 1


def _inside(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> bool:
    """Whether ``a w`` matches ``b`` to :data:`_INSIDE` of the square norms of ``b`` and of
    the mean column of the support (the target inside the columns' hull, where simplex least
    squares has many solutions; ``b`` itself may be about 0 there)."""
    n, m = a.shape
    on = np.empty(m, dtype=np.int64)  # the support: at most n + 1 columns of many
    p = 0
    for j in range(m):
        if w[j] != 0.0:
            on[p] = j
            p += 1
    rr, ref = 0.0, 0.0
    for r in range(n):
        acc = -b[r]
        for q in range(p):
            aq = a[r, on[q]]
            acc += aq * w[on[q]]
            ref += aq * aq / p
        rr += acc * acc
        ref += b[r] * b[r]
    return rr <= _INSIDE * ref


def _leave_one_out(sub: np.ndarray, warm: np.ndarray, max_iter: int) -> np.ndarray:
    """Each row of ``sub`` (units x periods) fitted over the simplex on the other rows, every
    period centred on the other rows' mean as :func:`evalmodel.core.ascm._centre` centres it
    (the mean summed over units in order, then divided by their number: the numbers NumPy's
    ``mean`` over that axis gives). Row ``i`` of the result holds unit ``i``'s weights on
    the others (zero at ``i``).

    Row ``i`` of ``warm`` (units x units), when not all zero, starts unit ``i``'s active set.
    The solver ends with the KKT solution on its final passive set, visited in ascending
    order, so a start that reaches the same passive set gives the same numbers bit for bit;
    where the optimum is not unique (the unit inside the others' hull: :func:`_inside`) the
    fit is redone from the cold start."""
    units, n = sub.shape
    m = units - 1
    out = np.zeros((units, units))
    a = np.empty((n, m))
    b = np.empty(n)
    mean = np.empty(n)
    start = np.zeros(m)
    head = np.zeros(n)  # the sum of the rows before unit i, added in order
    subt = np.ascontiguousarray(sub.T)  # periods x units
    for i in range(units):
        mean[:] = head
        for k in range(i + 1, units):
            for r in range(n):
                mean[r] += sub[k, r]
        for r in range(n):
            head[r] += sub[i, r]
        for r in range(n):
            mean[r] = mean[r] / m
        for r in range(n):  # row by row from the transpose: contiguous reads and writes
            mr = mean[r]
            for k in range(i):
                a[r, k] = subt[r, k] - mr
            for k in range(i + 1, units):
                a[r, k - 1] = subt[r, k] - mr
            b[r] = subt[r, i] - mr
        q = 0
        started = False
        for k in range(units):
            if k != i:
                start[q] = warm[i, k]
                started = started or warm[i, k] != 0.0
                q += 1
        w = _simplex_ls(a, b, start, max_iter)
        if started and _inside(a, b, w):  # not unique: the cold start's vertex
            start[:] = 0.0
            w = _simplex_ls(a, b, start, max_iter)
        _put_row(out, i, w)
    return out


def _placebo_weights(x: np.ndarray, z: np.ndarray, v: np.ndarray, warm: np.ndarray,
                     max_iter: int) -> np.ndarray:
    """Each column ``j`` of ``x`` (predictors, k x J) and ``z`` (fit-period outcomes, T x J)
    fitted by :func:`_w_of_v` on the other columns in order, with fixed ``v``: row ``j`` of
    the result, zero at ``j``. Row ``j`` of ``warm`` starts the predictor fit (a fresh
    :class:`~evalmodel.core.synth_inner.InnerProblem` with ``w0`` = that row without ``j``);
    the tie-break starts cold."""
    k, units = x.shape
    t = z.shape[0]
    m = units - 1
    out = np.zeros((units, units))
    x0 = np.empty((k, m))
    x1 = np.empty(k)
    z0 = np.empty((t, m))
    z1 = np.empty(t)
    starts = np.zeros((2, m))
    for j in range(units):
        q = 0
        for c in range(units):
            if c != j:
                for r in range(k):
                    x0[r, q] = x[r, c]
                for r in range(t):
                    z0[r, q] = z[r, c]
                starts[0, q] = warm[j, c]
                starts[1, q] = 0.0
                q += 1
        for r in range(k):
            x1[r] = x[r, j]
        for r in range(t):
            z1[r] = z[r, j]
        w = _w_of_v(v, x0, x1, z0, z1, starts, max_iter)
        _put_row(out, j, w)
    return out


def placebo_weights(x: np.ndarray, z: np.ndarray, v: np.ndarray,
                    warm: np.ndarray | None = None) -> np.ndarray:
    """Every unit's synthetic control weights on the other units at fixed predictor weights,
    in one compiled call: row ``j`` equals
    ``synth_inner.InnerProblem(x0, x1, z0, z1, w0).weights(v)``
    with unit ``j`` as the target and the others, in order, as its pool, bit for bit.

    Parameters
    ----------
    x : ndarray, shape (k, J)
        Predictors of the units (as the fit uses them, scaled or not).
    z : ndarray, shape (T, J)
        Fit-period outcomes of the units.
    v : ndarray, shape (k,)
        Normalised predictor weights.
    warm : ndarray, shape (J, J), optional
        Row ``j``: weights that start unit ``j``'s fit (zero at ``j``), e.g. its weights on a
        larger pool; the same numbers wherever the optimum is unique.

    Returns
    -------
    ndarray, shape (J, J)
        Row ``j``: unit ``j``'s weights on the others, zero at ``j``.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    z = np.ascontiguousarray(z, dtype=np.float64)
    start = (np.zeros((x.shape[1], x.shape[1])) if warm is None
             else np.ascontiguousarray(warm, dtype=np.float64))
    return np.asarray(_placebo_weights(x, z, np.ascontiguousarray(v, dtype=np.float64), start,
                                       _max_iter(x.shape[1] - 1)))


if use_numba():  # the same functions compiled; each calls the others' compiled versions
    _eliminate = njit()(_eliminate)
    _abs_max = njit()(_abs_max)
    _kkt_solve = njit()(_kkt_solve)
    _insert = njit()(_insert)
    _simplex_ls = njit()(_simplex_ls)
    _w_of_v = njit()(_w_of_v)
    _v_loss = njit()(_v_loss)
    _inside = njit()(_inside)
    _put_row = njit()(_put_row)
    _leave_one_out = njit()(_leave_one_out)
    _placebo_weights = njit()(_placebo_weights)


def _max_iter(m: int) -> int:
    return 10 * m + 50


def simplex_ls(a: np.ndarray, b: np.ndarray, w0: np.ndarray | None = None) -> np.ndarray:
    """Least squares ``min ||a w - b||^2`` over the unit simplex (exact active set).

    Parameters
    ----------
    a : ndarray, shape (n, J)
    b : ndarray, shape (n,)
    w0 : ndarray, shape (J,), optional
        A starting point (non-negative, not all zero) with at most ``n + 1`` non-zero entries,
        such as an earlier solution; otherwise, and by default, the best vertex.

    Returns
    -------
    ndarray, shape (J,)
        Non-negative weights summing to one.
    """
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    start = np.zeros(a.shape[1]) if w0 is None else np.asarray(w0, dtype=np.float64)
    return np.asarray(_simplex_ls(a, b, start, _max_iter(a.shape[1])))


def leave_one_out_weights(sub: np.ndarray, warm: np.ndarray | None = None) -> np.ndarray:
    """Each unit's exact simplex least-squares weights on all the other units, in one call.

    Row ``i`` equals ``simplex_ls(*_centre(sub[others].T, sub[i]))`` bit for bit (the fit of
    :func:`evalmodel.core.ascm.ascm_fit` with unit ``i`` as the treated unit), without a
    Python round trip per unit.

    Parameters
    ----------
    sub : ndarray, shape (N, n)
        Units (rows) by the periods fitted; at least 2 units.
    warm : ndarray, shape (N, N), optional
        Starting weights, row ``i`` for unit ``i`` (zero at ``i``), e.g. the weights of the
        same units fitted on more periods: a cross-validation fold then takes a few active-set
        steps instead of a cold start's many. Where the optimum is unique the result is the
        same bit for bit (the solver ends with the KKT solution on the optimum's support,
        however it got there); a unit inside the others' hull, where it is not, is fitted
        from the cold start as without ``warm``.

    Returns
    -------
    ndarray, shape (N, N)
        Row ``i``: unit ``i``'s weights on the others, zero at ``i``; each row sums to one.
    """
    sub = np.ascontiguousarray(sub, dtype=np.float64)
    start = (np.zeros((sub.shape[0], sub.shape[0])) if warm is None
             else np.ascontiguousarray(warm, dtype=np.float64))
    return np.asarray(_leave_one_out(sub, start, _max_iter(sub.shape[0] - 1)))
