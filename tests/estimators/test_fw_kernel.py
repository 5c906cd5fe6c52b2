"""The compiled Frank-Wolfe kernel of the synthetic DiD weights (:mod:`evalmodel.core.fw_kernel`).

Three references: the batched array code (``engine="numpy"``) and a plain loop of the same
steps summing one term after another (the loop before issue 16) agree with the kernel to
rounding; a plain-Python twin of the kernel's own arithmetic (scaled weights and gradient,
fixed-order sums, ``g'x`` from the rows) agrees to the last bit. The estimator's peer and
published numbers are in ``test_sdid.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from evalmodel.core.fw_kernel import RESCALE_BELOW, _sparsify, frank_wolfe_batch
from evalmodel.core.fw_passes import (
    CLOSED,
    dist,
    dot,
    fixed_order_sum,
    row_pass,
    shift_pass,
)
from evalmodel.core.jit import numba_threads
from evalmodel.core.sdid_solver import MAX_ITER, PRE_SPARSIFY_ITER, _solve, frank_wolfe, sparsify


# -- against the batched array code ------------------------------------------------------------
@pytest.mark.parametrize("masked", [False, True])
def test_frank_wolfe_engines_agree(masked: bool) -> None:
    rng = np.random.default_rng(7)
    n_b, n, m = 40, 12, 25
    a = rng.normal(size=(n_b, n, m))
    b = rng.normal(size=(n_b, n))
    mask = rng.random((n_b, m)) < 0.8 if masked else np.ones((n_b, m), dtype=bool)
    mask[:, 0] = True
    x0 = mask / mask.sum(axis=1, keepdims=True)
    kw = {"zeta": rng.uniform(0.01, 1.0, n_b), "n_rows": np.full(n_b, float(n)),
          "min_decrease": np.full(n_b, 1e-5), "max_iter": 2_000, "col_mask": mask}
    fast = frank_wolfe(a, b, x0, engine="numba", **kw)  # type: ignore[arg-type]
    slow = frank_wolfe(a, b, x0, engine="numpy", **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-10)
    assert np.all(fast[~mask] == 0.0)
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, atol=1e-12)


# -- two plain loops: the sequential one and the kernel's arithmetic ---------------------------
def _sequential(a: np.ndarray, b: np.ndarray, x: np.ndarray, zeta: float, n_rows: float,
                tol: float, max_iter: int, mask: np.ndarray | None) -> np.ndarray:
    """The steps in plain Python as before issue 16: ``x`` and ``g`` in full, the vertex by a
    plain scan, ``g'x``, ``|r|^2`` and ``|A e_j - r|^2`` summed one term after another."""
    def total(terms: list[float]) -> float:
        s = 0.0
        for t in terms:
            s += t
        return s

    n, m = a.shape
    zeta2 = zeta**2
    eta = n_rows * zeta2
    at = a.T.copy()
    gram, atb = at @ a, at @ b
    resid = a @ x - b
    g = at @ resid + eta * x
    xx = total([float(v) * float(v) for v in x])
    prev = 0.0
    for it in range(max_iter):
        allowed = [k for k in range(m) if mask is None or mask[k]]
        j = min(allowed, key=lambda k: (g[k], k))
        x_j, g_j = x[j], g[j]
        gx = total([float(g[k]) * float(x[k]) for k in range(m)])
        # not e ** 2: numpy's power of a float64 scalar can differ in the last bit
        dd = total([float(e) * float(e) for e in at[j] - b - resid])
        denom = dd + eta * (xx - 2.0 * x_j + 1.0)
        step = min(max(-(g_j - gx) / denom if denom > 0 else 0.0, 0.0), 1.0)
        keep = 1.0 - step
        xx = keep * keep * xx + 2.0 * step * keep * x_j + step * step
        for k in range(m):
            x[k] *= keep
            g[k] = keep * g[k] + step * (gram[j, k] - atb[k])
        x[j] += step
        g[j] += eta * step
        for r in range(n):
            resid[r] = keep * resid[r] + step * (at[j, r] - b[r])
        ss = total([float(v) * float(v) for v in resid])
        val = zeta2 * xx + ss / n_rows
        if it >= 1 and not prev - val > tol:
            break
        prev = val
    return x


