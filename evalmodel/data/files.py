"""Read downloaded files into the tidy long frame: Kolada and Socialstyrelsen exports, the
cache folder, and a district panel.

:func:`read_export` reads the files researchers have and returns the tidy long frame of
:mod:`evalmodel.data.kolada` (``unit, period, variable, value, gender, status``):

* Kolada's long extracts (``kpi, municipality_id, year, gender, value``, as from the API or
  a data dump) and other long files (one row per unit, year and variable);
* the CSV or Excel files that Kolada (kolada.se, "Exportera") and Socialstyrelsen's statistics
  database let users download, with title lines above the header, semicolons and decimal
  commas;
* *wide* files with one column per year (headers such as ``2012``), the variable taken from a
  variable column, from ``variable=``, or from the file name;
* files wide by variable (a unit column, a year column and one column per variable, e.g.
  ``kommun, year, N31807, N31814``);
* the cache folder that ``evalmodel data fetch`` fills (a path that is a directory): every
  ``kolada/values/<KPI>`` entry, checked against its checksum;
* Socialstyrelsen's monthly files (a ``Månad`` column, month columns such as ``Januari`` or
  ``2021-01``, or ``2021M01`` periods), read by :mod:`evalmodel.data.socialstyrelsen` with
  periods labelled ``"2021-01"``.

The encoding (UTF-8 with or without a byte-order mark, Windows-1252, UTF-16), the separator
(semicolon, tab, comma; ``sep=`` forces one) and the header row (or two header rows from merged
cells) are found by :mod:`evalmodel.data.sniff` and recorded in ``df.attrs["source"]``.
Columns are recognised by name (Swedish or English, any case) rather than by position:

============  ===========================================================================
role          accepted header names
============  ===========================================================================
unit          kommun-id, kommunid, kommunkod, kommun, region, regionkod, municipality,
              municipality_id, unit, id, kod
period        år, ar, year, period, tid
variable      kpi, kpi-id, kpi_id, nyckeltal-id, nyckeltal, mått, matt, variable, indicator
value         värde, varde, value, antal
gender        kön, kon, gender (Totalt/Kvinnor/Män or T/K/M)
status        status (Kolada's flag)
(skipped)     kommunnamn, namn, name, title, municipality_name, unit_name, label
============  ===========================================================================

Unit cells such as ``"1287 Trelleborg"`` keep their code; numeric codes that lost their leading
zero (``580``) get it back (``"0580"``); Kolada's group ids (``G33860``) are kept as written.
Decimal commas, spaces between thousands and the missing markers ``..``, ``.``, ``-``, ``–``
and ``X`` are understood: a missing value becomes NaN and its marker is kept in ``status``.

What is refused, with a :class:`~evalmodel.errors.DataSourceError` naming the file, the column
or the cell and the fix (never a pandas or codec exception): a missing path, a file that is not
a text table or a workbook, an unknown extension, no recognisable header, repeated column names
(never renamed to ``X.1``), a year that is not an integer, a unit cell without a code, a value
that is not a number or a missing marker, and ``variable=`` for a file that names its
variables itself. Nothing is dropped silently: footnote lines, codes given their leading zeros
back and combined header rows are listed in ``df.attrs["notes"]``.

:func:`read_district_panel` reads a researcher's district panel (e.g. Malmö's city areas),
documented in its docstring.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.data.cache import Cache
from evalmodel.data.header_rows import MISSING_MARKERS
from evalmodel.data.kolada import TIDY_COLUMNS
from evalmodel.data.sniff import (
    LABELS,
    SEPARATORS,
    decode,
    duplicates_error,
    is_year,
    read_cells,
    role_of,
)
from evalmodel.data.socialstyrelsen import monthly_layout, read_monthly
from evalmodel.errors import DataSourceError
from evalmodel.panel import Panel

__all__ = ["DISTRICT_COLUMNS", "VALUES_PREFIX", "read_cache", "read_district_panel", "read_export"]

GENDERS = {
    "t": "T",
    "totalt": "T",
    "total": "T",
    "alla": "T",
    "båda könen": "T",
    "k": "K",
    "kvinnor": "K",
    "women": "K",
    "m": "M",
    "män": "M",
    "men": "M",
}
#: Prefix of the cache entries holding one KPI's values each.
VALUES_PREFIX = "kolada/values/"
_CODE = re.compile(r"^\s*(G\d+|\d{1,4})\b")
_SORT = ["variable", "unit", "period", "gender"]


def _unit_codes(s: pd.Series, path: Path, column: str) -> tuple[pd.Series, str]:
    text = s.astype(str).str.strip()
    if (text.str.len() == 4).all() and text.str.isdigit().all():  # the common case, fast
        return text, ""
    code = text.str.extract(_CODE, expand=False)
    if code.isna().any():
        bad = s[code.isna()].iloc[0]
        empty = int((text == "").sum())
        what = f", {empty} of them empty" if empty else ""
        raise DataSourceError(
            f"read_export: unit cell {bad!r} in column {column!r} of {path} has no municipality "
            f"code ({int(code.isna().sum())} cells without a code{what}); unit cells must start "
            "with the code, e.g. '1287' or '1287 Trelleborg' (or a Kolada group id such as "
            "'G33860'): fill or delete those rows."
        )
    numeric = ~code.str.startswith("G")
    short = numeric & (code.str.len() < 4)
    note = ""
    if short.any():
        first = code[short].iloc[0]
        note = (
            f"{code[short].nunique()} unit ids got their leading zeros back in "
            f"{int(short.sum())} rows (e.g. {first!r} -> {first.zfill(4)!r})"
        )
    return code.where(~numeric, code.str.zfill(4)), note


def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The cells as numbers, their missing markers, and which are neither."""
    text = s.fillna("").astype(str).str.strip()
    missing = text.isin(MISSING_MARKERS)
    value = pd.to_numeric(text.where(~missing), errors="coerce")
    odd = value.isna() & ~missing
    if odd.any():  # decimal commas, spaces between thousands
        clean = text[odd].str.replace(r"[\s\u00a0]", "", regex=True).str.replace(",", ".")
        value[odd] = pd.to_numeric(clean, errors="coerce")
    status = pd.Series(np.where(missing, text, ""), index=s.index)
    return value.astype("float64"), status, value.isna() & ~missing


