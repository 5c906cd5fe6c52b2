"""The displacement hypothesis: effects on people and places the model did not target.

Three designs, each with inference that stays valid with one treated unit. Each takes
``inference="auto"`` (default): design-based (placebo in space: the same statistic re-estimated
with comparison units as the fake treated) with fewer than ``MIN_TREATED_CLUSTERS`` treated
clusters, analytic (cluster-robust by unit) otherwise; ``"permutation"`` and ``"analytic"``
force one, and ``"analytic"`` with few treated clusters warns
:class:`~evalmodel.errors.FewTreatedClustersWarning`. Every interval inverts the test that gives
the p-value, so it excludes 0 exactly when ``p_value <= 1 - conf_level`` (design-based; the
rank test's convention) or ``p_value < 1 - conf_level`` (analytic):

* :func:`outcome_displacement`: the model's effect on an outcome of the non-targeted (youth open
  unemployment, open unemployment), by the 2x2 DiD of the treated area against the comparison
  pool, tested by permutation over the pool on a studentised statistic;
* :func:`triple_difference`: with a ``group`` role (target / non-target rows within each unit),
  the effect on each group, their difference (DDD, netting out area-wide shocks) and the net
  effect, with a joint interval;
* :func:`spillover`: exposure from a neighbour list (:func:`exposed_units`); a ring design in
  the manner of Butts (2021): the effect on exposed but untreated units, and the treated effect
  re-estimated with exposed units removed from the comparison pool.

:func:`verdict` states the result of a displacement test without ever reading "no displacement"
into a test that lacks power.

References
----------
Butts, K. (2021). Difference-in-differences estimation with spatial spillovers. arXiv:2105.03737.
Olden, A. and Møen, J. (2022). The triple difference estimator. *Econometrics Journal* 25(3).
Ferman, B. and Pinto, C. (2019). Inference in differences-in-differences with few treated
groups and heteroskedasticity. *Review of Economics and Statistics* 101(3).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from evalmodel.core.inversion import invert_linear_permutation, rank_p_values
from evalmodel.errors import EstimationError, FewTreatedClustersWarning
from evalmodel.estimators._common import (
    MIN_TREATED_CLUSTERS,
    check_periods,
    drop_missing,
    warn_few_clusters,
)
from evalmodel.estimators.did import did2x2
from evalmodel.inference.power import minimum_detectable_effect
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, Result, Sample, inference_table
from evalmodel.vocabulary import (
    DisplacementInference,
    DisplacementTransform,
    check_conf_level,
    check_option,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: The old name of :data:`~evalmodel.vocabulary.DisplacementTransform`.
Transform = DisplacementTransform

__all__ = [
    "DisplacementInference",
    "DisplacementTest",
    "DisplacementTransform",
    "SpilloverResult",
    "Transform",
    "exposed_units",
    "outcome_displacement",
    "spillover",
    "triple_difference",
    "verdict",
]


# -- exposure --------------------------------------------------------------------------------
def _resolve(inference: DisplacementInference, n_clusters: int
             ) -> tuple[DisplacementInference, str]:
    """The inference ``"auto"`` stands for with ``n_clusters`` treated clusters, and why."""
    if inference != "auto":
        return inference, f"inference={inference!r} as asked"
    if n_clusters < MIN_TREATED_CLUSTERS:
        return "permutation", (f"inference='auto': design-based, because {n_clusters} treated "
                               f"cluster(s) is fewer than {MIN_TREATED_CLUSTERS}")
    return "analytic", (f"inference='auto': analytic, with {n_clusters} treated clusters (at "
                        f"least {MIN_TREATED_CLUSTERS})")


def exposed_units(
    panel: Panel,
    treated: Iterable[str],
    *,
    neighbours: pd.DataFrame | None = None,
    distances: pd.DataFrame | None = None,
    radius: float | None = None,
) -> tuple[str, ...]:
    """Units exposed to spill-over from ``treated``: their neighbours, or units within ``radius``.

    Parameters
    ----------
    panel : Panel
        Every unit named must be in it.
    treated : iterable of str
        The treated units.
    neighbours : DataFrame, optional
        Two columns of unit ids, one row per neighbouring pair (either order).
    distances : DataFrame, optional
        Three columns: unit, other unit, distance; with ``radius``, pairs at most ``radius``
        apart are neighbours.
    radius : float, optional
        The exposure radius for ``distances``.

    Returns
    -------
    tuple of str
        Sorted exposed units, the treated units themselves excluded.
    """
    treated = [str(u) for u in treated]
    if (neighbours is None) == (distances is None):
        raise EstimationError("exposed_units: give exactly one of neighbours= or distances=.")
    if distances is not None:
        if radius is None or not radius > 0:
            raise EstimationError(f"exposed_units: distances= needs radius > 0, got {radius!r}.")
        if distances.shape[1] < 3:
            raise EstimationError("exposed_units: distances needs three columns: unit, other "
                                  "unit, distance.")
        close = distances[pd.to_numeric(distances.iloc[:, 2]) <= radius]
        pairs = close.iloc[:, :2].astype(str).to_numpy()
    else:
        assert neighbours is not None
        if neighbours.shape[1] < 2:
            raise EstimationError("exposed_units: neighbours needs two columns of unit ids.")
        pairs = neighbours.iloc[:, :2].astype(str).to_numpy()
    named = set(pairs.ravel()) | set(treated)
    unknown = sorted(named - set(panel.units))
    if unknown:
        raise EstimationError(
            f"exposed_units: {len(unknown)} units in the neighbour list are not in the panel: "
            f"{unknown[:10]}; check the ids (strings with leading zeros) or drop those pairs."
        )
    t = set(treated)
    exposed = {b for a, b in pairs if a in t} | {a for a, b in pairs if b in t}
    return tuple(sorted(exposed - t))


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
    return _displacement_test("outcome_displacement", panel, outcome, treated=treated,
                              pool=pool, pre=pre, post=post, conf_level=conf_level, power=power,
                              transform=transform, max_exact=max_exact, seed=seed,
                              inference=inference, n_clusters=len(list(treated)))


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
    pre_p = check_periods(fn, "pre", list(pre), panel)
    post_p = check_periods(fn, "post", list(post), panel)
    if sum(t < min(post_p) for t in panel.periods) < 3:
        raise EstimationError(f"{fn}: at least 3 periods before {min(post_p)} are needed to "
                              "studentise the DiD.")
    check_option(fn, "transform", transform, DisplacementTransform)
    check_option(fn, "inference", inference, DisplacementInference)
    wide = panel.wide(outcome)
    treated, pool = [str(u) for u in treated], [str(u) for u in pool]
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
    inference, why = _resolve(inference, n_clusters)
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
        se = float(np.sqrt(sm.OLS(d, x).fit(cov_type="HC1").cov_params()[1, 1]))
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
    p = float(rank_p_values(t0, z[:, None])[0])
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


# -- triple difference -----------------------------------------------------------------------
def triple_difference(
    panel: Panel,
    outcome: str,
    *,
    target: str,
    pre: Sequence[int],
    post: Sequence[int],
    treated: Iterable[str] | None = None,
    shares: tuple[float, float] | None = None,
    cluster: str | None = "unit",
    conf_level: float = 0.95,
    inference: DisplacementInference = "auto",
    max_exact: int = 10_000,
    seed: int = 0,
) -> EstimateResult:
    """Triple difference with a ``group`` role: effects on the target and non-target groups.

    The regression ``y ~ T * P * G`` with every interaction (T treated area, P post period, G
    target group) is saturated, so its coefficients are the cell-mean contrasts: the non-target
    group's DiD is the T:P coefficient, the DDD the T:P:G coefficient, the target group's DiD
    their sum. The net effect is ``s_target * target + s_non_target * non_target`` with
    ``shares`` (default ``(1, 1)``: the sum, right for counts; pass population shares for
    rates). With analytic inference all four share one cluster-robust covariance, so the net
    interval is joint.

    ``inference="auto"`` (default) is design-based with fewer than ``MIN_TREATED_CLUSTERS`` (5)
    treated clusters (one treated municipality is one cluster): the treatment is re-assigned to
    every other unit of the panel in turn (every set of as many units as are treated, or
    ``max_exact`` sets drawn with ``seed``), the four contrasts are re-computed from the cell
    sums for all assignments at once, and each term's p-value is the rank of its absolute
    value. Each interval inverts that same test for a constant additive effect on the treated
    units' post-period rows (in closed form,
    :func:`~evalmodel.core.inversion.invert_linear_permutation`): on the target group's rows
    for ``target`` and ``ddd``, on the non-target group's for ``non_target``, and
    ``tau / (s_target + s_non_target)`` on both for ``net``; so each interval excludes 0
    exactly when its ``p_value <= 1 - conf_level``.
    ``std_error`` is the placebo estimates' standard deviation. With at least 5 treated
    clusters ``"auto"`` is ``"analytic"``: cluster-robust errors (``cluster``; HC1 for None)
    with a t reference; ``"analytic"`` with fewer warns
    :class:`~evalmodel.errors.FewTreatedClustersWarning`.

    Returns
    -------
    EstimateResult
        Terms ``target``, ``non_target``, ``ddd`` and ``net`` (the headline);
        ``details["permutation"]`` holds the placebo estimates (assignments x terms) with
        design-based inference.
    """
    fn = "triple_difference"
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
    check_option(fn, "inference", inference, DisplacementInference)
    if panel.group is None:
        raise EstimationError(f"{fn}: the panel has no group role; build it with "
                              "Panel(..., group='<target/non-target column>').")
    df = panel.data
    levels = sorted(df[panel.group].unique())
    if len(levels) != 2:
        raise EstimationError(
            f"{fn}: group column {panel.group!r} has {len(levels)} level(s) {levels[:5]}; a "
            "triple difference needs exactly two (target and non-target).")
    if str(target) not in levels:
        raise EstimationError(f"{fn}: target={target!r} is not a level of {panel.group!r} "
                              f"({levels}).")
    pre_p = check_periods(fn, "pre", list(pre), panel)
    post_p = check_periods(fn, "post", list(post), panel)
    cohorts = panel.cohorts()
    t_units = sorted(cohorts.index[cohorts != 0]) if treated is None else [str(u) for u in
                                                                           treated]
    if not t_units:
        raise EstimationError(f"{fn}: no treated units; set the cohort role or pass treated=.")
    df = df[df[panel.time].isin(pre_p + post_p)]
    df, notes = drop_missing(fn, df, [outcome])
    T = df[panel.unit].isin(t_units).to_numpy(float)
    P = df[panel.time].isin(post_p).to_numpy(float)
    G = (df[panel.group] == str(target)).to_numpy(float)
    s_t, s_n = shares or (1.0, 1.0)
    if cluster is None or cluster == "unit":
        n_tc = len(t_units)
    else:
        n_tc = int(df.loc[T == 1, cluster].nunique())
    few = n_tc < MIN_TREATED_CLUSTERS
    inference, why = _resolve(inference, n_tc)
    notes.append(why)
    notes.append(f"target group {target!r}; net = {s_t:g} x target + {s_n:g} x non-target")
    terms = {"term": ["target", "non_target", "ddd", "net"]}
    if inference == "permutation":
        table, how, perm = _ddd_permutation(
            fn, df, panel.unit, outcome, t_units, P, G, (s_t, s_n), conf_level=conf_level,
            max_exact=max_exact, seed=seed, terms=terms, notes=notes)
        sample = Sample(n_obs=len(df), n_units=int(df[panel.unit].nunique()),
                        n_periods=len(pre_p) + len(post_p), treated_units=tuple(t_units),
                        periods=tuple(sorted(pre_p + post_p)))
        return EstimateResult(method="triple_difference", outcome=outcome, table=table,
                              inference=how, sample=sample, conf_level=conf_level,
                              overall_term="net", notes=tuple(notes),
                              details={"permutation": perm, "n_treated_clusters": n_tc})
    if few:
        notes += warn_few_clusters(fn, n_tc)
    X = np.column_stack([np.ones_like(T), T, P, G, T * P, T * G, P * G, T * P * G])
    model = sm.OLS(df[outcome].to_numpy(), X)
    if cluster is None:
        fit = model.fit(cov_type="HC1")
        dof = None
        how = "heteroskedasticity-robust (HC1)"
    else:
        col = panel.unit if cluster == "unit" else cluster
        groups = pd.factorize(df[col])[0]
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        dof = int(groups.max())
        how = f"cluster-robust by {cluster} ({dof + 1} clusters), t({dof})"
    L = np.zeros((4, 8))
    L[0, [4, 7]] = 1  # target: T:P + T:P:G
    L[1, 4] = 1  # non-target: T:P
    L[2, 7] = 1  # DDD
    L[3, 4], L[3, 7] = s_t + s_n, s_t  # net = s_t * target + s_n * non-target
    est = L @ fit.params
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, fit.cov_params(), L))
    table = inference_table(terms, est, se, conf_level=conf_level, df=dof)
    sample = Sample(n_obs=len(df), n_units=int(df[panel.unit].nunique()),
                    n_periods=len(pre_p) + len(post_p), treated_units=tuple(t_units),
                    periods=tuple(sorted(pre_p + post_p)),
                    n_clusters=None if dof is None else dof + 1)
    return EstimateResult(method="triple_difference", outcome=outcome, table=table,
                          inference=how, sample=sample, conf_level=conf_level,
                          overall_term="net", notes=tuple(notes),
                          details={"fit": fit, "contrasts": L, "n_treated_clusters": n_tc})


def _ddd_contrasts(sums: np.ndarray, counts: np.ndarray, z: np.ndarray,
                   shares: tuple[float, float]) -> np.ndarray:
    """Target, non-target, DDD and net contrasts for each assignment (rows of ``z``).

    ``sums`` and ``counts`` are units x cells, cells ordered (pre, non-target), (pre, target),
    (post, non-target), (post, target); the contrasts are those of the saturated regression,
    differences of cell means over rows.
    """
    zt = z.astype(float)
    zc = 1.0 - zt
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = (zt @ sums) / (zt @ counts)
        m0 = (zc @ sums) / (zc @ counts)
    non = (m1[:, 2] - m1[:, 0]) - (m0[:, 2] - m0[:, 0])
    tgt = (m1[:, 3] - m1[:, 1]) - (m0[:, 3] - m0[:, 1])
    return np.column_stack([tgt, non, tgt - non, shares[0] * tgt + shares[1] * non])


def _ddd_permutation(
    fn: str, df: pd.DataFrame, unit: str, outcome: str, t_units: list[str], P: np.ndarray,
    G: np.ndarray, shares: tuple[float, float], *, conf_level: float, max_exact: int,
    seed: int, terms: dict[str, list[str]], notes: list[str],
) -> tuple[pd.DataFrame, str, np.ndarray]:
    """The DDD contrasts re-estimated for every placebo assignment, with rank p-values and the
    intervals that invert the same test."""
    units = sorted(df[unit].astype(str).unique())
    codes = pd.Categorical(df[unit].astype(str), categories=units).codes
    cell = (2 * P + G).astype(int)
    n = len(units)
    sums = np.zeros((n, 4))
    counts = np.zeros((n, 4))
    np.add.at(sums, (codes, cell), df[outcome].to_numpy(float))
    np.add.at(counts, (codes, cell), 1.0)
    actual = np.isin(units, t_units)
    k = int(actual.sum())
    alpha = 1 - conf_level
    total = math.comb(n, k)
    if 1 / (min(total - 1, max_exact) + 1) > alpha:
        raise EstimationError(
            f"{fn}: {n} units give {total - 1} placebo assignments of {k} treated unit(s), so "
            f"the smallest attainable p-value is {1 / total:.3f} > {alpha:.3f}; add comparison "
            "units or lower conf_level.")
    if total - 1 <= max_exact:
        z = np.zeros((total, n), dtype=bool)
        np.put_along_axis(z, np.array(list(itertools.combinations(range(n), k))), True, axis=1)
        z = z[~np.all(z == actual, axis=1)]
        kind = "all"
    else:
        rng = np.random.default_rng(seed)
        z = np.zeros((max_exact, n), dtype=bool)
        np.put_along_axis(z, np.argsort(rng.random((max_exact, n)), axis=1)[:, :k], True, axis=1)
        kind = f"{max_exact} random (seed {seed})"
    # the effect patterns D, as cell sums: treated units' post rows of one group or both
    tr = actual[:, None].astype(float)
    d_tgt = counts * np.array([0.0, 0.0, 0.0, 1.0]) * tr
    d_non = counts * np.array([0.0, 0.0, 1.0, 0.0]) * tr
    total_share = shares[0] + shares[1]
    d_net = (d_tgt + d_non) / total_share if total_share != 0 else np.zeros_like(d_tgt)
    one = actual[None, :]
    a0 = _ddd_contrasts(sums, counts, one, shares)[0]
    a = _ddd_contrasts(sums, counts, z, shares)
    c_all = [_ddd_contrasts(d, counts, np.vstack([one, z]), shares) for d in (d_tgt, d_non,
                                                                              d_net)]
    pick = [(0, 0), (1, 1), (0, 2), (2, 3)]  # (pattern, term): target, non_target, ddd, net
    c = np.column_stack([c_all[p][:, t] for p, t in pick])
    c0, c = c[0], c[1:]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(c).all(axis=1)
    if not ok.all():
        notes.append(f"{int((~ok).sum())} placebo assignments left out: their fake treated "
                     "units have no rows in a (group, period) cell")
        a, c = a[ok], c[ok]
    p = rank_p_values(a0, a)
    lo, hi = invert_linear_permutation(a0, c0, a, c, alpha)
    sd = a.std(axis=0, ddof=1) if a.shape[0] > 1 else np.full(4, np.nan)
    table = pd.DataFrame(terms)
    table["estimate"] = a0
    table["std_error"] = sd
    table["ci_lower"] = lo
    table["ci_upper"] = hi
    table["p_value"] = p
    how = (f"design-based: permutation of the treatment over {kind} sets of {k} of the {n} "
           f"units ({a.shape[0]} placebo assignments); rank p-values, intervals by inverting "
           "that test")
    return table, how, a


# -- spatial spill-over ----------------------------------------------------------------------
@dataclass(frozen=True)
class SpilloverResult(Result):
    """A ring design: the exposed units' effect and how the treated effect moves.

    Attributes
    ----------
    exposed : DisplacementTest
        The effect on exposed but untreated units, tested against the clean pool.
    with_exposed, without_exposed : float
        The treated units' 2x2 DiD with the exposed units in, and kept out of, the pool.
    shift : float
        ``without_exposed - with_exposed``: how far removing exposed units moves the estimate.
    table : DataFrame
        The three estimates (``term``) with the standard columns; the headline row is the
        exposed units' effect. The two treated rows carry :func:`~evalmodel.did2x2`'s
        inference of the same kind (design-based with few treated units); the shift has no
        test.
    """

    exposed: DisplacementTest
    with_exposed: float
    without_exposed: float
    shift: float
    table: pd.DataFrame

    #: The headline is the exposed units' (spill-over) effect, the last row.
    _headline = -1

    @property
    def conf_level(self) -> float:
        """Coverage of the exposed units' interval."""
        return self.exposed.conf_level

    def _title(self) -> str:
        return f"Spill-over (ring design): {self.exposed.outcome}"

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Outcome", self.exposed.outcome),
                ("Inference", self.exposed.inference),
                ("Confidence level", f"{self.conf_level:.0%}"),
                ("Shift of the treated estimate", f"{self.shift:+.4g}"))

    def describe_sample(self) -> dict[str, str]:
        """Method, outcome and inference of the exposed units' test."""
        return {"Method": "spillover", "Outcome": self.exposed.outcome,
                "Inference": self.exposed.inference}


