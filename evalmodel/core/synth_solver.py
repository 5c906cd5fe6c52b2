"""The nested optimisation of the synthetic control method (Abadie, Diamond and Hainmueller).

For a diagonal predictor weighting :math:`V` the unit weights solve the inner problem

.. math::

    W^*(V) = \\arg\\min_{W \\in \\Delta} (X_1 - X_0 W)' V (X_1 - X_0 W),

on predictors scaled by their standard deviation across all units (as R ``Synth`` does), and
:math:`V` is chosen by the outer problem: minimise the mean squared prediction error of the
outcome over the fit periods, :math:`\\lVert Z_1 - Z_0 W^*(V) \\rVert^2 / T_{fit}`, over
:math:`V = \\mathrm{diag}(|x|) / \\sum |x|`, by Nelder-Mead from an equal start and from the
regression-based start of R ``Synth`` (the squared coefficients of a regression of the outcome
paths on the scaled predictors), keeping the better.

The inner problem is solved exactly by non-negative least squares with the adding-up constraint
as a heavily weighted extra row (Lawson-Hanson active set, ``scipy.optimize.nnls``), then
renormalised; this is far faster than a general QP solver when there are many donors. When
the treated unit lies inside the donors' hull in predictor space, the predictors are matched
exactly by many weight vectors; the one that best fits the fit-period outcome is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize, nnls

from evalmodel.vocabulary import SynthVStart

__all__ = ["VFit", "VStart", "fit_v", "regression_start", "scale_predictors", "simplex_ls"]

#: The old name of :data:`~evalmodel.vocabulary.SynthVStart`.
VStart = SynthVStart

#: Weight of the adding-up row relative to the largest entry of the design.
_SUM_WEIGHT = 1e4


def simplex_ls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares ``min ||a w - b||^2`` over the unit simplex.

    Parameters
    ----------
    a : ndarray, shape (k, J)
    b : ndarray, shape (k,)

    Returns
    -------
    ndarray, shape (J,)
        Non-negative weights summing to one.
    """
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)), 1e-12)
    big = _SUM_WEIGHT * scale
    aa = np.vstack([a, np.full((1, a.shape[1]), big)])
    bb = np.append(b, big)
    w, _ = nnls(aa, bb, maxiter=50 * a.shape[1])
    total = w.sum()
    return w / total if total > 0 else np.full(a.shape[1], 1.0 / a.shape[1])


def scale_predictors(x: np.ndarray) -> np.ndarray:
    """Divide each predictor (row) by its standard deviation across all units (columns)."""
    sd = x.std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return x / sd[:, None]


def regression_start(x_all: np.ndarray, z_all: np.ndarray) -> np.ndarray:
    """R ``Synth``'s regression-based starting V.

    Regress every fit-period outcome on an intercept and the scaled predictors across units;
    the start is the sum over periods of each predictor's squared coefficient, normalised.

    Parameters
    ----------
    x_all : ndarray, shape (k, J + 1)
        Scaled predictors of all units.
    z_all : ndarray, shape (T, J + 1)
        Fit-period outcomes of all units.
    """
    design = np.column_stack([np.ones(x_all.shape[1]), x_all.T])
    beta, *_ = np.linalg.lstsq(design, z_all.T, rcond=None)
    v = (beta[1:] ** 2).sum(axis=1)
    return v / v.sum() if v.sum() > 0 else np.full(x_all.shape[0], 1.0 / x_all.shape[0])


@dataclass(frozen=True)
class VFit:
    """The chosen predictor weights and the unit weights they give.

    Attributes
    ----------
    v : ndarray, shape (k,)
        Predictor weights (sum to one).
    w : ndarray, shape (J,)
        Unit weights.
    loss_v : float
        Fit-period MSPE of the outcome.
    loss_w : float
        Predictor discrepancy ``(X1 - X0 W)' V (X1 - X0 W)`` on scaled predictors.
    """

    v: np.ndarray
    w: np.ndarray
    loss_v: float
    loss_w: float


#: Relative predictor discrepancy below which the treated unit counts as inside the hull.
_EXACT = 1e-10
#: Weight of the predictor rows against the outcome rows when breaking ties inside the hull.
_TIE_WEIGHT = 1e3


def _w_of_v(v: np.ndarray, x0: np.ndarray, x1: np.ndarray, z0: np.ndarray,
            z1: np.ndarray) -> np.ndarray:
    """Unit weights for predictor weights ``v``.

    Inside the hull many weight vectors match the predictors exactly; among them the one that
    best fits the fit-period outcome is taken (predictor rows heavily weighted against outcome
    rows), so that the weights are unique and move continuously with V.
    """
    root = np.sqrt(v)
    a, b = root[:, None] * x0, root * x1
    w = simplex_ls(a, b)
    d = a @ w - b
    if d @ d > _EXACT * (b @ b + 1.0):
        return w
    t = np.sqrt(len(z1))
    return simplex_ls(np.vstack([_TIE_WEIGHT * a, z0 / t]), np.append(_TIE_WEIGHT * b, z1 / t))


