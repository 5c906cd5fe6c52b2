"""A simulated staggered-adoption panel with covariates and heterogeneous dynamic effects.

Outcome ``y_it = a_i + l_t + b_t * x1_i + 0.5 * x2_it + tau(g_i, t - g_i) + e_it``: units select
into cohorts according to ``x1`` (so the covariate-adjusted estimators are needed when
``selection`` is nonzero), trends depend on ``x1``, and the effect grows with exposure and
differs by cohort. The planted ATT(g, t) is in ``panel.truth``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalmodel.panel import Panel

__all__ = ["simulate_staggered", "true_effect"]


def true_effect(cohort: np.ndarray, event_time: np.ndarray, first: int) -> np.ndarray:
    """The planted effect: zero before adoption, ``(1 + 0.5 e)(1 + 0.1 (g - first))`` after."""
    e = np.asarray(event_time)
    g = np.asarray(cohort)
    return np.where(e >= 0, (1.0 + 0.5 * e) * (1.0 + 0.1 * (g - first)), 0.0)


def simulate_staggered(
    n_units: int = 300,
    *,
    n_periods: int = 8,
    first_period: int = 2001,
    cohorts: Sequence[int] = (2003, 2005, 2007),
    never_share: float = 0.35,
    selection: float = 0.5,
    missing: float = 0.0,
    weights: bool = False,
    noise: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a staggered panel as a long DataFrame (build a Panel from it).

    Parameters
    ----------
    n_units, n_periods, first_period : int
        Size and start of the panel.
    cohorts : sequence of int
        Adoption periods of the treated cohorts.
    never_share : float
        Expected share of never-treated units.
    selection : float
        How strongly ``x1`` pushes units into treatment (0: random assignment).
    missing : float
        Share of (unit, period) rows removed at random.
    weights : bool
        Add a sampling-weight column ``w`` (constant within unit).
    noise : float
        Standard deviation of the idiosyncratic error.
    seed : int
        Seed of the generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit, period, cohort, y, x1, x2`` (and ``w``), plus ``att`` the planted
        effect of each row.
    """
    rng = np.random.default_rng(seed)
    periods = np.arange(first_period, first_period + n_periods)
    x1 = rng.normal(size=n_units)
    score = selection * x1 + rng.normal(size=n_units)
    q = np.quantile(score, never_share)
    treated = score > q if never_share > 0 else np.ones(n_units, dtype=bool)
    cohort = np.zeros(n_units, dtype=np.int64)
    cohort[treated] = rng.choice(np.asarray(cohorts), size=int(treated.sum()))
    alpha = rng.normal(size=n_units) + 0.5 * x1
    lam = np.cumsum(rng.normal(0.2, 0.3, size=n_periods))
    beta = np.linspace(0.0, 1.0, n_periods)
    uu = np.repeat(np.arange(n_units), n_periods)
    tt = np.tile(np.arange(n_periods), n_units)
    per = periods[tt]
    g = cohort[uu]
    att = np.where(g > 0, true_effect(g, per - g, first_period), 0.0)
    x2 = rng.normal(size=len(uu)) + 0.3 * x1[uu]
    y = alpha[uu] + lam[tt] + beta[tt] * x1[uu] + 0.5 * x2 + att + noise * rng.normal(
        size=len(uu))
    df = pd.DataFrame({"unit": [f"u{i:05d}" for i in uu], "period": per, "cohort": g,
                       "y": y, "x1": x1[uu], "x2": x2, "att": att})
    if weights:
        df["w"] = rng.uniform(0.5, 2.0, size=n_units)[uu]
    if missing > 0:
        df = df[rng.uniform(size=len(df)) >= missing].reset_index(drop=True)
    return df


def to_panel(df: pd.DataFrame) -> Panel:
    """The simulated frame as a Panel with its planted ATT(g, t) as ``truth``."""
    treated = df[df["cohort"] > 0]
    truth = (treated.groupby(["cohort", "period"])["att"].mean().rename("att").reset_index()
             .rename(columns={"period": "time"}))
    truth["event_time"] = truth["time"] - truth["cohort"]
    weight = "w" if "w" in df.columns else None
    return Panel(df.drop(columns="att"), unit="unit", time="period", cohort="cohort",
                 weight=weight, truth=truth)
