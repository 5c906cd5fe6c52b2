"""Ridge augmentation of a synthetic control (Ben-Michael, Feller and Rothstein 2021).

The augmented synthetic control method (ASCM) corrects the synthetic control's estimate by
an outcome model fitted on the donors. With donor outcomes :math:`Y_0` (units x periods), the
treated unit's :math:`y_1`, pre-period columns :math:`\\mathcal{P}` and simplex weights
:math:`\\omega`, the ridge augmentation is

.. math::

    \\gamma(\\lambda) = \\tilde Y_{0\\mathcal{P}}'\\,(\\tilde Y_{0\\mathcal{P}}
        \\tilde Y_{0\\mathcal{P}}' + \\lambda I)^{-1}
        (\\tilde y_{1\\mathcal{P}} - \\tilde Y_{0\\mathcal{P}}\\,\\omega),

where the tilde marks pre-period outcomes centred on the donors' mean of each period (a
ridge regression with an intercept; then :math:`\\sum_j \\gamma_j = 0`). The augmented
counterfactual in period :math:`t` is :math:`Y_{0t}'(\\omega + \\gamma)`: the synthetic
control plus the estimated bias :math:`Y_{0t}'\\gamma` of the synthetic control, with
effective weights :math:`\\omega + \\gamma` that may be negative (their Lemma 1). The
"fixed effects" variant first subtracts each unit's pre-period mean from its outcomes and fits
:math:`\\omega` and :math:`\\gamma` on what is left (de-meaned SC plus ridge; R ``augsynth``'s
``fixedeff = TRUE``).

The penalty :math:`\\lambda` is chosen by leave-one-period-out cross-validation over the
pre-periods on the grid :math:`\\sigma^2 \\cdot 10^{[-4, 4]}` (50 points, :math:`\\sigma^2` the
variance of the treated pre-period path): each pre-period in turn is held out, :math:`\\omega`
(optionally) and :math:`\\gamma` are re-fitted on the others, and the held-out outcome is
predicted; the penalty with the smallest sum of squared errors is taken (rule ``"min"``, as
``augsynth-py`` 0.6 does), or the largest penalty within one standard error of it (``"1se"``,
R ``augsynth``'s ``min_1se``). These are the definitions of ``augsynth-py``'s ``AugSynth``;
the tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evalmodel.core.synth_solver import simplex_ls
from evalmodel.vocabulary import LambdaRule

__all__ = [
    "AscmFit",
    "LambdaRule",
    "ResidualRefit",
    "WeightFn",
    "ascm_fit",
    "ascm_residuals",
    "cv_lambda",
    "lambda_grid",
    "ridge_gamma",
]

#: Simplex weights from pre-period outcomes: ``(y0 (T x J), y1 (T,)) -> omega (J,)``.
WeightFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _outcome_weights(y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    return simplex_ls(y0, y1)


def _centre(y0: np.ndarray, y1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the donors' mean of each period (row) from donors and treated."""
    m = y0.mean(axis=1)
    return y0 - m[:, None], y1 - m


