"""The period column of a panel: integer periods from integers, text, dates or pandas Periods.

A panel's periods are integers: years, or the month codes of :mod:`evalmodel.months` for a
monthly panel. :func:`_to_periods` accepts integer columns as they are and converts, with a
note: months written as text (``"2021-01"``, ``"2021M01"``), monthly pandas Periods or dates on
the first of the month with several per year (their month code, read by
:mod:`evalmodel.panel_months`); text holding whole numbers (``"2019"``), dates that all fall on
one calendar day of their year (``2019-01-01`` or ``2019-12-31``: their year), and annual pandas
Periods (their year). It refuses, naming the column and the value: missing periods, fractions
(``2019.5``), numbers too large to be a period, booleans, durations, complex numbers, daily
dates, quarterly periods and columns mixing years and months. :func:`_calendar_years` holds the
one rule for dates read as years. The cohort column (first treated periods) is read by
:func:`_cohort_years`, in the frequency of the time column, and checked against the periods,
once per unit, by :func:`check_cohort`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalmodel.errors import PanelError
from evalmodel.months import period_label
from evalmodel.panel_columns import Labels, _not_a_period
from evalmodel.panel_months import check_frequency, check_month_codes, months_of

#: Largest magnitude a period may have (floats are exact integers below it).
MAX_PERIOD = 2.0**53

#: Cohort value of a never-treated unit inside a Panel (inputs may use NaN, 0 or inf).
NEVER = 0


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _day(yyyymmdd: int) -> str:
    """``MM-DD`` of a date coded as yyyymmdd (or mmdd)."""
    return f"{yyyymmdd // 100 % 100:02d}-{yyyymmdd % 100:02d}"


def _calendar_years(stamps: pd.Series, col: str, notes: list[str]) -> pd.Series:
    """The year of each date (NaN where missing), when every date falls on one calendar day.

    Annual data written as dates (``2019-01-01``, or year-end ``2019-12-31``) become their
    year, with a note. Several dates in one year, or years dated on different days, are
    refused here: month-start dates are read as months before (:mod:`evalmodel.panel_months`)
    unless the panel was declared annual.
    """
    ok = stamps.notna().to_numpy()
    year = stamps.dt.year.to_numpy(dtype=float, na_value=np.nan)
    if not ok.any():
        return pd.Series(year, index=stamps.index)
    month_day = (stamps.dt.month * 100 + stamps.dt.day).to_numpy(dtype=float, na_value=np.nan)
    dated = np.unique(year[ok] * 10000 + month_day[ok]).astype(np.int64)  # yyyymmdd, sorted
    same_year = np.flatnonzero(dated[1:] // 10000 == dated[:-1] // 10000)
    if len(same_year):
        y = int(dated[same_year[0]] // 10000)
        days = [_day(d) for d in dated[dated // 10000 == y][:3]]
        raise PanelError(
            f"Panel: time column {col!r} holds several dates within one year (e.g. {y}: "
            f"{', '.join(days)}) but the panel is annual: aggregate to "
            f"years first (for example df.groupby([unit, df[{col!r}].dt.year]).mean()), or "
            f"keep one date per year; month-start dates make a monthly panel without "
            f"frequency='year'."
        )
    days = [_day(d) for d in np.unique(dated % 10000)]
    if len(days) > 1:
        raise PanelError(
            f"Panel: time column {col!r} dates its years on different calendar days "
            f"({', '.join(days[:3])}); a date stands for its year only when every year is "
            f"dated on the same day: pass the year itself (df[{col!r}].dt.year)."
        )
    notes.append(f"time column {col!r}: {int(ok.sum())} dates (all on {days[0]}) "
                 "converted to their year")
    return pd.Series(year, index=stamps.index)


def _dates_as_years(s: pd.Series, col: str, notes: list[str]) -> pd.Series | None:
    """Years of a column of dates or pandas Periods (float, NaN where missing); None when the
    column holds neither. Durations and non-annual Periods are handled here too."""
    if isinstance(s.dtype, pd.PeriodDtype):
        if isinstance(s.dtype.freq, pd.offsets.YearEnd):
            years = s.dt.year.to_numpy(dtype=float, na_value=np.nan)
            notes.append(f"time column {col!r}: {int(s.notna().sum())} annual periods "
                         "converted to their year")
            return pd.Series(years, index=s.index)
        return _calendar_years(s.dt.start_time, col, notes)
    if pd.api.types.is_timedelta64_dtype(s):
        raise PanelError(
            f"Panel: time column {col!r} holds durations (e.g. {s.iloc[0]}), not periods; pass "
            "integer periods such as years."
        )
    if pd.api.types.is_datetime64_any_dtype(s):
        return _calendar_years(s, col, notes)
    if pd.api.types.is_object_dtype(s):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind in ("datetime", "datetime64", "date"):
            return _calendar_years(pd.Series(pd.to_datetime(s, utc=False)), col, notes)
        if kind == "period":
            try:
                periods = pd.Series(pd.PeriodIndex(s), index=s.index)
            except (TypeError, ValueError) as e:  # Periods of several frequencies
                raise PanelError(
                    f"Panel: time column {col!r} holds pandas Periods of different frequencies "
                    f"({e}); pass integer periods such as years."
                ) from None
            return _dates_as_years(periods, col, notes)
    return None


def _refuse_kind(s: pd.Series, col: str) -> None:
    """Raise for booleans and complex numbers, which no conversion makes periods."""
    what = ("booleans" if pd.api.types.is_bool_dtype(s) else
            "complex numbers" if pd.api.types.is_complex_dtype(s) else None)
    if what is None and pd.api.types.is_object_dtype(s):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        what = {"boolean": "booleans", "complex": "complex numbers",
                "timedelta": "durations"}.get(kind)
    if what is not None:
        raise PanelError(
            f"Panel: time column {col!r} holds {what} (e.g. {_show(s.dropna().iloc[0])}), not "
            "periods; pass integer periods such as years."
        )


def _to_integer_time(s: pd.Series, col: str, notes: list[str]) -> pd.Series:
    """Return the period column ``s`` as int64, or raise naming the first bad value."""
    return _to_periods(s, col, notes)[0]


def _to_periods(s: pd.Series, col: str, notes: list[str],
                frequency: str | None = None) -> tuple[pd.Series, str]:
    """The period column ``s`` as int64 and its frequency (``"year"`` or ``"month"``), or
    raise naming the first bad value. ``frequency=None`` reads it from the column's form;
    ``"month"`` takes integers as month codes (checked) and one date per year as a month."""
    frequency = check_frequency(frequency)
    if pd.api.types.is_integer_dtype(s) and not s.isna().any():
        if s.dtype == np.uint64 and int(s.max()) > MAX_PERIOD:
            raise PanelError(
                f"Panel: time column {col!r} has values too large to be periods "
                f"(e.g. {_show(s.max())}); pass integer periods such as years."
            )
        if frequency == "month":
            check_month_codes(s.to_numpy(), col)
        return s.astype("int64"), frequency or "year"
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype if len(s.cat.categories) else object)
    _refuse_kind(s, col)
    months = months_of(s, col, notes, frequency=frequency)
    if months is not None:
        _refuse_missing(s, months.to_numpy(), col)
        return months.astype("int64"), "month"
    years = _dates_as_years(s, col, notes)
    num = years if years is not None else pd.to_numeric(s, errors="coerce")
    values = num.to_numpy(dtype=float, na_value=np.nan)
    _refuse_missing(s, values if years is not None else None, col)
    with np.errstate(invalid="ignore"):
        bad = np.isnan(values) | (np.round(values) != values)
    if bad.any():
        pos = _first(bad)
        value = s.iloc[pos]
        hint = (f"; for dates use pd.to_datetime(df[{col!r}]).dt.year"
                if isinstance(value, str) and "-" in value.strip()[1:] else "")
        raise PanelError(
            f"Panel: column {col!r} has {int(bad.sum())} non-integer values "
            f"(e.g. {_show(value)} in row {pos}); time must be an integer period such as "
            f"a year: convert it with pd.to_numeric(df[{col!r}]).astype(int) or drop those "
            f"rows{hint}."
        )
    huge = np.abs(values) > MAX_PERIOD
    if huge.any():
        pos = _first(huge)
        raise PanelError(
            f"Panel: time column {col!r} has {int(huge.sum())} infinite or too large values "
            f"(e.g. {_show(s.iloc[pos])} in row {pos}); pass integer periods such as years."
        )
    if years is None and not pd.api.types.is_numeric_dtype(s):
        notes.append(f"time column {col!r}: {len(s)} values converted from text to integers")
    if frequency == "month":
        check_month_codes(values, col)
    return pd.Series(values.astype("int64"), index=s.index), frequency or "year"


def _refuse_missing(s: pd.Series, converted: np.ndarray | None, col: str) -> None:
    """Raise when a period is missing (in ``s``, or NaN in its ``converted`` values)."""
    missing = s.isna().to_numpy()
    if converted is not None:
        missing = missing | np.isnan(converted)
    if missing.any():
        pos = _first(missing)
        raise PanelError(
            f"Panel: time column {col!r} has {int(missing.sum())} missing periods (e.g. "
            f"{_show(s.iloc[pos])} in row {pos}); every row needs a period: drop those rows "
            f"(df.dropna(subset=[{col!r}])) or fill them."
        )


def _cohort_years(s: pd.Series, col: str, notes: list[str],
                  frequency: str = "year") -> pd.Series:
    """The cohort column with dates or Periods replaced by their year, or by their month code
    when the time column is monthly (``frequency="month"``), NaN = never treated; booleans,
    durations and complex numbers refused, and so are months beside an annual time column and
    years beside a monthly one. Other columns are returned as they are."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype if len(s.cat.categories) else object)
    mine: list[str] = []
    try:
        _refuse_kind(s, col)
        months = months_of(s, col, mine, frequency=frequency, role="cohort")
        years = months if months is not None else _dates_as_years(s, col, mine)
    except PanelError as e:
        raise PanelError(str(e).replace("Panel: time column", "Panel: cohort column", 1)
                         ) from None
    notes.extend(n.replace("time column", "cohort column", 1) if n.startswith("time") else n
                 for n in mine)
    if frequency == "month" and months is None:
        _refuse_years_as_months(years if years is not None else s, col)
    return s if years is None else years


