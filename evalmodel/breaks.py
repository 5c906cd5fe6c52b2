"""Series breaks: Kolada's announced revisions and a robust detector of level shifts.

A change of definition, method or precision shifts a series' whole cross-section at once. Two
sources of knowledge are kept apart here:

- **Announced** breaks (:data:`KNOWN_BREAKS`): revisions that Kolada's own KPI definitions
  announce, plus the 2009/2010 seam of N31814 seen in the real extract. :data:`SERIES_BREAKS`
  is the subset that :func:`~evalmodel.data.kolada_panel` warns about. Both are kept in
  :mod:`evalmodel.known_breaks` (which the data readers import without the detector) and are
  importable from here.
- **Detected** breaks (:func:`detect_breaks`): periods where the comparison pool's typical
  unit-level change is far outside the series' usual year-to-year variation.

**The detector.** For each pair of consecutive periods ``t-1, t`` the statistic is ``m_t``, the
median over the units observed in both periods of ``y[i, t] - y[i, t-1]`` (units entering or
leaving the pool do not move it). A level shift at ``t`` is a spike in ``m_t`` alone, while
common shocks (the business cycle) move ``m_t`` in runs of years, so each ``m_t`` is compared
with a *local* expectation, the median of the four nearest other tested changes (two on each
side where they exist): ``r_t = m_t - median(m_{t-2}, m_{t-1}, m_{t+1}, m_{t+2})``. Its robust
z is

    ``z_t = (r_t - median_{s != t} r_s) / Qn_{s != t}(r_s)``,

leave-one-out, so a break does not mask itself. ``Qn`` is the scale estimator of Rousseeuw and
Croux (1993) with the finite-sample factors of Croux and Rousseeuw (1992): as robust as the MAD
(50 % breakdown) but far less noisy on the 10-30 changes a Kolada series has (82 % against 37 %
Gaussian efficiency). With ``n`` other years, ``z_t`` still has heavier tails than a normal
(close to a Student-t with ``0.7 n - 1.4`` degrees of freedom, fitted by simulation), so the
reported ``score`` is its normal equivalent, ``Phi^{-1}(T(z_t))``: a threshold then means the
same tail probability per tested change whatever the length of the series. A change is
flagged when ``|score| > threshold`` (default :data:`THRESHOLD` = 3.3, a two-sided 0.001 per
change).

Measured on simulated panels (``tests/test_breaks.py``: 290 units, AR(1) unit deviations whose
changes have standard deviation 3.6, common changes AR(1) with autocorrelation 0.5 and
standard deviation ``s`` = 1.2, the sizes of N31814; 3 % of cells missing; 1,000 series each),
the share of series with any flag and no break is 1.4-2.3 % for 21-27 changes and 0.5-1.5 %
for 8-12 changes (with t(5) common shocks, heavier-tailed as in 2009 or 2020: 5 % and 9 % for
21 and 27 changes). A shift at a known period is flagged there, in series of 21 changes, in
22 %, 51 %, 77 %, 93 % and 99.6 % of series for shifts of 3, 4, 5, 6 and 8 ``s`` (the same at
the first and last change); in series of 12 changes, in 8 %, 20 %, 38 %, 56 % and 85 %.
The detector cannot tell a change of definition from a genuine large common shock (2009,
2020): read a flag together with the announced revisions.

Changes are raw differences in the series' own unit, also for percentages and counts: the
score is free of the series' scale and location, and the median is robust to municipalities'
different sizes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evalmodel.coverage import runs
from evalmodel.errors import DesignError
from evalmodel.known_breaks import (
    KNOWN_BREAKS,
    SERIES_BREAKS,
    SeriesBreak,
    series_break_notes,
)
from evalmodel.panel import Panel
from evalmodel.vocabulary import BreakKind

__all__ = [
    "KNOWN_BREAKS",
    "MIN_CHANGES",
    "SERIES_BREAKS",
    "THRESHOLD",
    "BreakFinding",
    "BreakScan",
    "SeriesBreak",
    "clean_windows",
    "detect_breaks",
    "series_break_notes",
    "series_breaks",
]

#: Default ``|score|`` above which :func:`detect_breaks` flags a period: a two-sided tail
#: probability of about 0.001 per tested change.
THRESHOLD = 3.3
#: Fewest tested changes (pairs of consecutive periods with ``min_units`` units) a series needs
#: before any of them is scored: with fewer, the reference scale rests on too few years.
MIN_CHANGES = 8
#: Number of nearest other tested changes whose median is a change's local expectation.
NEIGHBOURS = 4
#: Degrees of freedom ``DOF_SLOPE * n + DOF_INTERCEPT`` of the Student-t that the robust z of a
#: change follows, with ``n`` other tested changes, when there is no break (fitted on 30,000
#: simulated series per length, 7 to 32 changes, common changes AR(1) with autocorrelation 0.5;
#: independent changes give slightly lighter tails, so the fit errs towards fewer flags).
DOF_SLOPE = 0.7
DOF_INTERCEPT = -1.4

_QN_CONSTANT = 2.21914  # 1 / (sqrt(2) * Phi^{-1}(5/8)): Qn is consistent for sigma at the normal
_QN_SMALL = (0.0, 0.0, 0.399, 0.994, 0.512, 0.844, 0.611, 0.857, 0.669, 0.872)


# -- the detector --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BreakScan:
    """The level-shift scan of one outcome over a pool of units.

    Attributes
    ----------
    outcome : str
        The variable scanned.
    table : pandas.DataFrame
        One row per pair of consecutive periods ``t-1, t``, with columns
        ``period`` (``t``, the first period of the new level), ``n_units`` (units observed in
        both), ``median_change`` (median of their changes), ``expected`` (median of the nearest
        other tested changes), ``robust_z`` (leave-one-out robust z of ``median_change -
        expected``), ``score`` (its normal equivalent; NaN when not tested), ``flagged`` and
        ``note`` (why a row was not tested).
    breaks : tuple of int
        The flagged periods.
    threshold : float
        The ``|score|`` above which a period is flagged.
    min_units : int
        Fewest units observed in both periods for a change to be tested.
    """

    outcome: str
    table: pd.DataFrame
    breaks: tuple[int, ...]
    threshold: float
    min_units: int

    def describe(self) -> str:
        """One line: what was tested and what was flagged."""
        t = self.table
        tested = t[t["score"].notna()]
        if tested.empty:
            why = t["note"].iloc[0] if len(t) else "no pair of consecutive periods"
            return f"{self.outcome}: no change tested ({why})."
        span = f"{int(tested['period'].min()) - 1}-{int(tested['period'].max())}"
        units = f"{int(tested['n_units'].min())}-{int(tested['n_units'].max())} units"
        head = f"{self.outcome}: {len(tested)} of {len(t)} year-to-year changes tested ({span}, "
        head += f"{units})"
        if not self.breaks:
            return f"{head}; no level shift with |score| > {self.threshold:g}."
        flags = ", ".join(
            f"{p} ({s:+.1f})"
            for p, s in zip(
                tested.loc[tested["flagged"], "period"],
                tested.loc[tested["flagged"], "score"],
                strict=True,
            )
        )
        return f"{head}; level shift with |score| > {self.threshold:g} at {flags}."


def _qn_factor(n: int) -> float:
    """Finite-sample correction of Qn (Croux and Rousseeuw 1992)."""
    if n < len(_QN_SMALL):
        return _QN_SMALL[n]
    return n / (n + 1.4) if n % 2 else n / (n + 3.8)


def _qn_rows(x: np.ndarray) -> np.ndarray:
    """Qn scale of each row of ``x`` (rows of equal length ``n >= 2``)."""
    n = x.shape[1]
    i, j = np.triu_indices(n, 1)
    diffs = np.sort(np.abs(x[:, i] - x[:, j]), axis=1)
    h = n // 2 + 1
    k = h * (h - 1) // 2
    return _QN_CONSTANT * _qn_factor(n) * diffs[:, k - 1]


def _pool_wide(panel: Panel, outcome: str, units: Iterable[str] | None) -> pd.DataFrame:
    """The outcome as units x every integer period between the first and last observed."""
    panel.check_outcome(outcome)
    wide = panel.wide(outcome)
    if units is not None:
        wanted = list(dict.fromkeys(str(u) for u in units))
        missing = [u for u in wanted if u not in wide.index]
        if missing:
            raise DesignError(
                f"units: {len(missing)} ids are not units of the panel (e.g. {missing[0]!r}); "
                "pass unit ids as strings with their leading zeros, e.g. '0580'."
            )
        if not wanted:
            raise DesignError("units: the pool is empty; pass at least one unit id.")
        wide = wide.loc[wanted]
    seen = wide.columns[wide.notna().any(axis=0).to_numpy()]
    if len(seen) == 0:
        return wide.iloc[:, :0]
    cols = range(int(seen.min()), int(seen.max()) + 1)
    return wide.reindex(columns=cols)


def _nearest(periods: np.ndarray, k: int) -> np.ndarray:
    """For each position, the positions of the ``k`` nearest other periods (earlier on ties)."""
    dist = np.abs(periods[:, None] - periods[None, :]).astype(float)
    later = periods[None, :] > periods[:, None]
    key = 2.0 * dist + later  # ties in distance: the earlier period first
    np.fill_diagonal(key, np.inf)
    return np.argsort(key, axis=1, kind="stable")[:, :k]


def _dof(n_others: int) -> float:
    """Degrees of freedom of the Student-t reference of a robust z on ``n_others`` years."""
    return max(DOF_SLOPE * n_others + DOF_INTERCEPT, 1.0)


def _scores(
    x: np.ndarray, periods: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Local expectation, robust z, score and whether the scale vanished, per change."""
    m = len(x)
    nb = _nearest(periods, min(NEIGHBOURS, m - 1))
    expected = np.median(x[nb], axis=1)
    resid = x - expected
    others = np.broadcast_to(resid, (m, m))[~np.eye(m, dtype=bool)].reshape(m, m - 1)
    centre = np.median(others, axis=1)
    scale = _qn_rows(others)
    flat = ~(scale > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(flat, np.nan, (resid - centre) / np.where(flat, 1.0, scale))
    score = np.sign(z) * stats.norm.isf(stats.t.sf(np.abs(z), _dof(m - 1)))
    return expected, z, score, flat


def detect_breaks(
    panel: Panel,
    outcome: str,
    *,
    units: Iterable[str] | None = None,
    threshold: float = THRESHOLD,
    min_units: int = 20,
    min_changes: int = MIN_CHANGES,
) -> BreakScan:
    """Scan an outcome for level shifts in the pool's cross-sectional distribution.

    For each pair of consecutive periods, the median change of the units observed in both is
    compared with the median of the nearest other years' median changes; the difference is
    scored against the other years' differences (leave-one-out median and Qn scale, converted
    to a normal-equivalent score) and a period is flagged when ``|score| > threshold``. See the
    module notes for the statistic and its measured false-alarm rate and power.

    Parameters
    ----------
    panel : Panel
        The panel (no group role).
    outcome : str
        The variable to scan.
    units : iterable of str, optional
        Restrict to this pool (e.g. a case's comparison units); default every unit.
    threshold : float
        Flag a period when ``|score|`` exceeds it (default 3.3, a two-sided tail probability
        of 0.001 per tested change).
    min_units : int
        A change is tested only when at least this many units are observed in both periods;
        other rows keep their median change, with a NaN score and a note.
    min_changes : int
        Fewest tested changes the series needs before any is scored (default 8).

    Returns
    -------
    BreakScan
        The table of changes and scores and the flagged periods.

    Raises
    ------
    PanelError
        If ``outcome`` is not a variable of the panel.
    DesignError
        If ``units`` names ids that are not units of the panel, or an option is out of range.
    """
    _check_options(threshold, min_units, min_changes)
    return _scan(_pool_wide(panel, outcome, units), outcome, threshold, min_units, min_changes)


def _check_options(threshold: float, min_units: int, min_changes: int) -> None:
    ok = isinstance(threshold, int | float) and not isinstance(threshold, bool)
    if not (ok and math.isfinite(threshold) and threshold > 0):
        raise DesignError(f"threshold must be a positive number such as 4.0; got {threshold!r}.")
    for name, value, low in (("min_units", min_units, 1), ("min_changes", min_changes, 3)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise DesignError(f"{name} must be an integer >= {low}; got {value!r}.")


def _scan(
    wide: pd.DataFrame, outcome: str, threshold: float, min_units: int, min_changes: int
) -> BreakScan:
    """:func:`detect_breaks` on the pool's outcome as units x consecutive periods."""
    y = wide.to_numpy(dtype=float)
    periods = np.asarray(wide.columns, dtype=np.int64)[1:]
    change = y[:, 1:] - y[:, :-1]
    n = np.sum(~np.isnan(change), axis=0)
    med = np.full(len(periods), np.nan)
    if (n > 0).any():
        med[n > 0] = np.nanmedian(change[:, n > 0], axis=0)
    expected = np.full(len(periods), np.nan)
    robust_z = np.full(len(periods), np.nan)
    score = np.full(len(periods), np.nan)
    note = np.full(len(periods), "", dtype=object)
    tested = n >= min_units
    note[~tested] = [
        f"not tested: {k} units in both periods (min_units={min_units})" for k in n[~tested]
    ]
    n_tested = int(tested.sum())
    if 0 < n_tested < min_changes:
        note[tested] = (
            f"not tested: only {n_tested} changes have {min_units}+ units "
            f"(min_changes={min_changes})"
        )
    elif n_tested:
        exp_t, z_t, score_t, flat = _scores(med[tested], periods[tested])
        expected[tested] = exp_t
        robust_z[tested] = z_t
        score[tested] = score_t
        idx = np.flatnonzero(tested)[flat]
        note[idx] = "not scored: the other years' changes do not vary"
    flagged = np.abs(np.nan_to_num(score, nan=0.0)) > threshold
    table = pd.DataFrame(
        {
            "period": periods,
            "n_units": n.astype(np.int64),
            "median_change": med,
            "expected": expected,
            "robust_z": robust_z,
            "score": score,
            "flagged": flagged,
            "note": note.astype(str),
        }
    )
    breaks = tuple(int(p) for p in periods[flagged])
    return BreakScan(outcome, table, breaks, float(threshold), int(min_units))


# -- findings for a window -----------------------------------------------------------------------
@dataclass(frozen=True)
class BreakFinding:
    """One break of an outcome inside a window, detected or announced.

    Attributes
    ----------
    outcome : str
        The variable.
    period : int
        First period of the new level (or definition).
    kind : {"detected", "announced"}
        Flagged by :func:`detect_breaks`, or listed in :data:`KNOWN_BREAKS`.
    note : str
        What was found or what changed.
    score : float
        The detector's score at ``period`` (NaN where that change was not tested).
    """

    outcome: str
    period: int
    kind: BreakKind
    note: str
    score: float


def series_breaks(
    panel: Panel,
    outcome: str,
    *,
    units: Iterable[str] | None = None,
    periods: Iterable[int] | None = None,
    threshold: float = THRESHOLD,
    min_units: int = 20,
    known: Sequence[SeriesBreak] = KNOWN_BREAKS,
) -> tuple[BreakFinding, ...]:
    """Detected and announced breaks of an outcome that fall inside a window.

    The detector runs on every period of the panel (more years give a steadier reference);
    a break at ``p`` is inside the window when both ``p - 1`` and ``p`` are window periods at
    which the pool observes the outcome.

    Parameters
    ----------
    panel : Panel
        The panel.
    outcome : str
        The variable.
    units : iterable of str, optional
        The pool (default every unit).
    periods : iterable of int, optional
        The window (default every period of the panel).
    threshold, min_units
        Passed to :func:`detect_breaks`.
    known : sequence of SeriesBreak
        Announced revisions (default :data:`KNOWN_BREAKS`; ``together`` entries are skipped).

    Returns
    -------
    tuple of BreakFinding
        Sorted by period, detected before announced.
    """
    _check_options(threshold, min_units, MIN_CHANGES)
    wide = _pool_wide(panel, outcome, units)
    scan = _scan(wide, outcome, threshold, min_units, MIN_CHANGES)
    seen = {int(p) for p in wide.columns[wide.notna().any(axis=0).to_numpy()]}
    window = seen if periods is None else seen & {int(p) for p in periods}
    t = scan.table
    rows = {
        int(p): (int(k), float(m), float(e), float(z))
        for p, k, m, e, z in zip(
            t["period"].to_numpy(),
            t["n_units"].to_numpy(),
            t["median_change"].to_numpy(),
            t["expected"].to_numpy(),
            t["score"].to_numpy(),
            strict=True,
        )
    }
    out: list[BreakFinding] = []
    for p in scan.breaks:
        if p in window and p - 1 in window:
            k, m, e, z = rows[p]
            out.append(
                BreakFinding(
                    outcome,
                    p,
                    "detected",
                    f"median change {m:+.4g} against {e:+.4g} expected from the nearest years "
                    f"({k} units; score {z:+.2f}, |score| > {scan.threshold:g})",
                    z,
                )
            )
    for b in known:
        if b.together or outcome not in b.kpis:
            continue
        if b.period in window and b.period - 1 in window:
            z = rows[b.period][3] if b.period in rows else math.nan
            out.append(BreakFinding(outcome, int(b.period), "announced", b.note, z))
    return tuple(sorted(out, key=lambda f: (f.period, f.kind != "detected")))


def clean_windows(
    periods: Iterable[int], breaks: Iterable[int | BreakFinding | SeriesBreak]
) -> list[tuple[int, int]]:
    """Maximal runs of consecutive periods that do not cross a break.

    A break at ``p`` separates ``p - 1`` from ``p``; a missing period separates its neighbours.

    Parameters
    ----------
    periods : iterable of int
        The periods available.
    breaks : iterable of int, BreakFinding or SeriesBreak
        Break periods (first period of the new level).

    Returns
    -------
    list of (int, int)
        ``(first, last)`` of each run, in order; a run may be a single period.

    Examples
    --------
    >>> clean_windows(range(2005, 2016), [2010])
    [(2005, 2009), (2010, 2015)]
    >>> clean_windows([2001, 2002, 2004, 2005], [2005, 1990])
    [(2001, 2002), (2004, 2004), (2005, 2005)]
    """
    cuts = {int(b.period) if isinstance(b, BreakFinding | SeriesBreak) else int(b) for b in breaks}
    return runs(periods, cuts=cuts)
