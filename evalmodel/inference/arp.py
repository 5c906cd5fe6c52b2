"""The conditional least-favourable hybrid test of Andrews, Roth and Pakes (2023), as the
relative-magnitudes intervals of :mod:`evalmodel.inference.honest` invert it.

The test of ``E[y0 - a1 theta - x tau] <= 0`` is computed from the vertices of the dual of its
linear programme, ``{g >= 0 : sd' g = 1, x' g = 0}`` with ``sd`` the standard deviations of the
moments: the polytope does not depend on ``theta``, so every point of a grid is tested at once
and the truncation points of the conditional distribution are exact.

Each vertex solves ``[sd_S'; x_S'] g_S = e_1`` for a subset ``S`` of ``k + 1`` moments. Whether
that matrix is singular is read from the cofactors of its first row, which depend on ``x``
alone (remembered, so the pieces of a relative-magnitudes interval and every ``m`` of a
sensitivity analysis share them): its determinant is ``sd_S`` times them. Only subsets whose
determinant is not clearly zero are solved, and the numbers are those of solving every subset
(the same LAPACK call on the same matrix for each vertex).

References
----------
Andrews, I., Roth, J. and Pakes, A. (2023). Inference for linear conditional moment
inequalities. *Review of Economic Studies* 90(6), 2763-2791.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections import OrderedDict

import numpy as np
from scipy import special

from evalmodel.errors import EstimationError

__all__ = ["arp_accept", "dual_vertices", "lf_draws", "subsets", "unique_rows"]

#: More candidate vertex subsets than this are refused (named error) before any is built.
MAX_VERTEX_SUBSETS = 300_000

#: Determinants below this multiple of the singularity threshold (``1e-12 max|w|^(k+1)``)
#: are zero whichever way they are computed; above ``1 / _BAND`` of it, they are clearly not
#: (the rounding of a determinant of at most 20 x 20 numbers of that scale is far smaller).
#: Between the two, the LU determinant decides, as it did for every subset.
_BAND = 1e-3

_MEMO_SIZE = 16
_cofactor_memo: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_normal_memo: OrderedDict[tuple[int | None, int, int], np.ndarray] = OrderedDict()


@functools.lru_cache(maxsize=16)
def subsets(n: int, size: int) -> np.ndarray:
    """Every ``size``-subset of ``range(n)`` as a row, in ``itertools.combinations`` order
    (read-only: one array is shared by every test of the same shape)."""
    idx = np.array(list(itertools.combinations(range(n), size)), dtype=np.intp)
    idx = idx.reshape(-1, size)
    idx.flags.writeable = False
    return idx


def _cofactors(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(k + 1)``-subset ``S`` of the ``m`` moments (:func:`subsets`) and the cofactors
    of the first row of ``[sd_S'; x_S']`` (which do not depend on ``sd``), remembered by
    ``x``."""
    key = str(x.shape).encode() + np.ascontiguousarray(x).tobytes()
    found = _cofactor_memo.get(key)
    if found is None:
        m, k = x.shape
        idx = subsets(m, k + 1)
        rows = x[idx]  # (n_subsets, k + 1, k): x_S
        cof = np.empty(idx.shape, dtype=float)
        for j in range(k + 1):
            minor = np.delete(rows, j, axis=1)  # x_S without its j-th moment, transposed
            cof[:, j] = (-1.0) ** j * (np.linalg.det(minor) if k else 1.0)
        cof.flags.writeable = False
        found = (idx, cof)
        _cofactor_memo[key] = found
        while len(_cofactor_memo) > _MEMO_SIZE:
            _cofactor_memo.popitem(last=False)
    return found


