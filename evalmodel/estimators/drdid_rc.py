"""Two-period repeated-cross-section DiD kernels (Sant'Anna and Zhao 2020), for unbalanced panels.

With ``allow_unbalanced_panel=True`` and an unbalanced panel, ``att_gt`` estimates each (g, t)
cell from the rows present in its two periods, as R ``did`` does: every row is one observation
of a repeated cross section (outcome ``y``, period indicator ``post``, treatment ``d``, the
design ``x`` with an intercept column built from the row's own covariates, sampling weight
``w``). The kernels return the ATT with an influence function per row, scaled so that
``var(att) ~ mean(psi**2) / n_rows`` (Sant'Anna and Zhao 2020, *Journal of Econometrics*
219(1), section 3.2):

* ``reg``: outcome regression; the comparison rows of each period are regressed on ``x`` and
  the predicted change is averaged over the treated rows of both periods;
* ``ipw``: the standardized (Hajek) inverse-probability weighting estimator, four weighted
  means with a logit propensity score fitted on the rows of both periods;
* ``dr``: the locally efficient doubly robust estimator: the IPW estimator applied to the
  residuals from the comparison regressions, plus the correction built from the treated
  regressions of each period, which makes it efficient when both models are right.

Propensity scores are capped and trimmed as in :mod:`evalmodel.estimators.drdid`.

:func:`rc_cells` runs a kernel on every cell and sums the row influence functions within units
after scaling them by ``n_units / n_rows(cell)`` (the cell's share of the sample, as R ``did``
does), so the columns are unit-level influence functions like those of the panel estimators:
``se = sqrt(sum(inf**2)) / n_units`` is then the standard error clustered by unit.
:func:`rc_cells_without_covariates` does all cells at once when there are no covariates, where
the three kernels coincide.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from evalmodel.estimators.drdid import _TRIM, _normalise, _pscore, _wls

__all__ = [
    "RC_KERNELS",
    "dr_rc",
    "ipw_rc",
    "observed_counts",
    "rc_cells",
    "rc_cells_without_covariates",
    "reg_rc",
]

RcKernel = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                    tuple[float, np.ndarray]]


def _ratio(w: np.ndarray, f: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted mean ``sum(w f) / sum(w)`` and its influence function (weights held fixed)."""
    m = w.mean()
    eta = float(np.mean(w * f) / m)
    return eta, w * (f - eta) / m


