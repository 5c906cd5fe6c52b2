"""Two header rows, as Excel writes them when cells of the header are merged.

A spreadsheet with a title cell merged over the year columns, saved as CSV or read from the
sheet, has two header rows; the merged cell's text sits in its first column and the others are
empty::

    Kommun          ; Andel med bistånd (%) ;
                    ; 2019                  ; 2020
    1287 Trelleborg ; 4,1                   ; 4,3

The same holds with the years above and the measures below (``Kommun;2019;;2020;`` over
``;Antal;Andel;Antal;Andel``). :func:`find_header` finds such a pair of rows, and
:func:`combine` reads it as one header: merged cells are carried to the right, each data column
gets its year from the row of years and its variable from the other row (the *title*), and the
table becomes long (unit, year, variable, value). Without any title it stays wide by year.
When every title is a month name (``Januari`` under ``2021``, as Socialstyrelsen's result
tables have them) the table becomes long by (unit, year, month, value), a measure column
beside it allowed, for :mod:`evalmodel.data.socialstyrelsen`.

Decisions: read, not refused, because the meaning is unambiguous once the merged cells are
carried right; noted in the table's notes (which rows, which titles). Refused with a
:class:`~evalmodel.errors.DataSourceError` naming both header rows and the fix: titles over
some year columns but not others, a (title, year) pair given twice, and titles beside a column
that already names the variable (``Mått``, ``KPI``), unless the titles are months.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pandas as pd

from evalmodel.data.socialstyrelsen_labels import month_number
from evalmodel.errors import DataSourceError

__all__ = ["combine", "find_header", "is_text"]

_YEAR = re.compile(r"^(19|20)\d\d$")
_NUMBER = re.compile(r"^[-+]?[\d\s\u00a0]*[.,]?\d+$")
#: Cells that stand for a missing value in downloads (``..`` Kolada/SCB, ``X`` suppressed).
MISSING_MARKERS = ("..", ".", "-", "–", "x", "X", "")
#: Names of the columns of the long table :func:`combine` returns.
LONG_COLUMNS = ("year", "variable", "value")


def _is_year(cell: object) -> bool:
    return bool(_YEAR.match(str(cell).strip()))


def is_text(cell: object) -> bool:
    """Whether a cell holds text: not empty, not a number, not a missing marker."""
    c = str(cell).strip()
    return bool(c) and c not in MISSING_MARKERS and not _NUMBER.match(c)


def _cell(row: list[str], j: int) -> str:
    return row[j].strip() if j < len(row) else ""


def _next(rows: list[list[str]], i: int) -> int | None:
    """Index of the first row after ``i`` with a non-empty cell."""
    return next((k for k in range(i + 1, len(rows)) if any(c.strip() for c in rows[k])), None)


def _previous(rows: list[list[str]], i: int) -> int | None:
    return next((k for k in range(i - 1, -1, -1) if any(c.strip() for c in rows[k])), None)


def find_header(
    rows: list[list[str]], i: int, unit_cols: list[int], has_period: bool
) -> int | None:
    """The other row of a two-row header around row ``i``, or None for a one-row header.

    Parameters
    ----------
    rows : list of list of str
        The first rows of the table.
    i : int
        A row with a unit column (``Kommun``).
    unit_cols : list of int
        Positions of the unit columns in row ``i``.
    has_period : bool
        Whether row ``i`` has a period column (``År``): then it is a one-row header.

    Returns
    -------
    int or None
        The index of the other header row (below or above ``i``).
    """
    if has_period:
        return None
    row = rows[i]
    years = [j for j, c in enumerate(row) if _is_year(c)]
    k, p = _next(rows, i), _previous(rows, i)
    if not years:  # the years are on the row below, under the merged title
        below = rows[k] if k is not None else []
        empty_units = all(not _cell(below, j) for j in unit_cols)
        return k if empty_units and any(_is_year(c) for c in below) else None
    first = years[0]
    if k is not None:  # measures below the years: text where numbers would be
        below = rows[k]
        if all(not _cell(below, j) for j in unit_cols) and any(is_text(c) for c in below[first:]):
            return k
    if p is not None:  # a title row above, with text over the year columns
        above = rows[p]
        if all(not _cell(above, j) for j in unit_cols) and any(
            _cell(above, j) for j in range(first, len(above))
        ):
            return p
    return None


def _carry(cells: list[str], start: int) -> list[str]:
    """Merged cells: each empty cell from ``start`` on takes the text on its left."""
    out, last = list(cells), ""
    for j in range(start, len(out)):
        out[j] = out[j] or last
        last = out[j]
    return out


def combine(
    top: list[str],
    bottom: list[str],
    body: pd.DataFrame,
    *,
    role_of: Callable[[str], str | None],
    where: str,
    lines: str,
) -> tuple[list[str], pd.DataFrame, tuple[str, ...], str]:
    """Read two header rows as one and shape the body by them.

    Parameters
    ----------
    top, bottom : list of str
        The two header rows, stripped (``top`` first in the file).
    body : pandas.DataFrame
        The rows below, as text, with positional columns.
    role_of : callable
        The role a header name gives its column (:func:`evalmodel.data.sniff.role_of`).
    where : str
        The file, for messages.
    lines : str
        The two rows' numbers for messages and notes, e.g. ``"lines 3 and 4"``.

    Returns
    -------
    header : list of str
        The column names of the returned body.
    body : pandas.DataFrame
        Wide by year (no titles) or long with the columns of :data:`LONG_COLUMNS`.
    titles : tuple of str
        The variables named by the header rows (empty when none).
    note : str
        What was done, for the table's notes.

    Raises
    ------
    DataSourceError
        When the two rows do not give each data column one year and one variable.
    """
    n = max(len(top), len(bottom), body.shape[1])
    body = body.set_axis(range(body.shape[1]), axis=1).reindex(columns=range(n), fill_value="")
    top = top + [""] * (n - len(top))
    bottom = bottom + [""] * (n - len(bottom))
    years_below = any(_is_year(c) for c in bottom)
    years_row, title_row = (bottom, top) if years_below else (top, bottom)
    first = next(j for j, c in enumerate(years_row) if _is_year(c))
    year_of, title_of = _carry(years_row, first), _carry(title_row, first)
    ids: dict[int, str] = {}
    data: list[tuple[int, str, str]] = []
    for j in range(n):
        if not (top[j] or bottom[j]):
            continue
        if j < first or not _is_year(year_of[j]):
            named = [c for c in (top[j], bottom[j]) if c]
            ids[j] = next((c for c in named if role_of(c) is not None), named[0])
        else:
            data.append((j, year_of[j], title_of[j]))
    fix = (
        f"make {lines} of {where} one header row (a unit column and one column per year, "
        "e.g. 'Kommun;2019;2020'), with one variable per file or a variable column, and read "
        "it again"
    )
    titled = [t for _, _, t in data if t]
    taken = [c for c in ids.values() if role_of(c) in ("period", "variable", "value")]
    if titled and len(titled) < len(data):
        bare = [y for _, y, t in data if not t]
        raise DataSourceError(
            f"read_export: the two header rows ({lines}) of {where} name a variable over some "
            f"year columns but not over {bare[:6]}; {fix}."
        )
    # Socialstyrelsen's result tables: month names under the years, beside a measure column
    months = bool(titled) and all(month_number(t) is not None for t in titled)
    if titled and taken and not months:
        raise DataSourceError(
            f"read_export: the two header rows ({lines}) of {where} name variables "
            f"{sorted(set(titled))[:6]} beside the column {taken[0]!r}; {fix}."
        )
    pairs = Counter((y, t) for _, y, t in data)
    repeated = [f"{t} {y}".strip() for (y, t), c in pairs.items() if c > 1]
    if repeated:
        raise DataSourceError(
            f"read_export: the two header rows ({lines}) of {where} give {repeated[:6]} to more "
            f"than one column; {fix}."
        )
    id_names = list(ids.values())
    id_frame = body.iloc[:, list(ids)].set_axis(id_names, axis=1)
    if not titled:
        header = [*id_names, *(y for _, y, _ in data)]
        wide = pd.concat([id_frame, body.iloc[:, [j for j, _, _ in data]]], axis=1)
        note = f"two header rows ({lines}) read as one: the years from the merged cells"
        return header, wide.set_axis(header, axis=1), (), note
    columns = (*LONG_COLUMNS[:1], "month", *LONG_COLUMNS[2:]) if months else LONG_COLUMNS
    year, variable, value = columns
    blocks = []
    for j, y, t in data:
        block = id_frame.copy()
        block[year], block[variable], block[value] = y, t, body.iloc[:, j]
        blocks.append(block)
    titles = tuple(dict.fromkeys(titled))
    note = (
        f"two header rows ({lines}) read as one: the years from one row and the "
        f"{'months' if months else 'variables'} {list(titles)[:6]} from the other (merged "
        "cells carried right)"
    )
    header = [*id_names, *columns]
    return header, pd.concat(blocks, ignore_index=True)[header], titles, note