def _genders(s: pd.Series, path: Path, column: str) -> pd.Series:
    """Kolada's gender letters; an unknown code is refused (it would be left out unseen)."""
    text = s.astype(str).str.strip()
    codes = {g: GENDERS.get(g.lower()) for g in text.unique()}
    unknown = sorted(g for g, c in codes.items() if c is None)
    if unknown:
        raise DataSourceError(
            f"read_export: gender {unknown[:5]} in column {column!r} of {path} is not a gender "
            f"code ({int(text.isin(unknown).sum())} cells); the codes are T/K/M or "
            "Totalt/Kvinnor/Män: correct those cells, or delete the column if the file holds "
            "totals."
        )
    return text.map(codes)


def _layout(
    body: pd.DataFrame, p: Path
) -> tuple[pd.DataFrame, dict[str, str], str]:
    """Melt a wide file into long form; return the frame, the role columns and the layout."""
    roles = {c: role_of(c) for c in body.columns}
    col = {r: c for c, r in reversed(list(roles.items())) if r is not None}
    if "value" in col and "period" in col:
        return body, col, "long"
    keep = [col[r] for r in ("unit", "variable", "gender", "status") if r in col]
    if "period" not in col:
        years = [c for c in body.columns if is_year(c)]
        long = body.melt(id_vars=keep, value_vars=years, var_name="__period", value_name="__v")
        return long, col | {"period": "__period", "value": "__v"}, "wide by year"
    if "variable" in col:
        raise DataSourceError(
            f"read_export: {p} has a variable column ({col['variable']!r}) but no value column "
            "('Värde', 'value') and no year columns; see evalmodel.data.files for the accepted "
            "layouts."
        )
    variables = [
        c for c in body.columns if roles[c] is None and str(c).strip().lower() not in LABELS
    ]
    if not variables:
        raise DataSourceError(
            f"read_export: {p} has no value column ('Värde', 'value'), no year columns and no "
            f"variable columns besides the unit and the year (columns {list(body.columns)[:10]}); "
            "see evalmodel.data.files for the accepted layouts."
        )
    ids = [col[r] for r in ("unit", "period", "gender", "status") if r in col]
    long = body.melt(id_vars=ids, value_vars=variables, var_name="__var", value_name="__v")
    return long, col | {"variable": "__var", "value": "__v"}, "wide by variable"


