"""The same-month comparison a municipality's own report makes, beside a comparison group.

Linköping's report (seed 003) compares January 2024 with January 2021: 2,087 households
against 2,703, 616 fewer. :func:`january_comparison` puts that comparison on the data: the
treated unit's level in the adoption month and in the same calendar month of the latest year
the data hold, its change and percentage change, beside the same change in the comparison
pool (mean and median) and in Kolada's similar-municipalities group, and the difference
between them (a difference-in-differences on two months). Comparing one calendar month with
the same month of another year keeps the season out of the change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalmodel.cases import Design
from evalmodel.months import calendar_month, month_label
from evalmodel.names import unit_label

__all__ = ["MONTHLY_LABELS", "JanuaryComparison", "january_comparison", "month_name"]

#: What the monthly outcomes count, for sentences; counts (households, recipients) fall by
#: "fewer", other outcomes are "lower".
MONTHLY_LABELS = {"households": "households with assistance",
                  "recipients": "recipients of assistance",
                  "share": "% of inhabitants in households with assistance",
                  "scb_benefits_20_64": "people 20-64 supported by ekonomiskt bistånd (SCB)"}
_COUNTS = ("households", "recipients", "scb_benefits_20_64")

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def month_name(code: int) -> str:
    """The calendar month's English name of a month code (``24252`` -> ``"January"``)."""
    return _MONTHS[int(calendar_month(int(code))) - 1]


@dataclass(frozen=True)
class JanuaryComparison:
    """The same-month comparison of one outcome.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group: ``group``, ``n_units``, ``start``/``end`` (month labels),
        ``start_level``, ``end_level``, ``change``, ``pct_change``, and the treated unit's
        change minus the group's: ``did_change`` (in the outcome's units) and ``did_pct``
        (percentage points). The treated row comes first.
    sentence : str
        The comparison in plain language.
    start, end : int
        Month codes compared.
    notes : tuple of str
        How each row is computed.
    """

    table: pd.DataFrame
    sentence: str
    start: int
    end: int
    notes: tuple[str, ...]


def _row(group: str, units: list[str], a: pd.Series, b: pd.Series, how: str,
         start: int, end: int) -> dict[str, object]:
    """Levels and change of ``units`` between the months: means (``how="mean"``: the change
    of the mean level, in % of its start) or medians (of the levels, of the units' changes
    and of their percentage changes)."""
    a, b = a.loc[units], b.loc[units]
    if how == "mean":
        start_level, end_level = float(a.mean()), float(b.mean())
        change = end_level - start_level
        pct = 100 * change / start_level if start_level else float("nan")
    else:
        start_level, end_level = float(a.median()), float(b.median())
        change = float((b - a).median())
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = float((100 * (b - a) / a).replace([np.inf, -np.inf], np.nan).median())
    return {"group": group, "n_units": len(units), "start": month_label(start),
            "end": month_label(end), "start_level": start_level, "end_level": end_level,
            "change": change, "pct_change": pct}


def january_comparison(design: Design, outcome: str) -> JanuaryComparison | str:
    """The treated unit's ``outcome`` in the adoption month and in the same calendar month of
    the latest year the data hold, beside the comparison pool's and the similar group's.

    Parameters
    ----------
    design : Design
        A case's design on a monthly panel (periods are month codes).
    outcome : str
        A variable of the panel.

    Returns
    -------
    JanuaryComparison or str
        The comparison, or why it cannot be made (no later year with that month, or the
        treated unit's value missing in one of the two months).
    """
    start = int(design.adoption)
    periods = [int(p) for p in design.full_panel.periods]
    same = [p for p in periods if p > start and (p - start) % 12 == 0]
    month = month_name(start)
    if not same:
        return (f"no {month} after {month_label(start)} in the data (last month "
                f"{month_label(periods[-1])}): the {month}-to-{month} comparison needs a "
                "full year after adoption")
    end = same[-1]
    wide = design.full_panel.wide(outcome)
    a, b = wide[start], wide[end]
    treated = list(design.treated)
    missing = [u for u in treated if not (np.isfinite(a[u]) and np.isfinite(b[u]))]
    if missing:
        return (f"{unit_label(missing[0])} has no {outcome} in {month_label(start)} or "
                f"{month_label(end)}")
    complete = set(wide.index[np.isfinite(a) & np.isfinite(b)])
    pool = [u for u in design.comparison if u in complete]
    similar = [u for u in design.case.similar_group if u in complete]
    name = (unit_label(treated[0]) if len(treated) == 1
            else f"{len(treated)} treated units (mean)")
    rows = [_row(name, treated, a, b, "mean", start, end)]
    notes = [f"{month}-to-{month}: {month_label(start)} (the adoption month) against "
             f"{month_label(end)} (the latest {month} in the data); the same calendar month, "
             "so the season does not enter the change."]
    if pool:
        rows.append(_row(f"comparison pool, mean ({design.pool})", pool, a, b, "mean",
                         start, end))
        rows.append(_row(f"comparison pool, median ({design.pool})", pool, a, b, "median",
                         start, end))
        notes.append("Mean rows: the change of the group's mean level and its percentage of "
                     "the start level. Median row: the median level in each month, the "
                     "median of the units' changes and of their percentage changes.")
    if similar:
        rows.append(_row("similar municipalities (Kolada), mean", similar, a, b, "mean",
                         start, end))
        absent = len(design.case.similar_group) - len(similar)
        notes.append(f"Similar municipalities: Kolada's group for the case ({len(similar)} "
                     f"with data in both months{f', {absent} without' if absent else ''}); "
                     "formed in 2023, after adoption.")
    if len(pool) < len(design.comparison):
        notes.append(f"{len(design.comparison) - len(pool)} comparison units lack {outcome} "
                     "in one of the two months and are left out of the group rows.")
    table = pd.DataFrame(rows)
    table["did_change"] = table["change"].iloc[0] - table["change"]
    table["did_pct"] = table["pct_change"].iloc[0] - table["pct_change"]
    table.loc[0, ["did_change", "did_pct"]] = np.nan
    notes.append("did_change: the treated unit's change minus the group's (a "
                 "difference-in-differences on the two months, in the outcome's units); "
                 "did_pct: the same in percentage points of the percentage changes. On counts "
                 "(households, recipients) the groups' levels are of other sizes than the "
                 "treated unit's, so did_pct is the comparison on a common scale.")
    return JanuaryComparison(table=table, sentence=_sentence(table, outcome, start, end),
                             start=start, end=end, notes=tuple(notes))


def _num(x: float) -> str:
    return f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.3g}"


def _sentence(table: pd.DataFrame, outcome: str, start: int, end: int) -> str:
    t = table.iloc[0]
    down, up = ("fewer", "more") if outcome in _COUNTS else ("lower", "higher")
    text = (f"{t['group']}: {t['start_level']:,.6g} {MONTHLY_LABELS.get(outcome, outcome)} in "
            f"{month_label(start)} and {t['end_level']:,.6g} in {month_label(end)}, "
            f"{abs(t['change']):,.6g} {down if t['change'] < 0 else up} "
            f"({t['pct_change']:+.1f} %).")
    if len(table) > 1:
        c = table.iloc[1]
        text += (f" Over the same months the comparison pool's mean changed by "
                 f"{c['pct_change']:+.1f} % ({c['n_units']} units), so the treated unit's "
                 f"change differs from it by {c['did_pct']:+.1f} percentage points "
                 f"({_num(c['did_change'])} in level).")
    return text
