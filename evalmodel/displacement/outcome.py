"""The displacement test on one outcome of the non-targeted, and its plain verdict."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from evalmodel.core.inversion import invert_linear_permutation, rank_p_value
from evalmodel.core.ols import ols
from evalmodel.errors import EstimationError, FewTreatedClustersWarning
from evalmodel.estimators._common import (
    MIN_TREATED_CLUSTERS,
    check_periods,
    check_pre_post,
)
from evalmodel.inference.power import minimum_detectable_effect
from evalmodel.panel import Panel
from evalmodel.results import Result
from evalmodel.vocabulary import (
    DisplacementInference,
    DisplacementTransform,
    check_conf_level,
    check_names,
    check_number,
    check_option,
    check_seed,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

from evalmodel.displacement._shared import resolve_inference

__all__ = ["DisplacementTest", "outcome_displacement", "verdict"]


# -- the test on one outcome of the non-targeted ----------------------------------------------
@dataclass(frozen=True)
class DisplacementTest(Result):
    """A displacement test on one outcome: estimate, permutation inference and power.

    Attributes
    ----------
    outcome : str
    estimate : float
        The 2x2 DiD of the treated unit(s) against the pool (outcome units).
    ci_lower, ci_upper : float
        The effects not rejected by the test behind ``p_value``. Permutation: ``estimate -/+
        c * s``, with ``c`` the ``K``-th largest placebo ``|t|``
        (:func:`~evalmodel.core.inversion.accept_count`) and ``s`` the treated set's noise
        scale, so the interval excludes 0 exactly when ``p_value <= 1 - conf_level``.
        Analytic: ``estimate -/+ t * std_error``.
    p_value : float
        Permutation: p-value of the studentised DiD (DiD over the unit's noise scale: the sd
        of the yearly change of its gap to the pool mean before ``post``), which stays valid
        when units differ in noise level. Analytic: the t-test of the unit-level 2x2 DiD with
        heteroskedasticity-robust (per-unit clustered) errors.
    mde : float
        Minimum detectable effect (80 % power at the test's level) of that test, in the
        outcome's units.
    n_placebo : int
    inference : str
    conf_level : float
    placebo : numpy.ndarray
        Placebo DiDs of the pool units (empty with analytic inference).
    transform : str
        ``"level"`` (effects in the outcome's units) or ``"log"`` (log points, about the
        proportional change).
    std_error : float
        The analytic standard error (NaN for the permutation test, which has none).
    """

    outcome: str
    estimate: float
    ci_lower: float
    ci_upper: float
    p_value: float
    mde: float
    n_placebo: int
    inference: str
    conf_level: float
    placebo: np.ndarray
    transform: str = "level"
    std_error: float = float("nan")

    @property
    def detected(self) -> bool:
        """Whether the test rejects no displacement at level ``1 - conf_level``."""
        return self.p_value <= 1 - self.conf_level

    @cached_property
    def table(self) -> pd.DataFrame:
        """One tidy row: ``term`` (the outcome) and the standard columns.

        The permutation test has no standard error (``std_error`` is NaN).
        """
        return pd.DataFrame([{"term": self.outcome, "estimate": self.estimate,
                              "std_error": self.std_error, "ci_lower": self.ci_lower,
                              "ci_upper": self.ci_upper, "p_value": self.p_value}])

    def _title(self) -> str:
        return f"Displacement test: {self.outcome}"

    def _header(self) -> tuple[tuple[str, str], ...]:
        unit = "log points" if self.transform == "log" else "outcome units"
        return (("Outcome", self.outcome),
                ("Inference", self.inference),
                ("Confidence level", f"{self.conf_level:.0%}"),
                ("Effects in", unit),
                ("Minimum detectable effect", f"{self.mde:.4g} (80 % power)"),
                ("Detected", "yes" if self.detected else "no"))

    def describe_sample(self) -> dict[str, str]:
        """Method, outcome and inference."""
        return {"Method": "outcome_displacement", "Outcome": self.outcome,
                "Inference": self.inference}

    def plot(self, ax: Axes | None = None) -> Axes:
        """The estimate with its interval and the MDE band; returns the Axes."""
        from evalmodel.plotting.displacement import displacement_plot

        return displacement_plot([self], [self.outcome], ax=ax)

    def row(self) -> dict[str, float | str | int | bool]:
        """One row for a table."""
        return {"outcome": self.outcome, "estimate": self.estimate, "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper, "p_value": self.p_value, "mde": self.mde,
                "n_placebo": self.n_placebo, "detected": self.detected}


def _unit_did(wide: pd.DataFrame, pool: Sequence[str], pre: list[int], post: list[int],
              history: list[int]) -> tuple[pd.Series, pd.Series]:
    """Each unit's DiD against the pool mean, and the sd of its residual's yearly changes
    over ``history`` (every period before the post window)."""
    resid = wide - wide.loc[list(pool)].mean(axis=0)
    did = resid[post].mean(axis=1) - resid[pre].mean(axis=1)
    scale = resid[history].diff(axis=1).iloc[:, 1:].std(axis=1, ddof=1)
    return did, scale


def _placebo_sets(n: int, k: int, max_exact: int, seed: int) -> tuple[np.ndarray, bool]:
    """0/1 rows over ``n`` pool units, each with ``k`` ones: all sets, or a seeded sample."""
    if math.comb(n, k) <= max_exact:
        idx = np.array(list(itertools.combinations(range(n), k)), dtype=int)
        exact = True
    else:
        rng = np.random.default_rng(seed)
        idx = np.argsort(rng.random((max_exact, n)), axis=1)[:, :k]
        exact = False
    z = np.zeros((len(idx), n))
    np.put_along_axis(z, idx, 1.0, axis=1)
    return z, exact


def outcome_displacement(
    panel: Panel,
    outcome: str,
    *,
    treated: Sequence[str],
    pool: Sequence[str],
    pre: Sequence[int],
    post: Sequence[int],
    conf_level: float = 0.95,
    power: float = 0.8,
    transform: DisplacementTransform = "level",
    max_exact: int = 10_000,
    seed: int = 0,
    inference: DisplacementInference = "auto",
) -> DisplacementTest:
    """Test for an effect of the model on ``outcome`` (an outcome of the non-targeted).

    The estimate is the 2x2 DiD of the treated units' mean against the pool's mean. Every set
    of as many pool units as there are treated units plays the treated set in turn (placebo in
    space; all sets when there are at most ``max_exact``, else that many drawn with ``seed``).
    The p-value compares studentised DiDs (a set's DiD over the root mean square of its units'
    noise scales: the standard deviation of the yearly change in the unit's gap to the pool
    mean over every period before ``post``), so that noisier series do not dominate (Ferman
    and Pinto 2019).

    With ``transform="log"`` everything is computed on the log of the outcome (effects in log
    points). For rates whose movements scale with their level (unemployment, shares with
    assistance) units then differ only in noise, not in how strongly a common shock moves
    them, which the permutation test needs.

    ``inference="auto"`` (default) is this permutation test with fewer than
    ``MIN_TREATED_CLUSTERS`` (5) treated units (one treated unit is one cluster), and the
    analytic test otherwise: the same unit-level DiDs regressed on a treated indicator with
    heteroskedasticity-robust (HC1) errors, which are the unit-clustered errors of the 2x2, and
    a t reference with ``units - 1`` degrees of freedom. ``"permutation"`` or ``"analytic"``
    forces one; ``"analytic"`` with fewer than 5 treated units warns
    :class:`~evalmodel.errors.FewTreatedClustersWarning`. The interval inverts the test that
    gives the p-value.
    """
    treated = check_names("outcome_displacement", "treated", treated)
    return _displacement_test("outcome_displacement", panel, outcome, treated=treated,
                              pool=pool, pre=pre, post=post, conf_level=conf_level, power=power,
                              transform=transform, max_exact=max_exact, seed=seed,
                              inference=inference, n_clusters=len(treated))


def _displacement_test(
    fn: str,
    panel: Panel,
    outcome: str,
    *,
    treated: Sequence[str],
    pool: Sequence[str],
    pre: Sequence[int],
    post: Sequence[int],
    conf_level: float,
    power: float,
    transform: DisplacementTransform,
    max_exact: int,
    seed: int,
    inference: DisplacementInference,
    n_clusters: int,
) -> DisplacementTest:
    """:func:`outcome_displacement` with the number of treated clusters given (``spillover``
    counts the treated units whose exposure defines the exposed set)."""
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
    check_seed(fn, seed)
    pre_p = check_periods(fn, "pre", pre, panel)
    post_p = check_periods(fn, "post", post, panel)
    check_pre_post(fn, pre_p, post_p, panel.frequency)
    if sum(t < min(post_p) for t in panel.periods) < 3:
        raise EstimationError(f"{fn}: at least 3 periods before {min(post_p)} are needed to "
                              "studentise the DiD.")
    check_option(fn, "transform", transform, DisplacementTransform)
    check_option(fn, "inference", inference, DisplacementInference)
    wide = panel.wide(outcome)
    treated, pool = check_names(fn, "treated", treated), check_names(fn, "pool", pool)
    max_exact = check_number(fn, "max_exact", max_exact, minimum=1, integer=True,
                             example=", e.g. max_exact=10_000")
    power = check_number(fn, "power", power, minimum=0, maximum=1, strict=True,
                         example=", e.g. power=0.8")
    unknown = [u for u in [*treated, *pool] if u not in wide.index]
    if unknown:
        raise EstimationError(f"{fn}: units {unknown[:5]} are not in the panel; unit ids are "
                              "strings with leading zeros, e.g. '0580'.")
    overlap = sorted(set(treated) & set(pool))
    if overlap:
        raise EstimationError(f"{fn}: treated units {overlap[:5]} are also in the pool.")
    if not treated or len(pool) <= len(treated):
        raise EstimationError(f"{fn}: {len(treated)} treated and {len(pool)} pool units; the "
                              "pool must be larger than the treated set.")
    history = [int(t) for t in wide.columns if int(t) < min(post_p)]
    sub = wide.loc[[*treated, *pool], sorted(set(history) | set(post_p))]
    if sub.isna().any(axis=None):
        bad = sub.index[sub.isna().any(axis=1)][:5].tolist()
        raise EstimationError(f"{fn}: units {bad} miss {outcome!r} in the pre or post periods; "
                              "leave them out of the pool.")
    if transform == "log":
        if (sub <= 0).any(axis=None):
            bad = sub.index[(sub <= 0).any(axis=1)][:5].tolist()
            raise EstimationError(f"{fn}: transform='log' needs positive values; units {bad} "
                                  f"have {outcome!r} <= 0. Use transform='level'.")
        sub = sub.apply(np.log)
    alpha = 1 - conf_level
    few = n_clusters < MIN_TREATED_CLUSTERS
    inference, why = resolve_inference(inference, n_clusters)
    did, scale = _unit_did(sub, pool, pre_p, post_p, history)
    k = len(treated)
    estimate = float(did[treated].mean())
    if inference == "analytic":
        if few:
            warnings.warn(
                f"{fn}: analytic errors with {n_clusters} treated cluster(s) are not reliable "
                f"(fewer than {MIN_TREATED_CLUSTERS}; Conley and Taber 2011); prefer "
                "inference='permutation' (the default 'auto').", FewTreatedClustersWarning,
                stacklevel=3)
        d = did[[*treated, *pool]].to_numpy()
        x = np.column_stack([np.ones(d.size), np.r_[np.ones(k), np.zeros(len(pool))]])
        se = float(ols(d, x, fn=fn).std_errors[1])
        dist = stats.t(d.size - 1)
        crit_t = float(dist.ppf(1 - alpha / 2))
        p_an = float(2 * dist.sf(abs(estimate) / se)) if se > 0 else float("nan")
        mde_an = (crit_t + float(stats.norm.ppf(power))) * se
        unit = " of logs" if transform == "log" else ""
        return DisplacementTest(
            outcome=outcome, estimate=estimate, ci_lower=estimate - crit_t * se,
            ci_upper=estimate + crit_t * se, p_value=p_an, mde=float(mde_an),
            n_placebo=0,
            inference=(f"analytic: 2x2 DiD{unit} of {k} treated against {len(pool)} pool units, "
                       f"heteroskedasticity-robust (HC1, one row per unit) errors, "
                       f"t({d.size - 1}); {why}"),
            conf_level=conf_level, placebo=np.empty(0), transform=transform, std_error=se)
    n_sets = math.comb(len(pool), len(treated))
    if 1 / (min(n_sets, max_exact) + 1) > alpha:
        raise EstimationError(
            f"{fn}: {len(pool)} pool units give {n_sets} placebo sets, so the smallest "
            f"attainable p-value is {1 / (n_sets + 1):.3f} > {alpha:.3f}; widen the pool or "
            "lower conf_level.")
    s_treated = float(np.sqrt((scale[treated] ** 2).mean()))
    sets, exact = _placebo_sets(len(pool), k, max_exact, seed)
    placebo = sets @ did[pool].to_numpy() / k
    z = placebo / np.sqrt(sets @ (scale[pool].to_numpy() ** 2) / k)
    # The studentised statistic of the outcome less tau D is (estimate - tau) / s_treated;
    # the placebos' do not move with tau (the pool mean holds no treated unit), so the
    # accepted effects form the interval estimate -/+ (K-th largest |z|) * s_treated.
    t0, c0 = np.array([estimate / s_treated]), np.array([1 / s_treated])
    p = rank_p_value(float(t0[0]), z)
    lo, hi = invert_linear_permutation(t0, c0, z[:, None], np.zeros((z.size, 1)), alpha)
    mde = s_treated * minimum_detectable_effect(z, conf_level=conf_level, power=power).mde
    how = "exact" if exact else f"{len(placebo)} random sets, seed {seed}"
    return DisplacementTest(
        outcome=outcome, estimate=estimate, ci_lower=float(lo[0]), ci_upper=float(hi[0]),
        p_value=p, mde=float(mde), n_placebo=len(placebo),
        inference=(f"placebo in space: {len(placebo)} sets of {k} from {len(pool)} pool units "
                   f"({how}), studentised DiD{' of logs' if transform == 'log' else ''}; "
                   f"interval and MDE by inverting that test; {why}"),
        conf_level=conf_level, placebo=placebo, transform=transform)


def verdict(test: DisplacementTest, *, what: str = "displacement") -> str:
    """A sentence that states the test's result and, when it does not reject, its power."""
    unit = " log points" if test.transform == "log" else ""
    ci = (f"estimate {test.estimate:+.3f}{unit} ({test.conf_level:.0%} interval "
          f"{test.ci_lower:+.3f} to {test.ci_upper:+.3f}), p = {test.p_value:.3f}")
    if test.detected:
        return f"{what.capitalize()} detected on {test.outcome}: {ci}."
    if np.isnan(test.mde):
        return (f"{what.capitalize()} on {test.outcome} is not detectable with this pool: {ci}; "
                "the pool is too small for the test to reject at this level.")
    return (f"{what.capitalize()} on {test.outcome} is not detectable at this sample size: {ci}; "
            f"the smallest detectable effect is {test.mde:.3f}{unit} (80 % power, "
            f"{1 - test.conf_level:.0%} level). This is not evidence of no {what}.")
