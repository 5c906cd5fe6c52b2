"""The displacement hypothesis: effects on people and places the model did not target.

Three designs, each with inference that stays valid with one treated unit:

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
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm

from evalmodel.errors import EstimationError, FewTreatedClustersWarning
from evalmodel.estimators._common import (
    check_choice,
    check_conf_level,
    check_periods,
    drop_missing,
)
from evalmodel.estimators.did import did2x2
from evalmodel.inference.power import minimum_detectable_effect
from evalmodel.panel import Panel
from evalmodel.results import EstimateResult, Result, Sample, inference_table

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

Transform = Literal["level", "log"]

__all__ = [
    "DisplacementTest",
    "SpilloverResult",
    "Transform",
    "exposed_units",
    "outcome_displacement",
    "spillover",
    "triple_difference",
    "verdict",
]


# -- exposure --------------------------------------------------------------------------------
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
        The effects not rejected by the studentised test: ``estimate -/+ c * s``, with ``c``
        the ``conf_level`` quantile of the placebo ``|t|`` and ``s`` the treated set's noise scale.
    p_value : float
        Permutation p-value of the studentised DiD (DiD over the unit's noise scale: the sd of
        the yearly change of its gap to the pool mean before ``post``), which stays valid when
        units differ in noise level.
    mde : float
        Minimum detectable effect (80 % power at the test's level) of the studentised test,
        in the outcome's units.
    n_placebo : int
    inference : str
    conf_level : float
    placebo : numpy.ndarray
        Placebo DiDs of the pool units.
    transform : str
        ``"level"`` (effects in the outcome's units) or ``"log"`` (log points, about the
        proportional change).
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

    @property
    def detected(self) -> bool:
        """Whether the test rejects no displacement at level ``1 - conf_level``."""
        return self.p_value <= 1 - self.conf_level

    @cached_property
    def table(self) -> pd.DataFrame:
        """One tidy row: ``term`` (the outcome) and the standard columns.

        The test is a permutation test without a standard error (``std_error`` is NaN).
        """
        return pd.DataFrame([{"term": self.outcome, "estimate": self.estimate,
                              "std_error": float("nan"), "ci_lower": self.ci_lower,
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
    transform: Transform = "level",
    max_exact: int = 10_000,
    seed: int = 0,
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
    """
    fn = "outcome_displacement"
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
    pre_p = check_periods(fn, "pre", list(pre), panel)
    post_p = check_periods(fn, "post", list(post), panel)
    if sum(t < min(post_p) for t in panel.periods) < 3:
        raise EstimationError(f"{fn}: at least 3 periods before {min(post_p)} are needed to "
                              "studentise the DiD.")
    check_choice(fn, "transform", transform, Transform)
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
    n_sets = math.comb(len(pool), len(treated))
    if 1 / (min(n_sets, max_exact) + 1) > alpha:
        raise EstimationError(
            f"{fn}: {len(pool)} pool units give {n_sets} placebo sets, so the smallest "
            f"attainable p-value is {1 / (n_sets + 1):.3f} > {alpha:.3f}; widen the pool or "
            "lower conf_level.")
    did, scale = _unit_did(sub, pool, pre_p, post_p, history)
    k = len(treated)
    estimate = float(did[treated].mean())
    s_treated = float(np.sqrt((scale[treated] ** 2).mean()))
    sets, exact = _placebo_sets(len(pool), k, max_exact, seed)
    placebo = sets @ did[pool].to_numpy() / k
    z = placebo / np.sqrt(sets @ (scale[pool].to_numpy() ** 2) / k)
    p = float((1 + np.sum(np.abs(z) >= abs(estimate) / s_treated - 1e-12)) / (1 + len(z)))
    # Inverting the studentised test: the effects tau with |estimate - tau| / s_treated below
    # the critical |z|; the MDE likewise in the treated set's own scale.
    crit = float(np.quantile(np.abs(z), conf_level, method="higher"))
    mde = s_treated * minimum_detectable_effect(z, conf_level=conf_level, power=power).mde
    how = "exact" if exact else f"{len(placebo)} random sets, seed {seed}"
    return DisplacementTest(
        outcome=outcome, estimate=estimate, ci_lower=estimate - crit * s_treated,
        ci_upper=estimate + crit * s_treated, p_value=p, mde=float(mde),
        n_placebo=len(placebo),
        inference=(f"placebo in space: {len(placebo)} sets of {k} from {len(pool)} pool units "
                   f"({how}), studentised DiD{' of logs' if transform == 'log' else ''}; "
                   "interval and MDE by inverting that test"),
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
) -> EstimateResult:
    """Triple difference with a ``group`` role: effects on the target and non-target groups.

    The regression ``y ~ T * P * G`` with every interaction (T treated area, P post period, G
    target group) is saturated, so its coefficients are the cell-mean contrasts: the non-target
    group's DiD is the T:P coefficient, the DDD the T:P:G coefficient, the target group's DiD
    their sum. The net effect is ``s_target * target + s_non_target * non_target`` with
    ``shares`` (default ``(1, 1)``: the sum, right for counts; pass population shares for
    rates). All four share one cluster-robust covariance, so the net interval is joint.

    Returns
    -------
    EstimateResult
        Terms ``target``, ``non_target``, ``ddd`` and ``net`` (the headline).
    """
    fn = "triple_difference"
    panel.check_outcome(outcome)
    check_conf_level(fn, conf_level)
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
    X = np.column_stack([np.ones_like(T), T, P, G, T * P, T * G, P * G, T * P * G])
    model = sm.OLS(df[outcome].to_numpy(), X)
    if cluster is None:
        fit = model.fit(cov_type="HC1")
        dof = None
        inference = "heteroskedasticity-robust (HC1)"
    else:
        col = panel.unit if cluster == "unit" else cluster
        groups = pd.factorize(df[col])[0]
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        dof = int(groups.max())
        inference = f"cluster-robust by {cluster} ({dof + 1} clusters), t({dof})"
    s_t, s_n = shares or (1.0, 1.0)
    L = np.zeros((4, 8))
    L[0, [4, 7]] = 1  # target: T:P + T:P:G
    L[1, 4] = 1  # non-target: T:P
    L[2, 7] = 1  # DDD
    L[3, 4], L[3, 7] = s_t + s_n, s_t  # net = s_t * target + s_n * non-target
    est = L @ fit.params
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, fit.cov_params(), L))
    table = inference_table({"term": ["target", "non_target", "ddd", "net"]}, est, se,
                            conf_level=conf_level, df=dof)
    sample = Sample(n_obs=len(df), n_units=int(df[panel.unit].nunique()),
                    n_periods=len(pre_p) + len(post_p), treated_units=tuple(t_units),
                    periods=tuple(sorted(pre_p + post_p)),
                    n_clusters=None if dof is None else dof + 1)
    notes.append(f"target group {target!r}; net = {s_t:g} x target + {s_n:g} x non-target")
    return EstimateResult(method="triple_difference", outcome=outcome, table=table,
                          inference=inference, sample=sample, conf_level=conf_level,
                          overall_term="net", notes=tuple(notes),
                          details={"fit": fit, "contrasts": L})


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
        exposed units' effect, the only one of the three with a test.
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
) -> SpilloverResult:
    """Ring design: effect on ``exposed`` units, and the treated effect with and without them.

    ``pool`` holds the clean comparison units (neither treated nor exposed).
    """
    fn = "spillover"
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
    test = outcome_displacement(panel, outcome, treated=exposed, pool=pool, pre=pre, post=post,
                                conf_level=conf_level)
    sub = panel.select(units=[*treated, *exposed, *pool])
    sub = sub.with_cohorts({u: min(post) for u in treated})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewTreatedClustersWarning)
        with_e = did2x2(sub, outcome, pre=list(pre), post=list(post), treated=treated,
                        control=[*exposed, *pool], inference="analytic").estimate
        without_e = did2x2(sub, outcome, pre=list(pre), post=list(post), treated=treated,
                           control=pool, inference="analytic").estimate
    nan = float("nan")
    table = pd.DataFrame({
        "term": ["treated, exposed units in the pool", "treated, exposed units removed",
                 "exposed units (spill-over)"],
        "estimate": [with_e, without_e, test.estimate],
        "std_error": [nan, nan, nan],
        "ci_lower": [nan, nan, test.ci_lower],
        "ci_upper": [nan, nan, test.ci_upper],
        "p_value": [nan, nan, test.p_value],
    })
    return SpilloverResult(exposed=test, with_exposed=with_e, without_exposed=without_e,
                           shift=without_e - with_e, table=table)
