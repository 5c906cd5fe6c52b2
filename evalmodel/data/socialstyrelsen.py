"""Socialstyrelsen's monthly statistics on ekonomiskt bistånd, read into the tidy long frame.

Socialstyrelsen publishes preliminary monthly figures by municipality (households with
assistance, recipients, adults, children, paid amounts) in its statistics database
("Ekonomiskt bistånd - månadsstatistik"), which lets users download the table they chose.
:func:`~evalmodel.data.files.read_export` hands a file to :func:`read_monthly` when its header
names say it is monthly (:func:`monthly_layout`); the result is the tidy long frame of
:mod:`evalmodel.data.kolada` with monthly periods labelled ``"2021-01"``
(:func:`evalmodel.months.month_label`), so that :class:`~evalmodel.Panel` keeps them as month
codes.

What is known and what is assumed
---------------------------------
Known, from the public query pages of the database and from a third-party scraper of it
(jplusplus/socialstyrelsen-scraper on GitHub, read for its facts only): the monthly table is
chosen by measure (*Mått*), region (*OMR*: ``0`` the whole country, two-digit counties such
as ``01``, four-digit municipalities), year (*År*) and month (*Månad*, written ``Januari`` ..
``December``, with ``Hela året`` for the whole year); the result page shows years and months
as two header rows over the value columns; suppressed cells are written ``X`` (sekretess)
and missing ones ``--`` (saknas); numbers may have spaces between thousands.

Assumed and *not verified against a real download* (no file of the export was available):
the exact header texts of the CSV/Excel export and the measures' labels. The reader
therefore recognises the plausible layouts by their header names, in any case:

* **long**: a region column, ``År``, ``Månad`` (number, Swedish name or abbreviation, or
  ``2021M01``/``2021-01`` text, which then needs no year column), optionally ``Mått``
  (measure) and ``Kön``, and ``Värde``; a ``Period``/``Tid`` column holding ``2021M01`` or
  ``2021-01`` text also makes a file monthly;
* **wide by month**: a region column, optionally ``År`` and ``Mått``, and one column per
  month, named ``Januari`` .. ``December`` (with a year column) or ``2021-01``/``2021M01``
  (month-start dates, as Excel shows them, count too);
* **two header rows**: the years on one row and the month names below them, as on the
  database's result page, beside a region and optionally a measure column (read by
  :mod:`evalmodel.data.header_rows`);
* **wide by measure**: region, year and month columns and one column per measure.

Region cells: codes (``0580``, ``580``, ``"0580 Linköping"``; ``0`` the country -> ``0000``,
counties ``01`` -> ``0001``, as Kolada numbers them) keep their leading zeros as text; a file
with names only (``Linköping``) gets the codes of Kolada's municipality list
(:func:`evalmodel.names.municipalities`, case and a trailing ``kommun``/``stad`` ignored,
``Riket``/``Hela riket`` -> ``0000``). Names that do not resolve are set aside with a
:class:`~evalmodel.errors.RowsDroppedWarning`, counted and listed in the notes.

Measures become the stable names of
:data:`~evalmodel.data.socialstyrelsen_labels.MEASURES` (``"Antal hushåll"`` ->
``"households"``); an unknown label is kept under a slug of it (``"Antal ärenden"`` ->
``"antal_arenden"``), listed in the notes. Cells ``..``, ``.``, ``-``, ``--``, ``–``, ``X``
and empty cells become NaN with ``status`` ``"suppressed"`` (``X``) or ``"missing"`` (the
others), counted by marker in the notes. Rows of ``Hela året`` (whole-year totals) are set
aside with a warning and a count.

Refused with a :class:`~evalmodel.errors.DataSourceError` naming the file, the column or cell
and the fix: a month column with months but no year (numbers or names without ``År``), a
month that is not one (``13``, ``0``, ``Jan.x``), a month column holding no months at all, a
``2021-01`` month whose year disagrees with the ``År`` column, a value that is not a number,
repeated (region, month, measure, gender) rows, and ``variable=`` for a file that names its
measures.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.data import socialstyrelsen_labels
from evalmodel.data.kolada import TIDY_COLUMNS
from evalmodel.data.socialstyrelsen_labels import (
    MEASURES,
    MONTH_NAMES,
    SUPPRESSED,
    YEAR_TOTALS,
    column_role,
    measure_name,
    month_number,
    month_text,
    norm,
)
from evalmodel.errors import DataSourceError, RowsDroppedWarning
from evalmodel.months import month_label

__all__ = ["monthly_layout", "read_monthly", "socialstyrelsen_labels"]

_GENDERS = {"t": "T", "totalt": "T", "total": "T", "alla": "T", "båda könen": "T",
            "k": "K", "kvinnor": "K", "women": "K", "m": "M", "män": "M", "men": "M"}
_COUNTRY = ("riket", "hela riket", "sverige", "hela sverige", "sweden")
_CODE = re.compile(r"^\s*(\d{1,4})(?:\s|$)")
_SUFFIX = re.compile(r"\s+(kommun|stad)$")


def _all_months(values: pd.Series) -> bool:
    """Whether every cell is a month and some year has several of them (one date per year,
    such as ``2012-01-01`` in an ``År`` column, is a year written as a date, as in Panel)."""
    cells = [c for c in values.astype(str).str.strip().unique() if c]
    codes = [month_text(c) for c in cells]
    if not cells or any(c is None for c in codes):
        return False
    years = [c // 12 for c in codes if c is not None]
    return len(set(years)) < len(years)


def monthly_layout(
    header: list[str], body: pd.DataFrame, titles: tuple[str, ...] = ()
) -> str | None:
    """The monthly layout of a table by its header names, or None when it is not monthly.

    Parameters
    ----------
    header : list of str
        The column names (as :func:`~evalmodel.data.sniff.read_cells` returns them).
    body : pandas.DataFrame
        The cells as text; looked at only for a ``Period``/``Tid``/``År`` column, which makes
        the table monthly when all its cells are months such as ``2021M01``.
    titles : tuple of str
        Titles from a second header row; month names there make the table monthly.

    Returns
    -------
    str or None
        ``"two header rows"``, ``"long"``, ``"wide by month"`` or None.
    """
    if titles and all(month_number(t) is not None for t in titles):
        return "two header rows"
    roles = [column_role(h) for h in header]
    if "month" in roles:
        return "long"
    if any(norm(h) in MONTH_NAMES or month_text(h) is not None for h in header):
        return "wide by month"
    for h, r in zip(header, roles, strict=True):
        if r in ("period", "year") and h in body.columns and _all_months(body[h]):
            return "long"
    return None


def _fail(path: Path, msg: str) -> DataSourceError:
    return DataSourceError(f"read_export: {path} (Socialstyrelsen monthly layout): {msg}")


def _columns(header: list[str], path: Path) -> dict[str, str]:
    """The first column of each role (a code column before a name column for the unit)."""
    col: dict[str, str] = {}
    for h in header:
        r = column_role(h)
        if r is not None and r not in col:
            col[r] = h
    if "unit" not in col and "name" in col:
        col["unit"] = col.pop("name")
    if "unit" not in col:
        raise _fail(path, f"no region column among {header[:10]}; name it 'Region' or "
                    "'Kommun' (codes such as 0580 or names such as Linköping).")
    return col


def _shape(
    body: pd.DataFrame, header: list[str], layout: str, path: Path
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table in long form: one row per region, month (and year), measure; its roles."""
    if layout == "two header rows":  # header_rows.combine() named them year, month, value
        col = _columns([h for h in header if h not in ("year", "month", "value")], path)
        col |= {"year": "year", "month": "month", "value": "value"}
        return body, col
    col = _columns(header, path)
    if layout == "wide by month":
        months = [h for h in header if norm(h) in MONTH_NAMES or month_text(h) is not None]
        ids = [col[r] for r in ("unit", "year", "measure", "gender", "status") if r in col]
        long = body.melt(id_vars=ids, value_vars=months, var_name="__month", value_name="__v")
        return long, col | {"month": "__month", "value": "__v"}
    if "month" not in col:  # a Period/Tid/År column of month texts
        key = next(r for r in ("period", "year") if r in col and _all_months(body[col[r]]))
        col["month"] = col.pop(key)
    if "value" in col:
        return body, col
    if "measure" in col:
        raise _fail(path, f"a measure column ({col['measure']!r}) but no value column "
                    "('Värde'); add the values or one column per month.")
    used = {c for r, c in col.items() if r != "name"}
    measures = [h for h in header if h not in used and column_role(h) is None]
    if not measures:
        raise _fail(path, f"no value column ('Värde'), no month columns and no measure "
                    f"columns besides {header[:10]}; see evalmodel.data.socialstyrelsen.")
    ids = [col[r] for r in ("unit", "year", "month", "gender", "status") if r in col]
    long = body.melt(id_vars=ids, value_vars=measures, var_name="__measure", value_name="__v")
    return long, col | {"measure": "__measure", "value": "__v"}


