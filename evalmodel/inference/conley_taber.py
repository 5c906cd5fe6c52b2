"""Conley-Taber intervals for a DiD with few treated units and many comparison units.

With ``k`` treated units sharing one adoption date, the 2x2 DiD estimate is
``alpha_hat = alpha + mean_T(e) - mean_C(e)``, where ``e_j`` is unit ``j``'s change (post mean
minus pre mean) of the error. As the comparison pool grows, ``mean_C(e) -> 0`` and the
estimation error is ``mean_T(e)``, whose distribution is estimated by the comparison units'
own centred changes (Conley and Taber 2011, under exchangeable errors). The interval is
``[alpha_hat - q_hi, alpha_hat - q_lo]`` with ``q`` the quantiles of that distribution: exact
for one treated unit, simulated (with a seed) for several.

Reference
---------
Conley, T. and Taber, C. (2011). Inference with "difference in differences" with a small
number of policy changes. *Review of Economics and Statistics* 93(1), 113-125.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from evalmodel.errors import EstimationError
from evalmodel.inference.permutation import DiD2x2Statistic
from evalmodel.panel import Panel
from evalmodel.results import Result, single_row_table
from evalmodel.vocabulary import check_conf_level, check_names, check_seed, draws_argument

__all__ = ["ConleyTaberResult", "conley_taber"]


@dataclass(frozen=True)
class ConleyTaberResult(Result):
    """A Conley-Taber interval for the 2x2 DiD.

    Attributes
    ----------
    estimate, ci_lower, ci_upper, p_value : float
    distribution : ndarray
        Draws of the estimation error ``mean_T(e)`` under the null.
    n_treated, n_controls : int
    conf_level : float
    seed : int or None
    """

    estimate: float
    ci_lower: float
    ci_upper: float
    p_value: float
    distribution: np.ndarray
    n_treated: int
    n_controls: int
    conf_level: float
    seed: int | None

    @property
    def std_error(self) -> float:
        """Standard deviation of the simulated estimation error."""
        d = self.distribution
        return float(np.std(d, ddof=1)) if d.size > 1 else float("nan")

    @property
    def inference(self) -> str:
        """How the interval and p-value were obtained."""
        how = "exact" if self.n_treated == 1 else f"simulated, seed {self.seed}"
        return (f"Conley-Taber: estimation error from {self.n_controls} comparison units' "
                f"changes ({how})")

    @cached_property
    def table(self) -> pd.DataFrame:
        """One tidy row: ``term`` (``"effect"``) and the standard columns."""
        return single_row_table(self)

    def _title(self) -> str:
        return "Conley-Taber interval (2x2 DiD)"

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Inference", self.inference),
                ("Confidence level", f"{self.conf_level:.0%}"),
                ("Treated units", f"{self.n_treated:,}"),
                ("Comparison units", f"{self.n_controls:,}"))

    def describe_sample(self) -> dict[str, str]:
        """Method, inference and the numbers of units and treated units."""
        return {"Method": "conley_taber", "Inference": self.inference,
                "Units": f"{self.n_treated + self.n_controls:,}",
                "Treated units": f"{self.n_treated:,}"}


def conley_taber(
    panel: Panel,
    outcome: str,
    *,
    treated: Sequence[str],
    pool: Sequence[str],
    pre: Iterable[int],
    post: Iterable[int],
    conf_level: float = 0.95,
    n_draws: int = 9999,
    seed: int | None = None,
    n_sim: int | None = None,
) -> ConleyTaberResult:
    """Conley-Taber interval and p-value for the 2x2 DiD of ``treated`` against ``pool``.

    Parameters
    ----------
    panel : Panel
    outcome : str
    treated, pool : sequence of str
        Treated units (one adoption date) and comparison units.
    pre, post : iterable of int
        Periods averaged before and after adoption.
    conf_level : float
    n_draws : int
        Draws of the treated-mean error when there are several treated units.
    seed : int, optional
    n_sim : int, optional
        Deprecated name of ``n_draws`` (warns ``DeprecationWarning``).

    Raises
    ------
    EstimationError
        With fewer comparison units than the level needs (``1 / (1 - conf_level) - 1``), with
        unknown units, or overlapping ``treated`` and ``pool``.
    """
    n_draws = draws_argument("conley_taber", n_draws, default=9999, n_sim=n_sim)
    check_conf_level("conley_taber", conf_level)
    check_seed("conley_taber", seed)
    t_set = check_names("conley_taber", "treated", treated, allow_empty=True)
    c_set = [u for u in check_names("conley_taber", "pool", pool) if u not in set(t_set)]
    alpha = 1 - conf_level
    if not t_set:
        raise EstimationError("conley_taber: treated is empty; name the treated units.")
    if len(c_set) < 1 / alpha - 1:
        raise EstimationError(
            f"conley_taber: {len(c_set)} comparison units cannot give a {conf_level:.0%} "
            f"interval (the quantiles need at least {int(np.ceil(1 / alpha - 1))}); add "
            "comparison units or lower conf_level."
        )
    stat = DiD2x2Statistic(outcome, pre=pre, post=post)
    sub = panel.select(units=sorted(t_set + c_set))
    units, d = stat.changes(sub)
    is_t = np.isin(units, t_set)
    est = float(d[is_t].mean() - d[~is_t].mean())
    e = d[~is_t] - d[~is_t].mean()
    k = int(is_t.sum())
    if k == 1:
        dist = np.sort(e)
    else:
        rng = np.random.default_rng(seed)
        dist = np.sort(e[rng.integers(0, e.size, size=(n_draws, k))].mean(axis=1))
    q_lo, q_hi = (float(q) for q in np.quantile(dist, [alpha / 2, 1 - alpha / 2]))
    upper, lower = float(np.mean(dist >= est)), float(np.mean(dist <= est))
    p = min(1.0, 2 * min(upper, lower))
    return ConleyTaberResult(
        estimate=est, ci_lower=float(est - q_hi), ci_upper=float(est - q_lo), p_value=p,
        distribution=dist, n_treated=k, n_controls=int((~is_t).sum()), conf_level=conf_level,
        seed=seed,
    )