def fit_v(
    x0: np.ndarray,
    x1: np.ndarray,
    z0: np.ndarray,
    z1: np.ndarray,
    *,
    v_start: SynthVStart = "both",
    custom_v: np.ndarray | None = None,
    warm_v: np.ndarray | None = None,
    optimizer: str = "Nelder-Mead",
    optimizer_options: Mapping[str, Any] | None = None,
    x_apply: tuple[np.ndarray, np.ndarray] | None = None,
) -> VFit:
    """Choose V by the fit-period MSPE and return the unit weights.

    Parameters
    ----------
    x0, x1 : ndarray, shapes (k, J) and (k,)
        Scaled predictors of the donors and of the treated unit.
    z0, z1 : ndarray, shapes (T, J) and (T,)
        Fit-period outcomes of the donors and of the treated unit.
    v_start : {"both", "equal", "regression"}
        Starting values of the outer optimisation.
    custom_v : ndarray, optional
        Use this V instead of optimising.
    warm_v : ndarray, optional
        A single starting V (overrides ``v_start``), e.g. the treated unit's V for placebos.
    optimizer : str
        A derivative-free ``scipy.optimize.minimize`` method.
    optimizer_options : mapping, optional
        Its options; default ``{"maxiter": 1000}``.
    x_apply : (x0, x1), optional
        Predictors on which the final W is computed with the chosen V (the validation window of
        Abadie, Diamond and Hainmueller 2015); by default ``(x0, x1)``.

    Returns
    -------
    VFit
    """
    k = x0.shape[0]
    fx0, fx1 = x_apply if x_apply is not None else (x0, x1)

    def finish(v: np.ndarray) -> VFit:
        v = v / v.sum()
        w = _w_of_v(v, fx0, fx1, z0, z1)
        d = fx1 - fx0 @ w
        r = z1 - z0 @ w
        return VFit(v=v, w=w, loss_v=float(r @ r / len(r)), loss_w=float(d @ (v * d)))

    if custom_v is not None:
        return finish(np.asarray(custom_v, dtype=float))
    if k == 1:
        return finish(np.ones(1))

    def loss(x: np.ndarray) -> float:
        v = np.abs(x)
        total = v.sum()
        if total <= 0:
            return float("inf")
        w = _w_of_v(v / total, x0, x1, z0, z1)
        r = z1 - z0 @ w
        return float(r @ r / len(r))

    if warm_v is not None:
        starts = [np.asarray(warm_v, dtype=float)]
    else:
        starts = []
        if v_start in ("both", "equal"):
            starts.append(np.full(k, 1.0 / k))
        if v_start in ("both", "regression"):
            starts.append(regression_start(np.column_stack([x0, x1]),
                                           np.column_stack([z0, z1])))
    opts = dict(optimizer_options or {"maxiter": 1000})
    best: np.ndarray | None = None
    best_val = np.inf
    for s in starts:
        res = minimize(loss, s, method=optimizer, options=opts)
        val = loss(res.x)
        if val < best_val:
            best, best_val = np.abs(res.x), val
    assert best is not None
    return finish(best)


@dataclass(frozen=True)
class SynthProblem:
    """Everything needed to fit a synthetic control for any target unit against any pool.

    Columns of the predictor arrays and rows of ``y`` are units in one fixed order, so that
    placebo fits (each donor in turn as the target) reuse the same arrays.

    Attributes
    ----------
    x : ndarray, shape (k, N)
        Predictors (unscaled) of every unit.
    y : ndarray, shape (N, T)
        Outcome of every unit over all periods.
    fit_cols : ndarray of int
        Columns of ``y`` whose fit chooses V.
    x_train : ndarray, shape (k, N), optional
        Training-window predictors that choose V, when V is cross-validated.
    scale : bool
        Scale predictors by their standard deviation across the units of a fit.
    v_start, custom_v, optimizer, optimizer_options
        As in :func:`fit_v`.
    """

    x: np.ndarray
    y: np.ndarray
    fit_cols: np.ndarray
    x_train: np.ndarray | None = None
    scale: bool = True
    v_start: SynthVStart = "both"
    custom_v: np.ndarray | None = None
    optimizer: str = "Nelder-Mead"
    optimizer_options: Mapping[str, Any] | None = None

    def _scaled(self, x: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs = scale_predictors(x[:, cols]) if self.scale else x[:, cols]
        return xs[:, :-1], xs[:, -1]

    def fit(self, target: int, pool: np.ndarray, warm_v: np.ndarray | None = None) -> VFit:
        """Fit the synthetic control of unit ``target`` from the units ``pool``."""
        cols = np.append(pool, target)
        x0, x1 = self._scaled(self.x, cols)
        z = self.y[:, self.fit_cols]
        z0, z1 = z[pool].T, z[target]
        kw: dict[str, Any] = {"v_start": self.v_start, "custom_v": self.custom_v,
                              "warm_v": warm_v, "optimizer": self.optimizer,
                              "optimizer_options": self.optimizer_options}
        if self.x_train is not None:
            t0, t1 = self._scaled(self.x_train, cols)
            return fit_v(t0, t1, z0, z1, x_apply=(x0, x1), **kw)
        return fit_v(x0, x1, z0, z1, **kw)

    def gaps(self, target: int, pool: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Outcome of ``target`` minus its synthetic control, over all periods."""
        return self.y[target] - w @ self.y[pool]
