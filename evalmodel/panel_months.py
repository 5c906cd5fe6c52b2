"""Monthly periods of a panel: which columns hold months, and their month codes.

A column holds months when it is written in one of four forms: text ``"2021-01"`` or SCB's
``"2021M01"``, pandas ``Period[M]`` (a dtype, or an object column of Periods), or dates on the
first of their month with several in one year (``2021-01-01``, ``2021-02-01``, ...). Its values
become the month codes of :mod:`evalmodel.months` (``12 * year + month - 1``), so that every
estimator sees integers and event time counts months. Dates with one per year stay years
(:mod:`evalmodel.panel_periods`) unless ``frequency="month"`` is given.

Refused by name: a column mixing years and months, dates within a month (daily data), quarterly
Periods or dates on quarter starts only, Periods of other frequencies, and month codes that
cannot be months (``frequency="month"`` on a column of years).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalmodel.errors import CoercedValuesWarning, PanelError, RowsDroppedWarning
from evalmodel.months import FREQUENCIES, MONTH_TEXT, month_code, month_label

if TYPE_CHECKING:
    from evalmodel.panel import Panel

__all__ = ["check_frequency", "check_month_codes", "months_of", "to_annual"]

#: Month codes of the years 1000-9999: a code outside is not a month.
PLAUSIBLE = (month_code(1000, 1), month_code(9999, 12))

_SUPPORTED = "monthly and annual periods are supported"


def check_frequency(frequency: Any) -> str | None:
    """Return ``frequency`` when it is None or one of :data:`~evalmodel.months.FREQUENCIES`."""
    if frequency is None or (isinstance(frequency, str) and frequency in FREQUENCIES):
        return frequency
    raise PanelError(
        f"Panel: frequency={frequency!r} is not a period frequency; pass one of "
        f"{list(FREQUENCIES)}, or None to read it from the time column."
    )


def check_month_codes(values: np.ndarray, col: str, role: str = "time") -> None:
    """Raise unless every finite value of ``values`` is a month code of the years 1000-9999."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    bad = (finite < PLAUSIBLE[0]) | (finite > PLAUSIBLE[1])
    if bad.any():
        v = finite[bad][0]
        v = int(v) if float(v).is_integer() else float(v)
        raise PanelError(
            f"Panel: {role} column {col!r} holds {v!r}, which is not a month code (codes are "
            f"12 * year + month - 1, e.g. {month_code(2021, 1)} for 2021-01); with "
            f"frequency='month' pass month codes, or months written '2021-01', '2021M01', "
            f"pandas Period[M] or month-start dates."
        )


