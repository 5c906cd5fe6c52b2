"""The augmented synthetic control of every donor against the other donors, batched.

Placebo-in-space inference for the ridge-augmented synthetic control (Ben-Michael, Feller and
Rothstein 2021) fits, for each donor :math:`j`, the same estimator as the treated unit's with
:math:`j` as the treated unit and the other donors as its pool (the real treated unit is in no
placebo's pool). The simplex weights are a small active-set problem per placebo (and per
cross-validation fold), all of a fold solved in one compiled call
(:func:`~evalmodel.core.simplex_kernel.leave_one_out_weights`); the ridge part is linear and
is batched over the placebos. With outcomes :math:`F_k` (periods as a vector) of the donors,
the centred cross-products of the pool without :math:`j` are a rank-two update of one matrix,

.. math::

    K_j = \\sum_{k \\ne j} (F_k - \\bar F_{-j})(F_k - \\bar F_{-j})'
        = M - F_j F_j' - (J - 1)\\, \\bar F_{-j} \\bar F_{-j}',
    \\qquad M = \\sum_k F_k F_k',

and the ridge correction of placebo :math:`j` in period :math:`t` is
:math:`K_j[t, \\mathcal P] (K_j[\\mathcal P, \\mathcal P] + \\lambda I)^{-1} r_j`, with
:math:`r_j` its synthetic control's pre-period residual (:mod:`evalmodel.core.ascm`: the
augmentation :math:`\\gamma = A'(AA' + \\lambda I)^{-1} r` applied to the pool's outcomes).
The leave-one-period-out cross-validation of :math:`\\lambda` uses the same blocks with one
pre-period removed, for every penalty of each placebo's grid at once. The numbers equal a loop
of :func:`~evalmodel.core.ascm.ascm_fit` over the placebos to rounding.
"""

from __future__ import annotations

import numpy as np

from evalmodel.vocabulary import LambdaRule

__all__ = ["forecast_scales", "loo_folds", "placebo_ascm_gaps", "rolling_folds"]


def _grids(rows: np.ndarray, n: int = 50) -> np.ndarray:
    """:func:`~evalmodel.core.ascm.lambda_grid` of every row of ``rows`` (units x pre-periods)
    in one array call: each row's variance reduced along that row as ``np.var`` reduces it,
    so the same numbers bit for bit."""
    rows = np.ascontiguousarray(rows, dtype=float)
    var = rows.var(axis=1)
    var = np.where(var > 0, var, np.maximum(1.0, rows.mean(axis=1) ** 2))
    return np.logspace(-4.0, 4.0, n)[None, :] * var[:, None]


def _cross_products(f: np.ndarray) -> np.ndarray:
    """``K_j`` of every donor ``j`` (shape ``(J, T, T)``): the pool-centred cross-products of
    the other donors' outcomes (``f`` is donors x periods)."""
    fc = f - f.mean(axis=0)  # a shift common to all units leaves K_j unchanged
    n = f.shape[0] - 1
    m = (fc.sum(axis=0)[None, :] - fc) / n
    full = fc.T @ fc
    return full[None] - fc[:, :, None] * fc[:, None, :] - n * m[:, :, None] * m[:, None, :]


def _simplex_weights(f: np.ndarray, cols: np.ndarray, warm: np.ndarray | None = None
                     ) -> np.ndarray:
    """Each donor's simplex weights on the others over ``cols`` (``(J, J)``, zero diagonal),
    fitted exactly as :func:`~evalmodel.core.ascm.ascm_fit` fits the treated unit's (the
    same numbers as ``_outcome_weights(*_centre(...))`` per donor, in one compiled call);
    ``warm`` (the weights over more columns) starts each fit's active set, with the same
    numbers (:func:`~evalmodel.core.simplex_kernel.leave_one_out_weights`)."""
    from evalmodel.core.simplex_kernel import leave_one_out_weights

    return leave_one_out_weights(f[:, cols], warm)


