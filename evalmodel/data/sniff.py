"""Open a downloaded table: its encoding, its separator and its header row.

:func:`read_cells` returns the cells of a CSV/TSV/Excel file as text, from the header row on,
together with what it found, for :func:`evalmodel.data.files.read_export` to interpret.

* **Encoding.** A byte-order mark decides (UTF-8 or UTF-16, as Excel's "Unicode text" writes);
  otherwise UTF-8 is tried, then Windows-1252 (cp1252, what Excel writes on Swedish Windows), and
  last the guess of ``charset-normalizer`` (installed with ``requests``). The encoding used is
  kept in the table's ``source``. A file that is not text at all (an Excel workbook, a Parquet
  file or a zip archive under a ``.csv`` name) is an error saying what it is; a file no
  encoding reads is an error listing the encodings tried.
* **Separator.** Semicolon, tab and comma are tried in turn on the first 30 lines; the first
  that yields a header row (a unit column and a year column, or year columns) is used, and kept
  in the table's ``source``. ``sep=`` forces one. When none works, the message lists the
  separators tried and how to pass one.
* **Header row.** The first of the first 30 rows with a unit column and a period column (or
  columns named by years); title lines above it are skipped. Two header rows from merged cells
  (a title over the year columns) are read as one by :mod:`evalmodel.data.header_rows`.
  Repeated headers (two ``Värde`` columns, or pandas' renamed ``N31807.1`` beside ``N31807``)
  are an error naming them and their column positions; they are never renamed.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import pandas as pd

from evalmodel.data.header_rows import combine, find_header
from evalmodel.data.socialstyrelsen_labels import is_month_header
from evalmodel.errors import DataSourceError

__all__ = [
    "ALIASES",
    "ENCODINGS",
    "LABELS",
    "SEPARATORS",
    "RawTable",
    "decode",
    "duplicate_columns",
    "header_index",
    "header_rows",
    "read_cells",
    "role_of",
]

#: Header names (lower case) that give a column its role.
ALIASES: dict[str, tuple[str, ...]] = {
    "unit": (
        "kommun-id",
        "kommunid",
        "kommunkod",
        "kommun",
        "region",
        "regionkod",
        "municipality",
        "municipality_id",
        "unit",
        "id",
        "kod",
    ),
    "period": ("år", "ar", "year", "period", "tid"),
    "variable": (
        "kpi",
        "kpi-id",
        "kpi_id",
        "nyckeltal-id",
        "nyckeltal",
        "mått",
        "matt",
        "variable",
        "indicator",
    ),
    "value": ("värde", "varde", "value", "antal"),
    "gender": ("kön", "kon", "gender"),
    "status": ("status",),
}
#: Header names of text columns that name a unit (kept out of the variables of a wide file).
LABELS = (
    "kommunnamn",
    "kommun_namn",
    "kommun-namn",
    "regionnamn",
    "namn",
    "name",
    "title",
    "municipality_name",
    "unit_name",
    "label",
)
#: Encodings tried, in order, when the file has no byte-order mark.
ENCODINGS = ("utf-8", "cp1252")
#: Separators tried, with the names used in messages.
SEPARATORS: dict[str, str] = {";": "semicolon", "\t": "tab", ",": "comma"}
#: Rows searched for the header.
HEADER_ROWS = 30
_YEAR = re.compile(r"^(19|20)\d\d$")
_MANGLED = re.compile(r"^(.+)\.(\d+)$")
_CODE_START = re.compile(r"^(G?\d{1,4})\b")


def _norm(s: object) -> str:
    return str(s).strip().lower()


def role_of(header: object) -> str | None:
    """The role (``unit``, ``period``, ...) a header name gives its column, or None."""
    h = _norm(header)
    return next((role for role, names in ALIASES.items() if h in names), None)


def is_year(header: object) -> bool:
    """Whether a header is a year such as ``2012`` (a column of a wide file)."""
    return bool(_YEAR.match(str(header).strip()))


def header_rows(rows: list[list[str]]) -> tuple[int, int | None] | None:
    """The header row among the first rows of a table, and the second header row of a
    two-row header (merged cells, see :mod:`evalmodel.data.header_rows`), or None.

    Returns
    -------
    tuple of (int, int or None), or None
        The index of the (first) header row and of the second one (None for a one-row
        header); None when no row has a unit column and a period column or year columns.
    """
    for i, cells in enumerate(rows[:HEADER_ROWS]):
        roles = [role_of(c) for c in cells]
        if "unit" not in roles:
            continue
        units = [j for j, r in enumerate(roles) if r == "unit"]
        monthly = any(is_month_header(c) for c in cells)  # Socialstyrelsen's monthly files
        other = find_header(rows, i, units, "period" in roles or monthly)
        if other is not None:
            return min(i, other), max(i, other)
        if "period" in roles or monthly or any(is_year(c) for c in cells):
            return i, None
    return None


def header_index(rows: list[list[str]]) -> int | None:
    """Index of the (first) header row among the first rows of a table, or None."""
    found = header_rows(rows)
    return None if found is None else found[0]


def column_letter(j: int) -> str:
    """The spreadsheet letter of the 0-based column ``j`` (0 -> A, 26 -> AA).

    Examples
    --------
    >>> [column_letter(j) for j in (0, 3, 25, 26, 27)]
    ['A', 'D', 'Z', 'AA', 'AB']
    """
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def duplicate_columns(header: list[str]) -> list[str]:
    """Headers that occur twice, and pandas-renamed repeats (``N31807.1`` beside ``N31807``)."""
    names = [h for h in header if h]
    out = [h for h, n in Counter(names).items() if n > 1]
    present = set(names)
    for h in names:
        m = _MANGLED.match(h)
        if m and m.group(1) in present and h not in out:
            out.append(h)
    return out


def duplicates_error(
    header: list[str], where: str, caller: str = "read_export"
) -> DataSourceError | None:
    """The error for repeated column names in ``header`` (None when there are none): each
    named with its column positions (1-based, and the spreadsheet letters)."""
    dups = duplicate_columns(header)
    if not dups:
        return None
    parts = []
    for d in dups:
        m = _MANGLED.match(d)
        group = [d, m.group(1)] if m and m.group(1) not in dups else [d]
        pos = [j for j, h in enumerate(header) if h in group]
        cols = " and ".join(f"{j + 1} ({column_letter(j)})" for j in pos)
        parts.append(f"{d!r} in columns {cols}")
    return DataSourceError(
        f"{caller}: {where} has repeated column names {dups}: {'; '.join(parts)}; each "
        "column needs its own name and none is renamed or dropped silently (a pandas export "
        "renames a repeat 'X' to 'X.1'): delete the repeated column or give it its own name, "
        "and read the file again."
    )


def _guess(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's reading of the bytes (installed with requests), or None."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with requests
        return None
    best = from_bytes(data).best()
    return None if best is None else (str(best), str(best.encoding))


#: Leading bytes of files that are not text, with what they are and the fix.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (
        b"PK\x03\x04",
        "a zip archive (an Excel .xlsx workbook?); give it the .xlsx extension or "
        "save the sheet as CSV",
    ),
    (
        b"\xd0\xcf\x11\xe0",
        "an old Excel .xls workbook; give it the .xls extension or save the sheet as CSV",
    ),
    (
        b"PAR1",
        "a Parquet file; read it with pandas.read_parquet, or pass the cache folder it belongs to",
    ),
    (b"%PDF", "a PDF document; download the table as CSV or Excel instead"),
    (b"\x1f\x8b", "a gzip archive; unpack it first"),
)


def not_text(data: bytes) -> str | None:
    """What a file is when its first bytes say it is not text (see :data:`MAGIC`), or None."""
    return next((what for magic, what in MAGIC if data.startswith(magic)), None)


def decode(data: bytes, path: Path, caller: str = "read_export") -> tuple[str, str]:
    """Decode a text file's bytes.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : Path
        The file (for messages).
    caller : str
        The public function, first in messages.

    Returns
    -------
    text : str
        The text, without a byte-order mark.
    encoding : str
        The encoding used: ``"utf-8-sig"``, ``"utf-16"``, ``"utf-8"``, ``"cp1252"`` or the
        name charset-normalizer gave.

    Raises
    ------
    DataSourceError
        If the bytes are a known binary format (the message names it), or no encoding reads
        them (the message lists the encodings tried).
    """
    binary = not_text(data)
    if binary is not None:
        raise DataSourceError(f"{caller}: {path} is not a text table but {binary}.")
    tried: list[str] = []
    boms = (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    for bom, enc in boms:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                tried.append(f"{enc} (byte-order mark found)")
                break
    if not tried and b"\x00" not in data[:4096]:  # NUL bytes: UTF-16/32 without a mark
        for enc in ENCODINGS:
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                tried.append(enc)
    guess = _guess(data)
    if guess is not None:
        return guess
    tried.append("charset-normalizer's detection")
    if len(tried) == 1:
        tried.append(f"not {' or '.join(ENCODINGS)}: the file holds NUL bytes (binary data?)")
    raise DataSourceError(
        f"{caller}: {path} is not readable as text: tried the encodings {', '.join(tried)}; "
        "save it as CSV UTF-8 (Excel: 'CSV UTF-8 (kommaavgränsad)') and read it again."
    )


@dataclass(frozen=True)
class RawTable:
    """The cells of a file as text, from its header row on.

    Attributes
    ----------
    header : list of str
        The header row's cells, stripped (two header rows read as one, see
        :mod:`evalmodel.data.header_rows`).
    body : pandas.DataFrame
        The rows below the header, as text, columns named by ``header``; columns with an empty
        header are left out.
    source : dict
        What was found: ``file``, ``sha256``, ``encoding`` and ``separator`` (text files) or
        ``sheet`` (Excel), ``header_row`` (0-based line of the header) and, for two header
        rows, ``header_rows`` (both lines).
    notes : list of str
        What was skipped or combined (footnote lines below the table, two header rows).
    titles : tuple of str
        The variables named by a title row above or below the years (two header rows); the
        body then has a ``variable`` column holding them.
    """

    header: list[str]
    body: pd.DataFrame
    source: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    titles: tuple[str, ...] = ()


def _no_header(path: Path, tried: str) -> DataSourceError:
    return DataSourceError(
        f"read_export: no header row with a unit column (e.g. 'Kommun-ID', 'Region', "
        f"'municipality_id') and a year column ('År', 'year') or year columns ('2012', ...) in "
        f"the first {HEADER_ROWS} rows of {path} ({tried}); see evalmodel.data.files for the "
        "accepted column names."
    )


def _separator(sep: str | None) -> list[str]:
    if sep is None:
        return list(SEPARATORS)
    if not isinstance(sep, str) or len(sep) != 1 or sep in '\r\n"':
        raise DataSourceError(
            f"read_export: sep={sep!r} is not a field separator; pass one character such as "
            "';', '\\t' or ',', or leave sep out to have it detected."
        )
    return [sep]


def _sniff(text: str, path: Path, encoding: str, sep: str | None) -> tuple[str, int, int | None]:
    """The separator and header row(s) of a text table."""
    lines = list(islice(io.StringIO(text), HEADER_ROWS))
    seps = _separator(sep)
    for s in seps:
        found = header_rows(list(csv.reader(lines, delimiter=s)))
        if found is not None:
            return s, *found
    if sep is None:
        tried = "separators tried: " + ", ".join(f"{n} {s!r}" for s, n in SEPARATORS.items())
        fix = "; if the file uses another separator, pass it, e.g. sep='|'"
    else:
        tried = f"separator {SEPARATORS.get(sep, 'given')} {sep!r} as sep= asks"
        fix = "; leave sep out to have ';', tab and ',' tried"
    raise _no_header(path, f"read as {encoding}; {tried}{fix}")


def _excel(
    path: Path, sheet: str | int | None, data: bytes
) -> tuple[pd.DataFrame, int, int | None, dict[str, object]]:
    name = sheet or 0
    try:
        raw = pd.read_excel(path, sheet_name=name, header=None, dtype=str)
    except ImportError as exc:
        raise DataSourceError(
            f"read_export: reading the Excel file {path} needs an Excel reader ({exc}); "
            "install it with `pip install openpyxl`, or save the sheet as CSV."
        ) from None
    except (ValueError, KeyError, IndexError) as exc:
        if "orksheet" in str(exc):  # openpyxl/xlrd: "Worksheet named 'x' not found"
            raise DataSourceError(
                f"read_export: sheet={name!r} is not in {path} ({exc}); pass sheet= the name "
                "or 0-based position of a sheet of the workbook."
            ) from None
        raise _bad_excel(path, data, exc) from None
    except Exception as exc:  # zipfile, openpyxl and xlrd raise their own types
        raise _bad_excel(path, data, exc) from None
    cells = raw.fillna("").astype(str).values.tolist()
    if not any(any(c.strip() for c in row) for row in cells):
        raise DataSourceError(
            f"read_export: sheet {name!r} of {path} is empty; pass sheet= the sheet that holds "
            "the table."
        )
    found = header_rows(cells)
    if found is None:
        raise _no_header(path, f"sheet {name!r}")
    h, second = found
    return raw.iloc[h:].reset_index(drop=True), h, second, {"sheet": name}


def _bad_excel(path: Path, data: bytes, exc: BaseException) -> DataSourceError:
    text = not_text(data) is None and b"\x00" not in data[:4096]
    hint = (
        "it looks like a text file: give it the .csv extension"
        if text
        else "open it in Excel and save it again as .xlsx, or save the sheet as CSV"
    )
    return DataSourceError(
        f"read_export: {path} is not a readable Excel workbook ({type(exc).__name__}: "
        f"{str(exc)[:160]}); {hint}."
    )


def _text(
    path: Path, data: bytes, sep: str | None
) -> tuple[pd.DataFrame, int, int | None, dict[str, object]]:
    text, encoding = decode(data, path)
    s, h, second = _sniff(text, path, encoding, sep)
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            sep=s,
            skiprows=h,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataSourceError(
            f"read_export: {path} is not a readable table (read as {encoding}, separator "
            f"{SEPARATORS.get(s, 'given')} {s!r}): {str(exc).strip()}; every row needs as many "
            "fields as the header (a comma-separated file needs quotes around numbers with a "
            "decimal comma); if the file uses another separator, pass it as sep=."
        ) from None
    return raw, h, second, {"encoding": encoding, "separator": s}


def _footnotes(body: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop the trailing rows with a single cell of text (``Källa: ...``), and count them."""
    n = 0
    while n < len(body):
        cells = [str(c).strip() for c in body.iloc[len(body) - 1 - n]]
        filled = [c for c in cells if c]
        if len(filled) > 1 or _CODE_START.match(cells[0]):
            break
        n += 1
    return body.iloc[: len(body) - n], n


