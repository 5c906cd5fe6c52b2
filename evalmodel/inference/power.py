"""Minimum detectable effect of a design from its placebo distribution.

For a single (or few) treated unit(s), the placebo estimates of a permutation test show how
large the estimate is when nothing happened. A true effect ``tau`` shifts the estimate to
``tau + e`` with ``e`` drawn from that distribution; the test rejects when
``|tau + e|`` exceeds the critical value of the placebo distribution. The minimum detectable
effect (MDE) is the smallest ``|tau|`` rejected with the requested power, in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from evalmodel.errors import EstimationError
from evalmodel.results import Result
from evalmodel.vocabulary import check_conf_level

__all__ = ["MDEResult", "minimum_detectable_effect"]


@dataclass(frozen=True)
class MDEResult(Result):
    """The minimum detectable effect.

    Attributes
    ----------
    mde : float
        Smallest ``|tau|`` with power at least ``power`` in both directions (NaN if the
        placebo distribution is too small to reject at ``1 - conf_level``).
    critical_value : float
        The smallest ``|estimate|`` the permutation test rejects.
    normal_mde : float
        ``(z_{1-alpha/2} + z_power) * sd(placebo)``, the usual normal approximation.
    power, conf_level : float
    n_placebo : int
    """

    mde: float
    critical_value: float
    normal_mde: float
    power: float
    conf_level: float
    n_placebo: int

    #: An MDE is a property of the design, not an estimated effect: no headline row.
    _headline = None

    @cached_property
    def table(self) -> pd.DataFrame:
        """The MDE and its normal approximation in ``estimate`` (no interval or p-value)."""
        nan = float("nan")
        return pd.DataFrame({
            "term": ["minimum detectable effect", "normal approximation"],
            "estimate": [self.mde, self.normal_mde], "std_error": [nan, nan],
            "ci_lower": [nan, nan], "ci_upper": [nan, nan], "p_value": [nan, nan]})

    def _title(self) -> str:
        return "Minimum detectable effect"

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Power", f"{self.power:.0%}"),
                ("Test level", f"{1 - self.conf_level:.2g}"),
                ("Critical |estimate|", f"{self.critical_value:.4g}"),
                ("Placebo estimates", f"{self.n_placebo:,}"))

    def describe_sample(self) -> dict[str, str]:
        """Method and the number of placebo estimates."""
        return {"Method": "minimum_detectable_effect",
                "Inference": f"permutation test over {self.n_placebo:,} placebo estimates"}


def minimum_detectable_effect(
    distribution: np.ndarray, *, conf_level: float = 0.95, power: float = 0.8
) -> MDEResult:
    """MDE of a permutation test from its placebo estimates.

    Parameters
    ----------
    distribution : array-like
        Placebo estimates (e.g. :attr:`PermutationResult.distribution`).
    conf_level : float
        The test has level ``1 - conf_level``.
    power : float
        Required probability of rejecting.

    Returns
    -------
    MDEResult
    """
    try:
        e = np.asarray(distribution, dtype=float).ravel()
    except (TypeError, ValueError):
        raise EstimationError(
            "minimum_detectable_effect: distribution must be an array of placebo estimates "
            f"(numbers), e.g. PermutationResult.distribution; got {type(distribution).__name__}."
        ) from None
    e = e[np.isfinite(e)]
    check_conf_level("minimum_detectable_effect", conf_level)
    if isinstance(power, bool | str) or not isinstance(power, int | float | np.number) or not (
            0 < power < 1):
        raise EstimationError(
            f"minimum_detectable_effect: power={power!r} must be a number strictly between 0 "
            "and 1, e.g. 0.8."
        )
    if e.size < 2:
        raise EstimationError(
            f"minimum_detectable_effect: {e.size} placebo estimates; at least 2 are needed."
        )
    alpha = 1 - conf_level
    n = e.size
    sd = float(np.std(e, ddof=1))
    normal = float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * sd)
    # reject |t| when (1 + #{|e| >= |t|}) / (1 + n) <= alpha
    n_exceed = int(np.floor(alpha * (1 + n) - 1 + 1e-9))
    if n_exceed < 0:
        return MDEResult(float("nan"), float("inf"), normal, power, conf_level, n)
    a = np.sort(np.abs(e))[::-1]
    crit = float(a[n_exceed]) if n_exceed < n else 0.0

    def pw(tau: float) -> float:
        return float(np.mean(np.abs(tau + e) > crit))

    mdes = []
    for sign in (1.0, -1.0):
        lo, hi = 0.0, crit + float(np.max(np.abs(e))) + 1e-12
        for _ in range(100):
            mid = (lo + hi) / 2
            if pw(sign * mid) >= power:
                hi = mid
            else:
                lo = mid
        mdes.append(hi)
    return MDEResult(float(max(mdes)), crit, normal, power, conf_level, n)