def _gram_eig(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (clipped at 0) and eigenvectors of ``a a'``."""
    s, u = np.linalg.eigh(a @ a.T)
    return np.clip(s, 0.0, None), u


class _Ridge:
    """``gamma(lambda)`` for one centred design, from one eigendecomposition.

    With ``A`` (periods x donors) and residual ``r``: ``gamma = A' U diag(1 / (s + lambda))
    U' r`` where ``A A' = U diag(s) U'``; the periods are few, so this is cheap for any number
    of penalties.
    """

    def __init__(self, a: np.ndarray, r: np.ndarray,
                 eig: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        s, u = _gram_eig(a) if eig is None else eig
        self.a, self.s, self.ur = a, s, u.T @ r
        self.u = u

    def gamma(self, lam: float) -> np.ndarray:
        return np.asarray(self.a.T @ (self.u @ (self.ur / (self.s + lam))))


def ridge_gamma(y0_pre: np.ndarray, y1_pre: np.ndarray, omega: np.ndarray,
                lam: float) -> np.ndarray:
    """The ridge augmentation ``gamma`` of weights ``omega`` on period-centred pre-outcomes.

    Parameters
    ----------
    y0_pre : ndarray, shape (T0, J)
        Donors' pre-period outcomes (periods in rows).
    y1_pre : ndarray, shape (T0,)
        The treated unit's.
    omega : ndarray, shape (J,)
        Synthetic control weights.
    lam : float
        Ridge penalty, positive.

    Returns
    -------
    ndarray, shape (J,)
        Augmentation weights; they sum to zero.
    """
    a, b = _centre(y0_pre, y1_pre)
    return _Ridge(a, b - a @ omega).gamma(float(lam))


def lambda_grid(y1_pre: np.ndarray, n: int = 50) -> np.ndarray:
    """The default penalty grid: ``var(y1_pre) * logspace(-4, 4, n)`` (variance with ddof 0).

    A constant treated path (variance 0) falls back to the scale ``max(1, mean(y1_pre)^2)``.
    """
    var = float(np.var(y1_pre))
    if var <= 0:
        var = max(1.0, float(np.mean(y1_pre)) ** 2)
    return np.logspace(-4.0, 4.0, n) * var


def cv_lambda(y0_pre: np.ndarray, y1_pre: np.ndarray, grid: np.ndarray, *,
              omega: np.ndarray | None = None, weights: WeightFn = _outcome_weights,
              rule: LambdaRule = "min") -> tuple[float, np.ndarray]:
    """Leave-one-period-out cross-validation of the ridge penalty.

    Parameters
    ----------
    y0_pre : ndarray, shape (T0, J)
        Donors' pre-period outcomes (already de-meaned by unit for the fixed-effects variant).
    y1_pre : ndarray, shape (T0,)
        The treated unit's.
    grid : ndarray
        Candidate penalties.
    omega : ndarray, optional
        Keep these synthetic control weights in every fold (used when the weights come from
        predictors, whose V search is too costly to repeat per fold); by default each fold
        re-fits the simplex weights on its pre-periods, as ``augsynth`` does.
    weights : callable
        The simplex fit of a fold.
    rule : {"min", "1se"}
        Smallest cross-validated error, or the largest penalty within one standard error of it.

    Returns
    -------
    lam : float
        The chosen penalty.
    path : ndarray, shape (len(grid), 3)
        Columns: penalty, sum of squared held-out errors, its standard error
        (``sqrt(T0) * sd`` of the squared errors).
    """
    grid = np.asarray(grid, dtype=float)
    t0 = y0_pre.shape[0]
    a_all, b_all = _centre(y0_pre, y1_pre)
    err = np.empty((grid.size, t0))
    for t in range(t0):
        keep = np.arange(t0) != t
        a, b = a_all[keep], b_all[keep]
        w = omega if omega is not None else weights(a, b)
        ridge = _Ridge(a, b - a @ w)
        for i, lam in enumerate(grid):
            pred = a_all[t] @ (w + ridge.gamma(float(lam)))
            err[i, t] = (b_all[t] - pred) ** 2
    total = err.sum(axis=1)
    se = np.sqrt(t0) * err.std(axis=1, ddof=1) if t0 > 1 else np.zeros(grid.size)
    best = int(np.argmin(total))
    if rule == "1se":
        ok = np.flatnonzero(total <= total[best] + se[best])
        best = int(ok[np.argmax(grid[ok])])
    return float(grid[best]), np.column_stack([grid, total, se])


@dataclass(frozen=True)
class AscmFit:
    """An augmented synthetic control.

    Attributes
    ----------
    omega : ndarray, shape (J,)
        Synthetic control (simplex) weights; for the fixed-effects variant, those of the
        de-meaned outcomes.
    gamma : ndarray, shape (J,)
        Ridge augmentation; ``omega + gamma`` are the effective weights.
    lam : float
        Ridge penalty.
    cv_path : ndarray or None
        Cross-validation path (penalty, error, standard error), None for a given penalty.
    offset : ndarray, shape (J + 1,)
        Unit pre-period means subtracted (zeros without ``demean``), donors then treated.
    scm_path, path : ndarray, shape (T,)
        Counterfactual of the synthetic control and of the augmented synthetic control.
    """

    omega: np.ndarray
    gamma: np.ndarray
    lam: float
    cv_path: np.ndarray | None
    offset: np.ndarray
    scm_path: np.ndarray
    path: np.ndarray

    @property
    def weights(self) -> np.ndarray:
        """Effective weights ``omega + gamma`` (may be negative)."""
        return self.omega + self.gamma

    @property
    def bias(self) -> np.ndarray:
        """Estimated bias of the synthetic control's effect in each period, ``path -
        scm_path`` (``Y0t' gamma``): the plain effect minus the augmented effect."""
        return self.path - self.scm_path


def ascm_fit(y0: np.ndarray, y1: np.ndarray, pre_cols: np.ndarray, *,
             omega: np.ndarray | None = None, demean: bool = False, lam: float | None = None,
             grid: np.ndarray | None = None, rule: LambdaRule = "min") -> AscmFit:
    """Fit the ridge-augmented synthetic control.

    Parameters
    ----------
    y0 : ndarray, shape (J, T)
        Donors' outcomes over all periods.
    y1 : ndarray, shape (T,)
        The treated unit's.
    pre_cols : ndarray of int
        Pre-period columns.
    omega : ndarray, optional
        Synthetic control weights to augment (e.g. from predictors); by default the simplex
        fit to the pre-period outcomes (of the de-meaned outcomes with ``demean``). Given
        weights are kept in every cross-validation fold; ``demean=True`` needs ``None``.
    demean : bool
        The fixed-effects variant: subtract each unit's pre-period mean first.
    lam : float, optional
        Ridge penalty; by default chosen by :func:`cv_lambda`.
    grid : ndarray, optional
        Penalties searched; by default :func:`lambda_grid`.
    rule : {"min", "1se"}
        Rule of :func:`cv_lambda`.

    Returns
    -------
    AscmFit
    """
    y0 = np.asarray(y0, dtype=float)
    y1 = np.asarray(y1, dtype=float)
    offset = np.zeros(y0.shape[0] + 1)
    if demean:
        offset = np.append(y0[:, pre_cols].mean(axis=1), y1[pre_cols].mean())
    f0 = (y0 - offset[:-1, None]).T  # T x J
    f1 = y1 - offset[-1]
    p0, p1 = f0[pre_cols], f1[pre_cols]
    given = omega is not None
    w = np.asarray(omega, dtype=float) if given else _outcome_weights(*_centre(p0, p1))
    path_cv: np.ndarray | None = None
    if lam is None:
        g = lambda_grid(y1[pre_cols]) if grid is None else np.asarray(grid, dtype=float)
        lam, path_cv = cv_lambda(p0, p1, g, omega=w if given else None, rule=rule)
    gamma = ridge_gamma(p0, p1, w, lam)
    scm = f0 @ w + offset[-1]
    return AscmFit(omega=w, gamma=gamma, lam=float(lam), cv_path=path_cv, offset=offset,
                   scm_path=scm, path=scm + f0 @ gamma)


def ascm_residuals(y0: np.ndarray, y1: np.ndarray, *, lam: float | None,
                   demean: bool = False) -> np.ndarray:
    """Residuals of a (ridge-augmented) synthetic control fitted on every given period.

    The refit of conformal inference (Chernozhukov, Wuthrich and Zhu 2021): the weights are
    fitted on all columns of ``y0`` and ``y1`` (the treated outcome already adjusted by the
    null effect), with unit means over all columns removed for ``demean``, and the treated
    outcome minus its fit is returned.

    Parameters
    ----------
    y0 : ndarray, shape (J, T)
    y1 : ndarray, shape (T,)
    lam : float or None
        Ridge penalty; None for the plain synthetic control.
    demean : bool
        Subtract each unit's mean first.
    """
    f0, f1 = y0.T, y1
    if demean:
        f0 = f0 - f0.mean(axis=0)
        f1 = f1 - f1.mean()
    a, b = _centre(f0, f1)
    w = _outcome_weights(a, b)
    if lam is not None:
        w = w + _Ridge(a, b - a @ w).gamma(float(lam))
    return np.asarray(f1 - f0 @ w)


class ResidualRefit:
    """:func:`ascm_residuals` of one donor matrix for many column sets and treated outcomes.

    Conformal inference re-fits on the same columns for every null effect it tests, and only
    the treated outcome changes between those fits; the donors' side of a fit (their
    de-meaned and period-centred outcomes, the eigendecomposition of the ridge) is computed
    once per column set here, and each call gives the numbers of :func:`ascm_residuals`
    exactly (the same operations on the same arrays).

    Parameters
    ----------
    y0 : ndarray, shape (J, T)
        The donors' outcomes over all periods.
    lam : float or None
        Ridge penalty; None for the plain synthetic control.
    demean : bool
        Subtract each unit's mean over the columns of a fit first.
    """

    def __init__(self, y0: np.ndarray, *, lam: float | None, demean: bool = False) -> None:
        self.y0, self.lam, self.demean = y0, lam, demean
        self._donors: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray,
                                        tuple[np.ndarray, np.ndarray] | None]] = {}

    def _side(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                tuple[np.ndarray, np.ndarray] | None]:
        key = np.asarray(cols, dtype=np.int64).tobytes()
        if key not in self._donors:
            f0 = self.y0[:, cols].T
            if self.demean:
                f0 = f0 - f0.mean(axis=0)
            m = f0.mean(axis=1)
            a = f0 - m[:, None]
            self._donors[key] = (f0, m, a, None if self.lam is None else _gram_eig(a))
        return self._donors[key]

    def __call__(self, cols: np.ndarray, y1: np.ndarray) -> np.ndarray:
        """Residuals of the treated outcome ``y1`` (over ``cols``) after the fit on ``cols``."""
        f0, m, a, eig = self._side(cols)
        f1 = y1 - y1.mean() if self.demean else y1
        b = f1 - m
        w = _outcome_weights(a, b)
        if self.lam is not None:
            w = w + _Ridge(a, b - a @ w, eig).gamma(float(self.lam))
        return np.asarray(f1 - f0 @ w)
