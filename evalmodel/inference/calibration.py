"""Placebo studies: the size, power and coverage of an estimator's inference on the data at hand.

Each untreated unit of a comparison pool in turn is given a fake adoption and estimated against
the rest of the pool with the estimator's own (default) inference. With no planted effect the
share of rejections at ``1 - conf_level`` is the test's size on these data; with an effect
added to the fake treated unit's post-adoption outcomes it is the power to detect that effect.
The share of intervals that cover the planted effect is their coverage (DESIGN.md, "Statistical
stance": size and power are checked by placebo studies on the data at hand).

The inference layer never imports an estimator, so the estimator comes in as a callable
``estimator(panel, outcome, treated_unit, adoption)``; adapters for the package's estimators
live above it (:mod:`evalmodel.calibrate`).

A remark on design-based tests: when the placebo study runs over every unit of the pool and the
estimator's test is an exact permutation over that same pool, every fake treated unit meets the
same placebo distribution, so the rejection share is its rank, ``floor(alpha (n + 1)) / n``-ish,
by construction. Such a study checks the code, not the assumption; studies on a different pool,
with a planted effect (power, coverage) or of analytic and normal-approximation inference are
the informative ones.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from evalmodel.core.parallel import check_n_jobs, run_tasks
from evalmodel.errors import EstimationError, EvalModelError
from evalmodel.months import period_label, period_span
from evalmodel.panel import NEVER, Panel
from evalmodel.results import Result, Summary
from evalmodel.vocabulary import check_conf_level, check_names, check_period, check_seed

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["PlaceboEstimator", "PlaceboStudyResult", "placebo_study"]

#: Columns of :attr:`PlaceboStudyResult.placebos`.
COLUMNS = ("unit", "estimate", "ci_lower", "ci_upper", "p_value", "rejected", "covered")


class PlaceboEstimator(Protocol):
    """What :func:`placebo_study` calls for each fake treated unit.

    ``estimator(panel, outcome, treated, adoption)`` estimates the effect on the one unit
    ``treated`` (the panel's only unit with a cohort, ``adoption``) against the other units of
    ``panel``, with the inference to be studied, and returns either a 4-tuple
    ``(estimate, ci_lower, ci_upper, p_value)`` or a result with an ``overall`` row holding those
    columns (any :class:`~evalmodel.results.EstimateResult`).

    It may also have ``placebo_batch(panel, outcome, units, adoption)`` returning those
    4-tuples for each of ``units`` at once (or None where it has no such form); the study then
    uses it for a size study (no planted effect), after checking it against one ordinary fit
    (:class:`~evalmodel.calibrate.Adapter` has one for did2x2, twfe, att_gt and the
    Sun-Abraham and imputation event studies).
    """

    def __call__(self, panel: Panel, outcome: str, treated: str, adoption: int) -> Any:
        ...  # pragma: no cover


def _four(fn: str, out: Any) -> tuple[float, float, float, float]:
    """``(estimate, ci_lower, ci_upper, p_value)`` from what an estimator returned."""
    row = getattr(out, "overall", None)
    if row is not None:
        try:
            return (float(row["estimate"]), float(row["ci_lower"]), float(row["ci_upper"]),
                    float(row["p_value"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise EstimationError(f"{fn}: the estimator's result has an overall row without "
                                  f"estimate, ci_lower, ci_upper and p_value ({exc}).") from exc
    if isinstance(out, tuple | list) and len(out) == 4:
        return tuple(float(v) for v in out)  # type: ignore[return-value]
    raise EstimationError(
        f"{fn}: the estimator returned {type(out).__name__}; it must return (estimate, "
        "ci_lower, ci_upper, p_value) or a result with an overall row (an EstimateResult)."
    )


def _name(estimator: Callable[..., Any]) -> str:
    return str(getattr(estimator, "label", None) or getattr(estimator, "__name__", None)
               or type(estimator).__name__)


def _binomial_se(share: float, n: int) -> float:
    return math.sqrt(share * (1 - share) / n) if n > 0 and np.isfinite(share) else float("nan")


def _rate_row(name: str, flags: pd.Series, conf_level: float, nominal: float | None
              ) -> tuple[str, float, float, float, float, float, int]:
    """A share of ``flags`` with its Monte Carlo s.e., Wilson interval and exact binomial
    p-value of ``nominal`` (NaN without one)."""
    f = flags.dropna().astype(bool)
    n = len(f)
    if n == 0:
        nan = float("nan")
        return name, nan, nan, nan, nan, nan, 0
    k = int(f.sum())
    share = k / n
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    p = (float(stats.binomtest(k, n, nominal).pvalue) if nominal is not None
         else float("nan"))
    return name, share, _binomial_se(share, n), centre - half, centre + half, p, n


@dataclass(frozen=True)
class PlaceboStudyResult(Result):
    """Size (or power) and coverage of an estimator's inference, from fake adoptions.

    Its :attr:`table` has the package's standard columns: one row for the rejection rate (the
    headline, :attr:`overall`) and one for the coverage of the intervals, each with its binomial
    Monte Carlo standard error, a Wilson interval at ``conf_level`` and the exact binomial
    p-value of the nominal rate (``1 - conf_level`` for rejections of a true null,
    ``conf_level`` for coverage; NaN for power, which has no nominal value). The placebo units
    themselves are in :attr:`placebos`.

    Attributes
    ----------
    estimator : str
        Name of the estimator studied.
    outcome : str
        The outcome.
    adoption : int
        The fake first treated period.
    effect : float
        The effect planted in each fake treated unit's outcomes from ``adoption`` on (0: a size
        study).
    conf_level : float
        Level of the intervals; a unit is rejected when ``p_value <= 1 - conf_level``.
    placebos : pandas.DataFrame
        One row per placebo unit: ``unit``, ``estimate``, ``ci_lower``, ``ci_upper``,
        ``p_value``, ``rejected`` and ``covered`` (whether the interval holds ``effect``;
        missing where the estimator gave no interval), plus ``error`` for units whose fit
        failed (their other cells are missing and they are not counted in :attr:`n`).
    pool : tuple of str
        The untreated units the study ran over (the comparison of every fit).
    n_units : int or None
        The number of placebo units asked for (None: every unit of the pool).
    seed : int or None
        Seed of the draw of placebo units.
    warnings : tuple of (str, int)
        Warning categories raised by the placebo fits and how many fits raised each (the fits'
        warnings are counted here instead of being shown once per fit).
    notes : tuple of str
        What the study decided or left out.
    """

    estimator: str
    outcome: str
    adoption: int
    effect: float
    conf_level: float
    placebos: pd.DataFrame = field(repr=False)
    pool: tuple[str, ...] = field(repr=False)
    n_units: int | None = None
    seed: int | None = None
    warnings: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    frequency: str = "year"

    @property
    def alpha(self) -> float:
        """The nominal level of the test, ``1 - conf_level``."""
        return 1 - self.conf_level

    @property
    def n(self) -> int:
        """Number of placebo units with a p-value (failed fits left out)."""
        return int(self.placebos["rejected"].notna().sum())

    @property
    def n_failed(self) -> int:
        """Number of placebo units whose fit raised an error."""
        return int(self.placebos["error"].notna().sum()) if "error" in self.placebos else 0

    @property
    def rejection_rate(self) -> float:
        """Share of placebo units whose test rejects at ``1 - conf_level``."""
        r = self.placebos["rejected"].dropna()
        return float(r.astype(float).mean()) if len(r) else float("nan")

    @property
    def rejection_se(self) -> float:
        """Binomial Monte Carlo standard error of :attr:`rejection_rate`."""
        return _binomial_se(self.rejection_rate, self.n)

    @property
    def size(self) -> float:
        """The rejection rate of a true null (a study with ``effect=0``).

        Raises
        ------
        EstimationError
            When an effect was planted: the rejection rate is then :attr:`power`.
        """
        if self.effect != 0:
            raise EstimationError(f"placebo_study: an effect of {self.effect:g} was planted, so "
                                  "the rejection rate is power, not size; use .power or "
                                  ".rejection_rate.")
        return self.rejection_rate

    @property
    def power(self) -> float:
        """The rejection rate with a planted effect (a study with ``effect != 0``).

        Raises
        ------
        EstimationError
            When no effect was planted: the rejection rate is then :attr:`size`.
        """
        if self.effect == 0:
            raise EstimationError("placebo_study: no effect was planted (effect=0), so the "
                                  "rejection rate is size, not power; use .size or "
                                  ".rejection_rate.")
        return self.rejection_rate

    @property
    def n_intervals(self) -> int:
        """Number of placebo units with an interval."""
        return int(self.placebos["covered"].notna().sum())

    @property
    def coverage(self) -> float:
        """Share of intervals that contain the planted effect (NaN without intervals)."""
        c = self.placebos["covered"].dropna()
        return float(c.astype(float).mean()) if len(c) else float("nan")

    @property
    def coverage_se(self) -> float:
        """Binomial Monte Carlo standard error of :attr:`coverage`."""
        return _binomial_se(self.coverage, self.n_intervals)

    @property
    def mean_estimate(self) -> float:
        """Mean of the placebo estimates (compare with :attr:`effect` for bias)."""
        return float(self.placebos["estimate"].mean())

    @property
    def spread(self) -> float:
        """Standard deviation of the placebo estimates."""
        return float(self.placebos["estimate"].std(ddof=1))

    def _intervals(self) -> tuple[np.ndarray, np.ndarray]:
        t = self.placebos
        lo, hi = t["ci_lower"].to_numpy(float), t["ci_upper"].to_numpy(float)
        ok = ~np.isnan(lo) & ~np.isnan(hi)  # an infinite end is an interval (it never excludes)
        return lo[ok], hi[ok]

    def power_at(self, effect: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
        """Power against other effects, read from the placebo units' intervals.

        Planting ``effect`` instead of :attr:`effect` moves each fake treated unit's post-
        adoption outcomes by the difference. For an estimator that moves by the same amount
        (every estimator here whose post-adoption outcomes of the treated unit enter its
        estimate with total weight one) and an interval that inverts the estimator's test of a
        constant additive effect, the interval moves too, so the test of no effect rejects
        exactly when ``self.effect - effect`` lies outside the unit's interval. The result
        equals a placebo study with ``effect`` planted (tested to 1e-12 for the linear
        estimators); it is the share of units with an interval, so it can differ from a
        rejection rate read from p-values where a method's p-value and interval come from
        different tests.

        Parameters
        ----------
        effect : float or sequence of float
            Effects to plant, in the outcome's units.

        Returns
        -------
        float or numpy.ndarray
            The share detected at level :attr:`alpha`, for each effect.
        """
        lo, hi = self._intervals()
        eff = np.atleast_1d(np.asarray(effect, dtype=float))
        if not lo.size:
            out = np.full(eff.shape, np.nan)
        else:
            shift = self.effect - eff[:, None]
            out = ((shift < lo[None, :]) | (shift > hi[None, :])).mean(axis=1)
        return float(out[0]) if np.ndim(effect) == 0 else out

    def detectable_effect(self, power: float = 0.8, *, direction: int = -1) -> float:
        """The smallest effect in ``direction`` (-1: a reduction, +1: an increase) that the
        method detects in a share ``power`` of the placebo units (see :meth:`power_at`).

        Returns NaN when no effect reaches that power (too few units with an interval).
        """
        if direction not in (-1, 1) or not 0 < power < 1:
            raise EstimationError(f"detectable_effect: direction={direction!r} must be -1 or 1 "
                                  f"and power={power!r} between 0 and 1, e.g. power=0.8.")
        lo, hi = self._intervals()
        if not lo.size:
            return float("nan")
        # power_at changes only where self.effect - effect crosses an interval end
        cand = np.concatenate([self.effect - lo, self.effect - hi])
        cand = cand[np.isfinite(cand)]  # an infinite end is never crossed
        cand = np.sort(np.unique(cand[np.sign(cand) == direction] * direction)) * direction
        eps = 1e-9 * max(1.0, float(np.max(np.abs(cand)))) if cand.size else 0.0
        cand = cand + direction * eps  # just past the crossing: the interval end excluded
        reach = np.asarray(self.power_at(cand)) >= power
        return float(cand[np.argmax(reach)]) if reach.any() else float("nan")

    @property
    def table(self) -> pd.DataFrame:
        """The rejection rate and the coverage in the standard columns (see the class notes)."""
        kind = "size" if self.effect == 0 else "power"
        rows = [
            _rate_row(f"rejection rate ({kind})", self.placebos["rejected"], self.conf_level,
                      self.alpha if self.effect == 0 else None),
            _rate_row("coverage", self.placebos["covered"], self.conf_level, self.conf_level),
        ]
        return pd.DataFrame(rows, columns=["statistic", "estimate", "std_error", "ci_lower",
                                           "ci_upper", "p_value", "n"])

    def describe_sample(self) -> dict[str, str]:
        """Method, outcome and the placebo design, for :func:`~evalmodel.results.compare`."""
        return {"Method": f"placebo study of {self.estimator}", "Outcome": self.outcome,
                "Inference": f"{self.n} fake adoptions in "
                             f"{period_label(self.adoption, self.frequency)}",
                "Units": str(len(self.pool))}

    def describe(self) -> str:
        """One sentence: what was studied and what came out."""
        what = "size" if self.effect == 0 else f"power against an effect of {self.effect:g}"
        alpha = f"{self.alpha:.3g}"
        text = (f"placebo study of {self.estimator} on {self.outcome!r}: {self.n} untreated units "
                f"each given a fake adoption in {period_label(self.adoption, self.frequency)} "
                f"against the other "
                f"{len(self.pool) - 1} units of the pool; {what} at level {alpha}: "
                f"{self.rejection_rate:.3f} (Monte Carlo s.e. {self.rejection_se:.3f})")
        if self.n_intervals:
            text += (f"; coverage of the {self.conf_level:.0%} intervals {self.coverage:.3f} "
                     f"(s.e. {self.coverage_se:.3f})")
        return text

    def summary(self) -> Summary:
        """The summary: ``str()`` text, HTML in notebooks, ``.to_latex()``, ``.to_markdown()``."""
        drawn = ("every unit of the pool" if self.n_units is None else
                 f"{self.n_units} units drawn with seed {self.seed}")
        header = (
            ("Estimator", self.estimator),
            ("Outcome", self.outcome),
            ("Fake adoption", period_label(self.adoption, self.frequency)),
            ("Planted effect", f"{self.effect:g}"),
            ("Level", f"{self.alpha:.3g} (intervals {self.conf_level:.0%})"),
            ("Pool", f"{len(self.pool)} untreated units"),
            ("Placebo units", f"{self.n} ({drawn})"
             + (f"; {self.n_failed} failed" if self.n_failed else "")),
            ("Placebo estimates", f"mean {self.mean_estimate:.4g}, sd {self.spread:.4g}"),
        )
        notes = [*self.notes, *(f"{k} raised in {c} placebo fits" for k, c in self.warnings)]
        return Summary(title=f"Placebo study: {self.estimator}, {self.outcome}", header=header,
                       table=self.table, notes=tuple(notes))

    def plot(self, ax: Axes | None = None) -> Axes:
        """Histogram of the placebo p-values (flat under a valid test of a true null)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        p = self.placebos["p_value"].dropna().to_numpy(dtype=float)
        ax.hist(p, bins=[i / 20 for i in range(21)], color="0.6", edgecolor="white")
        ax.axvline(self.alpha, color="C3", lw=1, label=f"level {self.alpha:.3g}")
        if p.size:
            ax.axhline(p.size / 20, color="0.3", lw=1, ls="--", label="uniform")
        ax.set_xlabel("p-value")
        ax.set_ylabel("placebo units")
        ax.set_title(f"{self.estimator}: rejection rate {self.rejection_rate:.3f} (n={self.n})")
        ax.legend(frameon=False)
        return ax

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def _one_placebo(base: Panel, wide: pd.DataFrame | None, outcome: str,
                 estimator: Callable[..., Any], u: str, adoption: int, effect: float
                 ) -> tuple[dict[str, Any], list[str]]:
    """One fake adoption: the row of :attr:`PlaceboStudyResult.placebos` and the warning
    categories the fit raised."""
    fake = base.with_cohorts({u: adoption})
    if wide is not None:
        row_y = wide.loc[u].to_numpy(dtype=float)
        cells = {(u, int(t)): v + effect for t, v in zip(wide.columns, row_y.tolist(),
                                                         strict=True)
                 if int(t) >= adoption and np.isfinite(v)}
        fake = fake.with_values(outcome, cells)
    row: dict[str, Any] = {"unit": u}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = estimator(fake, outcome, u, adoption)
        except EvalModelError as exc:
            row["error"] = str(exc)
            out = (float("nan"),) * 4
    est, lo, hi, p = _four("placebo_study", out)
    row.update(estimate=est, ci_lower=lo, ci_upper=hi, p_value=p)
    kinds = sorted({type(w.message).__name__ for w in caught if issubclass(w.category, Warning)})
    return row, kinds


