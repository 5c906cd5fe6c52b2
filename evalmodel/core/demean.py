"""Two-way demeaning: the residuals of columns after weighted least squares on unit and period
dummies, computed on integer codes without building the dummies.

Three exact-or-converged methods, chosen by :func:`twoway_demean` (``method="auto"``):

- ``"closed"``: a balanced panel (every unit once in every period) that is unweighted, or whose
  weights are constant within units (or within periods). The residual is then
  ``x - xbar_i - xbar_t + xbar`` with the means weighted along the dimension where the weights
  vary; the normal equations of both sets of dummies hold exactly (two passes over the data).
- ``"direct"``: any panel and weights. Demean within the larger factor (units), then solve
  the normal equations of the smaller one (periods) through its Schur complement, a small dense
  system (``min(n_units, n_periods)`` square). Exact up to rounding, no iterations.
- ``"alternating"``: weighted alternating projections (demean by units, then by periods, until
  the largest change is below ``tol`` relative to the column's scale), for panels where both
  factors are too large for the dense system. Raises :class:`~evalmodel.errors.EstimationError`
  when ``max_iter`` passes do not converge.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from evalmodel.errors import EstimationError
from evalmodel.vocabulary import DemeanMethod, check_option

__all__ = ["DIRECT_MAX", "blockwise_demean", "is_balanced", "twoway_demean"]

#: Largest smaller-factor size solved densely by ``"direct"`` under ``method="auto"``.
DIRECT_MAX = 2_000
#: Rows whose cell keys :func:`is_balanced` forms at a time.
BALANCE_BLOCK = 1 << 20


def _n_levels(codes: np.ndarray, n: int | None) -> int:
    return int(codes.max()) + 1 if n is None else int(n)


def is_balanced(ucode: np.ndarray, tcode: np.ndarray, n_units: int, n_periods: int) -> bool:
    """Whether every (unit, period) cell holds exactly one row."""
    if len(ucode) != n_units * n_periods:
        return False
    seen = np.zeros(n_units * n_periods, dtype=bool)  # as many rows as cells: each seen once
    step = BALANCE_BLOCK  # the cells' keys a block of rows at a time: no copy of the codes
    for i in range(0, len(ucode), step):
        key = ucode[i:i + step].astype(np.int64)
        key *= n_periods
        key += tcode[i:i + step]
        if key.max() >= len(seen) or key.min() < 0:
            return False
        seen[key] = True
    return bool(seen.all())


def _constant_within(w: np.ndarray, codes: np.ndarray, n: int) -> bool:
    """Whether ``w`` is constant within each group of ``codes`` (to 1e-14 relative)."""
    mean = np.bincount(codes, weights=w, minlength=n) / np.bincount(codes, minlength=n)
    return bool((np.abs(w - mean[codes]) <= 1e-14 * np.abs(mean[codes])).all())


def _closed(a: np.ndarray, ucode: np.ndarray, tcode: np.ndarray, n_u: int, n_t: int,
            w: np.ndarray | None, along: str | None, out: np.ndarray) -> np.ndarray:
    """Balanced panel: ``x - mean_i - mean_t + mean``; weighted along ``along`` only. ``out``
    may be ``a`` itself (each column's means are taken before it is overwritten)."""
    gathered = np.empty(len(a))
    if w is None:
        wu = np.full(n_u, float(n_t))
        wt = np.full(n_t, float(n_u))
    else:
        wu = np.bincount(ucode, weights=w, minlength=n_u)
        wt = np.bincount(tcode, weights=w, minlength=n_t)
    total = wt.sum()
    for j in range(a.shape[1]):
        x = a[:, j]
        wx = x if w is None else w * x
        grand = wx.sum() / total
        if along == "unit":  # weights vary over units: weighted period means, plain unit means
            mu_u = np.bincount(ucode, weights=x, minlength=n_u) / n_t
            mu_t = np.bincount(tcode, weights=wx, minlength=n_t) / wt
        elif along == "period":
            mu_u = np.bincount(ucode, weights=wx, minlength=n_u) / wu
            mu_t = np.bincount(tcode, weights=x, minlength=n_t) / n_u
        else:
            mu_u = np.bincount(ucode, weights=x, minlength=n_u) / n_t
            mu_t = np.bincount(tcode, weights=x, minlength=n_t) / n_u
        col = out[:, j]  # take's mode "clip" writes into ``gathered`` unbuffered ("raise"
        # would copy); the codes are in range (balanced panel)
        np.subtract(x, np.take(mu_u, ucode, out=gathered, mode="clip"), out=col)
        col -= np.take(mu_t, tcode, out=gathered, mode="clip")
        col += grand
    return out


def _direct(a: np.ndarray, big: np.ndarray, small: np.ndarray, n_big: int, n_small: int,
            w: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Demean within ``big``, then remove the ``small`` effects solved by the Schur complement."""
    w_big = np.bincount(big, weights=w, minlength=n_big)
    w_small = np.bincount(small, weights=w, minlength=n_small)
    inv_big = np.divide(1.0, w_big, out=np.zeros(n_big), where=w_big > 0)
    inc = sparse.csr_matrix((w, (big, small)), shape=(n_big, n_small))
    schur = np.diag(w_small) - np.asarray((inc.T @ sparse.diags(inv_big) @ inc).todense())
    for j in range(a.shape[1]):
        x = a[:, j]
        x1 = x - (np.bincount(big, weights=w * x, minlength=n_big) * inv_big)[big]
        rhs = np.bincount(small, weights=w * x1, minlength=n_small)
        beta = _solve_pinned(schur, rhs)
        beta_big = np.asarray(inc @ beta) * inv_big
        out[:, j] = x1 - beta[small] + beta_big[big]
    return out


def _solve_pinned(schur: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve the singular (by one) Schur system with the first effect pinned at zero; least
    squares when the design is disconnected (the residual is the same for every solution)."""
    beta = np.zeros(len(rhs))
    if len(rhs) == 1:
        return beta
    try:
        beta[1:] = np.linalg.solve(schur[1:, 1:], rhs[1:])
    except np.linalg.LinAlgError:
        beta = np.linalg.lstsq(schur, rhs, rcond=None)[0]
    return beta


def _alternating(a: np.ndarray, ucode: np.ndarray, tcode: np.ndarray, n_u: int, n_t: int,
                 w: np.ndarray, tol: float, max_iter: int, out: np.ndarray) -> np.ndarray:
    """Weighted alternating projections, column by column."""
    w_u = np.bincount(ucode, weights=w, minlength=n_u)
    w_t = np.bincount(tcode, weights=w, minlength=n_t)
    inv_u = np.divide(1.0, w_u, out=np.zeros(n_u), where=w_u > 0)
    inv_t = np.divide(1.0, w_t, out=np.zeros(n_t), where=w_t > 0)
    for j in range(a.shape[1]):
        x = a[:, j].copy()
        scale = max(float(np.abs(x).max()), np.finfo(float).tiny)
        for _ in range(max_iter):
            step_u = (np.bincount(ucode, weights=w * x, minlength=n_u) * inv_u)[ucode]
            x -= step_u
            step_t = (np.bincount(tcode, weights=w * x, minlength=n_t) * inv_t)[tcode]
            x -= step_t
            if max(np.abs(step_u).max(), np.abs(step_t).max()) <= tol * scale:
                break
        else:
            raise EstimationError(
                f"two-way demeaning: alternating projections did not converge to {tol:g} "
                f"(relative) in max_iter={max_iter} passes (column {j}); the panel's units and "
                "periods are poorly connected: raise max_iter or use method='direct'."
            )
        out[:, j] = x
    return out


def twoway_demean(
    a: np.ndarray,
    ucode: np.ndarray,
    tcode: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    n_units: int | None = None,
    n_periods: int | None = None,
    method: DemeanMethod = "auto",
    tol: float = 1e-13,
    max_iter: int = 10_000,
    overwrite: bool = False,
) -> np.ndarray:
    """Residuals of the columns of ``a`` after weighted least squares on unit and period effects.

    Parameters
    ----------
    a : ndarray (n,) or (n, k)
        Columns to demean.
    ucode, tcode : ndarray of int (n,)
        Unit and period codes, ``0..n_units-1`` and ``0..n_periods-1``.
    weights : ndarray (n,), optional
        Non-negative weights of weighted least squares (None: unweighted).
    n_units, n_periods : int, optional
        Numbers of codes (default: the largest code plus one).
    method : {"auto", "closed", "direct", "alternating"}
        See the module docstring; ``"auto"`` takes ``"closed"`` when it is exact, else
        ``"direct"`` when the smaller factor has at most :data:`DIRECT_MAX` levels, else
        ``"alternating"``.
    tol, max_iter : float, int
        Convergence tolerance (largest change relative to the column's largest value) and
        cap on the passes of ``"alternating"``.
    overwrite : bool
        Write the residuals into ``a`` (a float array) instead of a new array, to save memory.

    Returns
    -------
    ndarray
        The residuals, shaped like ``a``.

    Raises
    ------
    EstimationError
        For ``method="closed"`` on a panel where it is not exact, or when the alternating
        projections do not converge.

    Examples
    --------
    >>> import numpy as np
    >>> u, t = np.repeat([0, 1], 2), np.tile([0, 1], 2)
    >>> twoway_demean(np.array([1.0, 2.0, 3.0, 6.0]), u, t).round(12).tolist()
    [0.5, -0.5, -0.5, 0.5]
    """
    arr = np.asarray(a, dtype=float)
    cols = arr.reshape(len(arr), -1)
    out = cols if overwrite else np.empty_like(cols)
    ucode = np.asarray(ucode, dtype=np.intp)
    tcode = np.asarray(tcode, dtype=np.intp)
    n_u, n_t = _n_levels(ucode, n_units), _n_levels(tcode, n_periods)
    w = None if weights is None else np.asarray(weights, dtype=float)
    check_option("twoway_demean", "method", method, DemeanMethod)
    along: str | None = None  # the dimension along which the weights vary ("unit"/"period")
    closed = is_balanced(ucode, tcode, n_u, n_t)
    if closed and w is not None:
        if _constant_within(w, ucode, n_u):
            along = "unit"
        elif _constant_within(w, tcode, n_t):
            along = "period"
        else:
            closed = False
    if method == "closed" and not closed:
        raise EstimationError(
            "two-way demeaning: method='closed' needs a balanced panel with weights constant "
            "within units or periods; use method='auto'."
        )
    if method == "auto":
        method = ("closed" if closed else
                  "direct" if min(n_u, n_t) <= DIRECT_MAX else "alternating")
    if method == "closed":
        out = _closed(cols, ucode, tcode, n_u, n_t, w, along, out)
    else:
        ww = np.ones(len(cols)) if w is None else w
        if method == "direct":
            out = (_direct(cols, ucode, tcode, n_u, n_t, ww, out) if n_u >= n_t else
                   _direct(cols, tcode, ucode, n_t, n_u, ww, out))
        else:
            out = _alternating(cols, ucode, tcode, n_u, n_t, ww, tol, max_iter, out)
    return out.reshape(arr.shape)


def blockwise_demean(
    a: np.ndarray,
    ucode: np.ndarray,
    tcode: np.ndarray,
    blocks: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    method: DemeanMethod = "auto",
    overwrite: bool = False,
) -> np.ndarray:
    """Two-way demeaning of blocks of rows that share no unit and no period code, one by one.

    The residual maker of effects whose rows fall into separate blocks (connected components of
    the unit-period design) is the residual maker of each block: unit-by-calendar-month effects
    with period effects are twelve blocks, one per calendar month, each a plain unit-by-year
    panel (balanced, so closed form, when the monthly panel is). Each block goes through
    :func:`twoway_demean` with its codes renumbered.

    Parameters
    ----------
    a : ndarray (n,) or (n, k)
        Columns to demean.
    ucode, tcode : ndarray of int (n,)
        Unit and period codes.
    blocks : ndarray of int (n,)
        The block of each row; no unit or period code may occur in two blocks.
    weights, method, overwrite
        As in :func:`twoway_demean`.

    Returns
    -------
    ndarray
        The residuals, shaped like ``a``.

    Raises
    ------
    EstimationError
        When a unit or period code occurs in more than one block.
    """
    arr = np.asarray(a, dtype=float)
    cols = arr.reshape(len(arr), -1)
    out = cols if overwrite else np.empty_like(cols)
    levels, bcode = np.unique(np.asarray(blocks), return_inverse=True)
    for codes, what in ((ucode, "unit"), (tcode, "period")):
        first, inv = np.unique(np.asarray(codes), return_inverse=True)
        lo = np.full(len(first), len(levels))
        hi = np.full(len(first), -1)
        np.minimum.at(lo, inv, bcode)
        np.maximum.at(hi, inv, bcode)
        if (lo != hi).any():
            raise EstimationError(
                f"two-way demeaning by blocks: {what} code {first[lo != hi][0]!r} occurs in "
                "more than one block; the blocks must be separate components of the design."
            )
    w = None if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(bcode, kind="stable")
    bounds = np.searchsorted(bcode[order], np.arange(len(levels) + 1))
    for b in range(len(levels)):
        rows = order[bounds[b]:bounds[b + 1]]
        u = np.unique(ucode[rows], return_inverse=True)[1]
        t = np.unique(tcode[rows], return_inverse=True)[1]
        out[rows] = twoway_demean(cols[rows], u, t, weights=None if w is None else w[rows],
                                  method=method, overwrite=True)
    return out.reshape(arr.shape)
