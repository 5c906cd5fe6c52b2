"""The vocabulary of Socialstyrelsen's monthly files: months, measures, markers, headers.

Used by :mod:`evalmodel.data.socialstyrelsen` (the reader) and by
:mod:`evalmodel.data.sniff` (a row naming months is a header row). The month names and the
``Hela året`` label are those of Socialstyrelsen's statistics database; the measure labels of
:data:`MEASURES` are the plausible labels of its monthly table (see the reader's docstring for
what is verified and what is assumed).
"""

from __future__ import annotations

import re
import unicodedata

from evalmodel.months import month_code, parse_month

__all__ = [
    "HEADERS",
    "MEASURES",
    "MONTH_NAMES",
    "SUPPRESSED",
    "YEAR_TOTALS",
    "column_role",
    "is_month_header",
    "measure_name",
    "month_number",
    "month_text",
    "norm",
]

#: Swedish month names and their usual abbreviations (lower case) -> month number.
MONTH_NAMES: dict[str, int] = {
    **{
        name: i + 1
        for i, name in enumerate(
            ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
             "september", "oktober", "november", "december")
        )
    },
    **{
        abbr: i + 1
        for i, abbr in enumerate(
            ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
        )
    },
    "sept": 9,
}
#: Month cells that stand for the whole year (set aside, counted).
YEAR_TOTALS = ("hela året", "hela aret", "helår", "helar", "året", "totalt", "samtliga månader")
#: Socialstyrelsen's measure labels (normalised: lower case, no parentheses, single spaces)
#: -> the stable variable names.
MEASURES: dict[str, str] = {
    "antal hushåll": "households",
    "antal biståndshushåll": "households",
    "biståndshushåll": "households",
    "hushåll": "households",
    "antal biståndsmottagare": "recipients",
    "biståndsmottagare": "recipients",
    "antal personer": "recipients",
    "antal vuxna biståndsmottagare": "adults",
    "vuxna biståndsmottagare": "adults",
    "antal vuxna": "adults",
    "vuxna": "adults",
    "antal barn": "children",
    "antal barn i biståndshushåll": "children",
    "barn i biståndshushåll": "children",
    "barn": "children",
    "utbetalt ekonomiskt bistånd tkr": "paid_tsek",
    "utbetalt ekonomiskt bistånd, tkr": "paid_tsek",
    "utbetalt bistånd tkr": "paid_tsek",
    "utbetalt belopp tkr": "paid_tsek",
    "utbetalt ekonomiskt bistånd kr": "paid_sek",
    "utbetalt ekonomiskt bistånd": "paid_sek",
    "utbetalt belopp": "paid_sek",
}
#: Cells that stand for no value -> the ``status`` they get.
SUPPRESSED: dict[str, str] = {
    "x": "suppressed",
    "..": "missing",
    ".": "missing",
    "-": "missing",
    "--": "missing",
    "–": "missing",
    "": "missing",
}

#: Header names (lower case) of each column role, in the order roles are tried. A code
#: column (``Regionkod``) is preferred to a name column (``Kommunnamn``) for the region.
HEADERS: dict[str, tuple[str, ...]] = {
    "unit": ("regionkod", "kommunkod", "kommun-id", "kommunid", "region", "kommun", "område",
             "omrade", "municipality_id", "municipality", "unit", "kod", "id"),
    "name": ("kommunnamn", "regionnamn", "namn", "name", "municipality_name"),
    "year": ("år", "ar", "year"),
    "month": ("månad", "manad", "month", "mån"),
    "period": ("period", "tid"),
    "measure": ("mått", "matt", "variabel", "variable", "tabellinnehåll", "tabell", "kpi",
                "measure"),
    "value": ("värde", "varde", "value", "antal"),
    "gender": ("kön", "kon", "gender"),
    "status": ("status",),
}
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-01(?:[ T]00:00:00)?\s*$")


def norm(s: object) -> str:
    """A header or label compared: stripped, lower case, single spaces."""
    return " ".join(str(s).strip().lower().split())


def month_number(cell: object) -> int | None:
    """The month (1-12) a cell names: ``1``/``01``, ``Januari``, ``jan``; None otherwise.

    Examples
    --------
    >>> [month_number(c) for c in ("3", "Mars", "okt", "13", "Hela året")]
    [3, 3, 10, None, None]
    """
    c = norm(cell).rstrip(".")
    if c.isdigit():
        return int(c) if 1 <= int(c) <= 12 else None
    return MONTH_NAMES.get(c)


def month_text(cell: object) -> int | None:
    """The month code of ``2021-01``, ``2021M01`` or a month-start date cell, or None."""
    text = str(cell).strip()
    code = parse_month(text)
    if code is not None:
        return code
    m = _DATE.match(text)
    if m is None or not 1 <= int(m.group(2)) <= 12:
        return None
    return month_code(int(m.group(1)), int(m.group(2)))


def is_month_header(header: object) -> bool:
    """Whether a header names a month column (``Månad``) or is a month (``Januari``,
    ``2021-01``, ``2021M01``): the headers that make a table monthly."""
    h = norm(header)
    return h in HEADERS["month"] or h in MONTH_NAMES or month_text(header) is not None


def column_role(header: object) -> str | None:
    """The role (a key of :data:`HEADERS`) a header name gives its column, or None."""
    h = norm(header)
    return next((role for role, names in HEADERS.items() if h in names), None)


def measure_name(label: object) -> str:
    """The stable variable name of a measure label (:data:`MEASURES`), else its slug.

    Examples
    --------
    >>> measure_name("Antal biståndsmottagare"), measure_name("Antal ärenden (st)")
    ('recipients', 'antal_arenden_st')
    """
    key = norm(str(label).replace("(", " ").replace(")", " "))
    if key in MEASURES:
        return MEASURES[key]
    ascii_ = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_).strip("_") or "value"


