"""Open a downloaded table: its encoding, its separator and its header row.

:func:`read_cells` returns the cells of a CSV/TSV/Excel file as text, from the header row on,
together with what it found, for :func:`evalmodel.data.files.read_export` to interpret.

* **Encoding.** A byte-order mark decides (UTF-8 or UTF-16, as Excel's "Unicode text" writes);
  otherwise UTF-8 is tried, then Windows-1252 (cp1252, what Excel writes on Swedish Windows), and
  last the guess of ``charset-normalizer`` (installed with ``requests``).
* **Separator.** Semicolon, tab and comma are tried in turn on the first 30 lines; the first
  that yields a header row (a unit column and a year column, or year columns) is used.
* **Header row.** The first of the first 30 rows with a unit column and a period column (or
  columns named by years); title lines above it are skipped. Repeated headers (two ``Värde``
  columns, or pandas' renamed ``N31807.1`` beside ``N31807``) are an error naming them.
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


def header_index(rows: list[list[str]]) -> int | None:
    """Index of the header row among the first rows of a table, or None."""
    for i, cells in enumerate(rows[:HEADER_ROWS]):
        roles = {role_of(c) for c in cells}
        if "unit" in roles and ("period" in roles or any(is_year(c) for c in cells)):
            return i
    return None


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


def _guess(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's reading of the bytes (installed with requests), or None."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with requests
        return None
    best = from_bytes(data).best()
    return None if best is None else (str(best), str(best.encoding))


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """Decode a text file's bytes.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : Path
        The file (for messages).

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
        If no encoding reads the bytes; the message lists the encodings tried.
    """
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
    raise DataSourceError(
        f"read_export: {path} is not readable as text: tried the encodings {', '.join(tried)}; "
        "save it as CSV UTF-8 (Excel: 'CSV UTF-8 (kommaavgränsad)') and read it again."
    )


@dataclass(frozen=True)
class RawTable:
    """The cells of a file as text, from its header row on.

    Attributes
    ----------
    header : list of str
        The header row's cells, stripped.
    body : pandas.DataFrame
        The rows below the header, as text, columns named by ``header``; columns with an empty
        header are left out.
    source : dict
        What was found: ``file``, ``sha256``, ``encoding`` and ``separator`` (text files) or
        ``sheet`` (Excel), ``header_row`` (0-based line of the header).
    notes : list of str
        What was skipped (footnote lines below the table).
    """

    header: list[str]
    body: pd.DataFrame
    source: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _no_header(path: Path, tried: str) -> DataSourceError:
    return DataSourceError(
        f"read_export: no header row with a unit column (e.g. 'Kommun-ID', 'Region', "
        f"'municipality_id') and a year column ('År', 'year') or year columns ('2012', ...) in "
        f"the first {HEADER_ROWS} rows of {path} ({tried}); see evalmodel.data.files for the "
        "accepted column names."
    )


def _sniff(text: str, path: Path, encoding: str) -> tuple[str, int]:
    """The separator and header row of a text table."""
    lines = list(islice(io.StringIO(text), HEADER_ROWS))
    for sep in SEPARATORS:
        h = header_index(list(csv.reader(lines, delimiter=sep)))
        if h is not None:
            return sep, h
    seps = ", ".join(SEPARATORS.values())
    raise _no_header(path, f"read as {encoding}; separators tried: {seps}")


def _excel(path: Path, sheet: str | int | None) -> tuple[pd.DataFrame, int, dict[str, object]]:
    try:
        raw = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=str)
    except ImportError as exc:
        raise DataSourceError(
            f"read_export: reading the Excel file {path} needs an Excel reader ({exc}); "
            "install it with `pip install openpyxl`, or save the sheet as CSV."
        ) from None
    h = header_index(raw.fillna("").astype(str).values.tolist())
    if h is None:
        raise _no_header(path, f"sheet {sheet or 0!r}")
    return raw.iloc[h:].reset_index(drop=True), h, {"sheet": sheet or 0}


def _text(path: Path, data: bytes) -> tuple[pd.DataFrame, int, dict[str, object]]:
    text, encoding = decode(data, path)
    sep, h = _sniff(text, path, encoding)
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            skiprows=h,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataSourceError(
            f"read_export: {path} is not a readable table (read as {encoding}, separator "
            f"{SEPARATORS[sep]}): {exc}; a comma-separated file needs quotes around numbers "
            "with a decimal comma."
        ) from None
    return raw, h, {"encoding": encoding, "separator": sep}


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


def read_cells(path: Path, sheet: str | int | None = None) -> RawTable:
    """Read a CSV/TSV/text or Excel file's cells as text, from its header row on.

    Parameters
    ----------
    path : Path
        A ``.csv``/``.txt``/``.tsv`` file or an ``.xlsx``/``.xlsm``/``.xls`` file.
    sheet : str or int, optional
        Excel sheet (default the first).

    Returns
    -------
    RawTable
        Header, body and what was found (see :class:`RawTable`).

    Raises
    ------
    DataSourceError
        For an unknown extension, an undecodable file, no recognisable header row, a table
        pandas cannot parse, or repeated column names.
    """
    suffix = path.suffix.lower()
    data = path.read_bytes()
    source: dict[str, object] = {"file": str(path), "sha256": hashlib.sha256(data).hexdigest()}
    if suffix in (".xlsx", ".xlsm", ".xls"):
        raw, h, found = _excel(path, sheet)
    elif suffix in (".csv", ".txt", ".tsv"):
        raw, h, found = _text(path, data)
    else:
        raise DataSourceError(
            f"read_export: {path} has the unknown extension {suffix!r}; pass a .csv, .txt, "
            ".tsv, .xlsx or .xls file, or a cache folder."
        )
    source |= found | {"header_row": h}
    header = [str(c).strip() for c in raw.iloc[0].fillna("")]
    dups = duplicate_columns(header)
    if dups:
        raise DataSourceError(
            f"read_export: {path} has repeated column names {dups} (header {header[:12]}); "
            "each column needs its own name (a pandas export renames a repeat 'X' to 'X.1'): "
            "delete or rename the repeats and read the file again."
        )
    body = raw.iloc[1:].fillna("").astype(str).reset_index(drop=True)
    body.columns = pd.Index(header)
    body = body.loc[:, [c != "" for c in header]]
    body = body[body.apply(lambda c: c.str.strip() != "").any(axis=1)].reset_index(drop=True)
    notes = []
    if len(body.columns):
        body, n_foot = _footnotes(body)
        if n_foot:
            notes.append(f"{n_foot} footnote lines below the table skipped")
    return RawTable(header=[c for c in header if c], body=body, source=source, notes=notes)
