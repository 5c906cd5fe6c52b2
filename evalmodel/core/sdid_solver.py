"""Frank-Wolfe weights of synthetic difference-in-differences, batched over many problems.

Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021, *American Economic Review* 111(12),
Algorithm 1) choose unit weights :math:`\\omega` and time weights :math:`\\lambda` on the
simplex by ridge-penalised least squares with an intercept,

.. math::

    \\min_{x \\in \\Delta} \\; \\lVert A x - b \\rVert^2 / n + \\zeta^2 \\lVert x \\rVert^2 ,

where, for the unit weights, the columns of :math:`A` are the control units' pre-period paths
and :math:`b` the treated units' mean path (both centred over time), and, for the time weights,
the columns of :math:`A` are the pre-periods across control units and :math:`b` their
post-period mean (centred over units). The paper (and the R package ``synthdid``) solves this by
Frank-Wolfe with an exact line search, stops when one step lowers the objective by less than
``min_decrease**2``, and runs a first round of at most 100 steps, zeroes weights no larger than a
quarter of the largest ("sparsify"), and then runs to convergence from there. The functions here
follow that recipe, written to solve a whole batch of problems at once (the placebo and bootstrap
replications of :mod:`evalmodel.inference.sdid_se`): arrays carry a leading batch axis and each
problem stops on its own rule while the others go on.

Padding: problems of different sizes share one array. Rows of ``A`` that do not belong to a
problem are zero (with ``b`` zero there) and so add nothing to its residual; columns that do not
belong to it are switched off by ``col_mask`` and never receive weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalmodel.core.jit import use_numba
from evalmodel.vocabulary import SolverEngine, check_option

__all__ = ["SdidWeights", "collapse", "frank_wolfe", "sdid_weights", "sparsify"]

#: The old name of :data:`~evalmodel.vocabulary.SolverEngine`.
Engine = SolverEngine

#: First-round iteration cap before sparsifying (the R package's ``max.iter.pre.sparsify``).
PRE_SPARSIFY_ITER = 100
#: Iteration cap of the second round (the R package's ``max.iter``).
MAX_ITER = 10_000


def frank_wolfe(
    a: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray,
    *,
    zeta: np.ndarray,
    n_rows: np.ndarray,
    min_decrease: np.ndarray,
    max_iter: int,
    col_mask: np.ndarray | None = None,
    engine: SolverEngine = "auto",
) -> np.ndarray:
    """Minimise ``||A x - b||^2 / n + zeta^2 ||x||^2`` over the simplex for a batch of problems.

    Parameters
    ----------
    a : ndarray, shape (B, n, m)
        Design matrices (already centred; padding rows zero).
    b : ndarray, shape (B, n)
        Targets (padding rows zero).
    x0 : ndarray, shape (B, m)
        Starting weights on the simplex (zero on masked columns).
    zeta : ndarray, shape (B,)
        Ridge penalty levels.
    n_rows : ndarray, shape (B,)
        Number of real rows of each problem (the ``n`` of the objective).
    min_decrease : ndarray, shape (B,)
        A problem stops once a step lowers its objective by no more than ``min_decrease**2``.
    max_iter : int
        Most steps per problem.
    col_mask : ndarray of bool, shape (B, m), optional
        Columns that belong to each problem.
    engine : {"auto", "numba", "numpy"}
        ``"numba"`` runs the compiled kernel of :mod:`.fw_kernel` (each problem in its own
        thread); ``"numpy"`` the batched array code below; ``"auto"`` the kernel when numba is
        available (see :mod:`evalmodel.core.jit`). Both give the same weights to rounding.

    Returns
    -------
    ndarray, shape (B, m)
        The weights.
    """
    check_option("frank_wolfe", "engine", engine, SolverEngine)
    if engine == "numba" or (engine == "auto" and use_numba()):
        from evalmodel.core.fw_kernel import frank_wolfe_batch

        return frank_wolfe_batch(a, b, x0, zeta=zeta, n_rows=n_rows, min_decrease=min_decrease,
                                 max_iter=max_iter, col_mask=col_mask)
    out = np.array(x0, dtype=float, copy=True)
    x = out.copy()
    eta = n_rows * zeta**2
    tol = min_decrease**2
    zeta2, n_rows = zeta**2, np.asarray(n_rows, dtype=float)
    # Gram matrices let the half gradient g = A'(Ax - b) + eta x be updated in O(m) per step:
    # after x <- (1 - s) x + s e_j, g becomes (1 - s) g + s (G_j - A'b) + s eta e_j, and the
    # residual r = Ax - b becomes (1 - s) r + s (A_j - b).
    gram = np.matmul(np.swapaxes(a, 1, 2), a)
    atb = np.einsum("bnm,bn->bm", a, b)
    resid = np.einsum("bnm,bm->bn", a, x) - b
    g = np.einsum("bnm,bn->bm", a, resid) + eta[:, None] * x
    blocked = None if col_mask is None else np.where(col_mask, 0.0, np.inf)
    where = np.arange(x.shape[0])  # batch rows still being solved
    prev = np.full(x.shape[0], np.nan)
    active = np.ones(x.shape[0], dtype=bool)
    xx = np.einsum("bm,bm->b", x, x)
    for it in range(max_iter):
        sub = np.arange(where.size)
        j = np.argmin(g if blocked is None else g + blocked, axis=1)
        x_j, g_j = x[sub, j], g[sub, j]
        a_j = a[sub, :, j]
        d_err = a_j - b - resid  # A e_j - A x
        # direction d = e_j - x: g.d = g_j - g.x and |d|^2 = |x|^2 - 2 x_j + 1
        gd = g_j - np.einsum("bm,bm->b", g, x)
        denom = np.einsum("bn,bn->b", d_err, d_err) + eta * (xx - 2.0 * x_j + 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(denom > 0, -gd / denom, 0.0)
        step = np.where(active, np.clip(step, 0.0, 1.0), 0.0)
        keep = 1.0 - step
        xx = keep**2 * xx + 2.0 * step * keep * x_j + step**2
        x *= keep[:, None]
        x[sub, j] += step
        resid = keep[:, None] * resid + step[:, None] * (a_j - b)
        g *= keep[:, None]
        g += step[:, None] * (gram[sub, j, :] - atb)  # G symmetric: row j is contiguous
        g[sub, j] += eta * step
        val = zeta2 * xx + np.einsum("bn,bn->b", resid, resid) / n_rows
        if it >= 1:
            active &= prev - val > tol
            n_active = int(active.sum())
            if n_active == 0:
                break
            if n_active <= where.size // 2:  # drop finished problems from the arrays
                out[where[~active]] = x[~active]
                where, x, prev, val = where[active], x[active], prev[active], val[active]
                xx = xx[active]
                a, b, gram, atb = a[active], b[active], gram[active], atb[active]
                resid, g = resid[active], g[active]
                blocked = None if blocked is None else blocked[active]
                eta, tol, zeta2, n_rows = eta[active], tol[active], zeta2[active], n_rows[active]
                active = np.ones(where.size, dtype=bool)
        prev = np.where(active, val, prev)
    out[where] = x
    return out


def sparsify(x: np.ndarray) -> np.ndarray:
    """Zero weights no larger than a quarter of each row's largest, then renormalise rows."""
    out = np.where(x <= x.max(axis=-1, keepdims=True) / 4, 0.0, x)
    total = out.sum(axis=-1, keepdims=True)
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def _solve(
    a: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray,
    *,
    zeta: np.ndarray,
    n_rows: np.ndarray,
    min_decrease: np.ndarray,
    col_mask: np.ndarray | None,
    use_sparsify: bool,
) -> np.ndarray:
    kw = {"zeta": zeta, "n_rows": n_rows, "min_decrease": min_decrease, "col_mask": col_mask}
    if not use_sparsify:
        return frank_wolfe(a, b, x0, max_iter=MAX_ITER, **kw)  # type: ignore[arg-type]
    if use_numba():
        return _solve_kernel(a, b, x0, **kw)  # type: ignore[arg-type]
    x = frank_wolfe(a, b, x0, max_iter=PRE_SPARSIFY_ITER, **kw)  # type: ignore[arg-type]
    return frank_wolfe(a, b, sparsify(x), max_iter=MAX_ITER, **kw)  # type: ignore[arg-type]


