"""Sensitivity of an event study to violations of parallel trends.

* :func:`pretrend_test`: the joint Wald test that every lead is zero, and an equivalence test
  (intersection-union two one-sided tests) that every lead is smaller than a margin.
* :func:`sensitivity`: robust confidence sets in the manner of Rambachan and Roth (2023) for
  one post-period effect, over a list of ``m`` values, with the breakdown value.

Both read only three attributes of an event-study result (duck typing): ``coefficients``
(a Series indexed by event time, the reference period left out), ``vcov`` (a DataFrame indexed
by event time both ways) and ``reference`` (the omitted event time, which must be -1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from evalmodel.errors import EstimationError
from evalmodel.inference.honest import breakdown_value, honest_ci, original_ci
from evalmodel.results import Result, inference_table
from evalmodel.vocabulary import (
    Restriction,
    check_conf_level,
    check_option,
    check_period,
    check_seed,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["PretrendResult", "SensitivityResult", "pretrend_test", "sensitivity"]


class EventStudyLike(Protocol):
    """What :func:`sensitivity` and :func:`pretrend_test` read from an event study."""

    @property
    def coefficients(self) -> pd.Series: ...  # pragma: no cover

    @property
    def vcov(self) -> pd.DataFrame: ...  # pragma: no cover

    @property
    def reference(self) -> int: ...  # pragma: no cover


def _split(es: EventStudyLike, where: str) -> tuple[np.ndarray, np.ndarray, list[int], list[int]]:
    """Coefficients and covariance ordered by event time, with the lead and lag event times."""
    for attr in ("coefficients", "vcov", "reference"):
        if not hasattr(es, attr):
            raise EstimationError(
                f"{where}: the event study has no {attr!r} attribute; pass the result of "
                "em.event_study(...) (or any object with coefficients, vcov and reference)."
            )
    coef = pd.Series(es.coefficients).astype(float)
    if es.reference is None:
        raise EstimationError(
            f"{where}: the event study has no reference period (e.g. the imputation "
            "estimator); use estimator='twfe' or 'sun_abraham' with reference=-1."
        )
    ref = int(es.reference)
    if ref != -1:
        raise EstimationError(
            f"{where}: the event study's reference period is {ref}; these bounds need the "
            "period just before treatment as reference: re-estimate with reference=-1."
        )
    times = sorted(int(t) for t in coef.index)
    pre = [t for t in times if t < ref]
    post = [t for t in times if t >= 0]
    if not pre:
        raise EstimationError(
            f"{where}: the event study has no pre-period coefficients (leads before the "
            f"reference period {ref}); event times are {times}; re-estimate with a window "
            "that starts before -1, e.g. window=(-4, 4)."
        )
    if pre != list(range(pre[0], ref)) or (post and post != list(range(0, post[-1] + 1))):
        raise EstimationError(
            f"{where}: event times {times} are not consecutive around the reference {ref}; "
            "the restrictions compare consecutive periods, so estimate every event time."
        )
    order = pre + post
    vc = pd.DataFrame(es.vcov)
    vc.index = [int(i) for i in vc.index]
    vc.columns = [int(c) for c in vc.columns]
    missing = [t for t in order if t not in vc.index or t not in vc.columns]
    if missing:
        raise EstimationError(
            f"{where}: vcov lacks event times {missing}; it must be indexed by event time "
            "both ways, like coefficients."
        )
    b = coef.loc[order].to_numpy()
    v = vc.loc[order, order].to_numpy(dtype=float)
    return b, v, pre, post


# -- pre-trend tests --------------------------------------------------------------------------
@dataclass(frozen=True)
class PretrendResult(Result):
    """Joint Wald test of the leads and their equivalence test.

    Attributes
    ----------
    wald : float
        ``b' V^{-1} b`` over the leads.
    df : int
        Number of leads.
    p_value : float
        Chi-squared p-value of the Wald test (small: the leads are not all zero).
    margin : float or None
        Equivalence margin asked for.
    equivalence_p_value : float or None
        p-value of "some lead is at least ``margin`` in absolute value" (small: all leads are
        within the margin).
    equivalence_bound : float
        The smallest margin at which equivalence is shown at ``1 - conf_level``.
    conf_level : float
    table : DataFrame
        One row per lead: ``event_time`` and the standard columns (normal intervals and
        p-values of each lead on its own).
    """

    wald: float
    df: int
    p_value: float
    margin: float | None
    equivalence_p_value: float | None
    equivalence_bound: float
    conf_level: float
    table: pd.DataFrame

    #: A joint test, not an effect: no headline row.
    _headline = None

    def _title(self) -> str:
        return "Pre-trend tests"

    def describe_sample(self) -> dict[str, str]:
        """Method and the joint test."""
        return {"Method": "pretrend_test",
                "Inference": f"joint Wald test of {self.df} leads, p = {self.p_value:.4f}"}

    def _header(self) -> tuple[tuple[str, str], ...]:
        header = [
            ("Joint Wald test (leads = 0)", f"chi2({self.df}) = {self.wald:.3f}, "
                                            f"p = {self.p_value:.4f}"),
            ("Equivalence bound",
             f"{self.equivalence_bound:.4g} (level {1 - self.conf_level:.2g})"),
        ]
        if self.margin is not None and self.equivalence_p_value is not None:
            header.append(("Equivalence test", f"margin {self.margin:.4g}, "
                                               f"p = {self.equivalence_p_value:.4f}"))
        return tuple(header)


def pretrend_test(
    event_study: EventStudyLike, *, margin: float | None = None, conf_level: float = 0.95
) -> PretrendResult:
    """Test the event study's leads: jointly zero (Wald), and all within ``margin`` (TOST).

    Parameters
    ----------
    event_study : event-study result
        Needs ``coefficients``, ``vcov`` and ``reference`` (= -1).
    margin : float, optional
        Equivalence margin in outcome units; without it only the equivalence bound is given.
    conf_level : float
        ``1 - conf_level`` is the level of the equivalence bound.

    Raises
    ------
    EstimationError
        Without leads, with a reference other than -1, or with a singular lead covariance.
    """
    check_conf_level("pretrend_test", conf_level)
    if margin is not None and not (isinstance(margin, int | float | np.number)
                                   and not isinstance(margin, bool) and margin > 0):
        raise EstimationError(f"pretrend_test: margin={margin!r} must be a positive number.")
    b, v, pre, _ = _split(event_study, "pretrend_test")
    k = len(pre)
    bp, vp = b[:k], v[:k, :k]
    try:
        wald = float(bp @ np.linalg.solve(vp, bp))
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "pretrend_test: the covariance of the leads is singular; check the event study's "
            "vcov (too few clusters or collinear leads)."
        ) from exc
    p = float(stats.chi2.sf(wald, k))
    se = np.sqrt(np.diag(vp))
    alpha = 1 - conf_level
    bound = float(np.max(np.abs(bp) + stats.norm.ppf(1 - alpha) * se))
    eq_p: float | None = None
    if margin is not None:
        p_low = stats.norm.sf((bp + margin) / se)  # H0: b <= -margin
        p_high = stats.norm.cdf((bp - margin) / se)  # H0: b >= margin
        eq_p = float(np.max(np.maximum(p_low, p_high)))
    table = inference_table({"event_time": pre}, bp, se, conf_level=conf_level)
    return PretrendResult(wald, k, p, margin, eq_p, bound, conf_level, table)


# -- Rambachan-Roth sensitivity ---------------------------------------------------------------
@dataclass(frozen=True)
class SensitivityResult(Result):
    """Robust confidence sets over a list of ``m`` values.

    Attributes
    ----------
    restriction : str
        ``"relative_magnitude"`` (``m`` is Mbar) or ``"smoothness"`` (``m`` is M).
    event_time : int
        The post-period effect the sets are for.
    table : DataFrame
        One row per ``m``: the standard columns, with the robust set in ``ci_lower`` and
        ``ci_upper`` beside the point estimate (no standard error or p-value).
    original : Series
        ``estimate, ci_lower, ci_upper`` of the usual interval (exact parallel trends).
    breakdown : float
        The smallest ``m`` at which the robust set first contains zero.
    conf_level : float
    method : str
        ``"C-LF"`` (conditional least-favourable hybrid) or ``"FLCI"``.
    notes : tuple of str
    """

    restriction: str
    event_time: int
    table: pd.DataFrame
    original: pd.Series
    breakdown: float
    conf_level: float
    method: str
    notes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    #: Robust sets over ``m``, no single headline row.
    _headline = None

    def _title(self) -> str:
        return f"Sensitivity to parallel trends: {self.restriction}"

    def _notes(self) -> tuple[str, ...]:
        return self.notes

    def describe_sample(self) -> dict[str, str]:
        """Method and the restriction."""
        return {"Method": f"sensitivity ({self.method})",
                "Inference": f"robust sets under {self.restriction}"}

    def _header(self) -> tuple[tuple[str, str], ...]:
        name = "Mbar" if self.restriction == "relative_magnitude" else "M"
        header = (
            ("Restriction", f"{self.restriction} ({name})"),
            ("Event time", str(self.event_time)),
            ("Method", self.method),
            ("Confidence level", f"{self.conf_level:.0%}"),
            ("Original interval", f"{self.original['estimate']:.4f} "
                                  f"[{self.original['ci_lower']:.4f}, "
                                  f"{self.original['ci_upper']:.4f}]"),
            ("Breakdown value", f"{self.breakdown:.4g}"),
        )
        return header

    def plot(self, ax: Axes | None = None) -> Axes:
        """The robust intervals against ``m`` beside the original interval; returns the Axes."""
        from evalmodel.plotting.inference import sensitivity_plot

        return sensitivity_plot(self, ax=ax)


def sensitivity(
    event_study: EventStudyLike,
    *,
    restriction: Restriction = "relative_magnitude",
    m: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
    event_time: int = 0,
    conf_level: float = 0.95,
    seed: int | None = 0,
) -> SensitivityResult:
    """Robust confidence sets for one post-period effect of an event study.

    Parameters
    ----------
    event_study : event-study result
        Needs ``coefficients``, ``vcov`` (by event time) and ``reference`` (= -1).
    restriction : {"relative_magnitude", "smoothness"}
        How large post-treatment violations of parallel trends may be: at most ``m`` times the
        largest pre-period change (relative magnitudes), or a slope that changes by at most
        ``m`` per period (smoothness, in outcome units).
    m : sequence of float
        The values of Mbar or M.
    event_time : int
        The post-period effect (0 = the first treated period).
    conf_level : float
        Coverage.
    seed : int, optional
        Seed of the draws behind the least-favourable critical value (relative magnitudes).

    Returns
    -------
    SensitivityResult

    Examples
    --------
    >>> import evalmodel as em
    >>> from evalmodel.data.simulate import simple_panel
    >>> df, _ = simple_panel(n_units=80, seed=2)
    >>> panel = em.Panel(df, unit="unit", time="time", cohort="cohort")
    >>> es = em.event_study(panel, "y", window=(-4, 4), estimator="twfe")
    >>> h = em.sensitivity(es, restriction="smoothness", m=[0, 0.1], event_time=0)
    >>> list(h.table.columns[:3])
    ['m', 'estimate', 'std_error']
    """
    check_option("sensitivity", "restriction", restriction, Restriction)
    check_conf_level("sensitivity", conf_level)
    check_seed("sensitivity", seed)
    event_time = check_period("sensitivity", "event_time", event_time, what="event time")
    try:
        ms = [float(x) for x in np.atleast_1d(np.asarray(m, dtype=float))]
    except (TypeError, ValueError):
        ms = []
    if not ms or any(not np.isfinite(x) or x < 0 for x in ms):
        raise EstimationError(
            f"sensitivity: m={m!r} must be a non-empty list of numbers >= 0, "
            "e.g. m=[0.5, 1, 1.5, 2]."
        )
    b, v, pre, post = _split(event_study, "sensitivity")
    if event_time not in post:
        raise EstimationError(
            f"sensitivity: event_time={event_time!r} is not a post-period of the event study "
            f"(post-periods are {post}); choose one of them."
        )
    l_vec = np.zeros(len(post))
    l_vec[post.index(event_time)] = 1.0
    kw: dict[str, Any] = {"num_pre_periods": len(pre), "num_post_periods": len(post),
                          "l_vec": l_vec, "conf_level": conf_level}
    rows = [(x, *honest_ci(b, v, restriction=restriction, m=x, seed=seed, **kw)) for x in ms]
    est, lo, hi = original_ci(b, v, **kw)
    sets = pd.DataFrame(rows, columns=["m", "ci_lower", "ci_upper"])
    table = pd.DataFrame({"m": sets["m"], "estimate": est, "std_error": np.nan,
                          "ci_lower": sets["ci_lower"], "ci_upper": sets["ci_upper"],
                          "p_value": np.nan})
    original = pd.Series({"estimate": est, "ci_lower": lo, "ci_upper": hi})
    extra: dict[str, Any] = {"seed": seed} if restriction == "relative_magnitude" else {}
    bd = breakdown_value(b, v, restriction=restriction, **kw, **extra)
    method = "C-LF" if restriction == "relative_magnitude" else "FLCI"
    notes = (
        f"{len(pre)} leads and {len(post)} post-periods; robust {conf_level:.0%} sets for the "
        f"effect at event time {event_time} (Rambachan and Roth 2023, {method}).",
    )
    return SensitivityResult(restriction, event_time, table, original, bd, conf_level, method,
                             notes, {"betahat": b, "sigma": v, "pre": pre, "post": post})
