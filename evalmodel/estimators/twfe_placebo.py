"""The two-way fixed-effects coefficient for many placebo assignments at once.

By Frisch-Waugh-Lovell, the TWFE coefficient on a treatment indicator ``D`` is
``(r_D' r_y) / (r_D' r_D)``, where ``r`` are residuals after unit demeaning and a regression on
period dummies and covariates. The residual maker does not depend on ``D``, so every placebo
indicator is residualised in one matrix product. Exact for balanced and unbalanced panels.
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

    def batch(self, panel: Panel, assignments: np.ndarray, values: str | None = None
              ) -> np.ndarray:
        """The coefficient for each row of ``assignments``."""
        y_col = values or self.outcome
        df = panel.data.dropna(subset=[self.outcome, y_col, *self.covariates])
        units = panel.units
        ucode = pd.Categorical(df[panel.unit], categories=units).codes.astype(int)
        tcode = pd.factorize(df[panel.time], sort=True)[0]
        n_t = int(tcode.max()) + 1
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

    def __call__(self, panel: Panel, treated: Sequence[str]) -> float:
        z = np.isin(panel.units, list(treated))[None, :]
        return float(self.batch(panel, z)[0])
