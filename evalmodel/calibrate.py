"""The package's estimators as :func:`~evalmodel.inference.calibration.placebo_study` callables.

Inference never imports an estimator (DESIGN.md, layout), so a placebo study takes the estimator
as a callable ``estimator(panel, outcome, treated, adoption)``. This module, which sits with
:mod:`evalmodel.displacement` above the estimators, makes those callables: each runs one
estimator with its default inference (or the options given) on a panel whose only treated unit
is ``treated``, first treated in ``adoption``, and returns its result (or, for the permutation
2x2, the four numbers).

Examples
--------
>>> import evalmodel as em
>>> d = em.cases.get("trelleborg").design(em.datasets.simulated())
>>> est = em.calibrate.did2x2(pre=d.pre_periods, post=d.post_periods)
>>> s = em.placebo_study(d.panel, "N31807", est, pool=d.comparison, adoption=d.adoption,
...                      n_units=20, seed=1)
>>> s.n
20
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from evalmodel.displacement import triple_difference as _ddd
from evalmodel.errors import EstimationError
from evalmodel.estimators._common import check_periods
from evalmodel.estimators.did import did2x2 as _did2x2
from evalmodel.estimators.did import twfe as _twfe
from evalmodel.estimators.event_study import event_study as _event_study
from evalmodel.estimators.sdid import sdid as _sdid
from evalmodel.estimators.staggered import att_gt as _att_gt
from evalmodel.estimators.synth import synth as _synth
from evalmodel.inference.permutation import (
    MAX_EXACT,
    DiD2x2Statistic,
    _invert,
    _pvals,
    permutation_inference,
    placebo_assignments,
)
from evalmodel.inference.placebo_starts import PlaceboStarts, placebo_starts
from evalmodel.panel import Panel
from evalmodel.vocabulary import (
    AggregationKind,
    EventStudyEstimator,
    check_option,
    check_period,
    check_seed,
    draws_argument,
)

__all__ = ["Adapter", "att_gt", "did2x2", "event_study", "permutation_did2x2", "sdid", "synth",
           "triple_difference", "twfe"]


#: What an adapter runs: ``run(panel, outcome, treated, adoption, **options)``.
Run = Callable[..., Any]


@dataclass(frozen=True)
class Adapter:
    """One estimator with fixed options, called as ``adapter(panel, outcome, treated, adoption)``.

    Attributes
    ----------
    label : str
        Name shown by the placebo study, e.g. ``"did2x2"``.
    options : mapping
        Keyword arguments passed to the estimator.
    run : callable
        ``run(panel, outcome, treated, adoption, **options)``: the estimator on a panel whose
        only treated unit is ``treated``, first treated in ``adoption``.
    """

    label: str
    options: dict[str, Any] = field(default_factory=dict)
    run: Run = field(kw_only=True, repr=False)
    batch: Callable[..., list[tuple[float, float, float, float]] | None] | None = field(
        default=None, kw_only=True, repr=False)
    #: Warning categories that every fit of a batched configuration raises, whichever unit is
    #: treated (att_gt: ``SmallCohortWarning``, its one treated unit being a cohort of one).
    batch_warnings: tuple[str, ...] = field(default=(), kw_only=True, repr=False)

    def __call__(self, panel: Panel, outcome: str, treated: str, adoption: int) -> Any:
        return self.run(panel, outcome, treated, adoption, **self.options)

    def placebo_batch(self, panel: Panel, outcome: str, units: Sequence[str], adoption: int
                      ) -> list[tuple[float, float, float, float]] | None:
        """``(estimate, ci_lower, ci_upper, p_value)`` of each of ``units`` in turn made the
        one treated unit of ``panel`` (no unit has a cohort), first treated in ``adoption``:
        what calling the adapter on each gives, computed for all units at once, or None where
        this estimator and its options have no such form (:func:`placebo_study` then calls
        the adapter once per unit)."""
        if self.batch is None:
            return None
        return self.batch(panel, outcome, units, adoption, **self.options)

    def warnings_of_batch(self, panel: Panel) -> tuple[str, ...]:
        """The warning categories that each fit of :meth:`placebo_batch` on ``panel`` raises:
        :attr:`batch_warnings`, and ``FewTreatedClustersWarning`` where the panel's units are
        too few for the level of the default test (which is then kept, never rejecting)."""
        few = ("FewTreatedClustersWarning",) if _unreachable(len(panel.units)) else ()
        return tuple(sorted({*self.batch_warnings, *few}))


def _run_did2x2(panel: Panel, outcome: str, treated: str, adoption: int, **o: Any) -> Any:
    return _did2x2(panel, outcome, treated=[treated], **o)


def _run_twfe(panel: Panel, outcome: str, treated: str, adoption: int, **o: Any) -> Any:
    return _twfe(panel, outcome, **o)


def _run_synth(panel: Panel, outcome: str, treated: str, adoption: int, *,
               starts: PlaceboStarts, **o: Any) -> Any:
    with placebo_starts(starts):  # placebo fits start from the last run's (same numbers)
        return _synth(panel, outcome, treated=treated, start=adoption, **o)


def _run_sdid(panel: Panel, outcome: str, treated: str, adoption: int, **o: Any) -> Any:
    return _sdid(panel, outcome, treated=treated, start=adoption, **o)


def _run_att_gt(panel: Panel, outcome: str, treated: str, adoption: int, *,
                kind: AggregationKind, **o: Any) -> Any:
    return _att_gt(panel, outcome, **o).aggregate(kind)


def _run_event_study(panel: Panel, outcome: str, treated: str, adoption: int, *,
                     event_time: int | None, **o: Any) -> Any:
    es = _event_study(panel, outcome, **o)
    if event_time is None:
        return es  # its overall row: the average post-adoption effect
    row = es.table[es.table["event_time"] == event_time].iloc[0]
    return (float(row["estimate"]), float(row["ci_lower"]), float(row["ci_upper"]),
            float(row["p_value"]))


def _run_ddd(panel: Panel, outcome: str, treated: str, adoption: int, **o: Any) -> Any:
    return _ddd(panel, outcome, treated=[treated], **o)


def _run_permutation_did2x2(panel: Panel, outcome: str, treated: str, adoption: int, *,
                            pre: Sequence[int], post: Sequence[int], **o: Any) -> Any:
    stat = DiD2x2Statistic(outcome, pre=pre, post=post)
    r = permutation_inference(panel, outcome, statistic=stat, treated=[treated],
                              pool=[u for u in panel.units if u != treated], **o)
    return r.estimate, r.ci_lower, r.ci_upper, r.p_value


# -- every placebo unit at once: the permutation 2x2 and TWFE of one treated unit ------------
# With one treated unit and inference="auto", did2x2 and twfe test by permutation over the
# other units: the statistic for every single-unit assignment, and for the treatment pattern D
# (1 for the treated unit from adoption on) to invert the test. For a placebo study on a
# balanced panel without missing outcomes or weights, the outcome part does not depend on which
# unit is the fake treated one, so it is made once; each unit then costs two products with its
# assignment matrix (the same arithmetic, in the same order, as the statistics' own ``batch``)
# and the test inversion. The estimate is the permutation statistic at the actual assignment,
# which the estimators check equals their regression estimate to 1e-8 relative (1e-13 seen).
# A pool too small for the level (1 / n above 1 - conf_level) keeps the test, as the
# estimators do by default: exact p-values, the whole line as interval, and every fit warns
# (FewTreatedClustersWarning), which :meth:`Adapter.warnings_of_batch` declares.
Batch = list[tuple[float, float, float, float]]

#: The level of the estimators' default tests, which the batches reproduce.
ALPHA = 1 - 0.95


def _full(panel: Panel, outcome: str) -> bool:
    """Whether the fast form applies: balanced, no missing outcome, no weight or group, an
    exact permutation."""
    n = len(panel.units)
    return (panel.weight is None and panel.group is None and n <= MAX_EXACT
            and panel.is_balanced and bool(np.isfinite(panel.column(outcome)).all()))


def _unreachable(n: int) -> bool:
    """Whether ``n`` assignments (the actual one among them) cannot reach the level."""
    return 1.0 / n > ALPHA + 1e-12


def _assignments(n: int, i: int) -> np.ndarray:
    """Unit ``i`` treated, then every other single-unit assignment (permutation_inference's
    rows, as floats)."""
    actual = np.zeros(n, dtype=bool)
    actual[i] = True
    z, _ = placebo_assignments(n, 1, actual, None, None)
    return np.asarray(np.vstack([actual[None, :], z]), dtype=float)


def _tested(a_all: np.ndarray, c_all: np.ndarray) -> tuple[float, float, float, float]:
    """Estimate, interval and p-value of permutation_inference (allowing an unreachable
    level) from the statistic of the outcome and of D at the actual (first) and placebo
    assignments."""
    a0, a, c0, c = float(a_all[0]), a_all[1:], float(c_all[0]), c_all[1:]
    lo, hi = (-np.inf, np.inf) if _unreachable(len(a_all)) else _invert(a0, c0, a, c, ALPHA)
    return a0, lo, hi, _pvals(a0, 0.0, a, np.zeros_like(a), 0.0)


def batch_did2x2(panel: Panel, outcome: str, units: Sequence[str], adoption: int, *,
                 pre: Sequence[int], post: Sequence[int], **options: Any) -> Batch | None:
    """:func:`did2x2` with its default inference for each unit of ``units`` (see above)."""
    if options or not _full(panel, outcome):
        return None
    pre_p = check_periods("did2x2", "pre", pre, panel)
    post_p = check_periods("did2x2", "post", post, panel)
    sub = panel.select(periods=pre_p + post_p)
    order = sub.units
    _, d = DiD2x2Statistic(outcome, pre=pre_p, post=post_p).changes(sub)
    d_pattern = (float(np.mean(np.asarray(post_p) >= adoption))
                 - float(np.mean(np.asarray(pre_p) >= adoption)))
    out: Batch = []
    for u in units:
        i = order.index(u)
        z = _assignments(len(order), i)
        k = z.sum(axis=1)
        dd = np.zeros(len(order))
        dd[i] = d_pattern
        a_all = (z @ d) / k - ((1 - z) @ d) / (d.size - k)
        c_all = (z @ dd) / k - ((1 - z) @ dd) / (dd.size - k)
        out.append(_tested(a_all, c_all))
    return out


def batch_twfe(panel: Panel, outcome: str, units: Sequence[str], adoption: int,
               **options: Any) -> Batch | None:
    """:func:`twfe` with its default inference for each unit of ``units`` (see above); the
    closed form of :class:`~evalmodel.estimators.twfe_placebo.TwfeStatistic` on a balanced
    panel."""
    if options or not _full(panel, outcome):
        return None
    order = panel.units
    codes, _ = panel.unit_codes()
    times = panel.periods
    y = np.zeros((len(order), len(times)))
    y[codes, np.searchsorted(times, panel.column(panel.time))] = panel.column(outcome)
    post = (times >= adoption).astype(float)
    share = post.mean()
    g = y @ (post - share)
    n = len(order)
    out: Batch = []
    for u in units:
        i = order.index(u)
        z = _assignments(n, i)
        k = z.sum(axis=1)
        y_d = np.zeros((n, len(times)))
        y_d[i] = post
        g_d = y_d @ (post - share)
        scale = (k - k**2 / n) * post.sum() * (1 - share)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_all = ((z - (k / n)[:, None]) @ g) / scale
            c_all = ((z - (k / n)[:, None]) @ g_d) / scale
        out.append(_tested(a_all, c_all))
    return out


def batch_att_gt(panel: Panel, outcome: str, units: Sequence[str], adoption: int, *,
                 kind: AggregationKind, **options: Any) -> Batch | None:
    """:func:`att_gt` aggregated by ``kind`` with its default (design-based) inference for
    each unit of ``units``.

    With one treated unit the aggregation's test re-assigns the treatment to every other unit
    of the panel, and its vectorised statistic
    (:meth:`~evalmodel.estimators.staggered_placebo.AggregateStatistic.fast_rows`) depends
    on which unit is the fake treated one only through the assignment matrix and the
    treatment pattern D: the cells' weights, the outcome matrix and the unit order are made
    once from one ordinary fit, and each unit costs the statistic of the outcome and of D
    over its assignments (the same arithmetic as the estimator's own test) and the test
    inversion. The estimate is the statistic at the actual assignment, which ``aggregate``
    checks equals its estimate to 1e-7 relative (1e-15 seen).
    """
    from evalmodel.estimators.staggered_placebo import AggregateStatistic

    if options or not units or not _full(panel, outcome):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _att_gt(panel.with_cohorts({units[0]: adoption}), outcome)
    design = res.design
    if design is None or len(design["treated"]) != 1:
        return None
    stat = AggregateStatistic(res, kind, {"balance_e": None, "min_e": -np.inf,
                                          "max_e": np.inf})
    # the sub-panel of permutation_inference: every unit, in the panel's own order
    sub = design["panel"].select(units=sorted(design["treated"] + design["pool"]))
    order = [str(u) for u in sub.units]
    if not stat.fast or sorted(order) != sorted(str(u) for u in panel.units):
        return None
    periods = list(res.periods)
    y = sub.wide(outcome).reindex(index=list(sub.units), columns=periods).to_numpy(float)
    post = (np.asarray(periods) >= adoption).astype(float)
    n = len(order)
    out: Batch = []
    for u in units:
        i = order.index(u)
        cohort = np.where(_assignments(n, i) > 0, adoption, 0).astype(np.int64)
        y_d = np.zeros_like(y)
        y_d[i] = post
        rows_y, rows_d = stat.fast_rows_of([y, y_d], cohort)
        out.append(_tested(rows_y[:, -1], rows_d[:, -1]))
    return out


def batch_event_study(panel: Panel, outcome: str, units: Sequence[str], adoption: int, *,
                      estimator: EventStudyEstimator, event_time: int | None,
                      window: tuple[int, int] = (-4, 4), **options: Any) -> Batch | None:
    """:func:`event_study` with its default (design-based) inference for each unit of
    ``units``: the estimates and post average of every unit, and every placebo, from one set
    of solved systems (:func:`~evalmodel.estimators.event_study_placebo.single_unit_placebos`),
    the same test as the estimator's own up to the order of the sums (the estimates equal
    its fit to about 1e-12 relative)."""
    from evalmodel.estimators.event_study_placebo import single_unit_placebos

    if options or event_time is not None or not units or not _full(panel, outcome):
        return None
    lo, hi = window
    if not lo <= -1 < 0 <= hi:
        return None
    if estimator == "twfe" or not panel.periods[0] < adoption <= panel.periods[-1]:
        return None
    return single_unit_placebos(panel.data, outcome, panel.unit, panel.time,
                                treated=list(units), adoption=adoption, estimator=estimator,
                                window=(lo, hi), reference=-1, anticipation=0,
                                conf_level=0.95)


def did2x2(*, pre: int | Sequence[int], post: int | Sequence[int], **options: Any) -> Adapter:
    """:func:`evalmodel.did2x2` on ``pre`` and ``post`` periods (other options as given)."""
    fn = "calibrate.did2x2"
    return Adapter("did2x2", {"pre": _seq(fn, "pre", pre), "post": _seq(fn, "post", post),
                              **options},
                   run=_run_did2x2, batch=batch_did2x2)


def twfe(**options: Any) -> Adapter:
    """:func:`evalmodel.twfe` (default inference unless ``options`` say otherwise)."""
    return Adapter("twfe", dict(options), run=_run_twfe, batch=batch_twfe)


def synth(**options: Any) -> Adapter:
    """:func:`evalmodel.synth`: the ``"average"`` row, placebo-in-space inference over the
    other units of the panel. Successive calls share placebo starting weights
    (:mod:`evalmodel.inference.placebo_starts`: fewer solver steps, the same numbers)."""
    return Adapter("synth", dict(options), run=partial(_run_synth, starts=PlaceboStarts()))


def sdid(*, seed: int | None = 0, **options: Any) -> Adapter:
    """:func:`evalmodel.sdid` with its default inference; ``seed`` fixes its placebo draws so
    that the study is deterministic."""
    check_seed("calibrate.sdid", seed)
    return Adapter("sdid", {"seed": seed, **options}, run=_run_sdid)


def att_gt(kind: str = "simple", **options: Any) -> Adapter:
    """:func:`evalmodel.att_gt` aggregated by ``kind`` (its ``"overall"`` row).

    With the default ``inference="auto"`` and one treated unit the aggregation's inference is
    design-based (each other comparison unit in turn as the fake treated unit).
    """
    check_option("calibrate.att_gt", "kind", kind, AggregationKind)
    return Adapter(f"att_gt ({kind})", {"kind": kind, **options}, run=_run_att_gt,
                   batch=batch_att_gt, batch_warnings=("SmallCohortWarning",))


def triple_difference(*, target: str, pre: int | Sequence[int], post: int | Sequence[int],
                      **options: Any) -> Adapter:
    """:func:`evalmodel.displacement.triple_difference` (its ``"net"`` row) on a panel with a
    group role, ``target`` naming the target group; with the default ``inference="auto"``
    and one treated unit its inference is design-based (the treatment re-assigned to each
    other unit)."""
    fn = "calibrate.triple_difference"
    return Adapter("triple_difference", {"target": target, "pre": _seq(fn, "pre", pre),
                                         "post": _seq(fn, "post", post), **options},
                   run=_run_ddd)


def event_study(estimator: str = "twfe", *, event_time: int | None = None,
                **options: Any) -> Adapter:
    """:func:`evalmodel.event_study` with ``estimator`` and its default inference.

    The headline is the average of the post-adoption event-time effects in the window
    (:attr:`~evalmodel.EventStudyResult.overall`), or the row of ``event_time`` when given;
    with one treated unit both are tested design-based (each other comparison unit in turn as
    the fake treated unit). ``options`` go to ``event_study`` (``window``, ``inference``, ...).
    """
    check_option("calibrate.event_study", "estimator", estimator, EventStudyEstimator)
    if event_time is not None:
        event_time = check_period("calibrate.event_study", "event_time", event_time,
                                  what="event time")
        lo, hi = options.get("window", (-4, 4))
        if not lo <= event_time <= hi:
            raise EstimationError(f"calibrate.event_study: event_time={event_time!r} is not in "
                                  f"the window ({lo}, {hi}); pick an event time inside it.")
    label = f"event_study ({estimator}" + ("" if event_time is None else f", e={event_time}")
    return Adapter(label + ")", {"estimator": estimator, "event_time": event_time, **options},
                   run=_run_event_study, batch=batch_event_study)


def permutation_did2x2(*, pre: int | Sequence[int], post: int | Sequence[int],
                       n_draws: int | None = None, seed: int | None = None,
                       n_perm: int | None = None) -> Adapter:
    """:func:`evalmodel.permutation_inference` of :class:`evalmodel.DiD2x2Statistic` (the
    report's 2x2 permutation test) over the other units of the panel.

    Parameters
    ----------
    pre, post : int or sequence of int
        Periods of the 2x2 comparison.
    n_draws : int, optional
        Number of placebo assignments (``None``: every assignment when feasible, as in
        :func:`~evalmodel.permutation_inference`).
    seed : int, optional
        Seed of the drawn assignments.
    n_perm : int, optional
        Deprecated old name of ``n_draws`` (warns :class:`DeprecationWarning`).

    Returns
    -------
    Adapter
    """
    fn = "calibrate.permutation_did2x2"
    n_draws = draws_argument(fn, n_draws, default=None, n_perm=n_perm)
    check_seed(fn, seed)
    return Adapter("permutation 2x2", {"pre": _seq(fn, "pre", pre), "post": _seq(fn, "post", post),
                                       "n_draws": n_draws, "seed": seed},
                   run=_run_permutation_did2x2)


def _seq(fn: str, name: str, x: int | Sequence[int]) -> list[int]:
    """``x`` as a list of whole-number periods (``2019.5`` and ``"2019"`` refused)."""
    values = [x] if isinstance(x, str) or not isinstance(x, Sequence) else x
    return [check_period(fn, name, v) for v in values]
