"""Prediction intervals for synthetic-control effects (Cattaneo, Feng and Titiunik 2021, JASA).

The effect in post-period ``t`` is ``tau_t = Y1_t - Y0_t`` and its estimate ``Y1_t - p_t' w``,
with ``p_t`` the donors' outcomes and ``w`` the simplex weights fitted on the pre-period outcomes
``Z`` (periods x donors). The counterfactual's error has two parts, bounded separately:

* **in-sample** ``p_t'(w - w0)``, from estimating the weights: the constrained least squares'
  limit ``argmin_{w in simplex} ||Z w - (Z w_hat + u)||^2`` with ``u`` Gaussian with the
  heteroskedasticity-consistent (HC1) variance of the pre-period residuals (the
  simulation of scpi, where ``delta' Q delta - 2 G' delta`` with ``Q = Z'Z / T0`` and
  ``G ~ N(0, Z' diag(u_hat^2) Z / T0^2)`` is the same problem); its ``u_alpha / 2`` and
  ``1 - u_alpha / 2`` quantiles over the draws;
* **out-of-sample** ``e_t``, the post-period shock: sub-Gaussian bounds from the pre-period
  residuals' mean and standard deviation, ``mean -+ sd sqrt(2 log(2 / e_alpha))``
  (``e_method="gaussian"``), or their empirical ``e_alpha / 2`` quantiles as a location-scale
  model (``"ls"``).

The interval ``[tau_hat + q_lo - e_hi, tau_hat + q_hi - e_lo]`` covers ``tau_t`` with
probability at least ``1 - u_alpha - e_alpha`` (0.90 with the defaults, as in scpi). It is a
prediction interval, not a test: the table's ``p_value`` and ``std_error`` are NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from evalmodel.core.multisynth_solver import solve_multisynth
from evalmodel.errors import EstimationError
from evalmodel.panel import Panel
from evalmodel.results import Result
from evalmodel.vocabulary import PredictionErrorMethod, check_draws, check_option, check_seed

__all__ = ["PredictionIntervalResult", "prediction_bounds", "prediction_intervals"]


class _SynthLike(Protocol):
    @property
    def weights(self) -> pd.Series: ...
    @property
    def outcome(self) -> str: ...
    @property
    def details(self) -> Mapping[str, Any]: ...  # "panel", "treated", "start"


@dataclass(frozen=True)
class PredictionIntervalResult(Result):
    """Per-period effects with their prediction intervals (:func:`prediction_intervals`).

    Attributes
    ----------
    table : pandas.DataFrame
        ``term`` and ``time`` (the post-period), then the fixed columns; ``ci_lower`` and
        ``ci_upper`` the prediction interval, ``std_error`` and ``p_value`` NaN.
    bounds : pandas.DataFrame
        By period: the in-sample quantiles ``in_lower, in_upper`` and out-of-sample bounds
        ``out_lower, out_upper``.
    conf_level : float
        The guaranteed coverage ``1 - u_alpha - e_alpha``.
    """

    table: pd.DataFrame
    bounds: pd.DataFrame = field(default_factory=pd.DataFrame)
    conf_level: float = 0.90
    notes: tuple[str, ...] = ()
    _headline = None

    def _notes(self) -> tuple[str, ...]:
        return self.notes


def prediction_bounds(z_pre: np.ndarray, y_pre: np.ndarray, p_post: np.ndarray,
                      w: np.ndarray, *, u_alpha: float = 0.05, e_alpha: float = 0.05,
                      e_method: str = "gaussian", n_draws: int = 200,
                      rng: np.random.Generator | None = None) -> pd.DataFrame:
    """In- and out-of-sample bounds of the counterfactual's error, by post-period.

    Parameters
    ----------
    z_pre : ndarray (T0, J)
        Donors' pre-period outcomes.
    y_pre : ndarray (T0,)
        Treated unit's pre-period outcomes.
    p_post : ndarray (T1, J)
        Donors' post-period outcomes.
    w : ndarray (J,)
        Fitted simplex weights.

    Returns
    -------
    pandas.DataFrame
        ``in_lower, in_upper, out_lower, out_upper``, one row per post-period.
    """
    rng = np.random.default_rng() if rng is None else rng
    t0 = y_pre.size
    u = y_pre - z_pre @ w
    df = max(int((w > 1e-8).sum()) - 1, 0)
    hc1 = np.sqrt(t0 / max(t0 - df, 1))
    fitted = z_pre @ w
    draws = np.empty((n_draws, p_post.shape[0]))
    for b in range(n_draws):
        target = fitted + hc1 * u * rng.standard_normal(t0)
        w_b = solve_multisynth([target], [z_pre.T], nu=0.0).weights[0]
        draws[b] = p_post @ (w_b - w)
    q_lo, q_hi = np.quantile(draws, [u_alpha / 2, 1 - u_alpha / 2], axis=0)
    mu, sd = float(u.mean()), float(u.std(ddof=1))
    if e_method == "gaussian":
        half = sd * np.sqrt(2 * np.log(2 / e_alpha))
        e_lo, e_hi = mu - half, mu + half
    else:
        z = (u - mu) / sd if sd > 0 else np.zeros_like(u)
        ql, qh = np.quantile(z, [e_alpha / 2, 1 - e_alpha / 2])
        e_lo, e_hi = mu + sd * ql, mu + sd * qh
    n = p_post.shape[0]
    return pd.DataFrame({"in_lower": q_lo, "in_upper": q_hi, "out_lower": np.full(n, e_lo),
                         "out_upper": np.full(n, e_hi)})


def prediction_intervals(result: _SynthLike, *, u_alpha: float = 0.05, e_alpha: float = 0.05,
                         e_method: PredictionErrorMethod = "gaussian", n_draws: int = 200,
                         seed: int | None = None) -> PredictionIntervalResult:
    """Prediction intervals of a synthetic control's per-period effects (Cattaneo, Feng and
    Titiunik 2021; the method of scpi).

    Parameters
    ----------
    result : SynthResult
        A fitted :func:`~evalmodel.synth` (its weights, outcome, panel, treated unit, start).
    u_alpha, e_alpha : float
        Miscoverage given to the in-sample and out-of-sample parts (scpi's defaults, 0.05
        each: coverage at least 0.90).
    e_method : {"gaussian", "ls"}
        Out-of-sample bounds: sub-Gaussian, or location-scale with empirical quantiles.
    n_draws : int
        Simulations of the weights' estimation error.
    seed : int, optional
        Seed of those simulations.

    Returns
    -------
    PredictionIntervalResult
    """
    check_option("prediction_intervals", "e_method", e_method, PredictionErrorMethod)
    for name, a in (("u_alpha", u_alpha), ("e_alpha", e_alpha)):
        if not isinstance(a, float | int) or not 0 < a < 0.5:
            raise EstimationError(f"prediction_intervals: {name}={a!r} must be a number in "
                                  "(0, 0.5), e.g. 0.05.")
    n_draws = check_draws("prediction_intervals", n_draws, minimum=20)
    check_seed("prediction_intervals", seed)
    if getattr(result, "augmentation", None) is not None:
        raise EstimationError(
            "prediction_intervals: the result is an augmented synthetic control (augment=...), "
            "whose weights may be negative and need not sum to one; the intervals simulate "
            "simplex weights. Fit em.synth without augment= for prediction intervals, or use "
            "the augmented fit's placebo or conformal inference."
        )
    details = result.details
    panel: Panel = details["panel"]
    start, treated = int(details["start"]), str(details["treated"])
    w = result.weights.to_numpy(dtype=float)
    donors = [str(d) for d in result.weights.index]
    y = panel.wide(result.outcome).reindex(index=[*donors, treated])
    periods = np.asarray(y.columns, dtype=int)
    pre, post = periods < start, periods >= start
    values = y.to_numpy(dtype=float)
    z_pre, p_post = values[:-1, pre].T, values[:-1, post].T
    y_pre, y_post = values[-1, pre], values[-1, post]
    if not np.isfinite(z_pre).all() or not np.isfinite(p_post).all():
        raise EstimationError("prediction_intervals: the donors' outcomes have missing values; "
                              "fit the synthetic control on a panel without gaps.")
    bounds = prediction_bounds(z_pre, y_pre, p_post, w, u_alpha=u_alpha, e_alpha=e_alpha,
                               e_method=e_method, n_draws=n_draws,
                               rng=np.random.default_rng(seed))
    tau = y_post - p_post @ w
    table = pd.DataFrame({"term": [str(int(t)) for t in periods[post]],
                          "time": periods[post].astype(int), "estimate": tau,
                          "std_error": np.nan,
                          "ci_lower": tau + bounds["in_lower"] - bounds["out_upper"],
                          "ci_upper": tau + bounds["in_upper"] - bounds["out_lower"],
                          "p_value": np.nan})
    bounds.index = pd.Index(periods[post], name=panel.time)
    notes = (f"in-sample: {n_draws} simulations of the simplex least squares on the "
             f"{int(pre.sum())} pre-period outcomes (HC1 residual variance); out-of-sample: "
             f"{e_method} bounds from the pre-period residuals",
             "a prediction interval with coverage at least 1 - u_alpha - e_alpha; not a test "
             "(no p-value)")
    return PredictionIntervalResult(table=table, bounds=bounds,
                                    conf_level=1 - u_alpha - e_alpha, notes=notes)
