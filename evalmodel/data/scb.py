"""Statistics Sweden (SCB) through PxWeb API v2, with the ``pxwebpy`` client.

:func:`scb_table` reads one SCB table by municipality and returns the tidy long frame of
:mod:`evalmodel.data.kolada` (``unit, period, variable, value, gender, status``). The default
table is :data:`BENEFITS_TABLE`, SCB's table of full-year equivalents aged 20-64 supported by
social benefits (of which social assistance), by region and sex. Monthly periods
(``2014M01``) are averaged to years, and the number of months behind each average is kept in
``status`` when a year is incomplete.

Notes
-----
The table id and the variable codes (``Region``, ``Kon``, ``Tid``, ``ContentsCode``) follow
SCB's naming; they could not be checked against the live v2 API when this was written. Pass
``table_id=`` (and ``value_codes=``) if SCB has renamed them. ``pxwebpy`` is an optional
dependency, imported only when this function runs. Unlike the Kolada client, this module does
not retry: ``pxwebpy`` waits out a 429 itself, and any other failure (an HTTP error, a refused
connection, a body cut short) raises :class:`~evalmodel.errors.DataSourceError` naming the table,
the URL and the cause at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.data.kolada import TIDY_COLUMNS
from evalmodel.errors import DataSourceError

__all__ = ["BENEFITS_TABLE", "SCB_BASE_URL", "scb_table", "tidy_pxweb"]

#: SCB's PxWeb API v2.
SCB_BASE_URL = "https://statistikdatabasen.scb.se/api/v2"
#: Full-year equivalents 20-64 supported by social benefits, by region and sex (SCB HE0000).
BENEFITS_TABLE = "HE0000T02"
#: Codes of the sex variable and the gender letters used by Kolada.
GENDER_CODES = {"1+2": "T", "1": "M", "2": "K", "T": "T", "K": "K", "M": "M"}
_MONTH = re.compile(r"^(\d{4})M(\d{2})$")
_MUNICIPALITY = re.compile(r"^\d{4}$")


def tidy_pxweb(
    rows: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    *,
    region: str = "Region",
    time: str = "Tid",
    sex: str = "Kon",
    municipalities_only: bool = True,
) -> pd.DataFrame:
    """Turn pxwebpy's rows (``show="code"``) into the tidy long frame.

    Parameters
    ----------
    rows : sequence of mapping
        Rows from :meth:`pxweb.PxApi.get_table_data`, keyed by dimension label plus
        ``"value"``.
    names : mapping
        Dimension label -> variable code (from the table's metadata).
    region, time, sex : str
        Codes of the region, time and sex variables.
    municipalities_only : bool
        Keep only 4-digit region codes (municipalities), dropping the country and counties.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~evalmodel.data.kolada.TIDY_COLUMNS`. The variable is the content code,
        with any further dimension appended as ``code[var=value]``.
    """
    df = pd.DataFrame(list(rows)).rename(columns=dict(names))
    for need in (region, time):
        if need not in df.columns:
            raise DataSourceError(
                f"scb: the table has no {need!r} variable (variables: "
                f"{[c for c in df.columns if c != 'value']}); pass region=/time= codes."
            )
    df[region] = df[region].astype(str)
    if municipalities_only:
        df = df[df[region].str.match(_MUNICIPALITY)]
    others = [c for c in df.columns if c not in (region, time, sex, "value", "ContentsCode")]
    var = df["ContentsCode"].astype(str) if "ContentsCode" in df else pd.Series("value", df.index)
    for c in others:
        var = var + f"[{c}=" + df[c].astype(str) + "]"
    t = df[time].astype(str)
    month = t.str.extract(_MONTH)
    period = pd.to_numeric(month[0].fillna(t), errors="coerce")
    if period.isna().any():
        raise DataSourceError(
            f"scb: time code {t[period.isna()].iloc[0]!r} is neither a year nor a month "
            "(2014M01); only annual and monthly tables are supported."
        )
    out = pd.DataFrame(
        {
            "unit": df[region].to_numpy(),
            "period": period.astype("int64").to_numpy(),
            "variable": var.to_numpy(),
            "value": pd.to_numeric(df["value"], errors="coerce").astype("float64").to_numpy(),
            "gender": (
                df[sex].astype(str).map(GENDER_CODES).fillna(df[sex].astype(str))
                if sex in df
                else pd.Series("T", df.index)
            ).to_numpy(),
        }
    )
    keys = ["unit", "period", "variable", "gender"]
    if month[0].notna().any():
        g = out.groupby(keys, sort=False)["value"]
        out = g.mean().reset_index().merge(g.count().rename("n").reset_index(), on=keys)
        out["status"] = np.where(out["n"] < 12, out["n"].astype(str) + " months", "")
        out = out.drop(columns="n")
    else:
        out["status"] = np.where(out["value"].isna(), "..", "")
    out = out[list(TIDY_COLUMNS)].sort_values(
        ["variable", "unit", "period", "gender"], kind="mergesort"
    )
    for c in ("unit", "variable", "gender", "status"):
        out[c] = out[c].astype(str)
    return out.reset_index(drop=True)


def scb_table(
    table_id: str = BENEFITS_TABLE,
    *,
    base_url: str | None = None,
    value_codes: Mapping[str, list[str] | str] | None = None,
    code_list: Mapping[str, str] | None = None,
    municipalities_only: bool = True,
    timeout: int = 30,
) -> pd.DataFrame:
    """Read an SCB table by municipality as a tidy long frame.

    Parameters
    ----------
    table_id : str
        PxWeb table id (default :data:`BENEFITS_TABLE`).
    base_url : str, optional
        PxWeb v2 API root (default :data:`SCB_BASE_URL`; a local server in tests).
    value_codes : mapping, optional
        Selection per variable code (``{"Tid": ["2012", "2013"]}``); variables left out get
        every value (``"*"``).
    code_list : mapping, optional
        Code list per variable, e.g. ``{"Region": "vs_RegionKommun07"}``.
    municipalities_only : bool
        Keep only municipalities (4-digit region codes).
    timeout : int
        Seconds before a request gives up.

    Returns
    -------
    pandas.DataFrame
        The tidy frame of :func:`tidy_pxweb`.

    Raises
    ------
    DataSourceError
        If ``pxwebpy`` is not installed, or the API fails (naming the URL and the error).
    """
    try:
        from pxweb import PxApi
    except ImportError:
        raise DataSourceError(
            "scb_table needs the optional package pxwebpy; install it with `pip install pxwebpy`."
        ) from None
    url = base_url or SCB_BASE_URL
    try:
        api = PxApi(url, disable_cache=True, timeout=timeout, max_workers=1)
        variables: dict[str, Any] = api.get_table_variables(table_id)
        selection: dict[str, list[str] | str] = {v: ["*"] for v in variables}
        selection.update(dict(value_codes or {}))
        rows = api.get_table_data(
            table_id, value_codes=selection, code_list=dict(code_list or {}) or None, show="code"
        )
    except Exception as exc:  # pxwebpy raises requests errors and plain exceptions
        raise DataSourceError(
            f"scb: reading table {table_id!r} from {url} failed: {type(exc).__name__}: "
            f"{str(exc)[:300]}; check table_id, value_codes and the network."
        ) from exc
    names = {str(v.get("label", k)): k for k, v in variables.items()}
    return tidy_pxweb(rows, names, municipalities_only=municipalities_only)
