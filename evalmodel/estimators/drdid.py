"""Two-period panel DiD kernels: outcome regression, IPW and doubly robust (Sant'Anna-Zhao).

Each kernel takes one 2x2 cell of a balanced panel (the change in the outcome ``dy``, the
treatment indicator ``d``, the design ``x`` with an intercept column, and sampling weights
``w``) and returns the ATT with its influence function, one value per unit of the cell.
The formulas are those of Sant'Anna and Zhao (2020, *Journal of Econometrics* 219(1)):

* ``reg``: Heckman-Ichimura-Todd outcome regression, the change of the comparison units
  regressed on ``x`` by weighted least squares and predicted for the treated;
* ``ipw``: the normalised (Hajek) inverse-probability weighting estimator with a logit
  propensity score;
* ``dr``: the locally efficient doubly robust estimator combining both.

Propensity scores are capped at ``1 - 1e-6`` and comparison units with a score at or above
``0.995`` get zero weight (the trimming rule of the reference implementation). Weights are
normalised to mean one inside the cell; the estimates are invariant to their scale.

:func:`cells_without_covariates` computes every cell of a staggered design at once when there
are no covariates, where all three kernels reduce to the same difference of weighted means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evalmodel.errors import EstimationError
from evalmodel.vocabulary import DrDidMethod

__all__ = [
    "KERNELS",
    "CellFactors",
    "Method",
    "cell_factors",
    "cells_without_covariates",
    "dr_panel",
    "ipw_panel",
    "logit",
    "reg_panel",
]

#: The old name of :data:`~evalmodel.vocabulary.DrDidMethod`.
Method = DrDidMethod
Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[float, np.ndarray]]

_PS_CAP = 1.0 - 1e-6
_TRIM = 0.995


def logit(x: np.ndarray, d: np.ndarray, w: np.ndarray, *, max_iter: int = 100) -> np.ndarray:
    """Weighted logistic regression of ``d`` on ``x`` by Newton-Raphson; returns coefficients.

    Raises
    ------
    EstimationError
        When the information matrix is singular (collinear covariates) or Newton fails to
        converge (perfect separation of treated and comparison units).
    """
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        info = x.T @ ((w * p * (1.0 - p))[:, None] * x)
        grad = x.T @ (w * (d - p))
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "att_gt: the propensity-score logit has a singular information matrix; the "
                "covariates are collinear or constant within a cell: drop or combine them."
            ) from exc
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12 * (1.0 + np.max(np.abs(beta))):
            return beta
    raise EstimationError(
        "att_gt: the propensity-score logit did not converge (the covariates separate the "
        "treated and comparison units); use fewer covariates or method='reg'."
    )


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray,
         who: str = "comparison units") -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares coefficients and the inverse of ``X'WX / n``.

    ``who`` names the rows with positive weight in the error message.
    """
    xtwx = x.T @ (w[:, None] * x) / len(y)
    try:
        inv = np.linalg.inv(xtwx)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            f"att_gt: the outcome regression of the {who} is singular; the "
            "covariates are collinear or constant among them: drop or combine them."
        ) from exc
    beta = inv @ (x.T @ (w * y)) / len(y)
    return beta, inv