def dual_vertices(sd: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vertices of ``{g >= 0 : sd' g = 1, x' g = 0}`` as rows, distinct, in lexicographic
    order: of every subset ``S`` of ``k + 1`` moments whose matrix ``[sd_S'; x_S']`` is not
    singular (``|det| > 1e-12 max|w|^(k+1)``), the solution of ``[sd_S'; x_S'] g_S = e_1``
    when it is ``>= -1e-12``, rounded to 14 decimals."""
    m, k = x.shape
    w = np.column_stack([sd, x])  # m x (k+1)
    n_subsets = math.comb(m, k + 1)
    if n_subsets > MAX_VERTEX_SUBSETS:
        raise EstimationError(
            f"honest_ci: {m} moments and {k} nuisance parameters give {n_subsets:,} candidate "
            "vertices; use fewer post-periods (a shorter event window)."
        )
    idx, cof = _cofactors(x)
    threshold = 1e-12 * np.max(np.abs(w)) ** (k + 1)
    size = np.abs(np.einsum("ij,ij->i", cof, sd[idx]))  # |det [sd_S'; x_S']|, by cofactors
    ok = size > threshold / _BAND
    unsure = np.flatnonzero((size > threshold * _BAND) & ~ok)
    if unsure.size:
        mats = np.transpose(w[idx[unsure]], (0, 2, 1))
        ok[unsure] = np.abs(np.linalg.det(mats)) > threshold
    idx = idx[ok]
    mats = np.transpose(w[idx], (0, 2, 1))  # (n_ok, k+1, k+1): W_S'
    rhs = np.zeros(k + 1)
    rhs[0] = 1.0
    sol = np.linalg.solve(mats, np.broadcast_to(rhs, (idx.shape[0], k + 1))[..., None])[..., 0]
    feas = np.all(sol >= -1e-12, axis=1)
    verts = np.zeros((int(feas.sum()), m))
    np.put_along_axis(verts, idx[feas], np.maximum(sol[feas], 0.0), axis=1)
    return unique_rows(np.round(verts, 14))


def unique_rows(a: np.ndarray) -> np.ndarray:
    """The distinct rows of ``a`` in lexicographic order: ``np.unique(a, axis=0)`` (tested
    against it) by one ``lexsort`` and a comparison of neighbours, for a third of its time."""
    if a.shape[0] < 2:
        return a.copy()
    rows = a[np.lexsort(a.T[::-1])]
    keep = np.empty(rows.shape[0], dtype=bool)
    keep[0] = True
    np.any(rows[1:] != rows[:-1], axis=1, out=keep[1:])
    return rows[keep]


def lf_draws(seed: int | None, n: int, cov: np.ndarray) -> np.ndarray:
    """``n`` draws of ``N(0, cov)``: those of ``np.random.default_rng(seed)
    .multivariate_normal(zeros, cov, size=n, method="eigh")``, bit for bit (tested), with its
    warning for a covariance that is not positive semi-definite; the standard normals of a
    seed, count and dimension are made once (an integer seed) and shared."""
    d = cov.shape[0]
    key = (seed, n, d)
    z = _normal_memo.get(key) if seed is not None else None
    if z is None:
        z = np.random.default_rng(seed).standard_normal((n, d))
        if seed is not None:
            z.flags.writeable = False
            _normal_memo[key] = z
            while len(_normal_memo) > _MEMO_SIZE:
                _normal_memo.popitem(last=False)
    values, vectors = np.linalg.eigh(cov)
    if np.any(values < -1e-8):  # numpy's check (check_valid="warn", tol=1e-8)
        warnings.warn("covariance is not symmetric positive-semidefinite.", RuntimeWarning,
                      stacklevel=2)
    return np.zeros(d) + z @ (vectors * np.sqrt(np.abs(values))).T


def arp_accept(
    y0: np.ndarray,
    a1: np.ndarray,
    x: np.ndarray,
    sig_y: np.ndarray,
    thetas: np.ndarray,
    alpha: float,
    kappa: float,
    draws: np.ndarray,
) -> np.ndarray:
    """Acceptance of ``E[y0 - a1 theta - x tau] <= 0`` for every ``theta`` (LF hybrid);
    ``draws`` are the least-favourable draws of ``N(0, sig_y)``."""
    sd = np.sqrt(np.diag(sig_y))
    verts = dual_vertices(sd, x)
    if verts.shape[0] == 0:  # the moments cannot all hold: Delta is empty here
        return np.zeros(thetas.size, dtype=bool)
    # least-favourable critical value: quantile of eta under y ~ N(0, Sigma_Y)
    lf_cv = float(np.quantile((draws @ verts.T).max(axis=1), 1 - kappa))
    y = y0[None, :] - thetas[:, None] * a1[None, :]  # (n_theta, m)
    vals = y @ verts.T  # (n_theta, n_vert)
    best = vals.argmax(axis=1)
    eta = vals[np.arange(thetas.size), best]
    accept = np.zeros(thetas.size, dtype=bool)
    # beyond the least-favourable critical value theta is rejected; the rest is decided
    # below, row by row (the products run on every row, as their bits may depend on it)
    r = np.flatnonzero(~(eta > lf_cv))
    if r.size == 0:
        return accept
    g = verts[best]  # (n_theta, m)
    sg = g @ sig_y  # Sigma g (sigma symmetric)
    sig2 = np.einsum("ij,ij->i", sg, g)
    bvec = sg / np.where(sig2 > 0, sig2, 1.0)[:, None]  # (n_theta, m)
    svec = y - bvec * eta[:, None]
    # vertex v stays below the line c for c with  v's + (v'b - 1) c <= 0
    vs = (svec @ verts.T)[r]
    vb = (bvec @ verts.T - 1.0)[r]
    eta = eta[r]
    sigma_b = np.sqrt(np.maximum(sig2[r], 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = -vs / vb
    vlo = np.where(vb < -1e-12, bound, -np.inf).max(axis=1)
    vup = np.where(vb > 1e-12, bound, np.inf).min(axis=1)
    mod_size = (alpha - kappa) / (1 - kappa)
    with np.errstate(divide="ignore", invalid="ignore"):
        maxstat = eta / sigma_b
        zlo = vlo / sigma_b
        zup = np.minimum(vup, lf_cv) / sigma_b
    inside = (zlo <= maxstat) & (maxstat <= zup) & (sigma_b > 1e-10)
    cval = np.zeros(r.size)
    if inside.any():
        lo, hi = zlo[inside], zup[inside]
        # the standard normal's cdf, quantile, survival function and its inverse straight
        # from scipy.special (the functions scipy.stats.norm calls, without its checks)
        plo, phi = special.ndtr(lo), special.ndtr(hi)
        q = special.ndtri(plo + (1 - mod_size) * (phi - plo))
        # far in the upper tail use the survival function for accuracy
        slo, shi = special.ndtr(-lo), special.ndtr(-hi)
        q_tail = -special.ndtri(shi + mod_size * (slo - shi))
        q = np.where(lo > 0, q_tail, q)
        cval[inside] = np.maximum(0.0, q)
    reject = np.where(sigma_b <= 1e-10, eta > 0, inside & (maxstat > cval))
    accept[r] = ~reject
    return accept
