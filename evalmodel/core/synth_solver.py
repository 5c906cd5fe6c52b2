"""The nested optimisation of the synthetic control method, as R ``Synth`` runs it.

For a diagonal predictor weighting :math:`V` the unit weights solve the inner problem

.. math::

    W^*(V) = \\arg\\min_{W \\in \\Delta} (X_1 - X_0 W)' V (X_1 - X_0 W),

on predictors scaled by their standard deviation across the treated and donor units (R
``Synth``'s ``X.scaled``), and :math:`V` is chosen by the outer problem: minimise the mean
squared prediction error of the outcome over the fit periods,
:math:`\\lVert Z_1 - Z_0 W^*(V) \\rVert^2 / T_{fit}` (``Synth``'s ``loss.v``), over
:math:`V = \\mathrm{diag}(|x|) / \\sum |x|`.

The outer search follows ``Synth::synth`` (Abadie, Diamond and Hainmueller 2011, *Journal of
Statistical Software* 42(13)): from each start, each optimiser of ``optimizer`` (by default
Nelder-Mead and BFGS, ``Synth``'s ``optimxmethod``) is run, and the V with the smallest loss of
all is kept. The starts are equal weights and the regression-based start (the squared
coefficients of regressions of the fit-period outcomes on the scaled predictors across units,
summed over periods); ``v_start="global"`` adds the optimum of a global search (differential
evolution, seeded), the role of ``Synth``'s ``genoud=TRUE``. The optimisers run with the
settings of R's ``optim``: Nelder-Mead from a simplex with steps of a tenth of the largest
coordinate, stopping when the function values of the simplex agree to a relative ``1e-8`` or
after 500 evaluations; BFGS with central-difference gradients of step ``1e-3`` and at most 100
iterations.

The V loss is not convex and has flat regions where W sits on a vertex of the simplex, so
where the search ends depends on the start and the optimiser; keeping the best of several runs
is ``Synth``'s remedy, and the table of all runs is returned (:attr:`VFit.search`). The
published synthetic Basque Country (Abadie and Gardeazabal 2003) and West Germany (Abadie,
Diamond and Hainmueller 2015) are reproduced this way (``tests/estimators/
test_synth_classics.py``); a global search can find V with a smaller loss than the published
ones.

The inner problem is solved exactly by an active-set method over the simplex
(:mod:`evalmodel.core.simplex_kernel`, compiled by numba), warm-started from the previous
solution of the same search. When the treated unit lies inside the donors' hull in predictor
space, the predictors are matched exactly by many weight vectors; the one that best fits the
fit-period outcome is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult, differential_evolution, minimize

from evalmodel.vocabulary import SynthVStart

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "SynthProblem",
    "VFit",
    "VStart",
    "fit_v",
    "regression_start",
    "scale_predictors",
    "simplex_ls",
]

#: The old name of :data:`~evalmodel.vocabulary.SynthVStart`.
VStart = SynthVStart

#: R ``Synth``'s default outer optimisers (``optimxmethod = c("Nelder-Mead", "BFGS")``).
DEFAULT_OPTIMIZERS: tuple[str, ...] = ("Nelder-Mead", "BFGS")
#: R ``optim``'s relative convergence tolerance (``reltol``).
_RELTOL = 1e-8
#: R ``optim``'s step of numerical derivatives (``ndeps``).
_NDEPS = 1e-3
#: R ``optim``'s default iteration caps: function evaluations of Nelder-Mead, iterations of
#: BFGS.
_R_MAXIT = {"nelder-mead": 500, "bfgs": 100}
#: Generations and seed of the global search of ``v_start="global"``.
_GLOBAL_ITER, _GLOBAL_SEED = 200, 0
#: Cross-validated V: V's whose validation loss is within this relative tolerance of the best
#: count as equally good (the validation fit does not identify V; Kloessner et al. 2018), and
#: among them the one whose weights fit the whole pre-period outcome best is kept.
TIE_RTOL = 1e-8
#: Function evaluations of that tie-break's Nelder-Mead search.
_TIE_MAXFEV = 3000


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
    from evalmodel.core.simplex_kernel import simplex_ls as exact

    return exact(a, b)


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
    search : tuple of (str, str, float)
        Every run of the outer search: start, optimiser and the loss it reached (empty when V
        was given).
    """

    v: np.ndarray
    w: np.ndarray
    loss_v: float
    loss_w: float
    search: tuple[tuple[str, str, float], ...] = field(default=())


def _central_gradient(fun: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], np.ndarray]:
    """R ``optim``'s numerical gradient: central differences with step ``_NDEPS``."""

    def grad(x: np.ndarray) -> np.ndarray:
        out = np.empty(x.size)
        step = np.zeros(x.size)
        for i in range(x.size):
            step[i] = _NDEPS
            out[i] = (fun(x + step) - fun(x - step)) / (2 * _NDEPS)
            step[i] = 0.0
        return out

    return grad