def _eig(k: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s, u = np.linalg.eigh(k[:, cols][:, :, cols])
    return np.clip(s, 0.0, None), u


#: Folds of a cross-validation: each held-out pre-period column with the columns fitted.
Folds = list[tuple[int, np.ndarray]]


def loo_folds(pre: np.ndarray) -> Folds:
    """Leave-one-period-out: each pre-period held out, the others fitted."""
    return [(int(t), np.delete(pre, i)) for i, t in enumerate(pre)]


def rolling_folds(pre: np.ndarray) -> Folds:
    """Rolling origin: each of the last ``max(1, T0 // 3)`` pre-periods predicted from the
    pre-periods before it (at least two thirds of them)."""
    k = max(1, pre.size // 3)
    return [(int(t), pre[:i]) for i, t in enumerate(pre) if i >= pre.size - k]


def _exact_pred(k: np.ndarray, keep: np.ndarray, t: int, resid: np.ndarray,
                grids: np.ndarray) -> np.ndarray:
    """Each unit's ridge prediction of column ``t`` from ``keep`` per penalty, through the
    eigen-decomposition of its cross-products (each unit's numbers do not depend on the
    other units in the batch)."""
    s, u = _eig(k, keep)
    ur = np.einsum("jik,ji->jk", u, resid[:, keep])
    kt = np.einsum("ji,jik->jk", k[:, t, keep], u)
    c = kt * ur
    return (c[:, None, :] / (s[:, None, :] + grids[:, :, None])).sum(axis=2)


#: Each fold's simplex weights by its fitted columns (:func:`_fold_weights`).
FoldFits = dict[bytes, np.ndarray]


def _fold_weights(f: np.ndarray, keep: np.ndarray, warm: np.ndarray | None,
                  fits: FoldFits | None) -> np.ndarray:
    """:func:`_simplex_weights` of the columns ``keep``, kept in ``fits`` (when given) for a
    later fold that fits the same columns: the last leave-one-out fold and the last
    rolling-origin fold of :func:`forecast_scales` both fit the pre-periods but the last
    (the same call on the same numbers, so the same weights)."""
    if fits is None:
        return _simplex_weights(f, keep, warm)
    key = np.asarray(keep, dtype=np.int64).tobytes()
    if key not in fits:
        fits[key] = _simplex_weights(f, keep, warm)
    return fits[key]


def _fold_errors(f: np.ndarray, k: np.ndarray, folds: Folds, grids: np.ndarray,
                 omegas: np.ndarray | None, warm: np.ndarray | None = None,
                 fits: FoldFits | None = None) -> np.ndarray:
    """Squared held-out errors (units x penalties x folds) of every unit's augmented fit
    (``warm``: the simplex weights on all pre-periods, which start each fold's fits;
    ``fits``: fold weights shared with other calls, :func:`_fold_weights`)."""
    n = f.shape[0]
    err = np.empty((n, grids.shape[1], len(folds)))
    for i, (t, keep) in enumerate(folds):
        w = omegas if omegas is not None else _fold_weights(f, keep, warm, fits)
        resid = f - w @ f  # residual of each placebo's synthetic control, every period
        err[:, :, i] = (resid[:, t][:, None] - _exact_pred(k, keep, t, resid, grids)) ** 2
    return err


#: Relative distance of the second-best penalty's cross-validation error from the best one's
#: under which :func:`_choice_errors` recomputes a unit's errors the exact way (the fast
#: predictions agree with them to about 1e-12 relative).
TIE_MARGIN = 1e-7


def _choice_errors(f: np.ndarray, k: np.ndarray, folds: Folds, grids: np.ndarray,
                   omegas: np.ndarray | None, warm: np.ndarray | None,
                   fits: FoldFits | None = None) -> np.ndarray:
    """The errors of :func:`_fold_errors`, for choosing each unit's penalty by the smallest
    total: the predictions come from a tridiagonal reduction
    (:func:`~evalmodel.core.ridge_kernel.ridge_predictions`, several times faster, equal to
    rounding), and every unit whose best and second-best totals are within
    :data:`TIE_MARGIN` of each other gets its errors recomputed exactly as
    :func:`_fold_errors` computes them, so the penalty chosen is always the one it chooses."""
    from evalmodel.core.ridge_kernel import ridge_predictions

    n = f.shape[0]
    err = np.empty((n, grids.shape[1], len(folds)))
    resids = []
    for i, (t, keep) in enumerate(folds):
        w = omegas if omegas is not None else _fold_weights(f, keep, warm, fits)
        resid = f - w @ f
        resids.append(resid)
        err[:, :, i] = (resid[:, t][:, None] - ridge_predictions(k, keep, t, resid, grids)) ** 2
    total = np.sort(err.sum(axis=2), axis=1)
    close = np.flatnonzero(total[:, 1] - total[:, 0] <= TIE_MARGIN * np.abs(total[:, 0])
                           if grids.shape[1] > 1 else np.ones(n, dtype=bool))
    if close.size:
        ks, gs = k[close], grids[close]
        for i, (t, keep) in enumerate(folds):
            r = resids[i][close]
            err[close, :, i] = (r[:, t][:, None] - _exact_pred(ks, keep, t, r, gs)) ** 2
    return err


def _cv(f: np.ndarray, k: np.ndarray, pre: np.ndarray, grids: np.ndarray,
        omegas: np.ndarray | None, rule: LambdaRule, warm: np.ndarray | None = None,
        fits: FoldFits | None = None) -> np.ndarray:
    """Each placebo's penalty by leave-one-period-out cross-validation over its own grid."""
    n, t0 = f.shape[0], pre.size
    folds = loo_folds(pre)
    err = (_choice_errors(f, k, folds, grids, omegas, warm, fits) if rule == "min"
           else _fold_errors(f, k, folds, grids, omegas, warm, fits))
    total = err.sum(axis=2)
    best = np.argmin(total, axis=1)
    if rule == "1se":
        se = np.sqrt(t0) * err.std(axis=2, ddof=1) if t0 > 1 else np.zeros_like(total)
        rows = np.arange(n)
        ok = total <= (total[rows, best] + se[rows, best])[:, None]
        best = np.argmax(np.where(ok, grids, -np.inf), axis=1)
    return grids[np.arange(n), best]


def forecast_scales(y: np.ndarray, pre_cols: np.ndarray, *, lam: float | None = None,
                    demean: bool = False, rule: LambdaRule = "min"
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's out-of-sample forecast error on the pre-periods, against all other units.

    Every unit (row of ``y``) is fitted against all the others by the augmented synthetic
    control on the outcome path (simplex weights re-fitted in each fold, as without
    predictors), its penalty chosen by leave-one-period-out cross-validation on its own grid
    (or ``lam``); its scale is the root mean squared error of predicting each of the last
    ``max(1, T0 // 3)`` pre-periods from the pre-periods before it (:func:`rolling_folds`) at
    that penalty. Only pre-period columns are used, so under the null of no effect before
    ``start`` the scales are one symmetric function of untreated data: the same for a unit
    whether it is the treated unit or a placebo.

    Parameters
    ----------
    y : ndarray, shape (N, T)
        Outcomes of all units (only ``pre_cols`` are read).
    pre_cols : ndarray of int
        Pre-period columns; at least 2.
    lam : float, optional
        One penalty for every unit; by default each unit's is cross-validated.
    demean : bool
        The fixed-effects variant.
    rule : {"min", "1se"}
        Cross-validation rule.

    Returns
    -------
    scales : ndarray, shape (N,)
        Root mean squared rolling-origin forecast errors.
    penalties : ndarray, shape (N,)
        The penalty each unit's scale was computed at.
    """
    pre = np.asarray(pre_cols)
    y = np.asarray(y, dtype=float)[:, pre]
    cols = np.arange(pre.size)
    f = y - y.mean(axis=1, keepdims=True) if demean else y
    k = _cross_products(f)
    full = _simplex_weights(f, cols)  # starts the folds' fits (the same numbers, faster)
    fits: FoldFits = {}  # the last rolling-origin fold is the last leave-one-out fold
    if lam is None:
        grids = _grids(y)
        lams = _cv(f, k, cols, grids, None, rule, full, fits)
    else:
        lams = np.full(f.shape[0], float(lam))
    err = _fold_errors(f, k, rolling_folds(cols), lams[:, None], None, full, fits)
    return np.sqrt(err[:, 0, :].mean(axis=1)), lams


def placebo_ascm_gaps(y0: np.ndarray, pre_cols: np.ndarray, *, omegas: np.ndarray | None = None,
                      lam: float | None = None, demean: bool = False,
                      rule: LambdaRule = "min") -> tuple[np.ndarray, np.ndarray]:
    """Gaps of the augmented synthetic control of every donor against the other donors.

    Parameters
    ----------
    y0 : ndarray, shape (J, T)
        The donors' outcomes (the real treated unit excluded).
    pre_cols : ndarray of int
        Pre-period columns.
    omegas : ndarray, shape (J, J), optional
        Each placebo's synthetic control weights on the others (row ``j``, zero at ``j``),
        e.g. from predictors; kept in every cross-validation fold. By default each placebo's
        simplex fit to its pre-period outcomes, re-fitted in each fold, as for the treated.
    lam : float, optional
        One penalty for every placebo; by default each placebo's own is chosen by
        cross-validation on its own grid (:func:`~evalmodel.core.ascm.lambda_grid`).
    demean : bool
        The fixed-effects variant: each unit's pre-period mean subtracted first.
    rule : {"min", "1se"}
        Cross-validation rule (:func:`~evalmodel.core.ascm.cv_lambda`).

    Returns
    -------
    gaps : ndarray, shape (J, T)
        Each placebo's outcome minus its augmented synthetic control.
    penalties : ndarray, shape (J,)
        The penalty of each placebo.
    """
    y0 = np.asarray(y0, dtype=float)
    pre = np.asarray(pre_cols)
    f = y0 - y0[:, pre].mean(axis=1, keepdims=True) if demean else y0
    k = _cross_products(f)
    w = omegas if omegas is not None else _simplex_weights(f, pre)
    if lam is None:
        grids = _grids(y0[:, pre])
        lams = _cv(f, k, pre, grids, omegas, rule, w if omegas is None else None)
    else:
        lams = np.full(f.shape[0], float(lam))
    resid = f - w @ f
    s, u = _eig(k, pre)
    ur = np.einsum("jik,ji->jk", u, resid[:, pre]) / (s + lams[:, None])
    ridge = np.einsum("jtp,jpk,jk->jt", k[:, :, pre], u, ur)
    return resid - ridge, lams