def _close(x: float, y: float) -> bool:
    return (x == y or (np.isnan(x) and np.isnan(y))
            or bool(abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))))


def _batched(estimator: Any, base: Panel, outcome: str, units: list[str], adoption: int,
             effect: float) -> list[tuple[dict[str, Any], list[str]]] | None:
    """The placebo rows from the estimator's ``placebo_batch`` (every unit at once), or None
    where it has none or gives none (:class:`~evalmodel.calibrate.Adapter` of did2x2, twfe,
    att_gt and the Sun-Abraham and imputation event studies, on a balanced panel without
    missing values).

    The first unit is fitted as the loop fits it, and the batch is used only when that fit
    raised no error and no warning other than those every fit of the batched configuration
    raises (the estimator's ``batch_warnings``, counted for every unit), and the batch
    agrees with it (to 1e-9 relative), so the study's warnings, errors and numbers are those
    of the loop."""
    batch = getattr(estimator, "placebo_batch", None)
    if not callable(batch) or effect != 0 or len(units) < 2:
        return None
    fours = batch(base, outcome, units, adoption)
    if fours is None or len(fours) != len(units):
        return None
    first = _one_placebo(base, None, outcome, estimator, units[0], adoption, effect)
    expected = sorted(getattr(estimator, "batch_warnings", ()))
    if first[1] != expected or "error" in first[0]:
        return None
    keys = ("estimate", "ci_lower", "ci_upper", "p_value")
    if not all(_close(float(first[0][k]), float(v)) for k, v in zip(keys, fours[0],
                                                                      strict=True)):
        return None
    rest: list[tuple[dict[str, Any], list[str]]] = [
        ({"unit": u, **dict(zip(keys, map(float, f), strict=True))}, list(expected))
        for u, f in zip(units[1:], fours[1:], strict=True)]
    return [first, *rest]