def _run(fun: Callable[[np.ndarray], float], start: np.ndarray, method: str,
         options: Mapping[str, Any] | None) -> OptimizeResult:
    """One outer optimisation, with R ``optim``'s settings unless ``options`` are given."""
    m = method.lower()
    if options is not None:
        if m in ("bfgs", "cg", "l-bfgs-b") and "eps" not in options:
            return minimize(fun, start, method=method, jac=_central_gradient(fun),
                            options=dict(options))
        return minimize(fun, start, method=method, options=dict(options))
    if m == "nelder-mead":
        size = 0.1 * float(np.abs(start).max()) or 0.1
        simplex = np.vstack([start, start + size * np.eye(start.size)])
        f0 = fun(start)
        fatol = _RELTOL * (abs(f0) + _RELTOL) if np.isfinite(f0) else 1e-12
        return minimize(fun, start, method=method,
                        options={"initial_simplex": simplex, "xatol": np.inf, "fatol": fatol,
                                 "maxfev": _R_MAXIT[m], "maxiter": _R_MAXIT[m]})
    if m == "bfgs":
        return minimize(fun, start, method=method, jac=_central_gradient(fun),
                        options={"maxiter": _R_MAXIT[m]})
    return minimize(fun, start, method=method)


def _global_start(fun: Callable[[np.ndarray], float], k: int) -> np.ndarray:
    """The optimum of a seeded differential-evolution search over ``[0, 1]^k``."""
    res = differential_evolution(fun, [(0.0, 1.0)] * k, seed=_GLOBAL_SEED,
                                 maxiter=_GLOBAL_ITER, tol=1e-10, polish=False, init="sobol")
    return np.asarray(res.x, dtype=float)


def fit_v(
    x0: np.ndarray,
    x1: np.ndarray,
    z0: np.ndarray,
    z1: np.ndarray,
    *,
    v_start: SynthVStart = "both",
    custom_v: np.ndarray | None = None,
    warm_v: np.ndarray | None = None,
    optimizer: str | Sequence[str] = DEFAULT_OPTIMIZERS,
    optimizer_options: Mapping[str, Any] | None = None,
    x_apply: tuple[np.ndarray, np.ndarray] | None = None,
    tie_break: tuple[np.ndarray, np.ndarray] | None = None,
    warm_w: np.ndarray | None = None,
) -> VFit:
    """Choose V by the fit-period MSPE and return the unit weights.

    Parameters
    ----------
    x0, x1 : ndarray, shapes (k, J) and (k,)
        Scaled predictors of the donors and of the treated unit.
    z0, z1 : ndarray, shapes (T, J) and (T,)
        Fit-period outcomes of the donors and of the treated unit.
    v_start : {"both", "equal", "regression", "global"}
        Starts of the outer optimisation: ``"both"`` (R ``Synth``'s) is equal weights and the
        regression-based start; ``"global"`` adds a global search's optimum to those two.
    custom_v : ndarray, optional
        Use this V instead of optimising.
    warm_v : ndarray, optional
        A single starting V (overrides ``v_start``), e.g. the treated unit's V for placebos.
    optimizer : str or sequence of str
        ``scipy.optimize.minimize`` methods run from every start (the best run is kept); by
        default Nelder-Mead and BFGS, as R ``Synth``.
    optimizer_options : mapping, optional
        Options of every optimiser; by default R ``optim``'s settings (see the module notes).
    x_apply : (x0, x1), optional
        Predictors on which the final W is computed with the chosen V (the validation window of
        Abadie, Diamond and Hainmueller 2015); by default ``(x0, x1)``.
    tie_break : (y0, y1), optional
        With ``x_apply``: the donors' (T, J) and the treated unit's (T,) outcomes over the
        whole pre-period. The validation loss often leaves V unidentified (V's far apart reach
        it to 1e-8); from the best V a Nelder-Mead search then keeps, among the V's within
        :data:`TIE_RTOL` of the best validation loss, the one whose weights (on ``x_apply``)
        fit these outcomes best. Not used for placebo fits (``warm_v``).
    warm_w : ndarray, shape (J,), optional
        Unit weights that start the inner solver (:class:`~evalmodel.core.simplex_kernel.
        InnerProblem`'s ``w0``), e.g. the target's weights on a larger pool: fewer active-set
        steps, the same weights wherever the optimum is unique.

    Returns
    -------
    VFit
    """
    from evalmodel.core.synth_inner import InnerProblem

    k = x0.shape[0]
    train = InnerProblem(x0, x1, z0, z1, warm_w)
    apply = train if x_apply is None else InnerProblem(x_apply[0], x_apply[1], z0, z1, warm_w)

    def finish(v: np.ndarray, search: tuple[tuple[str, str, float], ...] = ()) -> VFit:
        v = v / v.sum()
        w = apply.weights(v)
        d = apply.x1 - apply.x0 @ w
        r = z1 - z0 @ w
        return VFit(v=v, w=w, loss_v=float(r @ r / len(r)), loss_w=float(d @ (v * d)),
                    search=search)

    if custom_v is not None:
        return finish(np.asarray(custom_v, dtype=float))
    if k == 1:
        return finish(np.ones(1))

    starts: list[tuple[str, np.ndarray]] = []
    if warm_v is not None:
        starts.append(("warm", np.asarray(warm_v, dtype=float)))
    else:
        if v_start == "global":
            starts.append(("global", _global_start(train.loss, k)))
        if v_start in ("both", "equal", "global"):
            starts.append(("equal", np.full(k, 1.0 / k)))
        if v_start in ("both", "regression", "global"):
            starts.append(("regression", regression_start(np.column_stack([x0, x1]),
                                                          np.column_stack([z0, z1]))))
    methods = (optimizer,) if isinstance(optimizer, str) else tuple(optimizer)
    best: np.ndarray | None = None
    best_val = np.inf
    runs: list[tuple[str, str, float]] = []
    for label, s in starts:
        for method in methods:
            res = _run(train.loss, s, method, optimizer_options)
            val = train.loss(res.x)
            runs.append((label, method, float(val)))
            if val < best_val:
                best, best_val = np.abs(res.x), val
    if best is None:  # every run ended where the loss is infinite (V all zero)
        best = np.full(k, 1.0 / k)
    elif tie_break is not None and x_apply is not None and warm_v is None and np.isfinite(
            best_val) and best_val > 0:
        best = _tie_break(best, best_val, train.loss, apply.weights, *tie_break)
        runs.append(("tie-break", "Nelder-Mead", float(train.loss(best / best.sum()))))
    return finish(best, tuple(runs))


