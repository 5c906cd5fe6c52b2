"""Randomisation (permutation) inference for DiD-type estimators with few treated units.

The treatment is re-assigned to every eligible set of units of the same size drawn from the
treated units and the comparison pool (exactly, when there are few such sets; otherwise to
``n_draws`` random sets drawn with a seed), the estimator is re-run on each, and the observed
estimate is compared with this placebo distribution. The interval inverts the test for a
constant additive effect; it relies on the statistic being linear in the outcome (true of the
2x2 DiD and of TWFE), so that the statistic of ``Y - tau D`` is ``T(Y) - tau T(D)``.

Any estimator works through a callable ``statistic(panel, treated_units) -> float``; the
panel passed to it has the placebo units' cohorts set to the treated units' cohorts: the
treated units' cohorts, read in id order, go in that order to the placebo units in id order, so
the actual assignment keeps its cohorts (the placebo sets are uniform given that pattern). A
statistic with a ``batch`` method (such as :class:`DiD2x2Statistic`) is evaluated for all
assignments at once.

References
----------
Fisher, R. A. (1935). *The Design of Experiments*.
Abadie, A., Diamond, A. and Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *JASA* 105(490), 493-505.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalmodel.core.inversion import invert_test, rank_p_value
from evalmodel.core.parallel import check_n_jobs, run_tasks
from evalmodel.errors import EstimationError
from evalmodel.panel import NEVER, Panel
from evalmodel.results import Result, single_row_table
from evalmodel.vocabulary import (
    check_conf_level,
    check_names,
    check_period,
    check_seed,
    draws_argument,
    renamed_attribute,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "DiD2x2Statistic",
    "PermutationResult",
    "PermutationSetup",
    "n_assignments",
    "permutation_inference",
    "permutation_setup",
    "permutation_tests",
    "placebo_assignments",
]

#: Default cap on the number of assignments enumerated exactly.
MAX_EXACT = 10_000

Statistic = Callable[[Panel, Sequence[str]], float]


@dataclass(frozen=True)
class PermutationResult(Result):
    """The observed estimate set against its permutation distribution.

    Attributes
    ----------
    estimate : float
        The statistic at the actual assignment.
    p_value : float
        ``(1 + #{|placebo| >= |estimate|}) / (1 + n_draws)``.
    ci_lower, ci_upper : float
        Interval from inverting the test for a constant additive effect (NaN when the
        treated units have no cohort, so the treatment pattern is unknown).
    distribution : ndarray
        The placebo estimates (the actual assignment left out).
    n_draws : int
        Number of placebo assignments (``n_perm``, its old name, is deprecated).
    exact : bool
        Whether every assignment was used.
    min_p_value : float
        The smallest attainable p-value, ``1 / (1 + n_draws)``.
    conf_level : float
    treated : tuple of str
    pool : tuple of str
    seed : int or None
    """

    estimate: float
    p_value: float
    ci_lower: float
    ci_upper: float
    distribution: np.ndarray
    n_draws: int
    exact: bool
    min_p_value: float
    conf_level: float
    treated: tuple[str, ...]
    pool: tuple[str, ...]
    seed: int | None

    @property
    def n_perm(self) -> int:
        """Deprecated name of :attr:`n_draws` (warns ``DeprecationWarning``)."""
        return int(renamed_attribute(self, "n_perm", "n_draws"))

    @property
    def reaches_level(self) -> bool:
        """Whether the test can reject at ``1 - conf_level``: its smallest attainable p-value
        is no larger (``False`` only when run with ``allow_unreachable=True``; the interval is
        then the whole line)."""
        return bool(self.min_p_value <= 1 - self.conf_level + 1e-12)

    @property
    def std_error(self) -> float:
        """Standard deviation of the placebo distribution."""
        return float(np.std(self.distribution, ddof=1)) if self.n_draws > 1 else float("nan")

    @cached_property
    def table(self) -> pd.DataFrame:
        """One tidy row: ``term`` (``"effect"``) and the standard columns.

        ``std_error`` is the standard deviation of the placebo estimates; the interval and the
        p-value come from the permutation test.
        """
        return single_row_table(self)

    def _title(self) -> str:
        return "Permutation inference"

    def _header(self) -> tuple[tuple[str, str], ...]:
        return (("Inference", self.describe()),
                ("Confidence level", f"{self.conf_level:.0%}"),
                ("Treated units", f"{len(self.treated)}: {', '.join(self.treated[:6])}"),
                ("Comparison pool", f"{len(self.pool):,} units"),
                ("Placebo assignments", f"{self.n_draws:,} ({'exact' if self.exact else 'drawn'})"))

    def describe_sample(self) -> dict[str, str]:
        """Method, inference and the numbers of units and treated units."""
        return {"Method": "permutation", "Inference": self.describe(),
                "Units": f"{len(self.treated) + len(self.pool):,}",
                "Treated units": f"{len(self.treated):,}"}

    def describe(self) -> str:
        """One sentence on how the inference was done."""
        kind = "all" if self.exact else f"{self.n_draws:,} random (seed {self.seed})"
        text = (
            f"randomisation inference: treatment re-assigned to {kind} placebo sets of "
            f"{len(self.treated)} unit(s) from {len(self.treated) + len(self.pool)} units; "
            f"smallest attainable p-value {self.min_p_value:.4f}"
        )
        if not self.reaches_level:
            text += (f", above {1 - self.conf_level:.4f}, so the test cannot reject at the "
                     f"{self.conf_level:.0%} level and the interval is the whole line")
        return text

    def plot(self, ax: Axes | None = None) -> Axes:
        """Histogram of the placebo estimates with the observed one; returns the Axes."""
        from evalmodel.plotting.inference import permutation_plot

        return permutation_plot(self, ax=ax)


def _periods(value: Any) -> list[Any]:
    """A period or an iterable of periods as a list (text is one period, refused later)."""
    return [value] if isinstance(value, str) or not isinstance(value, Iterable) else list(value)


class DiD2x2Statistic:
    """The 2x2 DiD of means as a permutation statistic, with a vectorised ``batch``.

    ``statistic(panel, treated)`` is the mean over ``treated`` of (post mean - pre mean) minus
    the same mean over the other units of the panel.

    Parameters
    ----------
    outcome : str
    pre, post : iterable of int
        Periods averaged before and after.
    """

    def __init__(self, outcome: str, *, pre: Iterable[int], post: Iterable[int]) -> None:
        self.outcome = outcome
        fn = "DiD2x2Statistic"
        self.pre = [check_period(fn, "pre", p) for p in _periods(pre)]
        self.post = [check_period(fn, "post", p) for p in _periods(post)]
        if not self.pre or not self.post:
            raise EstimationError("DiD2x2Statistic: pre and post need at least one period each.")

    def changes(self, panel: Panel, values: str | None = None) -> tuple[list[str], np.ndarray]:
        """Units and their post-minus-pre mean change."""
        w = panel.wide(values or self.outcome)
        missing = [p for p in self.pre + self.post if p not in w.columns]
        if missing:
            raise EstimationError(
                f"DiD2x2Statistic: periods {missing} are not in the panel "
                f"({int(w.columns.min())}-{int(w.columns.max())})."
            )
        d = w[self.post].mean(axis=1) - w[self.pre].mean(axis=1)
        if d.isna().any():
            bad = d.index[d.isna()][0]
            raise EstimationError(
                f"DiD2x2Statistic: unit {bad!r} has no {values or self.outcome!r} values in the "
                "pre or post periods; drop it from the pool."
            )
        return [str(u) for u in w.index], d.to_numpy(dtype=float)

    def batch(self, panel: Panel, assignments: np.ndarray, values: str | None = None
              ) -> np.ndarray:
        """Statistic for each row of a 0/1 ``assignments`` matrix over ``panel.units``."""
        _, d = self.changes(panel, values)
        z = assignments.astype(float)
        k = z.sum(axis=1)
        return np.asarray((z @ d) / k - ((1 - z) @ d) / (d.size - k))

    def __call__(self, panel: Panel, treated: Sequence[str]) -> float:
        units, _ = self.changes(panel)
        z = np.isin(units, list(treated))[None, :]
        return float(self.batch(panel, z)[0])


def n_assignments(n: int, k: int, n_draws: int | None) -> tuple[int, bool]:
    """Number of assignments of ``k`` treated among ``n`` units that
    :func:`placebo_assignments` uses, the actual one included, and whether that is all of them
    (every assignment when there are at most ``n_draws + 1``, default 10,000)."""
    total = math.comb(n, k)
    cap = MAX_EXACT if n_draws is None else n_draws + 1
    if total <= cap:
        return total, True
    return (n_draws if n_draws is not None else MAX_EXACT - 1) + 1, False


def placebo_assignments(n: int, k: int, actual: np.ndarray, n_draws: int | None,
                        seed: int | None) -> tuple[np.ndarray, bool]:
    """Placebo assignment matrix (rows: assignments, 0/1 over units), the actual left out, and
    whether it holds every assignment (else ``n_draws`` drawn with ``seed``)."""
    total, exact = n_assignments(n, k, n_draws)
    if exact:
        combos = np.array(list(itertools.combinations(range(n), k)))
        z = np.zeros((total, n), dtype=bool)
        np.put_along_axis(z, combos, True, axis=1)
        keep = ~np.all(z == actual[None, :], axis=1)
        return z[keep], True
    draws = total - 1
    rng = np.random.default_rng(seed)
    idx = np.argsort(rng.random((draws, n)), axis=1)[:, :k]
    z = np.zeros((draws, n), dtype=bool)
    np.put_along_axis(z, idx, True, axis=1)
    return z, False


def _pvals(a0: float, c0: float, a: np.ndarray, c: np.ndarray, tau: float) -> float:
    """Rank p-value of the statistic of ``Y - tau D`` (ties within a relative ``1e-10``)."""
    return rank_p_value(a0 - tau * c0, a - tau * c, rel_tol=1e-10)


def _invert(a0: float, c0: float, a: np.ndarray, c: np.ndarray, alpha: float
            ) -> tuple[float, float]:
    """Hull of ``{tau : p(tau) > alpha}`` by bisection outwards from the point estimate."""
    if c0 == 0:
        return float("nan"), float("nan")
    centre = a0 / c0
    scale = max(float(np.std(a)) if a.size > 1 else 0.0, abs(centre), 1e-12)
    return invert_test(lambda tau: _pvals(a0, c0, a, c, tau), centre, alpha,
                       first_step=scale, tol=1e-9 * scale, max_expand=60, max_bisect=100)


def _statistic_at(statistic: Statistic, panel: Panel, order: Sequence[str], row: np.ndarray,
                  cohorts: list[int] | None) -> float:
    """The statistic with the units of ``row`` treated (given ``cohorts``, in the order of
    ``order``, when the treatment is timed)."""
    chosen = [order[int(i)] for i in np.flatnonzero(row)]
    if cohorts is not None:
        panel = panel.with_cohorts(dict(zip(chosen, cohorts, strict=True)))
    return float(statistic(panel, chosen))


@dataclass(frozen=True)
class PermutationSetup:
    """What every statistic of one permutation test shares: the sub-panel of the treated and
    pool units, the treatment pattern ``D`` for the interval, and the assignments.

    Made by :func:`permutation_setup`; :meth:`test` tests a statistic on it as
    :func:`permutation_inference` would with the same arguments (the same numbers).
    """

    sub: Panel
    d_panel: Panel | None  # the outcome replaced by D; None when the treatment is not timed
    cohort_list: list[int] | None  # the treated units' cohorts in the order of ``sub.units``
    actual: np.ndarray
    z: np.ndarray  # the placebo assignments (the actual one left out)
    exact: bool
    unreachable: bool
    treated: tuple[str, ...]
    pool: tuple[str, ...]
    conf_level: float
    seed: int | None

    @classmethod
    def build(cls, panel: Panel, outcome: str, treated_t: tuple[str, ...],
              pool_t: tuple[str, ...], *, n_draws: int | None, seed: int | None,
              conf_level: float, unreachable: bool) -> PermutationSetup:
        n, k = len(treated_t) + len(pool_t), len(treated_t)
        sub = panel.select(units=sorted(treated_t + pool_t))
        order = sub.units
        cohorts = sub.cohorts()
        t_cohorts = [int(cohorts.get(u, NEVER)) for u in treated_t]
        timed = all(c != NEVER for c in t_cohorts)
        actual = np.isin(order, treated_t)
        z, exact = placebo_assignments(n, k, actual, n_draws, seed)
        # the treatment pattern D (1 for treated units from their cohort on), for the interval
        d_panel = None
        cohort_list = None
        if timed:
            data = sub.data
            cmap = dict(zip(treated_t, t_cohorts, strict=True))
            start = data[sub.unit].map(cmap)
            data[outcome] = ((start.notna()) & (data[sub.time] >= start.fillna(0))).astype(float)
            d_panel = Panel._from_validated(sub, data)
            # the treated units' cohorts in id order (the order of ``order``), not sorted by
            # cohort, so that the actual row gets back each treated unit's own cohort
            cohort_list = [cmap[u] for u in order if u in cmap]
        return cls(sub, d_panel, cohort_list, actual, z, exact, unreachable, treated_t, pool_t,
                   conf_level, seed)

    def test(self, statistic: Statistic, n_jobs: int = 1) -> PermutationResult:
        """The permutation test of ``statistic`` on these assignments (``n_jobs``: workers
        for a statistic without ``batch``, as in :func:`permutation_inference`)."""
        sub, d_panel, actual, z = self.sub, self.d_panel, self.actual, self.z
        batch = getattr(statistic, "batch", None)
        if callable(batch):  # the actual assignment and the placebos in one call
            both = self._both
            vals = np.asarray(batch(sub, both), dtype=float)
            a0, a = float(vals[0]), vals[1:]
            if d_panel is not None:
                vals = np.asarray(batch(d_panel, both), dtype=float)
                c0, c = float(vals[0]), vals[1:]
        else:  # one fit per assignment, spread over n_jobs workers
            base = sub.with_cohorts({}) if d_panel is not None else sub
            bases = [base] if d_panel is None else [base, d_panel.with_cohorts({})]
            stats = run_tasks(_statistic_at, [(statistic, b, sub.units, row, self.cohort_list)
                                              for b in bases for row in (actual, *z)],
                              n_jobs=n_jobs)
            m = len(z) + 1
            a0, a = float(stats[0]), np.array(stats[1:m], dtype=float)
            if d_panel is not None:
                c0, c = float(stats[m]), np.array(stats[m + 1:], dtype=float)
        p_value = _pvals(a0, 0.0, a, np.zeros_like(a), 0.0)
        lo = hi = float("nan")
        if d_panel is not None:  # an unreachable level rejects no effect: the whole line
            lo, hi = ((-np.inf, np.inf) if self.unreachable
                      else _invert(a0, c0, a, c, 1 - self.conf_level))
        return PermutationResult(
            estimate=a0, p_value=p_value, ci_lower=lo, ci_upper=hi, distribution=a,
            n_draws=int(a.size), exact=self.exact, min_p_value=1.0 / (1 + a.size),
            conf_level=self.conf_level, treated=self.treated, pool=self.pool, seed=self.seed,
        )

    @cached_property
    def _both(self) -> np.ndarray:
        """The actual assignment, then the placebos (one array, shared by the statistics)."""
        return np.vstack([self.actual[None, :], self.z])


def permutation_inference(
    panel: Panel,
    outcome: str,
    *,
    statistic: Statistic,
    treated: Sequence[str],
    pool: Sequence[str],
    n_draws: int | None = None,
    seed: int | None = None,
    conf_level: float = 0.95,
    n_perm: int | None = None,
    n_jobs: int = 1,
    allow_unreachable: bool = False,
) -> PermutationResult:
    """Randomisation inference: the treatment re-assigned over the treated units and the pool.

    Parameters
    ----------
    panel : Panel
        Must contain the treated and pool units; the treated units' cohorts give the
        treatment timing for placebo units and for the interval.
    outcome : str
        The outcome the statistic estimates on (used to build the treatment pattern for the
        interval).
    statistic : callable
        ``statistic(panel, treated_units) -> float``. A statistic with a
        ``batch(panel, assignments, values=None)`` method (e.g. :class:`DiD2x2Statistic`) is
        evaluated for all assignments at once.
    treated : sequence of str
        The actually treated units.
    pool : sequence of str
        Comparison units eligible for placebo treatment.
    n_draws : int, optional
        Number of random placebo assignments; every assignment is used when there are at most
        ``n_draws + 1`` (default: at most 10,000), so the test is exact.
    seed : int, optional
        Seed of the random assignments.
    conf_level : float
        Level of the test and coverage of the interval.
    n_perm : int, optional
        Deprecated name of ``n_draws`` (warns ``DeprecationWarning``).
    n_jobs : int
        Workers for a statistic without ``batch`` (one fit per assignment; 1, the default:
        this process; -1: every core), on joblib's current backend
        (``evalmodel.core.parallel``). The assignments are drawn before the loop, so the
        result does not depend on it. A statistic with ``batch`` is one vectorised call, cheaper
        than any spread, and ignores it.
    allow_unreachable : bool
        What to do when the design cannot reach the level (the smallest attainable p-value
        ``1 / (number of assignments)`` exceeds ``1 - conf_level``): ``False`` (default)
        raises; ``True`` runs the test anyway, so the p-value is exact but can never fall
        below the level, and the interval is the whole line (no effect can be rejected).
        The test then keeps its size by never rejecting; the result's ``reaches_level`` is
        ``False`` and :meth:`PermutationResult.describe` says so.

    Returns
    -------
    PermutationResult

    Raises
    ------
    EstimationError
        When the design cannot reach the level and ``allow_unreachable`` is ``False``: the
        smallest attainable p-value ``1 / (number of assignments)`` exceeds
        ``1 - conf_level``; for overlapping or unknown units; for ``n_draws < 1``.
    """
    n_jobs = check_n_jobs("permutation_inference", n_jobs, EstimationError)
    setup = _setup(panel, outcome, treated=treated, pool=pool, n_draws=n_draws, seed=seed,
                   conf_level=conf_level, n_perm=n_perm, allow_unreachable=allow_unreachable)
    return setup.test(statistic, n_jobs=n_jobs)


def permutation_tests(
    panel: Panel,
    outcome: str,
    *,
    statistics: Sequence[Statistic],
    treated: Sequence[str],
    pool: Sequence[str],
    n_draws: int | None = None,
    seed: int | None = None,
    conf_level: float = 0.95,
    allow_unreachable: bool = False,
) -> list[PermutationResult]:
    """:func:`permutation_inference` of each of several statistics over the same assignments.

    The arguments are checked, the sub-panel, the treatment pattern and the placebo
    assignments are made once, and each statistic is then tested on them exactly as
    :func:`permutation_inference` tests it alone (the same numbers, bit for bit); a statistic
    whose ``batch`` caches by panel and assignments (the rows of one aggregation) computes
    its values once for all. Statistics without ``batch`` are fitted in this process.

    Parameters
    ----------
    panel, outcome, treated, pool, n_draws, seed, conf_level, allow_unreachable
        As for :func:`permutation_inference`.
    statistics : sequence of callables
        The statistics, each as ``statistic`` of :func:`permutation_inference`.

    Returns
    -------
    list of PermutationResult
        One per statistic, in order.
    """
    setup = _setup(panel, outcome, treated=treated, pool=pool, n_draws=n_draws, seed=seed,
                   conf_level=conf_level, n_perm=None, allow_unreachable=allow_unreachable)
    return [setup.test(stat, n_jobs=1) for stat in statistics]


def permutation_setup(panel: Panel, outcome: str, *, treated: Sequence[str],
                      pool: Sequence[str], n_draws: int | None = None, seed: int | None = None,
                      conf_level: float = 0.95, allow_unreachable: bool = False
                      ) -> PermutationSetup:
    """The assignments of a permutation test, checked and made once, for testing several
    statistics on them (:meth:`PermutationSetup.test`); the arguments and errors are those
    of :func:`permutation_inference`."""
    return _setup(panel, outcome, treated=treated, pool=pool, n_draws=n_draws, seed=seed,
                  conf_level=conf_level, n_perm=None, allow_unreachable=allow_unreachable)


def _setup(panel: Panel, outcome: str, *, treated: Sequence[str], pool: Sequence[str],
           n_draws: int | None, seed: int | None, conf_level: float, n_perm: int | None,
           allow_unreachable: bool) -> PermutationSetup:
    """The checked arguments of :func:`permutation_inference` and its assignments."""
    n_draws = draws_argument("permutation_inference", n_draws, default=None, n_perm=n_perm)
    check_conf_level("permutation_inference", conf_level)
    check_seed("permutation_inference", seed)
    if n_draws is not None and n_draws < 1:
        raise EstimationError(f"permutation_inference: n_draws={n_draws!r} must be at least 1.")
    treated_t = tuple(check_names("permutation_inference", "treated", treated, allow_empty=True))
    pool_t = tuple(u for u in check_names("permutation_inference", "pool", pool, allow_empty=True)
                   if u not in set(treated_t))
    if not treated_t:
        raise EstimationError("permutation_inference: treated is empty; name the treated units.")
    units = set(panel.units)
    unknown = sorted((set(treated_t) | set(pool_t)) - units)
    if unknown:
        raise EstimationError(
            f"permutation_inference: units {unknown[:5]} are not in the panel; check the ids."
        )
    panel.check_outcome(outcome)
    n, k = len(treated_t) + len(pool_t), len(treated_t)
    n_assign, _ = n_assignments(n, k, n_draws)
    min_p = 1.0 / n_assign
    alpha = 1 - conf_level
    unreachable = min_p > alpha + 1e-12
    if unreachable and not allow_unreachable:
        need = k
        while math.comb(need + k, k) < 1 / alpha:
            need += 1
        raise EstimationError(
            f"permutation_inference: with {k} treated unit(s) and {len(pool_t)} comparison "
            f"units there are {n_assign} assignments, so the smallest attainable p-value is "
            f"{min_p:.4f}, above 1 - conf_level = {alpha:.4f}; use at least {need} comparison "
            f"units or lower conf_level to at most {1 - min_p:.4f}."
        )
    return PermutationSetup.build(panel, outcome, treated_t, pool_t, n_draws=n_draws, seed=seed,
                              conf_level=conf_level, unreachable=unreachable)