def placebo_study(
    panel: Panel,
    outcome: str,
    estimator: PlaceboEstimator | Callable[[Panel, str, str, int], Any],
    *,
    pool: Sequence[str],
    adoption: int,
    effect: float = 0.0,
    conf_level: float = 0.95,
    n_units: int | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
) -> PlaceboStudyResult:
    """Size (or power) and coverage of an estimator's inference by fake adoptions in ``pool``.

    Each untreated unit of ``pool`` in turn (or ``n_units`` of them drawn with ``seed``) is made
    the one treated unit, first treated in ``adoption``, of the panel restricted to ``pool``
    (so the real treated units are not in the comparison), and ``estimator`` is run on it with
    its own inference. With ``effect`` non-zero, ``effect`` is added to that unit's outcome from
    ``adoption`` on before the fit.

    Parameters
    ----------
    panel : Panel
        The data; only the units of ``pool`` are used.
    outcome : str
        The outcome.
    estimator : callable
        ``estimator(panel, outcome, treated, adoption)`` returning ``(estimate, ci_lower,
        ci_upper, p_value)`` or a result with an ``overall`` row (see
        :class:`PlaceboEstimator`; :mod:`evalmodel.calibrate` has one for each estimator of the
        package). It should be deterministic (fix the seed of its own draws) for the study to be.
    pool : sequence of str
        The comparison pool: never-treated units not exposed to the policy. Units with a cohort
        in ``panel`` are left out (and counted in the notes).
    adoption : int
        The fake first treated period: a period of the panel after its first.
    effect : float
        Effect planted in the fake treated unit's outcome from ``adoption`` on (0: size).
    conf_level : float
        Level of the intervals; a test rejects when ``p_value <= 1 - conf_level``.
    n_units : int, optional
        Number of placebo units drawn (without replacement, with ``seed``) from the pool; by
        default every unit of the pool.
    seed : int, optional
        Seed of that draw.
    n_jobs : int
        Workers over which the placebo units are spread (1, the default: this process; -1:
        every core). They run on joblib's current backend: loky processes, or a Dask or Ray
        cluster chosen with ``joblib.parallel_config``. The numbers do not depend on it:
        the units are drawn before the loop, and each fit is the same whatever worker runs it
        (an estimator with random draws takes its seed from its own options).

    Returns
    -------
    PlaceboStudyResult
        The per-unit table, the rejection rate (``.size`` or ``.power``), ``.coverage``, their
        binomial Monte Carlo standard errors and ``.summary()``.

    Raises
    ------
    EstimationError
        For an unknown or too small pool, an adoption that is not a period after the first, a
        bad ``conf_level`` or ``n_units``, or an estimator that returns something else.

    Notes
    -----
    Cost: one call of the estimator (with its inference, e.g. its own placebo or permutation
    distribution over the pool) per placebo unit, in a Python loop: a study costs ``n`` times
    one fit (less for an estimator with a ``placebo_batch``: the adapters of did2x2 and twfe
    test every placebo unit of a balanced panel without missing outcomes at once, about 2 ms a
    unit instead of 20 ms; att_gt about 4 ms instead of 17 ms; the Sun-Abraham and imputation
    event studies fit each unit's estimates but solve every placebo system once, about 16 and
    11 ms instead of 35 and 33 ms). On the simulated world's 286-unit pool (2 cores, single-threaded
    BLAS) a study of every unit took about 5 s for the permutation 2x2, 8 s for ``did2x2``,
    2 s for ``att_gt`` and 20 s for ``synth`` (placebos in space on 285 donors per unit), and
    one of 200 units about 60 s for ``twfe`` and 3 min for ``sdid`` (200 placebo draws per
    unit; both before the batch). Multithreaded
    BLAS on a busy machine can make the many small least-squares fits many times slower: set
    ``OPENBLAS_NUM_THREADS=1`` for long studies.

    An error of the estimator on one unit (an :class:`~evalmodel.errors.EvalModelError`)
    is kept in the table's ``error`` column and that unit is left out of the rates; the fits'
    warnings are counted in ``.warnings`` instead of being shown.

    The Monte Carlo standard error ``sqrt(r (1 - r) / n)`` treats the placebo units as
    independent draws; they share the pool, so it understates the uncertainty somewhat.

    Examples
    --------
    >>> import evalmodel as em
    >>> d = em.cases.get("trelleborg").design(em.datasets.simulated())
    >>> def est(p, y, unit, start):
    ...     r = em.permutation_inference(
    ...         p, y, statistic=em.DiD2x2Statistic(y, pre=d.pre_periods, post=d.post_periods),
    ...         treated=[unit], pool=[u for u in p.units if u != unit])
    ...     return r.estimate, r.ci_lower, r.ci_upper, r.p_value
    >>> s = em.placebo_study(d.panel, "N31807", est, pool=d.comparison, adoption=d.adoption,
    ...                      n_units=30, seed=1)
    >>> s.n, list(s.placebos.columns[:5])
    (30, ['unit', 'estimate', 'ci_lower', 'ci_upper', 'p_value'])
    >>> 0 <= s.size <= 1
    True
    """
    fn = "placebo_study"
    check_conf_level(fn, conf_level)
    if isinstance(effect, bool | str) or not isinstance(effect, int | float | np.number) or (
            not np.isfinite(effect)):
        raise EstimationError(f"{fn}: effect={effect!r} must be a finite number.")
    if not callable(estimator):
        raise EstimationError(f"{fn}: estimator must be a callable (panel, outcome, treated, "
                              f"adoption) -> result; got {type(estimator).__name__}.")
    panel.check_outcome(outcome)
    pool_ids = list(dict.fromkeys(check_names(fn, "pool", pool)))
    unknown = [u for u in pool_ids if u not in set(panel.units)]
    if unknown:
        raise EstimationError(f"{fn}: pool units {unknown[:5]} are not in the panel; unit ids are "
                              "strings with leading zeros, e.g. '0580'.")
    notes: list[str] = []
    cohorts = panel.cohorts()
    treated_in_pool = [u for u in pool_ids if int(cohorts.get(u, NEVER)) != NEVER]
    if treated_in_pool:
        pool_ids = [u for u in pool_ids if u not in set(treated_in_pool)]
        notes.append(f"{len(treated_in_pool)} pool units with a cohort in the panel left out "
                     f"(e.g. {treated_in_pool[:3]})")
    if len(pool_ids) < 3:
        raise EstimationError(f"{fn}: the pool has {len(pool_ids)} untreated units; a placebo "
                              "study needs at least 3 (one fake treated unit and its comparison).")
    periods = [int(p) for p in panel.periods]
    adoption = check_period(fn, "adoption", adoption, periods, frequency=panel.frequency)
    if adoption not in periods[1:]:
        shown: object = adoption if panel.frequency == "year" else period_label(
            adoption, panel.frequency)
        raise EstimationError(f"{fn}: adoption={shown!r} must be a period of the panel after "
                              f"its first ({period_span(periods[0], periods[-1], panel.frequency)})"
                              ".")
    check_seed(fn, seed)
    units = sorted(pool_ids)
    if n_units is not None:
        if isinstance(n_units, bool) or not isinstance(n_units, int | np.integer) or n_units < 1:
            raise EstimationError(f"{fn}: n_units={n_units!r} must be a positive integer.")
        if n_units < len(units):
            rng = np.random.default_rng(seed)
            units = sorted(rng.choice(units, size=int(n_units), replace=False).tolist())
        else:
            notes.append(f"n_units={n_units} is at least the pool's {len(units)} units: every "
                         "unit is used")
            n_units = None
    n_jobs = check_n_jobs(fn, n_jobs, EstimationError)
    base = panel.select(units=pool_ids).with_cohorts({})
    wide = base.wide(outcome) if effect != 0 else None
    alpha = 1 - conf_level
    raised: Counter[str] = Counter()
    name = _name(estimator)
    results = _batched(estimator, base, outcome, units, adoption, effect)
    if results is None:
        results = run_tasks(_one_placebo, [(base, wide, outcome, estimator, u, adoption, effect)
                                           for u in units], n_jobs=n_jobs)
    rows: list[dict[str, Any]] = []
    for row, kinds in results:
        raised.update(kinds)
        rows.append(row)
    table = pd.DataFrame(rows)
    if "error" not in table:
        table["error"] = pd.Series([None] * len(table), dtype=object)
    p_val = table["p_value"].to_numpy(dtype=float)
    rej = pd.arrays.BooleanArray(p_val <= alpha + 1e-12, np.isnan(p_val))
    lo_v, hi_v = table["ci_lower"].to_numpy(float), table["ci_upper"].to_numpy(float)
    # NaN: no interval; an infinite end is an interval (the whole line covers any effect)
    has_ci = ~np.isnan(lo_v) & ~np.isnan(hi_v)
    cov = pd.arrays.BooleanArray((lo_v <= effect) & (effect <= hi_v), ~has_ci)
    table = table.assign(rejected=rej, covered=cov)[[*COLUMNS, "error"]]
    failed = int(table["error"].notna().sum())
    if failed:
        notes.append(f"{failed} placebo fits failed and are left out (first: "
                     f"{table['error'].dropna().iloc[0]})")
    return PlaceboStudyResult(
        estimator=name, outcome=outcome, adoption=adoption, effect=float(effect),
        conf_level=conf_level, placebos=table, pool=tuple(sorted(pool_ids)), n_units=n_units,
        seed=seed, warnings=tuple(sorted(raised.items())), notes=tuple(notes),
        frequency=panel.frequency,
    )