def _pscore(x: np.ndarray, d: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capped propensity scores and the asymptotic linear representation of the logit."""
    beta = logit(x, d, w)
    ps = np.minimum(1.0 / (1.0 + np.exp(-(x @ beta))), _PS_CAP)
    info = x.T @ ((w * ps * (1.0 - ps))[:, None] * x)
    hessian = np.linalg.inv(info) * len(d)
    lin_rep = (w * (d - ps))[:, None] * x @ hessian
    return ps, lin_rep


def _normalise(w: np.ndarray) -> np.ndarray:
    return w / w.mean()


def reg_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD of one panel cell; returns ``(att, influence)``."""
    w = _normalise(w)
    c = 1.0 - d
    beta, inv = _wls(x, dy, w * c)
    fitted = x @ beta
    w_t = w * d
    m_t = w_t.mean()
    eta_t = np.mean(w_t * dy) / m_t
    eta_c = np.mean(w_t * fitted) / m_t
    lin_ols = (w * c * (dy - fitted))[:, None] * x @ inv
    inf_t = (w_t * dy - w_t * eta_t) / m_t
    inf_c = (w_t * fitted - w_t * eta_c + lin_ols @ np.mean(w_t[:, None] * x, axis=0)) / m_t
    return float(eta_t - eta_c), inf_t - inf_c


def ipw_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Normalised inverse-probability-weighted DiD of one panel cell; ``(att, influence)``."""
    w = _normalise(w)
    ps, lin_ps = _pscore(x, d, w)
    keep = np.where(d == 1, ps < 1.01, ps < _TRIM)
    w_t = keep * w * d
    w_c = keep * w * ps * (1.0 - d) / (1.0 - ps)
    eta_t = np.mean(w_t * dy) / w_t.mean()
    eta_c = np.mean(w_c * dy) / w_c.mean()
    inf_t = (w_t * dy - w_t * eta_t) / w_t.mean()
    m2 = np.mean((w_c * (dy - eta_c))[:, None] * x, axis=0)
    inf_c = (w_c * dy - w_c * eta_c + lin_ps @ m2) / w_c.mean()
    return float(eta_t - eta_c), inf_t - inf_c


def dr_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD of one panel cell; ``(att, influence)``."""
    w = _normalise(w)
    ps, lin_ps = _pscore(x, d, w)
    c = 1.0 - d
    beta, inv = _wls(x, dy, w * c)
    resid = dy - x @ beta
    keep = np.where(d == 1, ps < 1.01, ps < _TRIM)
    w_t = keep * w * d
    w_c = keep * w * ps * c / (1.0 - ps)
    m_t, m_c = w_t.mean(), w_c.mean()
    eta_t = np.mean(w_t * resid) / m_t
    eta_c = np.mean(w_c * resid) / m_c
    lin_ols = (w * c * resid)[:, None] * x @ inv
    inf_t = (w_t * resid - w_t * eta_t - lin_ols @ np.mean(w_t[:, None] * x, axis=0)) / m_t
    m2 = np.mean((w_c * (resid - eta_c))[:, None] * x, axis=0)
    m3 = np.mean(w_c[:, None] * x, axis=0)
    inf_c = (w_c * resid - w_c * eta_c + lin_ps @ m2 - lin_ols @ m3) / m_c
    return float(eta_t - eta_c), inf_t - inf_c


#: The kernel of each ``method``.
KERNELS: dict[str, Kernel] = {"dr": dr_panel, "ipw": ipw_panel, "reg": reg_panel}


@dataclass(frozen=True, eq=False)
class CellFactors:
    """The influence functions of every cell without covariates, in factored form.

    Unit ``i`` of cohort code ``c`` has ``inf[i, k] = n w_i (y_i @ sel[:, k] a[c, k] - b[c, k])``
    (0 in the cells of ``zero``). :meth:`matrix` builds the ``(n, K)`` matrix;
    :meth:`sum_squares` gives its column sums of squares from per-cohort moments of ``y``
    without building it.
    """

    y: np.ndarray
    w: np.ndarray
    code: np.ndarray
    sel: np.ndarray
    a: np.ndarray
    b: np.ndarray
    zero: np.ndarray

    def _blocks(self) -> list[slice | np.ndarray]:
        """The rows of each cohort code (slices when the units are in cohort order)."""
        code, n_codes = self.code, self.a.shape[0]
        if bool(np.all(code[1:] >= code[:-1])):
            bounds = np.searchsorted(code, np.arange(n_codes + 1))
            return [slice(int(bounds[c]), int(bounds[c + 1])) for c in range(n_codes)]
        return [np.flatnonzero(code == c) for c in range(n_codes)]

    def matrix(self) -> np.ndarray:
        """The ``(n, K)`` influence functions (mean zero, ``var = sum(inf**2)/n**2``)."""
        y, w, sel, a, b = self.y, self.w, self.sel, self.a, self.b
        n = y.shape[0]
        inf = np.empty((n, sel.shape[1]))
        for c, rows in enumerate(self._blocks()):  # one product per cohort: n w (Y S a_c - b_c)
            if isinstance(rows, slice):  # the product written in place (no block copied in)
                block = np.matmul(y[rows], sel * a[c], out=inf[rows])
            else:
                block = np.matmul(y[rows], sel * a[c])
            block -= b[c]
            block *= (n * w[rows])[:, None]
            if not isinstance(rows, slice):
                inf[rows] = block
        inf[:, self.zero] = 0.0
        return inf

    def dot(self, v: np.ndarray) -> np.ndarray:
        """``matrix() @ v`` for ``v`` of shape ``(K,)`` or ``(K, m)``, without the ``(n, K)``
        matrix: per cohort, ``n w (Y (S (a_c * v)) - b_c @ v)``, one ``(n_c, T) @ (T, m)``
        product. The columns of ``S`` sum to zero, so each unit's first outcome is taken off
        ``Y`` first: the rounding then scales with the outcome's changes, not its level."""
        v = np.asarray(v, dtype=float)
        vm = np.where(self.zero[:, None], 0.0, v.reshape(len(self.zero), -1))
        y, w, sel, a, b = self.y, self.w, self.sel, self.a, self.b
        n = y.shape[0]
        out = np.empty((n, vm.shape[1]))
        for c, rows in enumerate(self._blocks()):
            yc = y[rows]
            block = (yc - yc[:, :1]) @ (sel @ (a[c][:, None] * vm))
            block -= b[c] @ vm
            block *= (n * w[rows])[:, None]
            out[rows] = block
        return out.reshape((n, *v.shape[1:]))

    def sum_squares(self) -> np.ndarray:
        """``(matrix() ** 2).sum(axis=0)`` from each cohort's moments of ``y``, centred at its
        ``w**2``-weighted mean (equal to rounding; no ``(n, K)`` matrix)."""
        y, w, sel, a, b = self.y, self.w, self.sel, self.a, self.b
        n = y.shape[0]
        out = np.zeros(sel.shape[1])
        unweighted = bool((w == 1.0).all())  # then no n x T product with w^2
        for c, rows in enumerate(self._blocks()):
            yc, w2 = y[rows], w[rows] ** 2
            sw2 = float(w2.sum())
            mu = (w2 @ yc) / sw2
            z = yc - mu
            # sum of w^2 (y - mu)(y - mu)' over the cohort
            g = z.T @ z if unweighted else (z * w2[:, None]).T @ z
            centre = (mu @ sel) * a[c] - b[c]  # the cell's term at the cohort's mean
            out += np.einsum("tk,tu,uk->k", sel, g, sel) * a[c] ** 2 + centre ** 2 * sw2
        out *= float(n) ** 2
        out[self.zero] = 0.0
        return out


def cell_factors(
    y: np.ndarray,
    w: np.ndarray,
    code: np.ndarray,
    t_idx: np.ndarray,
    b_idx: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
    zero: np.ndarray | None = None,
) -> tuple[np.ndarray, CellFactors]:
    """Every cell's ATT and its influence functions in factored form (no covariates).

    The arguments are those of :func:`cells_without_covariates`; ``zero`` marks cells whose
    influence functions are set to 0.
    """
    n = y.shape[0]
    # cohort-by-period weighted sums: every cell's means come from this small matrix
    n_codes = treated.shape[0]
    ind = np.zeros((n_codes, n))
    ind[code, np.arange(n)] = w
    sums = ind @ y
    mass = ind.sum(axis=1)
    dsum = sums[:, t_idx] - sums[:, b_idx]
    s_t = mass @ treated
    s_c = mass @ control
    eta_t = np.einsum("ck,ck->k", dsum, treated) / s_t
    eta_c = np.einsum("ck,ck->k", dsum, control) / s_c
    a = treated / s_t - control / s_c
    b = treated * (eta_t / s_t) - control * (eta_c / s_c)
    k = len(t_idx)
    sel = np.zeros((y.shape[1], k))
    sel[t_idx, np.arange(k)] += 1.0
    sel[b_idx, np.arange(k)] -= 1.0
    zero = np.zeros(k, dtype=bool) if zero is None else zero
    return eta_t - eta_c, CellFactors(y=y, w=w, code=code, sel=sel, a=a, b=b, zero=zero)


def cells_without_covariates(
    y: np.ndarray,
    w: np.ndarray,
    code: np.ndarray,
    t_idx: np.ndarray,
    b_idx: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """All cells at once when there are no covariates (every method gives the same numbers).

    Parameters
    ----------
    y : ndarray (n, T)
        Outcomes of a balanced panel.
    w : ndarray (n,)
        Unit weights.
    code : ndarray (n,) of int
        Each unit's cohort index (rows of ``treated`` and ``control``).
    t_idx, b_idx : ndarray (K,) of int
        Period and base-period column of each cell.
    treated, control : ndarray (n_cohorts, K) of bool
        Whether a cohort is the treated cohort or a comparison cohort of each cell.

    Returns
    -------
    att : ndarray (K,)
    influence : ndarray (n, K)
        Influence functions scaled to the whole sample (mean zero, ``var = sum(inf**2)/n**2``).
    """
    att, factors = cell_factors(y, w, code, t_idx, b_idx, treated, control)
    return att, factors.matrix()