def _fixed(terms: list[float]) -> float:
    """:func:`fixed_order_sum` of the terms padded with zeros to a multiple of 16."""
    return fixed_order_sum(terms + [0.0] * (-len(terms) % 16))


def _twin(a: np.ndarray, b: np.ndarray, x: np.ndarray, zeta: float, n_rows: float, tol: float,
          max_iter: int, mask: np.ndarray | None,
          rescale_below: float = RESCALE_BELOW) -> tuple[np.ndarray, int]:
    """The kernel's arithmetic in plain Python (its module docstring): ``x = s * xt`` and
    ``g = s * gt``, the columns that may not be chosen at ``CLOSED``, ``g'x`` as
    ``r'(r + b) + eta |x|^2``, every sum in the fixed order. Returns the weights and how
    often they were rescaled."""
    n, m = a.shape
    allowed = np.ones(m, dtype=bool) if mask is None else mask
    zeta2 = zeta**2
    eta = n_rows * zeta2
    at = a.T.copy()
    gram, atb = at @ a, at @ b
    c = np.where(allowed[None, :], gram - atb[None, :], 0.0)
    c[allowed, allowed] += eta
    resid = a @ x - b
    g0 = at @ resid + eta * x
    xt = [float(v) for v in x]
    gt = [float(g0[k]) if allowed[k] else CLOSED for k in range(m)]
    resid = [float(v) for v in resid]
    amb = [[float(at[k, r] - b[r]) for r in range(n)] for k in range(m)]
    bl = [float(v) for v in b]

    def vertex() -> int:
        open_ = [k for k in range(m) if gt[k] < CLOSED]
        return min(open_, key=lambda k: (gt[k], k)) if open_ else -1

    def rows(j: int) -> tuple[float, float, float]:
        return (_fixed([v * v for v in resid]),
                _fixed([(amb[j][r] - resid[r]) * (amb[j][r] - resid[r]) for r in range(n)]),
                _fixed([resid[r] * bl[r] for r in range(n)]))

    j = vertex()
    if max_iter <= 0 or j < 0:
        return x, 0
    s, rescaled = 1.0, 0
    x_j, g_j = xt[j], gt[j]
    xx = fixed_order_sum([v * v for v in xt] + [0.0] * (-m % 32))
    ss, dd, rb = rows(j)
    gx = (ss + rb) + eta * xx
    prev = 0.0
    for it in range(max_iter):
        denom = dd + eta * (xx - 2.0 * x_j + 1.0)
        step = min(max(-(g_j - gx) / denom if denom > 0 else 0.0, 0.0), 1.0)
        keep = 1.0 - step
        xx = keep * keep * xx + 2.0 * step * keep * x_j + step * step
        s = keep * s
        if s < rescale_below:
            xt = [v * s for v in xt]
            gt = [v * s if allowed[k] else v for k, v in enumerate(gt)]
            s, alpha, rescaled = 1.0, step, rescaled + 1
        else:
            alpha = step / s
        xt[j] += alpha
        gt = [gt[k] + alpha * float(c[j, k]) for k in range(m)]
        nxt = vertex()
        resid = [keep * resid[r] + step * amb[j][r] for r in range(n)]
        ss, dd, rb = rows(nxt) if nxt >= 0 else (_fixed([v * v for v in resid]), 0.0,
                                                 _fixed([resid[r] * bl[r] for r in range(n)]))
        val = zeta2 * xx + ss / n_rows
        gx = (ss + rb) + eta * xx
        if (it >= 1 and not prev - val > tol) or nxt < 0:
            break
        prev = val
        j = nxt
        x_j, g_j = s * xt[j], s * gt[j]
    return np.array([s * v for v in xt]), rescaled


