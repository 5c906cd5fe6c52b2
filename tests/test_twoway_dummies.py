"""The two-way least squares of the event-study estimators counts its period dummies' unit
sums in one pass and fills its design in place (issue 16): the design, the coefficients and
their covariance must be those of the plain per-column demeaning to the last bit, balanced or
not; likewise the (unit, period) counts of ``fe_normal_solve``."""

from __future__ import annotations

import numpy as np
import pytest

from evalmodel.core.clusters import cluster_sums
from evalmodel.core.twoway import _demeaned_design, fe_normal_solve, twoway_ols, unit_demean


def _rows(seed: int, balanced: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_u, n_t = 60, 9
    ucode = np.repeat(np.arange(n_u), n_t)
    tcode = np.tile(np.arange(n_t), n_u)
    if not balanced:  # drop a fifth of the rows, keep every unit and period
        keep = rng.random(len(ucode)) > 0.2
        keep[::n_t] = True
        keep[:n_t] = True
        ucode, tcode = ucode[keep], tcode[keep]
    order = rng.permutation(len(ucode))  # rows in no particular order
    ucode, tcode = ucode[order], tcode[order]
    x = (rng.random((len(ucode), 4)) < 0.3).astype(float)
    x[:, 3] = rng.normal(size=len(ucode))  # a continuous regressor too
    y = rng.normal(size=len(ucode)) + x @ np.array([1.0, -0.5, 0.2, 0.7])
    return y, x, ucode, tcode


def _old_twoway(y: np.ndarray, x: np.ndarray, ucode: np.ndarray, tcode: np.ndarray,
                cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """twoway_ols as it was: every column of [x, dummies] demeaned by its own pass."""
    n_units, n_t = int(ucode.max()) + 1, int(tcode.max()) + 1
    dummies = np.zeros((len(y), n_t - 1))
    rows = np.flatnonzero(tcode > 0)
    dummies[rows, tcode[rows] - 1] = 1.0
    z = unit_demean(np.column_stack([x, dummies]), ucode, n_units)
    yd = unit_demean(y, ucode, n_units)
    zz = z.T @ z
    bread = np.linalg.inv(zz)
    beta = bread @ (z.T @ yd)
    u = yd - z @ beta
    s = cluster_sums(z * u[:, None], cluster)
    g, n, k = s.shape[0], len(y), zz.shape[0]
    v = bread @ (s.T @ s) @ bread * (g / (g - 1) * (n - 1) / (n - k))
    p = x.shape[1]
    return z, beta[:p], v[:p, :p]


@pytest.mark.parametrize("balanced", [True, False])
def test_twoway_ols_equals_per_column_demeaning(balanced: bool) -> None:
    y, x, ucode, tcode = _rows(3, balanced)
    n_units, n_t = int(ucode.max()) + 1, int(tcode.max()) + 1
    z_old, coef, vcov = _old_twoway(y, x, ucode, tcode, ucode)
    z_new = _demeaned_design(x, ucode, tcode, n_units, n_t)
    np.testing.assert_array_equal(z_new, z_old)
    fit = twoway_ols(y, x, ucode, tcode, ucode, "test")
    np.testing.assert_array_equal(fit.coef, coef)
    np.testing.assert_array_equal(fit.vcov, vcov)
    # the demeaned dummies are not trivially zero, and the fit recovers the planted slopes
    assert np.abs(z_new[:, x.shape[1]:]).max() > 0.5
    np.testing.assert_allclose(fit.coef, [1.0, -0.5, 0.2, 0.7], atol=0.35)


def test_fe_normal_solve_counts_as_before() -> None:
    y, _, ucode, tcode = _rows(4, balanced=False)
    n_u, n_t = int(ucode.max()) + 1, int(tcode.max()) + 1
    bu = np.bincount(ucode, weights=y, minlength=n_u)
    bt = np.bincount(tcode, weights=y, minlength=n_t)
    alpha, lam = fe_normal_solve(ucode, tcode, n_u, n_t, bu, bt)
    # the old counts: one np.add.at per row
    inc = np.zeros((n_u, n_t))
    np.add.at(inc, (ucode, tcode), 1.0)
    du = np.bincount(ucode, minlength=n_u).astype(float)
    nd = inc / du[:, None]
    schur = np.diag(inc.sum(axis=0)) - inc.T @ nd
    rhs = bt.reshape(n_t, 1) - nd.T @ bu.reshape(n_u, 1)
    lam_old = np.zeros((n_t, 1))
    lam_old[1:] = np.linalg.solve(schur[1:, 1:], rhs[1:])
    alpha_old = (bu.reshape(n_u, 1) - inc @ lam_old) / du[:, None]
    np.testing.assert_array_equal(lam, lam_old)
    np.testing.assert_array_equal(alpha, alpha_old)
    # and it is the least-squares fit: residuals orthogonal to the unit and period dummies
    resid = y - alpha[ucode, 0] - lam[tcode, 0]
    assert np.abs(np.bincount(ucode, weights=resid)).max() < 1e-9
    assert np.abs(np.bincount(tcode, weights=resid)).max() < 1e-9