def _treated_row(panel: Panel, outcome: str, pre: Sequence[int], post: Sequence[int],
                 treated: list[str], control: list[str], inference: str, conf_level: float
                 ) -> pd.DataFrame:
    """The treated units' 2x2 DiD row; without inference (NaN) when the permutation test
    cannot reach the level with so few comparison units."""
    kw = {"pre": list(pre), "post": list(post), "treated": treated, "control": control,
          "conf_level": conf_level}
    try:
        return did2x2(panel, outcome, inference=inference, **kw).table  # type: ignore[arg-type]
    except EstimationError:
        if inference != "permutation":
            raise
    table = did2x2(panel, outcome, inference="analytic", **kw).table  # type: ignore[arg-type]
    table[["std_error", "ci_lower", "ci_upper", "p_value"]] = float("nan")
    return table


def spillover(
    panel: Panel,
    outcome: str,
    *,
    treated: Sequence[str],
    exposed: Sequence[str],
    pool: Sequence[str],
    pre: Sequence[int],
    post: Sequence[int],
    conf_level: float = 0.95,
    inference: DisplacementInference = "auto",
) -> SpilloverResult:
    """Ring design: effect on ``exposed`` units, and the treated effect with and without them.

    ``pool`` holds the clean comparison units (neither treated nor exposed).

    The exposure is assigned through the treated units (an exposed unit is a neighbour of
    one), so the treated clusters are the treated units, however many neighbours they have:
    ``inference="auto"`` (default) is design-based with fewer than ``MIN_TREATED_CLUSTERS``
    (5) treated units -- the exposed set's studentised DiD against placebo sets from the pool
    (:func:`outcome_displacement`), and the treated rows by :func:`~evalmodel.did2x2`'s
    permutation test over their comparison units -- and analytic otherwise;
    ``"analytic"`` with fewer than 5 treated units warns
    :class:`~evalmodel.errors.FewTreatedClustersWarning` (once).
    """
    fn = "spillover"
    check_option(fn, "inference", inference, DisplacementInference)
    treated, exposed, pool = ([str(u) for u in x] for x in (treated, exposed, pool))
    both = sorted(set(treated) & set(exposed))
    if both:
        raise EstimationError(f"{fn}: the exposure list contains treated units {both}; an "
                              "exposed unit is untreated by definition: drop them from exposed.")
    dirty = sorted(set(pool) & (set(treated) | set(exposed)))
    if dirty:
        raise EstimationError(f"{fn}: pool units {dirty[:5]} are treated or exposed; the pool "
                              "must hold only clean comparison units.")
    if not exposed:
        raise EstimationError(f"{fn}: the exposure list is empty.")
    few = len(treated) < MIN_TREATED_CLUSTERS
    if inference == "auto":
        inference = "permutation" if few else "analytic"
    elif inference == "analytic" and few:
        warn_few_clusters(fn, len(treated))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewTreatedClustersWarning)
        test = _displacement_test(fn, panel, outcome, treated=exposed, pool=pool, pre=pre,
                                  post=post, conf_level=conf_level, power=0.8,
                                  transform="level", max_exact=10_000, seed=0,
                                  inference=inference, n_clusters=len(treated))
        sub = panel.select(units=[*treated, *exposed, *pool])
        sub = sub.with_cohorts({u: min(post) for u in treated})
        rows = [_treated_row(sub, outcome, pre, post, treated, control, inference, conf_level)
                for control in ([*exposed, *pool], pool)]
    with_e, without_e = (float(r["estimate"].iloc[0]) for r in rows)
    cols = ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
    table = pd.DataFrame({
        "term": ["treated, exposed units in the pool", "treated, exposed units removed",
                 "exposed units (spill-over)"],
        **{col: [float(rows[0][col].iloc[0]), float(rows[1][col].iloc[0]),
                 float(test.table[col].iloc[0])] for col in cols},
    })
    return SpilloverResult(exposed=test, with_exposed=with_e, without_exposed=without_e,
                           shift=without_e - with_e, table=table)