def read_export(
    path: str | os.PathLike[str],
    *,
    variable: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """Read a Kolada or Socialstyrelsen file, any long or wide table, or a cache folder into
    the tidy long frame.

    Parameters
    ----------
    path : path-like
        A ``.csv``/``.txt``/``.tsv`` file (encoding and separator detected), an
        ``.xlsx``/``.xls`` file, or a cache folder filled by ``evalmodel data fetch`` (see
        :func:`read_cache`).
    variable : str, optional
        Variable name when a file has no variable column (default: the file's stem). Not
        accepted with a cache folder, whose entries are named by KPI.
    sheet : str or int, optional
        Excel sheet (default the first). Not accepted with a cache folder.
    sep : str, optional
        Field separator of a text file (default: semicolon, tab and comma are tried). Not
        accepted with an Excel file or a cache folder.

    Returns
    -------
    pandas.DataFrame
        Columns unit (4-character code, or a group id such as ``G33860``), period (int; a
        month label such as ``"2021-01"`` for a monthly file),
        variable, value (float), gender (``"T"`` when the file has none), status (the missing
        marker or Kolada's flag, else ``""``), sorted by variable, unit, period and gender.
        ``df.attrs["notes"]`` lists the repairs made (ids that got their leading zeros back,
        footnote lines skipped); ``df.attrs["source"]`` what was read (file, sha256, encoding,
        separator, layout; or the cache entries with their checksums).

    Raises
    ------
    DataSourceError
        If the path is missing, the file cannot be decoded or has no recognisable header,
        repeats a column name, or has text where numbers belong; the message says what was
        tried. Also when ``variable=`` is given for a file with a variable column (or with
        variables named by a second header row), which would otherwise be ignored.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = p.write_text("Kommun-ID;KPI;År;Värde\\n1287;N31807;2012;4,5\\n", encoding="cp1252")
    >>> read_export(p).values.tolist()
    [['1287', 2012, 'N31807', 4.5, 'T', '']]
    """
    p = Path(path)
    if p.is_dir():
        if variable is not None or sheet is not None or sep is not None:
            raise DataSourceError(
                f"read_export: {p} is a cache folder, whose entries are named by KPI; "
                f"variable={variable!r}, sheet={sheet!r} and sep={sep!r} apply to files only: "
                "leave them out."
            )
        return read_cache(p)
    if not p.exists():
        raise DataSourceError(f"read_export: file {p} does not exist; check the path.")
    raw = read_cells(p, sheet, sep)
    monthly = monthly_layout(raw.header, raw.body, raw.titles)
    if monthly is not None:  # Socialstyrelsen's monthly layouts: evalmodel.data.socialstyrelsen
        return read_monthly(raw.header, raw.body, p, layout=monthly, variable=variable,
                            source=raw.source, notes=raw.notes)
    body, col, layout = _layout(raw.body, p)
    notes: list[str] = list(raw.notes)
    if variable is not None and len(raw.titles) == 1:  # a title merged over the years
        body = body.assign(**{col["variable"]: variable})
        notes.append(f"variable={variable!r} names the header title {raw.titles[0]!r}")
    elif variable is not None and "variable" in col:
        if raw.titles:
            named = f"names its variables {list(raw.titles)[:5]} in a second header row"
        elif layout == "wide by variable":
            names = body[col["variable"]].unique().tolist()[:5]
            named = f"has one column per variable ({names})"
        else:
            named = f"has the variable column {col['variable']!r}"
        raise DataSourceError(
            f"read_export: variable={variable!r} names the variable of a file without one, but "
            f"{p} {named}; leave variable= out."
        )
    unit, zeros = _unit_codes(body[col["unit"]], p, col["unit"])
    if zeros:
        notes.append(zeros)
    period = pd.to_numeric(body[col["period"]].astype(str).str.strip(), errors="coerce")
    odd = period.isna() | (period.round() != period)
    if odd.any():
        bad = body[col["period"]][odd].iloc[0]
        raise DataSourceError(
            f"read_export: year {bad!r} in column {col['period']!r} of {p} is not an "
            f"integer year ({int(odd.sum())} cells); write years as e.g. 2012 (not "
            "'2012-01-01' or '2012/13', and no empty cells)."
        )
    value, status, unreadable = _numbers(body[col["value"]])
    if unreadable.any():
        bad = body[col["value"]][unreadable].iloc[0]
        where = f"column {body.loc[unreadable, col['variable']].iloc[0]!r} of " if (
            layout == "wide by variable") else ""
        raise DataSourceError(
            f"read_export: value {bad!r} in {where}{p} is not a number "
            f"({int(unreadable.sum())} cells); numbers may use a decimal comma; missing markers "
            f"are {list(MISSING_MARKERS[:-1])}: correct or blank those cells."
        )
    if "status" in col:  # Kolada's flag where the value is present
        flag = body[col["status"]].astype(str).str.strip()
        status = status.where(status != "", flag.where(flag.str.lower() != "nan", ""))
    var = body[col["variable"]].astype(str).str.strip() if "variable" in col else (
        variable or p.stem)
    out = pd.DataFrame(
        {
            "unit": unit,
            "period": period.astype("int64"),
            "variable": var,
            "value": value,
            "gender": _genders(body[col["gender"]], p, col["gender"]) if "gender" in col else "T",
            "status": status,
        }
    )[list(TIDY_COLUMNS)]
    out = out.sort_values(_SORT, kind="mergesort").reset_index(drop=True)
    for c in ("unit", "variable", "gender", "status"):
        out[c] = out[c].astype(str)
    out.attrs["notes"] = notes
    out.attrs["source"] = {**raw.source, "layout": layout}
    return out


def read_cache(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read every Kolada KPI in a cache folder (filled by ``evalmodel data fetch``).

    Parameters
    ----------
    path : path-like
        The cache folder (the ``--cache-dir`` of ``evalmodel data fetch``, or the default
        cache folder :func:`~evalmodel.data.cache.default_cache_dir`).

    Returns
    -------
    pandas.DataFrame
        The tidy long frame of every ``kolada/values/<KPI>`` entry, each checked against its
        checksum; ``df.attrs["source"]`` holds the folder and each entry's sha256 and fetch
        time.

    Raises
    ------
    DataSourceError
        If the folder holds no Kolada values; :class:`~evalmodel.data.cache.CacheCorruptError`
        if an entry does not match its checksum.
    """
    root = Path(path)
    if not root.is_dir():
        state = "is a file, not a folder" if root.exists() else "does not exist"
        raise DataSourceError(
            f"read_cache: {root} {state}; pass the cache folder filled by `evalmodel data "
            "fetch` (its --cache-dir), or read a file with read_export."
        )
    cache = Cache(root)
    names = cache.names(VALUES_PREFIX)
    if not names:
        raise DataSourceError(
            f"read_export: the folder {root} holds no Kolada cache entries "
            f"({VALUES_PREFIX}<KPI>.json); fill it with `evalmodel data fetch --cache-dir "
            f"{root}`, or pass a file."
        )
    frames = [cache.read_table(n) for n in names]
    lacking = [n for n, f in zip(names, frames, strict=True) if set(TIDY_COLUMNS) - set(f)]
    if lacking:
        raise DataSourceError(
            f"read_export: cache entries {lacking[:5]} in {root} lack the columns "
            f"{list(TIDY_COLUMNS)}; refetch them with `evalmodel data fetch --refresh`."
        )
    out = pd.concat([f[list(TIDY_COLUMNS)] for f in frames], ignore_index=True)
    out["unit"] = out["unit"].astype(str)
    out["period"] = out["period"].astype("int64")
    out["value"] = out["value"].astype("float64")
    for c in ("variable", "gender", "status"):
        out[c] = out[c].fillna("").astype(str)
    out = out.sort_values(_SORT, kind="mergesort").reset_index(drop=True)
    entries: dict[str, Any] = {}
    for n in names:
        m = cache.manifest(n)
        if m is not None:
            entries[n] = {"sha256": m.sha256, "fetched_at": m.fetched_at}
    out.attrs["notes"] = []
    out.attrs["source"] = {"cache_dir": str(root), "layout": "cache", "entries": entries}
    return out


#: Columns of a district-panel CSV (see :func:`read_district_panel`).
DISTRICT_COLUMNS = {
    "district": "district id or name, text (required)",
    "year": "integer year (required)",
    "city": "municipality id of the district's city, e.g. '1280' (optional)",
    "first_treated": "first year under the model; empty or 0 if never (optional)",
    "<outcome>": "any other column: a numeric outcome, e.g. households, recipients, rate",
}


def read_district_panel(
    path: str | os.PathLike[str],
    *,
    outcomes: Sequence[str] | None = None,
    sep: str | None = None,
) -> Panel:
    """Read a district panel (e.g. Malmö's city areas) from a researcher's CSV.

    The file has one row per district and year, with the columns of :data:`DISTRICT_COLUMNS`:
    ``district`` (text id, kept as written), ``year`` (integer), optionally ``city`` (the
    municipality id, text such as ``"1280"``) and ``first_treated`` (first year under the
    model; empty or 0 for never), and numeric outcome columns (decimal point; empty cells are
    missing). Example::

        district,city,year,first_treated,households,recipients_share
        Lindängen,1280,2010,2011,1200,14.2
        Lindängen,1280,2011,2011,1150,13.6
        Hyllie,1280,2010,,800,6.1

    Parameters
    ----------
    path : path-like
        The CSV file.
    outcomes : sequence of str, optional
        Outcome columns to keep (default every column other than the four named above).
    sep : str, optional
        Field separator (default: the first of ``,``, ``;`` and tab whose header row holds
        ``district`` and ``year``).

    Returns
    -------
    Panel
        Unit ``"district"``, time ``"year"``, cohort ``"first_treated"`` when present;
        ``panel.source`` holds the file name, its encoding and separator, and the district ->
        city map.

    Raises
    ------
    DataSourceError
        If the path is missing or a folder, the file is not text in UTF-8, cp1252 or UTF-16,
        no separator gives the columns ``district`` and ``year`` (the message lists those
        tried), a column name is repeated, or a row has more fields than the header.
    """
    p = Path(path)
    where = "read_district_panel"
    if not p.exists():
        raise DataSourceError(f"{where}: file {p} does not exist; check the path.")
    if p.is_dir():
        raise DataSourceError(f"{where}: {p} is a folder; pass the district panel's CSV file.")
    text, encoding = decode(p.read_bytes(), p, where)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    seps = [sep] if sep is not None else [",", ";", "\t"]
    split = {s: [c.strip() for c in next(csv.reader([first], delimiter=s), [])] for s in seps}
    use = next((s for s in seps if {"district", "year"} <= set(split[s])), None)
    if use is None:
        header = split[seps[0]]
        lacking = [c for c in ("district", "year") if c not in header]
        tried = ", ".join(f"{SEPARATORS[s]} {s!r}" for s in seps if s in SEPARATORS)
        raise DataSourceError(
            f"{where}: {p} lacks the column(s) {lacking}; its header read with "
            f"{'sep=' + repr(sep) if sep is not None else 'each separator tried (' + tried + ')'}"
            f" is {header[:10]}; a district panel needs 'district' and 'year' (see "
            "evalmodel.data.files.DISTRICT_COLUMNS)"
            + ("; leave sep out to have it detected." if sep is not None else ".")
        )
    error = duplicates_error(split[use], str(p), where)
    if error is not None:
        raise error
    widths = [len(r) for r in csv.reader(io.StringIO(text), delimiter=use)]
    wide = [i for i, w in enumerate(widths) if w > len(split[use])]
    if wide:  # pandas would take the first column as an index and shift every name
        raise DataSourceError(
            f"{where}: {p} is not a readable table (read as {encoding}, separator {use!r}): "
            f"line {wide[0] + 1} has {widths[wide[0]]} fields but the header "
            f"{len(split[use])} ({len(wide)} such lines); every row needs as many fields as the "
            "header."
        )
    try:
        df = pd.read_csv(io.StringIO(text), sep=use, dtype={"district": str, "city": str})
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataSourceError(
            f"{where}: {p} is not a readable table (read as {encoding}, separator {use!r}): "
            f"{str(exc).strip()}; every row needs as many fields as the header."
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    cohort = "first_treated" if "first_treated" in df.columns else None
    roles = {"district", "year", "city", "first_treated"}
    outs = list(outcomes) if outcomes is not None else [c for c in df.columns if c not in roles]
    city = {}
    if "city" in df.columns:
        city = df.dropna(subset=["city"]).groupby("district")["city"].first().to_dict()
    return Panel(
        df,
        unit="district",
        time="year",
        cohort=cohort,
        outcomes=outs,
        source={
            "name": "district file",
            "file": str(p),
            "encoding": encoding,
            "separator": use,
            "city": city,
        },
    )