def _refuse_years_as_months(s: pd.Series, col: str) -> None:
    """Raise when a cohort beside a monthly time column holds years (whole numbers that are
    not month codes; 0, NaN and inf mean never treated)."""
    c = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    year_like = np.isfinite(c) & (c != NEVER) & (np.abs(c) < 12 * 1000)
    if year_like.any():
        v = c[year_like][0]
        shown = int(v) if float(v).is_integer() else float(v)
        example = (f"'{int(v)}-01' or its code {int(v) * 12}" if float(v).is_integer()
                   else "'2021-01'")
        raise PanelError(
            f"Panel: cohort column {col!r} holds years (e.g. {shown!r}) but the time column is "
            f"monthly; give each unit's first treated month ({example}), written as the time "
            "column is."
        )


def check_cohort(
    df: pd.DataFrame,
    cohort: str,
    periods: np.ndarray,
    ucode: np.ndarray,
    labels: np.ndarray | Labels,
    notes: list[str],
    frequency: str = "year",
    block: int = 0,
) -> tuple[pd.Series, dict[str, int], np.ndarray]:
    """The cohort column as int64 (0 = never treated), the units first treated after the
    last period (set to 0 here) with their first treated period (messages write periods for
    ``frequency``), and the cohort of each unit code (int64, as in the column).

    ``ucode`` gives each row's position in the sorted unit ids (``labels``, whose text is
    read only for a message or a late cohort), or with ``block`` each
    block's, when the rows come in blocks of ``block`` rows, one per unit
    (:class:`~evalmodel.panel_blocks.Blocks`). The checks run on one value per unit once the
    cohort is known to be constant within units; an int64 column that needs no change is
    returned as it is (no copy).
    """
    raw = df[cohort]
    whole_numbers = isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iu"
    if whole_numbers:  # no NaN or inf to look for
        c = raw.to_numpy()
    elif pd.api.types.is_numeric_dtype(raw):
        c = raw.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        number = pd.to_numeric(raw, errors="coerce").astype("float64")
        text = number.isna() & raw.notna()
        if text.any():
            pos = int(np.flatnonzero(text.to_numpy())[0])
            raise PanelError(
                f"Panel: cohort column {cohort!r} has a non-numeric value "
                f"{_show(raw.iloc[pos])} in row {pos}; use the first treated period, or "
                "NaN/0 for never treated."
            )
        if pd.api.types.infer_dtype(raw, skipna=True) not in (
                "integer", "floating", "mixed-integer-float", "empty"):
            notes.append(f"cohort column {cohort!r}: {int(raw.notna().sum())} values "
                         "converted from text to numbers")
        c = number.to_numpy(dtype=np.float64, na_value=np.nan)
    if not whole_numbers:
        huge = np.isfinite(c) & (np.abs(c) > MAX_PERIOD)
    elif c.max() > MAX_PERIOD or c.min() < -MAX_PERIOD:  # two passes, no mask
        huge = (c > MAX_PERIOD) | (c < -MAX_PERIOD)
    else:
        huge = np.zeros(0, dtype=bool)
    if huge.any():
        raise PanelError(
            f"Panel: cohort column {cohort!r} has {int(huge.sum())} values too large to be "
            f"periods (e.g. {_show(np.float64(c[huge][0]))}); a cohort is the unit's first "
            "treated period, 0 or NaN for never treated."
        )
    never = np.zeros(0, dtype=bool) if whole_numbers else np.isnan(c) | (c == np.inf)
    if never.any():
        c = np.where(never, float(NEVER), c)
    per_unit = np.empty(labels.size, dtype=c.dtype)
    if block:  # one block of rows per unit: constant when each row equals its block's first
        steps = c[1:] != c[:-1]  # changes between neighbours; between blocks they may
        steps[block - 1::block] = False
        if not steps.any():
            per_unit[ucode] = c[::block]
            varies = np.zeros(0, dtype=bool)
        else:  # the rows' codes, for the message
            ucode, block = np.repeat(ucode, block), 0
    if not block:
        per_unit[ucode] = c
        varies = per_unit[ucode] != c
    if varies.any():
        unit_ids = labels.ids if isinstance(labels, Labels) else labels
        first = int(ucode[varies].min())  # the first unit, in the order of the ids
        vals = [int(v) if float(v).is_integer() else v
                for v in np.unique(c[ucode == first]).tolist()]
        raise PanelError(
            f"Panel: cohort column {cohort!r} changes within unit {unit_ids[first]!r} "
            f"(values {vals}); a cohort is the unit's first treated period and must be the "
            "same in every row."
        )
    whole = per_unit == np.floor(per_unit)
    after = whole & (per_unit > periods[-1])  # never treated within the sample (R did)
    bad = (per_unit != NEVER) & ~np.isin(per_unit, periods) & ~after
    if bad.any():
        unit_ids = labels.ids if isinstance(labels, Labels) else labels
        where = int(np.flatnonzero(bad[ucode])[0])  # the first such row (or block)
        pos = where * max(block, 1)
        v = c[pos]
        v = int(v) if np.isfinite(v) and v == np.floor(v) else v
        shown = period_label(v, frequency) if frequency == "month" and isinstance(v, int) else v
        raise PanelError(
            f"Panel: cohort column {cohort!r} has value {_show(shown)} (unit "
            f"{unit_ids[ucode[where]]!r}), which {_not_a_period(v, periods, frequency)}. A "
            "cohort is the unit's first treated period; 0 or NaN means never treated, and a "
            "period after the last one means never treated within the sample."
        )
    if not after.any():
        if raw.dtype == np.int64:
            return raw, {}, per_unit.astype(np.int64, copy=False)
        return pd.Series(c.astype(np.int64), index=df.index), {}, per_unit.astype(np.int64)
    unit_ids = labels.ids if isinstance(labels, Labels) else labels
    late = dict(zip(unit_ids[after].tolist(), per_unit[after].astype(np.int64).tolist(),
                    strict=True))  # in the order of the ids, whatever the rows' order
    late_rows = after[ucode] if not block else np.repeat(after[ucode], block)
    return (pd.Series(np.where(late_rows, NEVER, c).astype(np.int64), index=df.index), late,
            np.where(after, NEVER, per_unit).astype(np.int64))