def _check_against_plain(fast: np.ndarray, a: np.ndarray, b: np.ndarray, x0: np.ndarray,
                         zeta: np.ndarray, tol: np.ndarray, max_iter: int,
                         mask: np.ndarray | None, rescale_below: float = RESCALE_BELOW
                         ) -> tuple[float, int]:
    """Each problem: the kernel's weights are the twin's to the last bit and the sequential
    loop's to 1e-12; returns the largest difference from the latter and the twin's number of
    rescalings."""
    n_b, n, _ = a.shape
    worst, rescaled = 0.0, 0
    for p in range(n_b):
        args = (a[p], b[p], x0[p].copy(), zeta[p], float(n), tol[p] ** 2, max_iter,
                None if mask is None else mask[p])
        same, k = _twin(*args, rescale_below=rescale_below)  # type: ignore[arg-type]
        assert np.array_equal(fast[p], same), p
        seq = _sequential(*args)  # type: ignore[arg-type]
        np.testing.assert_allclose(fast[p], seq, rtol=0, atol=1e-12)
        worst = max(worst, float(np.abs(fast[p] - seq).max()))
        rescaled += k
    return worst, rescaled


def test_frank_wolfe_kernel_is_its_plain_twin() -> None:
    """From sparse starts whose support grows (and from a vertex), the kernel's weights are
    its plain-Python twin's bit for bit and the sequential loop's to 1e-12 (the scaled
    arithmetic and the sums' order change only the last bits)."""
    rng = np.random.default_rng(11)
    n_b, n, m = 6, 7, 30
    a = rng.normal(size=(n_b, n, m))
    b = rng.normal(size=(n_b, n))
    x0 = np.zeros((n_b, m))
    x0[:, :3] = 1 / 3  # a sparse start, as after sparsifying
    x0[-1] = 0.0
    x0[-1, 5] = 1.0  # a vertex
    zeta = rng.uniform(0.05, 0.5, n_b)
    tol = np.full(n_b, 1e-7)
    fast = frank_wolfe_batch(a, b, x0, zeta=zeta, n_rows=np.full(n_b, float(n)),
                             min_decrease=tol, max_iter=400, col_mask=None)
    worst, rescaled = _check_against_plain(fast, a, b, x0, zeta, tol, 400, None)
    assert worst > 0.0  # the arithmetic does show in the last bits
    assert rescaled == 0  # the scale stays far above RESCALE_BELOW
    assert all(np.count_nonzero(fast[p]) > 3 for p in range(n_b))  # the support grew


