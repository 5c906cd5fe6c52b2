"""Coverage of real series and the estimation window that follows from it.

Real Kolada series have scattered holes, series that start late (N03921 from 2010) and series
that cover only part of the municipalities in some years (N31910 before 2020). The estimators
refuse missing cells on purpose; this module decides, in the open, which periods and which
comparison units an analysis of one outcome can use:

1. **Years with data**: periods in which at least ``min_coverage`` of the comparison pool has a
   value. The window is the run of such years that contains the adoption period and the
   period before it.
2. **The treated units** must have every cell of the window. A missing treated cell is a
   :class:`~evalmodel.errors.MissingCellError` naming it (``treated_gaps="error"``), or, when
   asked, an interior single-period gap is filled by linear interpolation
   (``treated_gaps="fill"``, each filled cell listed), or the window is shortened to the run
   of periods around adoption where the treated units are complete (``treated_gaps="trim"``).
   Interpolation knows nothing of series breaks: a gap next to a break is filled with a value
   between two definitions (biased by about half the break), so the report trims instead.
3. **Donors**: comparison units complete over the window are kept; the others are left out,
   counted and listed.
4. The window is **testable** when it keeps at least ``min_pre`` periods before adoption,
   ``min_post`` from it and ``min_donors`` donors; otherwise :attr:`EstimationWindow.reason`
   says why not.

>>> import evalmodel as em
>>> panel = em.datasets.simulated()
>>> w = em.estimation_window(panel, "N31814", treated=["1287"], pool=panel.units[:50],
...                          adoption=2010)
>>> w.testable, w.periods[0], w.periods[-1], len(w.donors)
(True, 1998, 2024, 49)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evalmodel.errors import DesignError, MissingCellError
from evalmodel.months import period_label, period_span
from evalmodel.panel import Panel
from evalmodel.vocabulary import TreatedGaps, check_option, check_period

__all__ = [
    "MIN_COVERAGE",
    "MIN_DONORS",
    "MIN_PRE",
    "EstimationWindow",
    "TreatedGaps",
    "coverage",
    "estimation_window",
    "runs",
    "span",
]

#: Share of the comparison pool that must have a value for a period to count as a year with data.
MIN_COVERAGE = 0.8
#: Periods before adoption an estimation window needs.
MIN_PRE = 2
#: Comparison units an estimation window needs.
MIN_DONORS = 5


def coverage(panel: Panel, outcome: str, units: Sequence[str] | None = None) -> pd.DataFrame:
    """Units with a value of ``outcome`` in each period.

    Parameters
    ----------
    panel : Panel
        The panel.
    outcome : str
        A variable of the panel.
    units : sequence of str, optional
        Count only these units (default: all of the panel's).

    Returns
    -------
    pandas.DataFrame
        One row per period of the panel: ``period``, ``n_units`` (units with a value),
        ``n_total`` (units counted) and ``share``.
    """
    wide = _wide(panel, outcome, units)
    n = wide.notna().sum(axis=0)
    total = wide.shape[0]
    return pd.DataFrame({"period": wide.columns.astype("int64"), "n_units": n.to_numpy(),
                         "n_total": total, "share": n.to_numpy() / max(total, 1)})


def runs(periods: Iterable[int], *, cuts: Iterable[int] = ()) -> list[tuple[int, int]]:
    """Maximal runs of consecutive integers, as ``(first, last)`` pairs; a period in ``cuts``
    starts a new run.

    >>> runs([2001, 2002, 2003, 2007, 2008, 2010])
    [(2001, 2003), (2007, 2008), (2010, 2010)]
    >>> runs([2001, 2002, 2003], cuts=[2002])
    [(2001, 2001), (2002, 2003)]
    """
    ps = sorted({int(p) for p in periods})
    starts = {int(c) for c in cuts}
    out: list[tuple[int, int]] = []
    for p in ps:
        if out and p == out[-1][1] + 1 and p not in starts:
            out[-1] = (out[-1][0], p)
        else:
            out.append((p, p))
    return out


def _wide(panel: Panel, outcome: str, units: Sequence[str] | None) -> pd.DataFrame:
    wide = panel.wide(outcome)
    wide = wide.reindex(columns=panel.periods)
    if units is not None:
        wide = wide.reindex(index=[str(u) for u in units])
    return wide


def span(periods: Sequence[int], frequency: str = "year") -> str:
    """Periods as runs: ``"2001-2003, 2007, 2010-2012"``; months by their labels
    (``"2020-01-2020-06, 2021-01"``) when ``frequency="month"``."""
    return ", ".join(period_label(a, frequency) if a == b else period_span(a, b, frequency)
                     for a, b in runs(periods))


def _spans(cells: Sequence[tuple[str, int]], frequency: str = "year") -> str:
    by_unit: dict[str, list[int]] = {}
    for u, p in cells:
        by_unit.setdefault(u, []).append(p)
    return "; ".join(f"{u} in {span(ps, frequency)}" for u, ps in by_unit.items())


@dataclass(frozen=True)
class EstimationWindow:
    """The periods and comparison units an analysis of one outcome can use.

    Attributes
    ----------
    outcome : str
        The outcome.
    adoption : int
        First treated period.
    periods : tuple of int
        The window's periods (consecutive), empty when not testable for lack of data.
    pre, post : tuple of int
        Periods before and from adoption within the window.
    treated : tuple of str
        Treated units.
    donors : tuple of str
        Comparison units with every cell of the window.
    dropped : tuple of (str, int)
        Comparison units left out, with their number of missing cells in the window.
    filled : tuple of (str, int, float)
        Treated cells filled by interpolation: unit, period, value.
    years_with_data : tuple of int
        Periods in which at least ``min_coverage`` of the pool has a value.
    reason : str
        Why the window is not testable ("" when it is).
    decisions : tuple of str
        Each decision in one sentence, for notes and reports (months written ``"2021-01"``).
    frequency : str
        The panel's frequency, ``"year"`` or ``"month"`` (the periods are then month codes).
    """

    outcome: str
    adoption: int
    periods: tuple[int, ...]
    pre: tuple[int, ...]
    post: tuple[int, ...]
    treated: tuple[str, ...]
    donors: tuple[str, ...]
    dropped: tuple[tuple[str, int], ...] = ()
    filled: tuple[tuple[str, int, float], ...] = ()
    years_with_data: tuple[int, ...] = ()
    reason: str = ""
    decisions: tuple[str, ...] = field(default_factory=tuple)
    frequency: str = "year"

    @property
    def testable(self) -> bool:
        """Whether the window supports an estimate (enough periods and donors)."""
        return not self.reason

    def table(self) -> pd.DataFrame:
        """One row describing the window (for reports)."""
        span = (period_span(self.periods[0], self.periods[-1], self.frequency)
                if self.periods else "")
        return pd.DataFrame([{
            "outcome": self.outcome, "window": span, "n_pre": len(self.pre),
            "n_post": len(self.post), "donors": len(self.donors),
            "donors_left_out": len(self.dropped), "cells_filled": len(self.filled),
            "testable": self.testable, "reason": self.reason}])


def _check_args(min_coverage: float, treated_gaps: str, min_pre: int, min_post: int,
                min_donors: int) -> None:
    if not 0 < min_coverage <= 1:
        raise DesignError(f"estimation_window: min_coverage={min_coverage!r} must be in (0, 1]; "
                          "e.g. 0.8 for periods where 80 % of the pool has data.")
    check_option("estimation_window", "treated_gaps", treated_gaps, TreatedGaps,
                 error=DesignError)
    for name, v, lo in (("min_pre", min_pre, 1), ("min_post", min_post, 1),
                        ("min_donors", min_donors, 1)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
            raise DesignError(f"estimation_window: {name}={v!r} must be an integer >= {lo}.")


def _fill_interior(row: pd.Series) -> list[tuple[int, float]]:
    """Interior single-period gaps of one unit and their interpolated values."""
    v = row.to_numpy(float)
    out = []
    for j in range(1, len(v) - 1):
        if np.isnan(v[j]) and not np.isnan(v[j - 1]) and not np.isnan(v[j + 1]):
            out.append((int(row.index[j]), float((v[j - 1] + v[j + 1]) / 2)))
    return out


def estimation_window(
    panel: Panel,
    outcome: str,
    *,
    treated: Sequence[str],
    pool: Sequence[str],
    adoption: int,
    min_coverage: float = MIN_COVERAGE,
    treated_gaps: TreatedGaps = "error",
    min_pre: int = MIN_PRE,
    min_post: int = 1,
    min_donors: int = MIN_DONORS,
) -> EstimationWindow:
    """Decide the periods and donors an analysis of ``outcome`` can use (see module notes).

    Parameters
    ----------
    panel : Panel
        Panel holding the treated and pool units.
    outcome : str
        The outcome.
    treated, pool : sequence of str
        Treated units and the comparison pool.
    adoption : int
        First treated period.
    min_coverage : float
        Share of the pool that makes a period a year with data (default 0.8).
    treated_gaps : {"error", "fill", "trim"}
        What a missing treated cell inside the window does: raise
        :class:`~evalmodel.errors.MissingCellError` (default), fill interior single-period
        gaps by linear interpolation (others still raise), or shorten the window to the
        periods around adoption where the treated units are complete.
    min_pre, min_post, min_donors : int
        What a testable window needs.

    Returns
    -------
    EstimationWindow
        ``reason`` is non-empty when the data cannot support an estimate.

    Raises
    ------
    MissingCellError
        A treated cell is missing inside the window and ``treated_gaps`` does not handle it.
    DesignError
        For bad arguments.
    """
    _check_args(min_coverage, treated_gaps, min_pre, min_post, min_donors)
    panel.check_outcome(outcome)
    treated = tuple(dict.fromkeys(str(u) for u in treated))
    pool = tuple(dict.fromkeys(str(u) for u in pool if str(u) not in set(treated)))
    known = set(panel.units)
    for arg, ids in (("treated", treated), ("pool", pool)):
        unknown = [u for u in ids if u not in known]
        if unknown:
            raise DesignError(f"estimation_window: {arg} has units not in the panel "
                              f"({unknown[:5]}); unit ids are strings such as '0580'.")
    adoption = check_period("estimation_window", "adoption", adoption, panel.periods,
                            error=DesignError, frequency=panel.frequency)
    wide = _wide(panel, outcome, [*treated, *pool])
    cov = wide.loc[list(pool)].notna().mean(axis=0) if pool else wide.notna().mean(axis=0) * 0
    data_years = [int(p) for p in cov.index[cov.to_numpy() >= min_coverage]]
    decisions: list[str] = []
    args = dict(outcome=outcome, adoption=int(adoption), treated=treated,
                years_with_data=tuple(data_years), frequency=panel.frequency)
    freq = panel.frequency  # periods in messages as the reader writes them ("2021-01")

    def show(first: int, last: int | None = None) -> str:
        return (period_label(first, freq) if last is None else
                period_span(first, last, freq))

    def untestable(reason: str, periods: tuple[int, ...] = ()) -> EstimationWindow:
        return EstimationWindow(periods=periods, pre=tuple(p for p in periods if p < adoption),
                                post=tuple(p for p in periods if p >= adoption), donors=(),
                                reason=reason, decisions=(*decisions, reason),
                                **args)  # type: ignore[arg-type]

    if not data_years:
        return untestable(f"{outcome}: no period in which {min_coverage:.0%} of the "
                          f"{len(pool)} comparison units have data")
    run = next(((a, b) for a, b in runs(data_years) if a <= adoption <= b), None)
    if run is None or run[0] > adoption - 1:
        have = span(data_years, freq)
        return untestable(f"{outcome}: the comparison pool has data ({min_coverage:.0%} of units) "
                          f"in {have}, which gives no period before adoption {show(adoption)} and "
                          "the adoption period itself")
    periods = list(range(run[0], run[1] + 1))
    if run != (int(panel.periods[0]), int(panel.periods[-1])):
        decisions.append(f"{outcome}: years with data ({min_coverage:.0%} of the pool or more) "
                         f"around adoption: {show(run[0], run[1])}")
    tw = wide.loc[list(treated), periods]
    filled: list[tuple[str, int, float]] = []
    if tw.isna().any().any() and treated_gaps == "fill":
        for u in treated:
            for p, v in _fill_interior(pd.Series(tw.loc[u])):
                tw.loc[u, p] = v
                filled.append((u, p, v))
        if filled:
            decisions.append(f"{outcome}: {len(filled)} interior single-year gaps of the treated "
                             f"filled by linear interpolation "
                             f"({_spans([(u, p) for u, p, _ in filled], freq)})")
    holes = [(tw.index[i], int(tw.columns[j])) for i, j in
             zip(*np.nonzero(tw.isna().to_numpy()), strict=True)]
    if holes:
        where = _spans(holes, freq)
        if treated_gaps != "trim":
            hint = ("these gaps are not interior single-year gaps, so they cannot be filled; "
                    if treated_gaps == "fill" else
                    "pass treated_gaps='fill' to interpolate interior single-year gaps, ")
            raise MissingCellError(
                f"estimation_window: treated unit {where} has no {outcome} value inside the "
                f"window {show(periods[0], periods[-1])}; {hint}treated_gaps='trim' to shorten the "
                "window, or choose another outcome."
            )
        missing = {p for _, p in holes}
        lo = max([p + 1 for p in missing if p < adoption], default=periods[0])
        hi = min([p - 1 for p in missing if p >= adoption], default=periods[-1])
        decisions.append(f"{outcome}: the treated unit lacks {where}; window shortened to "
                         f"{show(lo, hi)}" if lo <= hi else f"{outcome}: the treated unit lacks "
                         f"{where}")
        if hi < adoption:
            return untestable(f"{outcome}: the treated unit has no value in the adoption period "
                              f"{show(adoption)}")
        periods = list(range(lo, hi + 1))
    pre = tuple(p for p in periods if p < adoption)
    post = tuple(p for p in periods if p >= adoption)
    n_miss = wide.loc[list(pool), periods].isna().sum(axis=1)
    counts = n_miss.to_numpy()  # one count per pool entry, in pool order (.loc keeps it)
    donors = tuple(u for u, c in zip(pool, counts, strict=True) if c == 0)
    dropped = tuple((u, int(c)) for u, c in zip(pool, counts, strict=True) if c)
    if dropped:
        decisions.append(f"{outcome}: {len(dropped)} of {len(pool)} comparison units lack some "
                         f"of {show(periods[0], periods[-1])} and are left out ("
                         + ", ".join(u for u, _ in dropped[:12])
                         + (", ..." if len(dropped) > 12 else "") + ")")
    reason = ""
    if len(pre) < min_pre:
        reason = (f"{outcome}: only {len(pre)} period(s) with data before adoption "
                  f"{show(adoption)} ({show(periods[0], periods[-1])}); at least {min_pre} are "
                  "needed")
    elif len(post) < min_post:
        reason = (f"{outcome}: fewer than {min_post} periods with data from adoption "
                  f"{show(adoption)}")
    elif len(donors) < min_donors:
        reason = (f"{outcome}: only {len(donors)} comparison units are complete over "
                  f"{show(periods[0], periods[-1])}; at least {min_donors} are needed")
    if reason:
        decisions.append(reason)
    return EstimationWindow(periods=tuple(periods), pre=pre, post=post, donors=donors,
                            dropped=dropped, filled=tuple(filled), reason=reason,
                            decisions=tuple(decisions), **args)  # type: ignore[arg-type]