def _solve_kernel(a: np.ndarray, b: np.ndarray, x0: np.ndarray, *, zeta: np.ndarray,
                  n_rows: np.ndarray, min_decrease: np.ndarray,
                  col_mask: np.ndarray | None) -> np.ndarray:
    """The two rounds of :func:`_solve` in one call of the compiled kernel, which sets each
    problem up (``A'A`` and what follows from it) once for both and sparsifies in between
    with :func:`sparsify`'s arithmetic: the weights of two calls, bit for bit."""
    from evalmodel.core.fw_kernel import frank_wolfe_batch

    return frank_wolfe_batch(a, b, x0, zeta=zeta, n_rows=n_rows, min_decrease=min_decrease,
                             max_iter=MAX_ITER, col_mask=col_mask, first_iter=PRE_SPARSIFY_ITER)


def collapse(
    y: np.ndarray, ctrl_mask: np.ndarray, treat_mask: np.ndarray, t0: int
) -> tuple[np.ndarray, np.ndarray]:
    """The collapsed form of a batch of outcome arrays.

    Parameters
    ----------
    y : ndarray, shape (B, N, T)
        Outcomes; rows are units (possibly duplicated or padded).
    ctrl_mask, treat_mask : ndarray of bool, shape (B, N)
        Which rows are controls and which are treated in each problem.
    t0 : int
        Number of pre-periods (the first ``t0`` columns).

    Returns
    -------
    ctrl : ndarray, shape (B, N, t0 + 1)
        Control rows' pre-period values and post-period mean (zero on other rows).
    treat : ndarray, shape (B, t0 + 1)
        The treated rows' mean pre-period path and post-period mean.
    """
    pre_post = np.concatenate([y[:, :, :t0], y[:, :, t0:].mean(axis=2, keepdims=True)], axis=2)
    n1 = treat_mask.sum(axis=1, keepdims=True)
    treat = np.einsum("bn,bnt->bt", treat_mask.astype(float), pre_post) / n1
    np.copyto(pre_post, 0.0, where=~ctrl_mask[:, :, None])  # now the control rows only
    return pre_post, treat