def test_frank_wolfe_kernel_rescales_as_its_twin() -> None:
    """With the weights written out whenever their scale falls below 0.9 (almost every step,
    and at every step onto a vertex), the kernel is still its twin bit for bit and the
    sequential loop to 1e-12."""
    rng = np.random.default_rng(12)
    n_b, n, m = 5, 8, 40
    a = rng.normal(size=(n_b, n, m))
    b = rng.normal(size=(n_b, n))
    mask = rng.random((n_b, m)) < 0.8
    mask[:, :3] = True
    a = np.where(mask[:, None, :], a, 0.0)
    x0 = np.where(mask, 1.0, 0.0) / mask.sum(axis=1, keepdims=True)
    x0[0] = 0.0
    x0[0, 2] = 1.0
    zeta = rng.uniform(0.05, 0.5, n_b)
    tol = np.full(n_b, 1e-8)
    kw = {"zeta": zeta, "n_rows": np.full(n_b, float(n)), "min_decrease": tol,
          "max_iter": 300, "col_mask": mask}
    fast = frank_wolfe_batch(a, b, x0, rescale_below=0.9, **kw)  # type: ignore[arg-type]
    _, rescaled = _check_against_plain(fast, a, b, x0, zeta, tol, 300, mask, 0.9)
    assert rescaled > 100
    usual = frank_wolfe_batch(a, b, x0, **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(fast, usual, rtol=0, atol=1e-12)


def test_frank_wolfe_kernel_masked_matches_plain_steps() -> None:
    """With columns switched off (as the placebo draws switch off the pseudo-treated rows), the
    kernel gives its twin's weights. 70 columns: two full blocks of 32 and a padded
    tail; problem 0 has its best column in the tail, problem 1 ties between two columns (the
    first one wins)."""
    rng = np.random.default_rng(23)
    n_b, n, m = 5, 9, 70
    a = rng.normal(size=(n_b, n, m))
    a[1, :, 40] = a[1, :, 8]  # two equal columns: equal gradients, the first one wins
    b = rng.normal(size=(n_b, n))
    mask = rng.random((n_b, m)) < 0.85
    mask[:, [0, 8, 40, 66]] = True
    a = np.where(mask[:, None, :], a, 0.0)
    a[0, :, 66] = b[0] * 1.5  # the tail column fits b best
    x0 = np.where(mask, 1.0, 0.0) / mask.sum(axis=1, keepdims=True)
    x0[2] = 0.0
    x0[2, 0] = 1.0  # a vertex start: the support grows
    zeta = rng.uniform(0.05, 0.5, n_b)
    tol = np.full(n_b, 1e-9)
    fast = frank_wolfe_batch(a, b, x0, zeta=zeta, n_rows=np.full(n_b, float(n)),
                             min_decrease=tol, max_iter=300, col_mask=mask)
    _check_against_plain(fast, a, b, x0, zeta, tol, 300, mask)
    assert np.all(fast[~mask] == 0.0)
    assert fast[0, 66] > 0.0
    assert np.count_nonzero(fast[2]) > 1


@pytest.mark.parametrize("shape", ["omega", "lambda"])
def test_frank_wolfe_kernel_replays_plain_steps(shape: str) -> None:
    """Problems shaped like the report's (issue 16): unit weights with few rows and many
    columns, some of them padding switched off by the mask; time weights with many rows, some
    of them zero padding, and few columns. From even, sparse (as after sparsifying) and vertex
    starts, the kernel's weights are the plain loop's (bit for bit its twin's, to 1e-12 the
    sequential loop's)."""
    rng = np.random.default_rng(16 if shape == "omega" else 61)
    n_b = 4
    n, m = (6, 90) if shape == "omega" else (120, 7)
    a = rng.normal(size=(n_b, n, m)) + rng.normal(size=(n_b, 1, m))
    b = a[:, :, :3].mean(axis=2) + 0.3 * rng.normal(size=(n_b, n))
    mask = np.ones((n_b, m), dtype=bool)
    if shape == "omega":
        mask[:, m - 12:] = False  # padded columns (a smaller problem in a wider batch)
        mask[1, rng.choice(m - 12, 5, replace=False)] = False  # pseudo-treated units
        a = np.where(mask[:, None, :], a, 0.0)
    else:
        a[:, n - 20:, :] = 0.0  # padded rows (a problem with fewer control units)
        b[:, n - 20:] = 0.0
    x0 = mask / mask.sum(axis=1, keepdims=True)
    x0[2] = 0.0
    x0[2, :3] = 1 / 3  # a sparse start
    x0[3] = 0.0
    x0[3, 1] = 1.0  # a vertex start
    zeta = rng.uniform(0.02, 0.4, n_b)
    tol = np.full(n_b, 1e-8)
    fast = frank_wolfe_batch(a, b, x0, zeta=zeta, n_rows=np.full(n_b, float(n)),
                             min_decrease=tol, max_iter=250, col_mask=mask)
    _check_against_plain(fast, a, b, x0, zeta, tol, 250, mask)
    for p in range(n_b):
        assert np.all(fast[p, ~mask[p]] == 0.0)
        assert np.count_nonzero(fast[p]) > 1


def test_frank_wolfe_kernel_is_deterministic() -> None:
    """The same batch solved twice, on one thread or two, and one problem at a time, gives
    the same weights to the last bit."""

    rng = np.random.default_rng(5)
    n_b, n, m = 24, 10, 75
    a = rng.normal(size=(n_b, n, m)) + rng.normal(size=(n_b, 1, m))
    b = rng.normal(size=(n_b, n))
    mask = rng.random((n_b, m)) < 0.9
    x0 = mask / mask.sum(axis=1, keepdims=True)
    kw = {"zeta": rng.uniform(0.05, 0.5, n_b), "n_rows": np.full(n_b, float(n)),
          "min_decrease": np.full(n_b, 1e-9), "max_iter": 2_000}
    with numba_threads(1):
        first = frank_wolfe_batch(a, b, x0, col_mask=mask, **kw)  # type: ignore[arg-type]
    with numba_threads(2):
        again = frank_wolfe_batch(a, b, x0, col_mask=mask, **kw)  # type: ignore[arg-type]
    assert np.array_equal(first, again)
    for p in range(n_b):
        one = {k: (v[p:p + 1] if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        alone = frank_wolfe_batch(a[p:p + 1], b[p:p + 1], x0[p:p + 1], col_mask=mask[p:p + 1],
                                  **one)  # type: ignore[arg-type]
        assert np.array_equal(alone[0], first[p]), p
    assert np.count_nonzero(first, axis=1).min() > 1


@pytest.mark.parametrize("shape", ["omega", "lambda"])
def test_two_rounds_in_one_kernel_call_are_two_calls(shape: str) -> None:
    """The recipe's two rounds (100 steps, sparsify, then to convergence) in one kernel call,
    which sets each problem up (A'A and what follows from it) once and sparsifies compiled,
    give the weights of two separate kernel calls with numpy's sparsify between them, bit for
    bit, and the numpy engine's to rounding."""
    rng = np.random.default_rng(7 if shape == "omega" else 70)
    n_b = 7
    n, m = (6, 90) if shape == "omega" else (120, 7)
    a = rng.normal(size=(n_b, n, m)) + rng.normal(size=(n_b, 1, m))
    b = a[:, :, :3].mean(axis=2) + 0.3 * rng.normal(size=(n_b, n))
    mask = np.ones((n_b, m), dtype=bool)
    if shape == "omega":
        mask[:, m - 12:] = False
        mask[1, rng.choice(m - 12, 5, replace=False)] = False
        a = np.where(mask[:, None, :], a, 0.0)
    else:
        a[:, n - 20:, :] = 0.0
        b[:, n - 20:] = 0.0
    x0 = mask / mask.sum(axis=1, keepdims=True)
    kw = {"zeta": rng.uniform(0.02, 0.4, n_b), "n_rows": np.full(n_b, float(n)),
          "min_decrease": np.full(n_b, 1e-6), "col_mask": mask}
    first = frank_wolfe(a, b, x0, max_iter=PRE_SPARSIFY_ITER, engine="numba",
                        **kw)  # type: ignore[arg-type]
    separate = frank_wolfe(a, b, sparsify(first), max_iter=MAX_ITER, engine="numba",
                           **kw)  # type: ignore[arg-type]
    fused = _solve(a, b, x0, use_sparsify=True, **kw)  # type: ignore[arg-type]
    assert np.array_equal(fused, separate)
    assert np.count_nonzero(first != sparsify(first)) > 0  # sparsifying changed the starts
    first_np = frank_wolfe(a, b, x0, max_iter=PRE_SPARSIFY_ITER, engine="numpy",
                           **kw)  # type: ignore[arg-type]
    peer = frank_wolfe(a, b, sparsify(first_np), max_iter=MAX_ITER, engine="numpy",
                       **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(fused, peer, rtol=0, atol=1e-10)


def test_compiled_sparsify_is_numpys() -> None:
    """The kernel's in-place sparsify is :func:`sparsify` to the last bit on rows of every
    length from 1 to 300 (and a few longer), with weights spanning eight orders of magnitude,
    ties and all-zero rows; summing one term after another differs on many of them, so the
    order of numpy's row sum is really the one followed."""
    rng = np.random.default_rng(3)
    differs = 0
    for m in [*range(1, 301), 517, 1000, 2900]:
        x = rng.exponential(size=(4, m)) * 10.0 ** rng.uniform(-8, 0, size=(4, m))
        x[0, : m // 3] = x[0].max()  # ties at the top
        x[1] = 0.0  # nothing to keep
        x[2, rng.random(m) < 0.5] = 0.0
        want = sparsify(x)
        for row in range(4):
            got = x[row].copy()
            _sparsify(got)
            assert np.array_equal(got, want[row]), (m, row)
            kept = np.where(x[row] <= x[row].max() / 4, 0.0, x[row])
            differs += sum(kept.tolist()) != kept.sum()
    assert differs > 100


def test_fixed_order_sums_are_the_python_ones() -> None:
    """The compiled fixed-order sums (vectors of 8 lanes) are the plain Python
    ``fixed_order_sum`` to the last bit, for terms spanning many magnitudes, and differ from
    the sequential sum on some of them (so the order is really the fixed one)."""
    @njit
    def compiled(p: np.ndarray, q: np.ndarray) -> tuple[float, float]:
        return dot(p, q), dist(p, q)

    rng = np.random.default_rng(3)
    differs = 0
    for n in [0, 16, 32, 48, 288, 304]:
        for _ in range(20):
            p = rng.normal(size=n) * 10.0 ** rng.integers(-8, 8, size=n)
            q = rng.normal(size=n)
            d, e = compiled(p, q)
            assert d == fixed_order_sum((p * q).tolist())
            assert e == fixed_order_sum(((p - q) * (p - q)).tolist())
            seq = 0.0
            for u, v in zip(p, q, strict=True):
                seq += float(u) * float(v)
            differs += d != seq
    assert differs > 0


def _plain_first_min(g: np.ndarray, mask: np.ndarray) -> int:
    j, best = -1, np.inf
    for k in range(g.size):
        if mask[k] and g[k] < best:
            j, best = k, g[k]
    return j


@njit
def _shift_one(g: np.ndarray, c: np.ndarray, alpha: float) -> tuple[int, float]:
    return shift_pass(g, (0,), c, (0,), (alpha,))  # type: ignore[no-any-return]


@njit
def _shift_two(g: np.ndarray, c: np.ndarray, alpha: float,
               beta: float) -> tuple[int, float, int, float]:
    return shift_pass(g, (0, 1), c, (1, 0), (alpha, beta))  # type: ignore[no-any-return]


@pytest.mark.parametrize("m", [0, 1, 5, 31, 32, 33, 64, 95, 285])
def test_vertex_of_the_shift_pass_is_the_plain_scan(m: int) -> None:
    """The shift pass writes ``g + alpha * c`` (numpy's bits) and the vertex it tracks (per
    lane, as it writes) is the plain scan's: the first of equal minima, never a closed column,
    -0.0 equal to +0.0, NaNs never chosen, infinities. Two problems in one pass get what each
    gets alone."""
    rng = np.random.default_rng(m)
    specials = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-310, -1e-310])
    mp = -(-m // 32) * 32
    for trial in range(300):
        g = rng.normal(size=m)
        if m and trial % 3:
            g[rng.integers(0, m, size=max(1, m // 4))] = rng.choice(g)  # ties
        if m and trial % 4 == 1:
            g[rng.integers(0, m, size=3)] = rng.choice(specials, size=3)
        if m and trial % 5 == 2:
            g = np.abs(g)
            g[rng.integers(0, m, size=2)] = rng.choice([0.0, -0.0], size=2)  # a zero minimum
        mask = rng.random(m) < (0.0 if trial == 7 else 0.8)
        alpha = 0.0 if trial % 2 else float(rng.exponential())
        c = np.zeros((2, mp))
        c[0, :m] = np.where(mask, rng.normal(size=m), 0.0) if trial % 2 == 0 else 0.0
        c[1, :m] = np.where(mask, rng.normal(size=m), 0.0)
        gp = np.full((1, mp), CLOSED)
        gp[0, :m][mask] = g[mask]
        want_g = gp[0] + alpha * c[0]
        j, best = _shift_one(gp, c, alpha)
        assert np.array_equal(gp[0], want_g, equal_nan=True)
        want = _plain_first_min(np.where(mask, want_g[:m], np.inf), mask)
        assert j == want, (trial, g, mask)
        if j >= 0:
            assert best == want_g[j]
        pair = np.vstack([gp[0], np.where(gp[0] < CLOSED, gp[0] * 0.5, CLOSED)])
        first, second = pair[:1].copy(), pair[1:].copy()
        together = _shift_two(pair, c, 0.25, alpha)  # row 0 with c[1], row 1 with c[0]
        assert together == _shift_one(first, c[1:], 0.25) + _shift_one(second, c, alpha)
        assert np.array_equal(pair, np.vstack([first, second]), equal_nan=True)
    if m >= 40:  # planted: the smallest value in the last block, its twin after it
        g = np.full((1, mp), CLOSED)
        g[0, :m] = np.linspace(1.0, 2.0, m)
        g[0, m - 3] = g[0, m - 1] = -5.0
        assert _shift_one(g.copy(), np.zeros((1, mp)), 0.0)[0] == m - 3
        g[0, m - 3] = CLOSED
        assert _shift_one(g, np.zeros((1, mp)), 0.0)[0] == m - 1


@njit
def _rows(r: np.ndarray, amb: np.ndarray, b: np.ndarray, keep: float, step: float,
          ) -> tuple[float, ...]:
    one = row_pass(r, (1,), amb, (2,), (0,), b, (1,), (keep,), (step,))
    two = row_pass(r, (0, 1), amb, (1, 2), (0, 0), b, (0, 1), (0.5, keep), (0.5, step))
    return one + two


@pytest.mark.parametrize("n", [16, 32, 288])
def test_row_pass_is_the_plain_update_and_fixed_order_sums(n: int) -> None:
    """The row pass writes ``keep * r + step * amb_j`` (numpy's bits) and returns ``|r|^2``,
    ``|amb_next - r|^2`` and ``r'b`` as the fixed-order sums of Python; the same for a
    problem alone and beside another."""
    rng = np.random.default_rng(n)
    for _ in range(20):
        r = rng.normal(size=(2, n)) * 10.0 ** rng.integers(-6, 6, size=(2, n))
        amb = rng.normal(size=(3, n))
        b = rng.normal(size=(2, n))
        keep = float(rng.uniform())
        step = 1.0 - keep
        start = r.copy()
        got = _rows(r, amb, b, keep, step)
        once = keep * start[1] + step * amb[2]
        twice = keep * once + step * amb[2]
        assert np.array_equal(r[1], twice)
        assert got[0] == fixed_order_sum((once * once).tolist())
        assert got[1] == fixed_order_sum(((amb[0] - once) * (amb[0] - once)).tolist())
        assert got[2] == fixed_order_sum((once * b[1]).tolist())
        assert got[6] == fixed_order_sum((twice * twice).tolist())
        assert got[7] == fixed_order_sum(((amb[0] - twice) * (amb[0] - twice)).tolist())
        assert got[8] == fixed_order_sum((twice * b[1]).tolist())
        first = 0.5 * start[0] + 0.5 * amb[1]
        assert np.array_equal(r[0], first)
        assert got[3] == fixed_order_sum((first * first).tolist())
