"""The two-way fixed-effects coefficient for many placebo assignments at once.

By Frisch-Waugh-Lovell, the TWFE coefficient on a treatment indicator ``D`` is
``(r_D' r_y) / (r_D' r_D)``, where ``r`` are residuals after unit demeaning and a regression on
period dummies and covariates. The residual maker does not depend on ``D``, so every placebo
indicator is residualised in one matrix product. Exact for balanced and unbalanced panels.

On a balanced panel without covariates the residual maker is two-way demeaning, and for an
assignment ``z`` of ``k`` of the ``N`` units the demeaned indicator is the outer product
``(z - k/N)(p - P/T)``, ``p`` the post-period indicator with ``P`` of ``T`` periods post. The
coefficient is then ``(z - k/N)' g / ((k - k^2/N) P (1 - P/T))`` with
``g_i = sum_t (p_t - P/T) y_it``: one matrix-vector product for every assignment, no residualised
matrix of observations by assignments (the same numbers to rounding; tested against the general
path and linearmodels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalmodel.core.twoway import unit_demean
from evalmodel.panel import Panel

__all__ = ["TwfeStatistic"]


def _projection(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The least-squares fit of every column of ``y`` on ``z``: by a thin QR of ``z`` (one
    factorisation for all columns), or by ``lstsq`` when ``z`` is rank deficient."""
    if z.shape[1] == 0:
        return np.zeros_like(y)
    q, r = np.linalg.qr(z)
    diag = np.abs(np.diag(r))
    if diag.min() <= 1e-10 * max(diag.max(), 1.0):
        coef, *_ = np.linalg.lstsq(z, y, rcond=None)
        return np.asarray(z @ coef)
    return np.asarray(q @ (q.T @ y))


class TwfeStatistic:
    """TWFE coefficient of ``outcome`` on ``1{unit assigned and period >= start}``.

    A permutation statistic (see :func:`evalmodel.inference.permutation.permutation_inference`)
    with a vectorised ``batch``: rows of ``assignments`` are 0/1 over ``panel.units``.
    """

    def __init__(self, outcome: str, *, start: int, covariates: Sequence[str] = ()) -> None:
        self.outcome = outcome
        self.start = int(start)
        self.covariates = list(covariates)

    def batch(self, panel: Panel, assignments: np.ndarray, values: str | None = None,
              *, closed_form: bool = True) -> np.ndarray:
        """The coefficient for each row of ``assignments`` (by the closed form when the panel
        is balanced and there are no covariates, unless ``closed_form=False``)."""
        y_col = values or self.outcome
        df = panel.data.dropna(subset=[self.outcome, y_col, *self.covariates])
        units = panel.units
        ucode = pd.Categorical(df[panel.unit], categories=units).codes.astype(int)
        tcode = pd.factorize(df[panel.time], sort=True)[0]
        n_t = int(tcode.max()) + 1
        if closed_form and not self.covariates and len(df) == len(units) * n_t and (
                ucode >= 0).all():
            return self._balanced(df, panel, y_col, ucode, tcode, assignments)
        dummies = np.zeros((len(df), n_t - 1))
        rows = np.flatnonzero(tcode > 0)
        dummies[rows, tcode[rows] - 1] = 1.0
        z = unit_demean(np.column_stack([dummies, df[self.covariates].to_numpy(float)]),
                        ucode, len(units))
        post = (df[panel.time].to_numpy() >= self.start).astype(float)
        d = np.asarray(assignments, dtype=float)[:, ucode].T * post[:, None]
        stacked = unit_demean(np.column_stack([df[y_col].to_numpy(float), d]), ucode,
                              len(units))
        resid = stacked - _projection(z, stacked)
        r_y, r_d = resid[:, 0], resid[:, 1:]
        return np.asarray((r_d * r_y[:, None]).sum(axis=0) / (r_d**2).sum(axis=0))

    def _balanced(self, df: pd.DataFrame, panel: Panel, y_col: str, ucode: np.ndarray,
                  tcode: np.ndarray, assignments: np.ndarray) -> np.ndarray:
        """The closed form of a balanced panel without covariates (module notes)."""
        n_units, n_t = len(panel.units), int(tcode.max()) + 1
        y = np.zeros((n_units, n_t))
        y[ucode, tcode] = df[y_col].to_numpy(float)
        times = np.sort(df[panel.time].unique())
        post = (times >= self.start).astype(float)
        share = post.mean()
        g = y @ (post - share)
        z = np.asarray(assignments, dtype=float)
        k = z.sum(axis=1)
        num = (z - (k / n_units)[:, None]) @ g
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(num / ((k - k**2 / n_units) * post.sum() * (1 - share)))

    def __call__(self, panel: Panel, treated: Sequence[str]) -> float:
        z = np.isin(panel.units, list(treated))[None, :]
        return float(self.batch(panel, z)[0])