def _months(
    long: pd.DataFrame, col: dict[str, str], path: Path
) -> tuple[pd.Series, pd.Series]:
    """The month code of each row, and which rows are whole-year totals."""
    cells = long[col["month"]].astype(str).str.strip()
    total = cells.str.lower().isin(YEAR_TOTALS)
    if total.all():
        raise _fail(path, f"the month column {col['month']!r} holds no months (only "
                    f"{sorted(cells.unique().tolist())[:3]}); download the table by month "
                    "(Månad: Januari .. December).")
    uniq = cells.unique()  # a few hundred distinct months in any file: parse each once
    text = pd.to_numeric(cells.map({c: month_text(c) for c in uniq}), errors="coerce")
    number = pd.to_numeric(cells.map({c: month_number(c) for c in uniq}), errors="coerce")
    bad = text.isna() & number.isna() & ~total
    if bad.any():
        first = cells[bad].iloc[0]
        raise _fail(path, f"month {first!r} in column {col['month']!r} is not a month "
                    f"({int(bad.sum())} cells); months are 1-12, Januari-December (or jan, "
                    "feb, ...) with a year column, or '2021-01'/'2021M01'.")
    code = pd.Series(np.nan, index=long.index)
    has_text = text.notna()
    code[has_text] = text[has_text]
    need_year = number.notna() & ~has_text
    year = None
    if "year" in col:
        year = pd.to_numeric(long[col["year"]].astype(str).str.strip(), errors="coerce")
        odd = (year.isna() | (year.round() != year)) & ~total
        if odd.any():
            first = long[col["year"]][odd].iloc[0]
            raise _fail(path, f"year {first!r} in column {col['year']!r} is not an integer "
                        f"year ({int(odd.sum())} cells); write years as e.g. 2021.")
        clash = has_text & (text // 12 != year)
        if clash.any():
            i = clash[clash].index[0]
            raise _fail(path, f"month {cells[i]!r} disagrees with year {long[col['year']][i]!r} "
                        f"in column {col['year']!r} ({int(clash.sum())} rows); correct the "
                        "year or the month.")
    if need_year.any():
        if year is None:
            first = cells[need_year].iloc[0]
            raise _fail(path, f"month {first!r} in column {col['month']!r} has no year: the "
                        "file has no year column ('År'); add one, or write months as "
                        "'2021-01' or '2021M01'.")
        code[need_year] = 12 * year[need_year] + number[need_year] - 1
    return code, total


def _resolve_names(names: pd.Series) -> dict[str, str | None]:
    """Kolada's id for each distinct region name (None when it does not resolve)."""
    from evalmodel.names import municipalities

    table = municipalities()
    lookup: dict[str, str] = {}
    for i, n in zip(table["id"], table["name"], strict=True):
        lookup.setdefault(norm(n), i)
        lookup.setdefault(_SUFFIX.sub("", norm(n)), i)
    out: dict[str, str | None] = {}
    for name in names.unique():
        key = _SUFFIX.sub("", norm(name))
        out[name] = "0000" if key in _COUNTRY else lookup.get(key)
    return out


def _units(
    cells: pd.Series, path: Path, column: str, notes: list[str]
) -> tuple[pd.Series, pd.Series]:
    """The 4-digit text id of each row, and which rows hold names that do not resolve."""
    text = cells.astype(str).str.strip()
    code = text.str.extract(_CODE, expand=False)
    named = code.isna()
    if (named & (text == "")).any():
        raise _fail(path, f"{int((text == '').sum())} empty cells in the region column "
                    f"{column!r}; fill or delete those rows.")
    short = code.notna() & (code.str.len() < 4)
    if short.any():
        first = code[short].iloc[0]
        notes.append(f"{code[short].nunique()} region codes got their leading zeros back in "
                     f"{int(short.sum())} rows (e.g. {first!r} -> {first.zfill(4)!r})")
    out = code.str.zfill(4)
    lost = pd.Series(False, index=cells.index)
    if named.any():
        ids = _resolve_names(text[named])
        out[named] = text[named].map(ids)
        unresolved = sorted(n for n, i in ids.items() if i is None)
        resolved = len(ids) - len(unresolved)
        notes.append(f"{resolved} region names mapped to Kolada ids by evalmodel.names "
                     f"({int(named.sum()) - int(text[named].isin(unresolved).sum())} rows)")
        if unresolved:
            lost = named & text.isin(unresolved)
            msg = (f"{len(unresolved)} region names are not in Kolada's municipality list "
                   f"and were set aside ({int(lost.sum())} rows): {unresolved[:8]}; write "
                   "them as Kolada names or give a code column ('Regionkod')")
            notes.append(msg)
            warnings.warn(f"read_export: {path.name}: {msg}.", RowsDroppedWarning,
                          stacklevel=4)
    return out, lost


def _values(cells: pd.Series, path: Path, notes: list[str]) -> tuple[pd.Series, pd.Series]:
    text = cells.fillna("").astype(str).str.strip()
    marker = text.str.lower().map(SUPPRESSED)
    value = pd.to_numeric(
        text.where(marker.isna(), "").str.replace(r"[\s\u00a0]", "", regex=True)
        .str.replace(",", ".", regex=False),
        errors="coerce",
    )
    bad = value.isna() & marker.isna()
    if bad.any():
        raise _fail(path, f"value {text[bad].iloc[0]!r} is not a number ({int(bad.sum())} "
                    f"cells); numbers may use a decimal comma and spaces between thousands; "
                    f"missing markers are {sorted(set(SUPPRESSED) - {''})}: correct or blank "
                    "those cells.")
    for m in sorted(text[marker.notna()].unique().tolist()):
        n = int((text == m).sum())
        why = SUPPRESSED[m.lower()]
        shown = repr(m) if m else "empty"
        notes.append(f"{n} cells {shown} read as NaN with status {why!r}")
    return value.astype("float64"), marker.fillna("")


def _genders(cells: pd.Series, path: Path, column: str) -> pd.Series:
    text = cells.astype(str).str.strip()
    out = text.str.lower().map(_GENDERS)
    if out.isna().any():
        raise _fail(path, f"gender {text[out.isna()].iloc[0]!r} in column {column!r} is not "
                    "T/K/M or Totalt/Kvinnor/Män; correct those cells, or delete the column "
                    "if the file holds totals.")
    return out


def read_monthly(
    header: list[str],
    body: pd.DataFrame,
    path: Path,
    *,
    layout: str,
    variable: str | None = None,
    source: dict[str, Any] | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Read a monthly Socialstyrelsen table into the tidy long frame.

    Parameters
    ----------
    header : list of str
        The column names, as :func:`~evalmodel.data.sniff.read_cells` returns them.
    body : pandas.DataFrame
        The cells as text, columns named by ``header``.
    path : Path
        The file, for messages and the default variable name.
    layout : str
        What :func:`monthly_layout` found.
    variable : str, optional
        The variable of a file without a measure column (default the file's stem).
    source : dict, optional
        What was found reading the cells (file, sha256, encoding, separator); copied into
        ``attrs["source"]``.
    notes : list of str, optional
        Notes of the reading (footnote lines, combined header rows), put first in
        ``attrs["notes"]``.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`~evalmodel.data.kolada.TIDY_COLUMNS`; ``period`` holds month labels
        ``"2021-01"``; ``status`` is ``"suppressed"``, ``"missing"`` or ``""``. Sorted by
        variable, unit, period and gender. ``attrs["notes"]`` lists what was repaired, set
        aside or read as missing, ``attrs["source"]`` what was read (``layout`` is
        ``"socialstyrelsen monthly, <layout>"``, ``frequency`` is ``"month"``).

    Raises
    ------
    DataSourceError
        See the module docstring.
    """
    out_notes = list(notes or [])
    long, col = _shape(body, header, layout, path)
    if variable is not None and "measure" in col:
        raise _fail(path, f"variable={variable!r} names the variable of a file without "
                    f"measures, but the file has the measure column {col['measure']!r}; "
                    "leave variable= out.")
    code, total = _months(long, col, path)
    if total.any():
        msg = (f"{int(total.sum())} rows of whole-year totals "
               f"({sorted(long.loc[total, col['month']].astype(str).unique())[:3]}) set aside")
        out_notes.append(msg)
        warnings.warn(f"read_export: {path.name}: {msg}.", RowsDroppedWarning, stacklevel=3)
    unit, lost = _units(long[col["unit"]], path, col["unit"], out_notes)
    keep = ~(total | lost)
    long, code, unit = long[keep], code[keep], unit[keep]
    value, status = _values(long[col["value"]], path, out_notes)
    if "measure" in col:
        labels = long[col["measure"]].astype(str).str.strip()
        names = {lab: measure_name(lab) for lab in labels.unique()}
        unknown = sorted(lab for lab in names if norm(lab.replace("(", " ").replace(")", " "))
                         not in MEASURES)
        if unknown:
            out_notes.append(f"{len(unknown)} measures not among Socialstyrelsen's known labels "
                             f"kept under slugged names: "
                             + ", ".join(f"{u!r} -> {names[u]!r}" for u in unknown[:6]))
        var: Any = labels.map(names)
    else:
        var = variable or path.stem
    gender: Any = _genders(long[col["gender"]], path, col["gender"]) if "gender" in col else "T"
    out = pd.DataFrame({
        "unit": unit.astype(str),
        "period": code.astype("int64").map(month_label),
        "variable": var,
        "value": value,
        "gender": gender,
        "status": status,
    }, index=long.index)[list(TIDY_COLUMNS)]
    dup = out.duplicated(["unit", "period", "variable", "gender"], keep=False)
    if dup.any():
        row = out[dup].iloc[0]
        raise _fail(path, f"{int(dup.sum())} rows repeat a (region, month, measure) "
                    f"(e.g. {row['unit']}, {row['period']}, {row['variable']}); keep one row "
                    "for each, e.g. delete the repeated rows (two labels of one measure "
                    "share a name, see evalmodel.data.socialstyrelsen_labels.MEASURES).")
    out = out.sort_values(["variable", "unit", "period", "gender"], kind="mergesort")
    out = out.reset_index(drop=True)
    for c in ("unit", "period", "variable", "gender", "status"):
        out[c] = out[c].astype(str)
    out.attrs["notes"] = out_notes
    out.attrs["source"] = {**(source or {}), "layout": f"socialstyrelsen monthly, {layout}",
                           "frequency": "month"}
    return out
