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

import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from evalmodel.core.parallel import check_n_jobs, run_tasks
from evalmodel.errors import EstimationError, EvalModelError
from evalmodel.inference.placebo_study_result import COLUMNS, PlaceboStudyResult
from evalmodel.months import period_label, period_span
from evalmodel.panel import NEVER, Panel
from evalmodel.vocabulary import check_conf_level, check_names, check_period, check_seed

__all__ = ["PlaceboEstimator", "PlaceboStudyResult", "placebo_study"]


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
    Sun-Abraham and imputation event studies). ``warnings_of_batch(panel)`` (or a tuple
    ``batch_warnings``) names the warning categories every fit of the batch raises: that fit
    must raise exactly those, and each batched unit counts them.
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
    raises (the estimator's ``warnings_of_batch(base)``, or its ``batch_warnings``, counted
    for every unit), and the batch agrees with it (to 1e-9 relative), so the study's
    warnings, errors and numbers are those of the loop."""
    batch = getattr(estimator, "placebo_batch", None)
    if not callable(batch) or effect != 0 or len(units) < 2:
        return None
    fours = batch(base, outcome, units, adoption)
    if fours is None or len(fours) != len(units):
        return None
    first = _one_placebo(base, None, outcome, estimator, units[0], adoption, effect)
    declared = getattr(estimator, "warnings_of_batch", None)
    expected = sorted(declared(base) if callable(declared)
                      else getattr(estimator, "batch_warnings", ()))
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
    event studies solve every unit's own system and every placebo system in one batch, about
    3 and 2 ms a unit instead of 35 and 33 ms). On the simulated world's 286-unit pool (2
    cores, single-threaded BLAS) a study of every unit took about 5 s for the permutation
    2x2, 8 s for ``did2x2``, 2 s for ``att_gt`` and 20 s for ``synth`` (placebos in space on
    285 donors per unit), and one of 200 units about 60 s for ``twfe`` and 3 min for
    ``sdid`` (200 placebo draws per unit; both before the batch). Multithreaded BLAS on a
    busy machine can make the many small least-squares fits many times slower: set
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