def _xbar(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Weighted mean of the design's columns: ``mean(w x) / mean(w)``."""
    return np.asarray(np.mean(w[:, None] * x, axis=0) / w.mean())


def _moment(w: np.ndarray, e: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``mean(w e x) / mean(w)``: how a weighted mean of ``e`` moves with the logit index."""
    return np.asarray(np.mean((w * e)[:, None] * x, axis=0) / w.mean())


def _ols(x: np.ndarray, y: np.ndarray, w: np.ndarray, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Fitted values of the WLS of ``y`` on ``x`` (rows with ``w > 0``) and its linear rep."""
    beta, inv = _wls(x, y, w, who)
    fitted = x @ beta
    return fitted, (w * (y - fitted))[:, None] * x @ inv


def _weights(x: np.ndarray, d: np.ndarray, w: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Treated and odds-reweighted comparison weights (trimmed) and the logit's linear rep."""
    ps, lin_ps = _pscore(x, d, w)
    keep = np.where(d == 1, ps < 1.01, ps < _TRIM)
    return keep * w * d, keep * w * ps * (1.0 - d) / (1.0 - ps), lin_ps


def reg_rc(
    y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD of one repeated-cross-section cell; ``(att, influence)``.

    Parameters
    ----------
    y, post, d : ndarray (m,)
        Outcome, 1 for rows of the later period, 1 for treated rows.
    x : ndarray (m, p)
        Design with an intercept column.
    w : ndarray (m,)
        Sampling weights.
    """
    w = _normalise(w)
    pre, c = 1.0 - post, 1.0 - d
    mu0, lin0 = _ols(x, y, w * c * pre, "comparison units of the base period")
    mu1, lin1 = _ols(x, y, w * c * post, "comparison units of the later period")
    eta_t1, inf_t1 = _ratio(w * d * post, y)
    eta_t0, inf_t0 = _ratio(w * d * pre, y)
    eta_c, inf_c = _ratio(w * d, mu1 - mu0)
    inf_c = inf_c + (lin1 - lin0) @ _xbar(w * d, x)
    return eta_t1 - eta_t0 - eta_c, inf_t1 - inf_t0 - inf_c


def ipw_rc(
    y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Standardized IPW DiD of one repeated-cross-section cell; ``(att, influence)``.

    Parameters as in :func:`reg_rc`.
    """
    w = _normalise(w)
    pre = 1.0 - post
    w_t, w_c, lin_ps = _weights(x, d, w)
    eta_t1, inf_t1 = _ratio(w_t * post, y)
    eta_t0, inf_t0 = _ratio(w_t * pre, y)
    eta_c1, inf_c1 = _ratio(w_c * post, y)
    eta_c0, inf_c0 = _ratio(w_c * pre, y)
    # effect of the estimated propensity score on the comparison means
    m_ps = _moment(w_c * post, y - eta_c1, x) - _moment(w_c * pre, y - eta_c0, x)
    inf_c = inf_c1 - inf_c0 + lin_ps @ m_ps
    return (eta_t1 - eta_t0) - (eta_c1 - eta_c0), inf_t1 - inf_t0 - inf_c


def dr_rc(
    y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD of one repeated-cross-section cell.

    Parameters as in :func:`reg_rc`; returns ``(att, influence)``.
    """
    w = _normalise(w)
    pre, c = 1.0 - post, 1.0 - d
    w_t, w_c, lin_ps = _weights(x, d, w)
    mu_c0, lin_c0 = _ols(x, y, w * c * pre, "comparison units of the base period")
    mu_c1, lin_c1 = _ols(x, y, w * c * post, "comparison units of the later period")
    mu_t0, lin_t0 = _ols(x, y, w * d * pre, "treated units of the base period")
    mu_t1, lin_t1 = _ols(x, y, w * d * post, "treated units of the later period")
    resid = y - (post * mu_c1 + pre * mu_c0)
    w_t1, w_t0, w_c1, w_c0 = w_t * post, w_t * pre, w_c * post, w_c * pre
    # the IPW estimator on the residuals of the comparison regressions
    e_t1, i_t1 = _ratio(w_t1, resid)
    e_t0, i_t0 = _ratio(w_t0, resid)
    e_c1, i_c1 = _ratio(w_c1, resid)
    e_c0, i_c0 = _ratio(w_c0, resid)
    # local-efficiency terms: treated-minus-comparison predictions, all treated vs one period
    gap1, gap0 = mu_t1 - mu_c1, mu_t0 - mu_c0
    e_d1, i_d1 = _ratio(w_t, gap1)
    e_dt1, i_dt1 = _ratio(w_t1, gap1)
    e_d0, i_d0 = _ratio(w_t, gap0)
    e_dt0, i_dt0 = _ratio(w_t0, gap0)
    att = (e_t1 - e_t0) - (e_c1 - e_c0) + (e_d1 - e_dt1) - (e_d0 - e_dt0)
    inf_treat = i_t1 - i_t0 - lin_c1 @ _xbar(w_t1, x) + lin_c0 @ _xbar(w_t0, x)
    m_ps = _moment(w_c1, resid - e_c1, x) - _moment(w_c0, resid - e_c0, x)
    inf_cont = (i_c1 - i_c0 + lin_ps @ m_ps
                - lin_c1 @ _xbar(w_c1, x) + lin_c0 @ _xbar(w_c0, x))
    inf_eff = (i_d1 - i_dt1) - (i_d0 - i_dt0)
    xt = _xbar(w_t, x)
    inf_or = ((lin_t1 - lin_c1) @ (xt - _xbar(w_t1, x))
              - (lin_t0 - lin_c0) @ (xt - _xbar(w_t0, x)))
    return float(att), inf_treat - inf_cont + inf_eff + inf_or


#: The repeated-cross-section kernel of each ``method``.
RC_KERNELS: dict[str, RcKernel] = {"dr": dr_rc, "ipw": ipw_rc, "reg": reg_rc}


def observed_counts(present: np.ndarray, code: np.ndarray, n_codes: int) -> np.ndarray:
    """Observed rows per cohort code and period, ``(n_codes, T)``."""
    out = np.zeros((n_codes, present.shape[1]))
    np.add.at(out, code, present.astype(float))
    return out


def _cell_rows(present: np.ndarray, unit_in: np.ndarray, ti: int, bi: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Units of the later-period rows, of the base-period rows, and all, stacked."""
    ids_t = np.flatnonzero(unit_in & present[:, ti])
    ids_b = np.flatnonzero(unit_in & present[:, bi])
    return ids_t, ids_b, np.concatenate([ids_t, ids_b])


def rc_cells(
    y: np.ndarray,
    x: np.ndarray,
    present: np.ndarray,
    w: np.ndarray,
    code: np.ndarray,
    t_idx: np.ndarray,
    b_idx: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Every cell of an unbalanced panel with covariates, by a repeated-cross-section kernel.

    Parameters
    ----------
    y : ndarray (n, T)
        Outcomes, NaN where a row is absent.
    x : ndarray (n, T, p)
        Covariates (without intercept) of each row.
    present : ndarray (n, T) of bool
        The rows that enter.
    w : ndarray (n,)
        Unit weights.
    code : ndarray (n,) of int
        Each unit's cohort index (rows of ``treated`` and ``control``).
    t_idx, b_idx : ndarray (K,) of int
        Period and base-period column of each cell; cells with ``t_idx == b_idx`` (the fixed
        zero cells of a universal base period) are left at zero.
    treated, control : ndarray (n_cohorts, K) of bool
        Whether a cohort is the treated cohort or a comparison cohort of each cell.
    method : {"dr", "ipw", "reg"}
        The kernel.

    Returns
    -------
    att : ndarray (K,)
    influence : ndarray (n, K)
        Row influence functions times ``n / n_rows(cell)``, summed within units.
    """
    kernel = RC_KERNELS[method]
    n = len(w)
    att, inf = np.zeros(len(t_idx)), np.zeros((n, len(t_idx)))
    for k in np.flatnonzero(t_idx != b_idx).tolist():
        ti, bi = int(t_idx[k]), int(b_idx[k])
        ids_t, ids_b, ids = _cell_rows(present, treated[code, k] | control[code, k], ti, bi)
        post = np.concatenate([np.ones(len(ids_t)), np.zeros(len(ids_b))])
        yk = np.concatenate([y[ids_t, ti], y[ids_b, bi]])
        xk = np.concatenate([x[ids_t, ti, :], x[ids_b, bi, :]])
        d = treated[code[ids], k].astype(float)
        a, psi = kernel(yk, post, d, np.column_stack([np.ones(len(ids)), xk]), w[ids])
        att[k] = a
        inf[:, k] = np.bincount(ids, weights=psi * (n / len(ids)), minlength=n)
    return att, inf


def rc_cells_without_covariates(
    y: np.ndarray,
    present: np.ndarray,
    w: np.ndarray,
    code: np.ndarray,
    t_idx: np.ndarray,
    b_idx: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """All cells of an unbalanced panel at once when there are no covariates.

    Every kernel then reduces to a difference of four weighted means (treated and comparison
    rows of each period), and a unit's influence function to
    ``n w_i sum_r +-(y_r - mean) / mass`` over its rows in the cell. Parameters and returns as
    in :func:`rc_cells` (without ``x`` and ``method``).
    """
    n, n_periods = y.shape
    n_codes, k = treated.shape
    y0 = np.where(present, y, 0.0)
    pres = present.astype(float)
    ind = np.zeros((n_codes, n))
    ind[code, np.arange(n)] = w
    mass, sums = ind @ pres, ind @ y0  # cohort-by-period weight and weighted outcome sums

    def pooled(sel: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = np.einsum("ck,ck->k", mass[:, idx], sel)
        return s, np.einsum("ck,ck->k", sums[:, idx], sel) / s

    with np.errstate(divide="ignore", invalid="ignore"):
        s_t1, e_t1 = pooled(treated, t_idx)
        s_t0, e_t0 = pooled(treated, b_idx)
        s_c1, e_c1 = pooled(control, t_idx)
        s_c0, e_c0 = pooled(control, b_idx)
        a1, a0 = treated / s_t1 - control / s_c1, treated / s_t0 - control / s_c0
        b1 = treated * (e_t1 / s_t1) - control * (e_c1 / s_c1)
        b0 = treated * (e_t0 / s_t0) - control * (e_c0 / s_c0)
    cols = np.arange(k)
    sel_t, sel_b = np.zeros((n_periods, k)), np.zeros((n_periods, k))
    sel_t[t_idx, cols] = 1.0
    sel_b[b_idx, cols] = 1.0
    inf = np.zeros((n, k))
    for c in range(n_codes):  # one pair of matrix products per cohort
        rows = np.flatnonzero(code == c)
        coef_y = np.nan_to_num(sel_t * a1[c] - sel_b * a0[c])
        coef_p = np.nan_to_num(sel_t * b1[c] - sel_b * b0[c])
        inf[rows] = (y0[rows] @ coef_y - pres[rows] @ coef_p) * (n * w[rows])[:, None]
    return (e_t1 - e_t0) - (e_c1 - e_c0), inf