@dataclass(frozen=True)
class SdidWeights:
    """Unit weights ``omega`` (B, N) over rows and time weights ``lam`` (B, T0)."""

    omega: np.ndarray
    lam: np.ndarray


def sdid_weights(
    ctrl: np.ndarray,
    treat: np.ndarray,
    ctrl_mask: np.ndarray,
    *,
    zeta_omega: float,
    zeta_lambda: float,
    min_decrease: float,
    omega0: np.ndarray,
    lambda0: np.ndarray,
    update_omega: bool,
    update_lambda: bool,
    omega_intercept: bool = True,
    lambda_intercept: bool = True,
    use_sparsify: bool = True,
) -> SdidWeights:
    """Solve for the unit and time weights of a batch of collapsed problems.

    Parameters
    ----------
    ctrl, treat, ctrl_mask
        As returned by :func:`collapse` and the control mask it used.
    zeta_omega, zeta_lambda : float
        Ridge penalty levels of the unit and time weights.
    min_decrease : float
        Stopping tolerance (the objective must fall by more than its square per step).
    omega0 : ndarray, shape (B, N)
        Starting (or fixed) unit weights, zero off the control rows.
    lambda0 : ndarray, shape (B, T0)
        Starting (or fixed) time weights.
    update_omega, update_lambda : bool
        Whether to optimise each set of weights or keep the given ones.
    omega_intercept, lambda_intercept : bool
        Whether each problem has an intercept (centring).
    use_sparsify : bool
        Run the two-round recipe with sparsification.

    Returns
    -------
    SdidWeights
    """
    n_batch, _, tp1 = ctrl.shape
    t0 = tp1 - 1
    n0 = ctrl_mask.sum(axis=1).astype(float)
    omega, lam = np.asarray(omega0, float), np.asarray(lambda0, float)
    md = np.full(n_batch, float(min_decrease))
    off = ~ctrl_mask
    # the centred problems are written straight into C-ordered arrays (what the kernel reads),
    # element by element as ``np.where(mask, x - mean, 0.0)`` would give them
    if update_lambda:
        c, d = ctrl[:, :, :t0], ctrl[:, :, t0]
        if lambda_intercept:
            mean = ctrl.sum(axis=1, keepdims=True) / n0[:, None, None]
            c = np.subtract(c, mean[:, :, :t0], out=np.empty(c.shape))
            d = np.subtract(d, mean[:, :, t0], out=np.empty(d.shape))
            np.copyto(c, 0.0, where=off[:, :, None])
            np.copyto(d, 0.0, where=off)
        lam = _solve(c, d, lam, zeta=np.full(n_batch, zeta_lambda),
                     n_rows=n0, min_decrease=md, col_mask=None, use_sparsify=use_sparsify)
    if update_omega:
        a = np.swapaxes(ctrl[:, :, :t0], 1, 2)  # (B, T0, N)
        b = treat[:, :t0]
        out = np.empty(a.shape)
        if omega_intercept:
            np.subtract(a, a.mean(axis=1, keepdims=True), out=out)
            b = b - b.mean(axis=1, keepdims=True)
        else:
            out[...] = a
        np.copyto(out, 0.0, where=off[:, None, :])
        a = out
        omega = _solve(a, b, omega, zeta=np.full(n_batch, zeta_omega),
                       n_rows=np.full(n_batch, float(t0)), min_decrease=md,
                       col_mask=ctrl_mask, use_sparsify=use_sparsify)
    return SdidWeights(omega=omega, lam=lam)


def sdid_tau(ctrl: np.ndarray, treat: np.ndarray, w: SdidWeights) -> np.ndarray:
    """The estimate of each problem: weighted double difference of the collapsed form."""
    t0 = ctrl.shape[2] - 1
    synth = np.einsum("bn,bnt->bt", w.omega, ctrl)  # (B, t0 + 1)
    diff = treat - synth
    return diff[:, t0] - np.einsum("bt,bt->b", w.lam, diff[:, :t0])