def _one_separator(body: pd.DataFrame, sep: str, path: Path) -> None:
    """Refuse rows written with another separator than the header's (all in the first cell)."""
    if body.shape[1] < 2:
        return
    first = body.iloc[:, 0].str.strip()
    alone = (body.iloc[:, 1:].apply(lambda c: c.str.strip() == "")).all(axis=1)
    for other, name in SEPARATORS.items():
        bad = alone & first.str.contains(other, regex=False) & (other != sep)
        if bad.any():
            raise DataSourceError(
                f"read_export: {path} mixes separators: its header is split by "
                f"{SEPARATORS[sep]}s ({sep!r}) but {int(bad.sum())} rows by {name}s ({other!r}), "
                f"e.g. {first[bad].iloc[0]!r}; save the file with one separator throughout."
            )


def _rows(raw: pd.DataFrame) -> list[list[str]]:
    return [[str(c).strip() for c in row] for row in raw.fillna("").astype(str).values.tolist()]


def read_cells(path: Path, sheet: str | int | None = None, sep: str | None = None) -> RawTable:
    """Read a CSV/TSV/text or Excel file's cells as text, from its header row on.

    Parameters
    ----------
    path : Path
        A ``.csv``/``.txt``/``.tsv`` file or an ``.xlsx``/``.xlsm``/``.xls`` file.
    sheet : str or int, optional
        Excel sheet (default the first).
    sep : str, optional
        Field separator of a text file (default: detected, see the module docstring).

    Returns
    -------
    RawTable
        Header, body and what was found (see :class:`RawTable`).

    Raises
    ------
    DataSourceError
        For an unknown extension, an unreadable or binary file, an undecodable file, no
        recognisable header row, a table pandas cannot parse, two header rows that do not
        combine, or repeated column names.
    """
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataSourceError(
            f"read_export: {path} cannot be read ({exc.strerror or exc}); check the path and "
            "its permissions."
        ) from None
    if not data.strip():
        raise DataSourceError(
            f"read_export: {path} is empty ({len(data)} bytes); save the table into it again "
            "(a header row, then one row per unit and year)."
        )
    source: dict[str, object] = {"file": str(path), "sha256": hashlib.sha256(data).hexdigest()}
    if suffix in (".xlsx", ".xlsm", ".xls"):
        if sep is not None:
            raise DataSourceError(
                f"read_export: sep={sep!r} applies to text files; {path} is an Excel file: "
                "leave sep out."
            )
        raw, h, second, found = _excel(path, sheet, data)
        unit = "rows"
    elif suffix in (".csv", ".txt", ".tsv"):
        raw, h, second, found = _text(path, data, sep)
        unit = "lines"
    else:
        raise DataSourceError(
            f"read_export: {path} has the unknown extension {suffix!r}; pass a .csv, .txt, "
            ".tsv, .xlsx or .xls file, or a cache folder."
        )
    source |= found | {"header_row": h}
    rows = _rows(raw)
    filled = [i for i, r in enumerate(rows) if any(r)]
    n_head = 1 if second is None else 2
    heads = [rows[i] for i in filled[:n_head]]
    body = raw.iloc[filled[n_head - 1] + 1 :].fillna("").astype(str).reset_index(drop=True)
    body = body.set_axis(range(body.shape[1]), axis=1)
    body = body[body.apply(lambda c: c.str.strip() != "").any(axis=1)].reset_index(drop=True)
    notes: list[str] = []
    if body.shape[1]:
        body, n_foot = _footnotes(body)
        if n_foot:
            notes.append(f"{n_foot} footnote lines below the table skipped")
    if body.empty:
        skipped = f" ({notes[0]})" if notes else ""
        raise DataSourceError(
            f"read_export: {path} has a header row ({unit[:-1]} {h + 1}: {heads[0][:8]}) but no "
            f"data rows below it{skipped}; add the data, or check that the right file or sheet "
            "was passed."
        )
    if "separator" in found:
        _one_separator(body, str(found["separator"]), path)
    titles: tuple[str, ...] = ()
    if second is None:
        header = heads[0]
        error = duplicates_error(header, str(path))
        if error is not None:
            raise error
        body = body.set_axis(header[: body.shape[1]], axis=1)
    else:
        lines = f"{unit} {h + 1} and {second + 1}"
        source["header_rows"] = [h, second]
        header, body, titles, note = combine(
            heads[0], heads[1], body, role_of=role_of, where=str(path), lines=lines
        )
        error = duplicates_error(header, str(path))
        if error is not None:
            raise error
        notes.append(note)
    body = body.loc[:, [c != "" for c in body.columns]]
    return RawTable(
        header=[c for c in header if c], body=body, source=source, notes=notes, titles=titles
    )
