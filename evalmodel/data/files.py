"""Read downloaded files: Kolada and Socialstyrelsen exports, and a district panel.

:func:`read_export` reads the CSV or Excel files that Kolada (kolada.se, "Exportera") and
Socialstyrelsen's statistics database let users download, and returns the tidy long frame of
:mod:`evalmodel.data.kolada` (``unit, period, variable, value, gender, status``). The layouts of
those downloads change from time to time, so the reader recognises columns by name (Swedish
or English, any case) rather than by position:

============  ===========================================================================
role          accepted header names
============  ===========================================================================
unit          kommun-id, kommunid, kommunkod, kommun, region, regionkod, municipality,
              municipality_id, unit, id, kod
period        år, ar, year, period, tid
variable      kpi, kpi-id, nyckeltal-id, nyckeltal, mått, matt, variable, indicator
value         värde, varde, value, antal
gender        kön, kon, gender
============  ===========================================================================

A *wide* file (one column per year, headers such as ``2012``) is read as well; the variable
is then taken from a variable column, from ``variable=``, or from the file name. Unit cells
such as ``"1287 Trelleborg"`` keep their code; numeric codes that lost their leading zero
(``580``) get it back (``"0580"``). Decimal commas, spaces between thousands and the missing
markers ``..``, ``.``, ``-``, ``–`` and ``X`` are understood: a missing value becomes NaN and
its marker is kept in ``status``. Title lines above the header are skipped.

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

import numpy as np
import pandas as pd

from evalmodel.data.kolada import TIDY_COLUMNS
from evalmodel.errors import DataSourceError
from evalmodel.panel import Panel

__all__ = ["DISTRICT_COLUMNS", "read_district_panel", "read_export"]

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
}
MISSING_MARKERS = ("..", ".", "-", "–", "x", "X", "")
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
_YEAR = re.compile(r"^(19|20)\d\d$")
_CODE = re.compile(r"^\s*(\d{1,4})\b")


def _norm(s: object) -> str:
    return str(s).strip().lower()


def _role_of(header: object) -> str | None:
    h = _norm(header)
    return next((role for role, names in ALIASES.items() if h in names), None)


def _header_index(rows: list[list[str]]) -> int | None:
    for i, cells in enumerate(rows[:30]):
        roles = {_role_of(c) for c in cells}
        years = sum(bool(_YEAR.match(str(c).strip())) for c in cells)
        if "unit" in roles and ("period" in roles or years):
            return i
    return None


def _no_header(path: Path) -> DataSourceError:
    return DataSourceError(
        f"read_export: no header row with a unit column (e.g. 'Kommun-ID', 'Region') and a year "
        f"column ('År') or year columns ('2012', ...) in the first 30 rows of {path}; see "
        "evalmodel.data.files for the accepted column names."
    )


def _read_raw(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """The file's cells as text, from its header row on (header row first)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            raw = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=str)
        except ImportError as exc:
            raise DataSourceError(
                f"read_export: reading the Excel file {path} needs an Excel reader ({exc}); "
                "install it with `pip install openpyxl`, or save the sheet as CSV."
            ) from None
        h = _header_index(raw.fillna("").astype(str).values.tolist())
        if h is None:
            raise _no_header(path)
        return raw.iloc[h:].reset_index(drop=True)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise DataSourceError(
            f"read_export: {path} has the unknown extension {suffix!r}; pass a .csv, .txt, "
            ".tsv, .xlsx or .xls file."
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    lines = text.splitlines()[:30]
    for sep in (";", "\t", ","):
        h = _header_index([next(csv.reader([ln], delimiter=sep), []) for ln in lines])
        if h is not None:
            try:
                return pd.read_csv(
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
                    f"read_export: {path} is not a readable CSV file: {exc}."
                ) from None
    raise _no_header(path)


def _unit_codes(s: pd.Series, path: Path) -> tuple[pd.Series, int]:
    code = s.astype(str).str.extract(_CODE, expand=False)
    if code.isna().any():
        bad = s[code.isna()].iloc[0]
        raise DataSourceError(
            f"read_export: unit cell {bad!r} in {path} has no municipality code; unit cells "
            "must start with the code, e.g. '1287' or '1287 Trelleborg'."
        )
    return code.str.zfill(4), int((code.str.len() < 4).sum())


def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = s.fillna("").astype(str).str.strip()
    missing = text.isin(MISSING_MARKERS)
    clean = text.str.replace(r"[\s\u00a0]", "", regex=True).str.replace(",", ".", regex=False)
    value = pd.to_numeric(clean.where(~missing), errors="coerce")
    status = pd.Series(np.where(missing, text, ""), index=s.index)
    return value.astype("float64"), status


def read_export(
    path: str | os.PathLike[str],
    *,
    variable: str | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read a Kolada or Socialstyrelsen CSV/Excel download into the tidy long frame.

    Parameters
    ----------
    path : path-like
        A ``.csv``/``.txt``/``.tsv`` file (separator detected) or ``.xlsx``/``.xls`` file.
    variable : str, optional
        Variable name when the file has no variable column (default: the file's stem).
    sheet : str or int, optional
        Excel sheet (default the first).

    Returns
    -------
    pandas.DataFrame
        Columns unit (4-character code), period (int), variable, value (float), gender
        (``"T"`` when the file has none), status (the missing marker, else ``""``), sorted
        like :func:`~evalmodel.data.kolada.tidy_values`. ``df.attrs["notes"]`` lists the
        repairs made (ids that got their leading zeros back, values not readable).

    Raises
    ------
    DataSourceError
        If the file is missing, has no recognisable header, or has text where numbers belong.
    """
    p = Path(path)
    if not p.exists():
        raise DataSourceError(f"read_export: file {p} does not exist; check the path.")
    raw = _read_raw(p, sheet)
    header = [str(c).strip() for c in raw.iloc[0].fillna("")]
    body = raw.iloc[1:].reset_index(drop=True)
    body.columns = pd.Index(header)
    body = body.loc[:, [c != "" for c in header]]
    body = body[body.fillna("").astype(str).apply(lambda c: c.str.strip() != "").any(axis=1)]
    roles = {c: _role_of(c) for c in body.columns}
    col = {r: c for c, r in reversed(list(roles.items())) if r is not None}
    year_cols = [c for c in body.columns if _YEAR.match(c)]
    if "period" not in col:
        keep = [col[r] for r in ("unit", "variable", "gender") if r in col]
        body = body.melt(id_vars=keep, value_vars=year_cols, var_name="__period", value_name="__v")
        col["period"], col["value"] = "__period", "__v"
    if "value" not in col:
        raise DataSourceError(
            f"read_export: {p} has no value column ('Värde', 'Value') and no year columns; "
            "see evalmodel.data.files for the accepted layouts."
        )
    notes: list[str] = []
    unit_raw = body[col["unit"]].astype(str).str.strip()
    unit, n_zero = _unit_codes(unit_raw, p)
    if n_zero:
        notes.append(f"{n_zero} unit ids got their leading zeros back (e.g. '580' -> '0580')")
    period = pd.to_numeric(body[col["period"]].astype(str).str.strip(), errors="coerce")
    if period.isna().any() or (period.round() != period).any():
        bad = body[col["period"]][period.isna()].iloc[0] if period.isna().any() else period.iloc[0]
        raise DataSourceError(f"read_export: year {bad!r} in {p} is not an integer year.")
    value, status = _numbers(body[col["value"]])
    unreadable = value.isna() & (status == "")
    if unreadable.any():
        bad = body[col["value"]][unreadable].iloc[0]
        raise DataSourceError(
            f"read_export: value {bad!r} in {p} is not a number ({int(unreadable.sum())} cells); "
            f"numbers may use a decimal comma; missing markers are {list(MISSING_MARKERS[:-1])}."
        )
    gender = (
        body[col["gender"]].astype(str).str.strip().map(lambda g: GENDERS.get(g.lower(), g))
        if "gender" in col
        else "T"
    )
    var = (
        body[col["variable"]].astype(str).str.strip() if "variable" in col else (variable or p.stem)
    )
    out = pd.DataFrame(
        {
            "unit": unit,
            "period": period.astype("int64"),
            "variable": var,
            "value": value,
            "gender": gender,
            "status": status,
        }
    )[list(TIDY_COLUMNS)]
    out = out.sort_values(["variable", "unit", "period", "gender"], kind="mergesort")
    out = out.reset_index(drop=True)
    for c in ("unit", "variable", "gender", "status"):
        out[c] = out[c].astype(str)
    out.attrs["notes"] = notes
    out.attrs["source"] = {"file": str(p)}
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
    sep: str = ",",
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
    sep : str
        Field separator.

    Returns
    -------
    Panel
        Unit ``"district"``, time ``"year"``, cohort ``"first_treated"`` when present;
        ``panel.source`` holds the file name and the district -> city map.
    """
    p = Path(path)
    if not p.exists():
        raise DataSourceError(f"read_district_panel: file {p} does not exist; check the path.")
    df = pd.read_csv(p, sep=sep, dtype={"district": str, "city": str}, encoding="utf-8-sig")
    df.columns = [str(c).strip() for c in df.columns]
    lacking = [c for c in ("district", "year") if c not in df.columns]
    if lacking:
        raise DataSourceError(
            f"read_district_panel: {p} lacks the column(s) {lacking}; the columns are "
            f"{list(df.columns)[:10]}; a district panel needs 'district' and 'year' (see "
            "evalmodel.data.files.DISTRICT_COLUMNS)."
        )
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
        source={"name": "district file", "file": str(p), "city": city},
    )
