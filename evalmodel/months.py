"""Monthly periods as integer codes: one rule for the whole package.

A monthly panel keeps its periods as integers inside, so that every estimator that works on
years works on months unchanged and event time counts months. The code of a month is
``12 * year + (month - 1)``: January 2021 is ``24252``, December 2020 is ``24251``. Outside,
a month is shown by its label ``"2021-01"``. The codes are stateless (no table of the panel's
months is needed to read them back), sortable, and one apart for adjacent months.

>>> from evalmodel.months import month_code, month_label, calendar_month, parse_month
>>> month_code(2021, 1)
24252
>>> month_label(24252), calendar_month(24252)
('2021-01', 1)
>>> parse_month("2021M01") == parse_month("2021-01") == 24252
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FREQUENCIES", "calendar_month", "month_code", "month_label", "month_labels",
           "parse_month", "period_label", "period_labels", "period_span", "year_of"]

#: Period frequencies a panel may have.
FREQUENCIES = ("year", "month")

#: ``2021-01``, ``2021M01``, ``2021-1``, ``2021M1`` (SCB writes ``2021M01``).
MONTH_TEXT = re.compile(r"^\s*(\d{4})\s*(?:-|M|m)\s*(\d{1,2})\s*$")


def month_code(year: int, month: int) -> int:
    """The integer code of ``month`` (1-12) of ``year``: ``12 * year + month - 1``."""
    if not 1 <= int(month) <= 12:
        raise ValueError(f"month={month!r} is not a calendar month (1-12)")
    return 12 * int(year) + int(month) - 1


def year_of(code: Any) -> Any:
    """The calendar year of a month code (works elementwise on arrays)."""
    return np.floor_divide(code, 12) if isinstance(code, np.ndarray) else int(code) // 12


def calendar_month(code: Any) -> Any:
    """The calendar month (1-12) of a month code (works elementwise on arrays)."""
    return np.mod(code, 12) + 1 if isinstance(code, np.ndarray) else int(code) % 12 + 1


def month_label(code: int) -> str:
    """The label ``"YYYY-MM"`` of a month code."""
    c = int(code)
    return f"{c // 12:04d}-{c % 12 + 1:02d}"


def month_labels(codes: Iterable[int]) -> list[str]:
    """Labels of several month codes."""
    return [month_label(c) for c in codes]


def period_label(period: Any, frequency: str = "year") -> str:
    """A period as a reader sees it: the label ``"2021-01"`` of a month code when ``frequency``
    is ``"month"``, else the year as written (``"2021"``).

    This is the one rule for every message, note, summary and figure: periods are integer
    codes inside and labels outside. A missing period (None or NaN) is the empty string.

    >>> period_label(24252, "month"), period_label(2021), period_label(2021, "year")
    ('2021-01', '2021', '2021')
    """
    if period is None or pd.isna(period):
        return ""
    return month_label(int(period)) if frequency == "month" else str(int(period))


def period_labels(periods: Iterable[Any], frequency: str = "year") -> list[str]:
    """Labels (:func:`period_label`) of several periods."""
    return [period_label(p, frequency) for p in periods]


def period_span(first: Any, last: Any, frequency: str = "year") -> str:
    """A range of periods as text: ``"2021-01-2021-12"`` for months, ``"2010-2015"`` for
    years (the form annual messages have always had).

    >>> period_span(24252, 24263, "month"), period_span(2010, 2015)
    ('2021-01-2021-12', '2010-2015')
    """
    return f"{period_label(first, frequency)}-{period_label(last, frequency)}"


def parse_month(value: Any) -> int | None:
    """The month code of one month written as text, a pandas Period[M] or a month-start date;
    ``None`` when ``value`` is not a month in one of those forms.

    Text: ``"2021-01"``, ``"2021M01"`` (SCB), ``"2021-1"``. A date counts only on the first of
    its month (a date within the month is ambiguous: a day, not a month).
    """
    if isinstance(value, str):
        m = MONTH_TEXT.match(value)
        if m is None or not 1 <= int(m.group(2)) <= 12:
            return None
        return month_code(int(m.group(1)), int(m.group(2)))
    if isinstance(value, pd.Period):
        if value.freqstr.startswith("M"):
            return month_code(value.year, value.month)
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        if pd.isna(ts) or ts.day != 1 or ts != ts.normalize():
            return None
        return month_code(ts.year, ts.month)
    return None