def _tie_break(v0: np.ndarray, loss0: float, loss: Any, weights: Any, y0: np.ndarray,
               y1: np.ndarray) -> np.ndarray:
    """Among the V's whose validation loss is within :data:`TIE_RTOL` of ``loss0``, search
    from ``v0`` for the one whose weights fit ``y1`` by ``y0`` best (a penalty keeps the
    search inside that set); ``v0`` if nothing better is found."""

    def fit(v: np.ndarray) -> float:
        v = np.abs(v)
        e = y1 - y0 @ weights(v / v.sum())
        return float(e @ e / len(e))

    def objective(v: np.ndarray) -> float:
        v = np.abs(v)
        if not v.sum() > 0:
            return np.inf
        excess = max(0.0, loss(v / v.sum()) / loss0 - 1.0 - TIE_RTOL)
        return fit(v) * (1.0 + 1e6 * excess)

    res = minimize(objective, v0, method="Nelder-Mead",
                   options={"maxfev": _TIE_MAXFEV, "xatol": 1e-10, "fatol": 1e-10})
    v = np.abs(res.x)
    ok = v.sum() > 0 and loss(v / v.sum()) <= loss0 * (1.0 + TIE_RTOL) and fit(v) < fit(v0)
    return v if ok else v0


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
    pre_cols : ndarray of int, optional
        Pre-period columns of ``y``; with ``x_train``, the tie-break of :func:`fit_v` among
        V's of equal validation loss fits these.
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
    optimizer: str | Sequence[str] = DEFAULT_OPTIMIZERS
    optimizer_options: Mapping[str, Any] | None = None
    pre_cols: np.ndarray | None = None

    def _scaled(self, x: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs = scale_predictors(x[:, cols]) if self.scale else x[:, cols]
        return xs[:, :-1], xs[:, -1]

    def fit(self, target: int, pool: np.ndarray, warm_v: np.ndarray | None = None,
            warm_w: np.ndarray | None = None) -> VFit:
        """Fit the synthetic control of unit ``target`` from the units ``pool``.

        With ``warm_v`` (a placebo fit started from the treated unit's V) only the first
        optimiser of ``optimizer`` refines V: one local search from a good start instead of
        R ``Synth``'s full search, which keeps a placebo run over hundreds of units in seconds.
        ``warm_w`` (one weight per unit of ``pool``) starts the inner solver (:func:`fit_v`).
        """
        cols = np.append(pool, target)
        x0, x1 = self._scaled(self.x, cols)
        z = self.y[:, self.fit_cols]
        z0, z1 = z[pool].T, z[target]
        methods = (self.optimizer,) if isinstance(self.optimizer, str) else self.optimizer
        kw: dict[str, Any] = {"v_start": self.v_start, "custom_v": self.custom_v,
                              "warm_v": warm_v,
                              "optimizer": self.optimizer if warm_v is None else methods[0],
                              "optimizer_options": self.optimizer_options, "warm_w": warm_w}
        if self.x_train is not None:
            t0, t1 = self._scaled(self.x_train, cols)
            tie = None if self.pre_cols is None else (self.y[pool][:, self.pre_cols].T,
                                                      self.y[target, self.pre_cols])
            return fit_v(t0, t1, z0, z1, x_apply=(x0, x1), tie_break=tie, **kw)
        return fit_v(x0, x1, z0, z1, **kw)

    def gaps(self, target: int, pool: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Outcome of ``target`` minus its synthetic control, over all periods."""
        return self.y[target] - w @ self.y[pool]