def _show_date(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else str(ts)


def _from_dates(stamps: pd.Series, col: str, role: str, frequency: str | None,
                notes: list[str]) -> pd.Series | None:
    """Month codes of dates (NaN where missing) when they are months; None for years."""
    ok = stamps.notna().to_numpy()
    if not ok.any():
        return None
    year = stamps.dt.year.to_numpy(dtype=float, na_value=np.nan)
    month = stamps.dt.month.to_numpy(dtype=float, na_value=np.nan)
    pairs = np.unique(year[ok] * 100 + month[ok])
    dated = np.unique((year[ok] * 100 + month[ok]) * 100
                      + stamps.dt.day.to_numpy(dtype=float, na_value=np.nan)[ok])
    several = bool((np.diff(dated // 10000) == 0).any())  # two dates in one year
    if frequency == "year" or (frequency is None and not several):
        return None  # years: panel_periods reads them (and refuses several in one year)
    inside = ok & ((stamps.dt.day.to_numpy(dtype=float, na_value=np.nan) != 1)
                   | (stamps != stamps.dt.normalize()).to_numpy())
    if inside.any():
        pos = int(np.flatnonzero(inside)[0])
        raise PanelError(
            f"Panel: {role} column {col!r} holds dates within a month (e.g. "
            f"{_show_date(stamps.iloc[pos])} in row {pos}): daily data is not supported; "
            f"{_SUPPORTED}. Date each month on its first day (df[{col!r}].dt.to_period('M')) "
            f"after aggregating the days of each month, or pass the year (df[{col!r}].dt.year)."
        )
    months_seen = np.unique(pairs % 100).astype(int)
    if frequency is None and set(months_seen.tolist()) <= {1, 4, 7, 10}:
        raise PanelError(
            f"Panel: {role} column {col!r} holds dates on quarter starts only (months "
            f"{', '.join(f'{m:02d}' for m in months_seen)}): quarterly periods are not "
            f"supported; {_SUPPORTED}. If these are months, pass frequency='month'; otherwise "
            f"aggregate to years (df[{col!r}].dt.year)."
        )
    codes = year * 12 + month - 1
    notes.append(f"{role} column {col!r}: {int(ok.sum()):,} month-start dates converted to "
                 "month codes")
    return pd.Series(codes, index=stamps.index)


def _from_periods(s: pd.Series, col: str, role: str, frequency: str | None,
                  notes: list[str]) -> pd.Series | None:
    """Month codes of a Period column (NaN where missing); None for annual Periods."""
    assert isinstance(s.dtype, pd.PeriodDtype)
    freq = s.dtype.freq
    if isinstance(freq, pd.offsets.YearEnd):
        return None
    if isinstance(freq, pd.offsets.MonthEnd):
        if frequency == "year":
            raise _months_in_annual(col, role, month_label(_codes_of_periods(s)[0]))
        codes = _codes_of_periods(s)
        notes.append(f"{role} column {col!r}: {int(s.notna().sum()):,} monthly periods "
                     "converted to month codes")
        return pd.Series(codes, index=s.index)
    kind = "quarterly" if isinstance(freq, pd.offsets.QuarterEnd) else f"{freq.freqstr!r}"
    first = s.dropna()
    raise PanelError(
        f"Panel: {role} column {col!r} holds {kind} pandas Periods (e.g. "
        f"{str(first.iloc[0]) if len(first) else 'none'}); {_SUPPORTED}: convert them "
        f"(df[{col!r}].dt.asfreq('M') for months, df[{col!r}].dt.year for years) after "
        "aggregating."
    )


def _codes_of_periods(s: pd.Series) -> np.ndarray:
    year = s.dt.year.to_numpy(dtype=float, na_value=np.nan)
    month = s.dt.month.to_numpy(dtype=float, na_value=np.nan)
    return np.where(s.isna().to_numpy(), np.nan, year * 12 + month - 1)


def _months_in_annual(col: str, role: str, example: str) -> PanelError:
    if role == "cohort":
        return PanelError(
            f"Panel: cohort column {col!r} holds months (e.g. {example!r}) but the time column "
            "is annual; give the first treated year, or make the time column monthly."
        )
    return PanelError(
        f"Panel: time column {col!r} holds months (e.g. {example!r}) but frequency='year' was "
        "given; leave frequency out to make a monthly panel, or aggregate to years first "
        "(evalmodel.Panel.to_annual)."
    )


def _from_text(s: pd.Series, col: str, role: str, frequency: str | None,
               notes: list[str]) -> pd.Series | None:
    """Month codes of text ``"2021-01"``/``"2021M01"`` (NaN where missing); None when no
    value is written as a month."""
    given = s.notna().to_numpy()
    try:  # each distinct value is parsed once
        codes, distinct = pd.factorize(s.astype(object))
        uniques = np.asarray(distinct, dtype=object)
    except TypeError:  # unhashable values: one by one
        codes, uniques = np.arange(len(s)), s.astype(object).to_numpy()
    parts = pd.Series(uniques, dtype=object).astype("string").str.extract(MONTH_TEXT)
    codes = np.where(given, codes, 0)
    found = given & parts[0].notna().to_numpy()[codes] if len(uniques) else given
    if not found.any():
        return None
    year = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float,
                                                             na_value=np.nan)[codes]
    month = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float,
                                                              na_value=np.nan)[codes]
    month_ok = found & (month >= 1) & (month <= 12)
    example = s.iloc[int(np.flatnonzero(found)[0])]
    if frequency == "year":
        raise _months_in_annual(col, role, str(example))
    bad = given & ~month_ok
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        value = s.iloc[pos]
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        if pd.notna(number) and float(number).is_integer() and not isinstance(value, bool):
            raise PanelError(
                f"Panel: {role} column {col!r} mixes years and months (e.g. {value!r} in row "
                f"{pos} beside {example!r}); a column has one frequency: write every period "
                f"as a month ('2021-01'), or aggregate the months to years first."
            )
        raise PanelError(
            f"Panel: {role} column {col!r} has {int(bad.sum())} values that are not months "
            f"(e.g. {value!r} in row {pos}) beside months such as {example!r}; write months as "
            "'2021-01' or '2021M01' (month 1-12), or drop those rows."
        )
    notes.append(f"{role} column {col!r}: {int(given.sum()):,} month labels converted to "
                 "month codes")
    return pd.Series(np.where(given, year * 12 + month - 1, np.nan), index=s.index)


def months_of(s: pd.Series, col: str, notes: list[str], *, frequency: str | None = None,
              role: str = "time") -> pd.Series | None:
    """The month codes (float, NaN where missing) of a column written as months, or None when
    it is not (years, numbers, other text: read as before).

    Parameters
    ----------
    s : pandas.Series
        The column (categoricals already replaced by their values).
    col : str
        Its name, for messages and notes.
    notes : list of str
        Where the conversion is noted.
    frequency : {None, "year", "month"}
        None infers it; ``"month"`` reads dates with one per year as months too; ``"year"``
        refuses monthly forms.
    role : str
        ``"time"`` or ``"cohort"``, for messages.
    """
    if isinstance(s.dtype, pd.PeriodDtype):
        return _from_periods(s, col, role, frequency, notes)
    if pd.api.types.is_datetime64_any_dtype(s):
        return _from_dates(s, col, role, frequency, notes)
    if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind in ("datetime", "datetime64", "date"):
            try:
                stamps = pd.Series(pd.to_datetime(s, utc=False), index=s.index)
            except (TypeError, ValueError):
                return None  # dates in several time zones: panel_periods says so
            return _from_dates(stamps, col, role, frequency, notes)
        if kind == "period":
            try:
                periods = pd.Series(pd.PeriodIndex(s), index=s.index)
            except (TypeError, ValueError):
                return None  # several frequencies: panel_periods refuses them by name
            return _from_periods(periods, col, role, frequency, notes)
        if kind in ("string", "mixed", "mixed-integer", "mixed-integer-float"):
            return _from_text(s, col, role, frequency, notes)
    return None


_HOWS = ("mean", "sum", "month")


def _check_annual_args(how: Any, month: Any, min_months: Any) -> None:
    if not isinstance(how, str) or how not in _HOWS:
        raise PanelError(
            f"Panel.to_annual: how={how!r} is not a way to aggregate months; pass one of "
            f"{list(_HOWS)} (how='month' with month=1 takes January's value)."
        )
    if how == "month":
        if isinstance(month, bool) or not isinstance(month, int | np.integer) or not (
                1 <= month <= 12):
            raise PanelError(
                f"Panel.to_annual: how='month' needs month= a calendar month 1-12, got "
                f"month={month!r}; pass e.g. month=1 for January."
            )
    elif month is not None:
        raise PanelError(
            f"Panel.to_annual: month={month!r} is used only with how='month'; drop it, or pass "
            "how='month'."
        )
    if isinstance(min_months, bool) or not isinstance(min_months, int | np.integer) or not (
            1 <= min_months <= 12):
        raise PanelError(
            f"Panel.to_annual: min_months={min_months!r} is not a number of months 1-12; pass "
            "e.g. min_months=12 (whole years only)."
        )


def _annual_cohorts(data: pd.DataFrame, unit: str, cohort: str,
                    notes: list[str]) -> pd.Series:
    """The cohort column as years, with a note on units first treated after January."""
    codes = data[cohort].to_numpy(dtype=np.int64)
    treated = codes != 0
    late_in_year = treated & (codes % 12 != 0)
    if late_in_year.any():
        firsts = data.loc[late_in_year, [unit, cohort]].drop_duplicates(unit)
        u, c = firsts.iloc[0]
        notes.append(
            f"cohort column {cohort!r}: {len(firsts)} units first treated in a month other "
            f"than January (e.g. {u!r}: {month_label(int(c))}); their cohort is that year, "
            "which is then partly treated"
        )
    return pd.Series(np.where(treated, codes // 12, 0), index=data.index, dtype=np.int64)


def to_annual(panel: Panel, how: str = "mean", *, month: int | None = None,
              min_months: int = 12) -> Panel:
    """Aggregate a monthly panel to years: :meth:`evalmodel.Panel.to_annual`, which documents
    the arguments."""
    if panel.frequency != "month":
        raise PanelError(
            "Panel.to_annual: the panel is annual already (frequency='year'); to_annual "
            "aggregates a monthly panel."
        )
    _check_annual_args(how, month, min_months)
    time, unit = panel.time, panel.unit
    outcomes = panel.outcomes
    keys = [unit] + ([panel.group] if panel.group else [])
    data = panel.data
    codes = data[time].to_numpy(dtype=np.int64)
    data[time] = codes // 12
    notes: list[str] = []
    n_months = data.groupby([*keys, time], sort=True).size()
    if how == "month":
        data = data[codes % 12 + 1 == month]
        kept = data.groupby([*keys, time], sort=True).size().index
        gone = n_months.index.difference(kept)
        why = f"without a value for month {month:02d}"
        notes.append(f"time column {time!r}: months aggregated to years by the value of month "
                     f"{month:02d}")
        annual = data.set_index([*keys, time]).sort_index()
    else:
        grouped = data.groupby([*keys, time], sort=True)
        values = grouped[outcomes].mean() if how == "mean" else grouped[outcomes].sum()
        seen = grouped[outcomes].count()
        short = (seen < min_months) & (seen > 0)
        enough = n_months >= min_months
        values = values.where(~short)
        gone = n_months.index[~enough.to_numpy()]
        why = f"with fewer than {min_months} months present"
        n_short = int(short[enough].to_numpy().sum())
        notes.append(f"time column {time!r}: months aggregated to years by their {how} "
                     f"(unit-years with at least {min_months} of 12 months)")
        if n_short:
            notes.append(f"{n_short} (unit, year, outcome) values set missing: fewer than "
                         f"{min_months} of their months observed")
        others = [c for c in (panel.cohort, panel.weight) if c]
        annual = values.join(grouped[others].first()) if others else values
        if panel.weight:
            annual[panel.weight] = grouped[panel.weight].mean()
        annual = annual[enough.to_numpy()]
    if len(gone):
        e = gone[0]
        shown = tuple(v.item() if isinstance(v, np.generic) else v for v in e)
        msg = (f"{len(gone)} unit-years {why} dropped (e.g. {shown}: "
               f"{int(n_months[e])} months)")
        notes.append(msg)
        warnings.warn(f"Panel.to_annual: {msg}.", RowsDroppedWarning, stacklevel=3)
    if annual.empty:
        raise PanelError(
            f"Panel.to_annual: no unit-year is left ({len(gone)} {why}); lower min_months or "
            "choose another month."
        )
    annual = annual.reset_index()
    if panel.cohort:
        annual[panel.cohort] = _annual_cohorts(annual, unit, panel.cohort, notes)
    late = {str(u): int(c) // 12 for u, c in panel.late_cohorts.items()}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            new = type(panel)(annual, unit=unit, time=time, cohort=panel.cohort,
                              weight=panel.weight, group=panel.group, outcomes=outcomes,
                              source=panel.source, frequency="year")
    except PanelError as err:
        raise PanelError(
            f"Panel.to_annual: the annual panel is not valid ({err}); lower min_months, or "
            "select the months to keep first."
        ) from None
    for w in caught:
        if not issubclass(w.category, CoercedValuesWarning):
            warnings.warn(w.message, w.category, stacklevel=3)
    new._notes = [*panel.notes, *notes, *new.notes]
    new._late_cohorts = {**late, **new._late_cohorts}
    return new
