"""Selecting and tidying a PxWeb table by municipality, sex, age group and month.

Used by :mod:`evalmodel.data.scb`. :func:`build_selection` turns the caller's choices (regions,
months, contents, age group) into value codes for every variable of the table, checked against
its metadata; :func:`find_contents` finds a ContentsCode by its label; :func:`tidy_scb` turns a
data answer (one row per cell) into the tidy frame of :mod:`evalmodel.data.kolada`: 4-digit
municipality codes, ``T``/``M``/``K`` for Kon, months as labels ``"2021-01"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from evalmodel.data.kolada import TIDY_COLUMNS
from evalmodel.data.pxweb_parse import TableMetadata, fold
from evalmodel.errors import DataSourceError
from evalmodel.months import month_label, parse_month

__all__ = [
    "GENDER_CODES",
    "GENDER_LABELS",
    "ROLES",
    "build_selection",
    "find_contents",
    "optional_variable",
    "scb_month",
    "tidy_scb",
]

#: Kon codes and labels (folded) -> Kolada's gender letters.
GENDER_CODES = {"1+2": "T", "T": "T", "TOT": "T", "1": "M", "M": "M", "2": "K", "K": "K"}
GENDER_LABELS = {
    "totalt": "T",
    "samtliga": "T",
    "man och kvinnor": "T",
    "total": "T",
    "man": "M",
    "men": "M",
    "kvinnor": "K",
    "women": "K",
}
_MUNICIPALITY = re.compile(r"^\d{4}$")
_SCB_MONTH = re.compile(r"^\d{4}M\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
#: Codes of the region, sex and age variables in SCB's tables.
ROLES = {"region": "Region", "sex": "Kon", "age": "Aldersgrupp"}


def find_contents(meta: TableMetadata, label: str) -> str:
    """The one ContentsCode whose label contains ``label`` (case- and accent-insensitive).

    Raises
    ------
    DataSourceError
        If none or several contents match, listing every content's code and label.
    """
    var = meta.metric or meta.variable("ContentsCode")
    labels = meta.value_labels.get(var, {})
    hits = [c for c, lab in labels.items() if fold(label) in fold(lab)]
    if len(hits) != 1:
        listing = "; ".join(f"{c}: {lab}" for c, lab in labels.items())
        raise DataSourceError(
            f"scb: table {meta.table_id} has {'no' if not hits else len(hits)} {var} "
            f"{'value' if not hits else 'values'} labelled like {label!r} (its contents: "
            f"{listing}); pass contents=[code] to scb_table."
        )
    return hits[0]


def _find_value(meta: TableMetadata, var: str, wanted: str) -> str:
    """The value of ``var`` whose code equals, or label contains, ``wanted`` (one only)."""
    codes = meta.codes[var]
    if wanted in codes:
        return wanted
    labels = meta.value_labels[var]
    hits = [c for c in codes if fold(wanted) in fold(labels.get(c, c))]
    if len(hits) != 1:
        listing = "; ".join(f"{c}: {labels.get(c, c)}" for c in codes)
        raise DataSourceError(
            f"scb: {var}={wanted!r} matches {len(hits)} values of table {meta.table_id} "
            f"({listing}); pass one of the codes."
        )
    return hits[0]


def optional_variable(meta: TableMetadata, name: str) -> str | None:
    try:
        return meta.variable(name)
    except DataSourceError:
        return None


def scb_month(value: Any) -> str:
    code = parse_month(value)
    if code is None:
        raise DataSourceError(
            f"scb: months contains {value!r}, which is not a month; write '2021-01', "
            "'2021M01', a Period[M] or a month-start date."
        )
    label = month_label(code)
    return f"{label[:4]}M{label[5:]}"


def build_selection(
    meta: TableMetadata,
    *,
    contents: Sequence[str] | None,
    regions: Sequence[str] | None,
    months: Iterable[Any] | None,
    age: str | None,
    municipalities_only: bool,
) -> dict[str, list[str]]:
    """Every variable of the table -> the value codes to ask for (in the table's order).

    Raises
    ------
    DataSourceError
        Naming an unknown region, month or content code, or an age group that matches none
        or several values.
    """
    sel = {v: list(meta.codes[v]) for v in meta.variables}
    region = optional_variable(meta, ROLES["region"])
    if region is not None:
        if regions is not None:
            want = [regions] if isinstance(regions, str) else list(regions)
            bad = [r for r in want if not isinstance(r, str) or r not in sel[region]]
            if bad or not want:
                raise DataSourceError(
                    f"scb: regions {bad[:5] if bad else want!r} are not {region} codes of table "
                    f"{meta.table_id} (e.g. {sel[region][:4]}); pass municipality codes as "
                    "4-digit text such as '0580'."
                )
            sel[region] = list(dict.fromkeys(want))
        elif municipalities_only:
            sel[region] = [c for c in sel[region] if _MUNICIPALITY.match(c)]
    time_var = meta.time or meta.variable("Tid")
    if months is not None:
        want = [scb_month(m) for m in ([months] if isinstance(months, str) else months)]
        missing = [m for m in want if m not in sel[time_var]]
        if missing or not want:
            have = sel[time_var]
            raise DataSourceError(
                f"scb: months {missing[:5] if missing else want!r} are not in table "
                f"{meta.table_id} (it has {have[0] if have else '-'} to "
                f"{have[-1] if have else '-'}); choose months inside that span."
            )
        sel[time_var] = list(dict.fromkeys(want))
    metric = meta.metric or meta.variable("ContentsCode")
    if contents is not None:
        want = [contents] if isinstance(contents, str) else list(contents)
        bad = [c for c in want if c not in sel[metric]]
        if bad or not want:
            raise DataSourceError(
                f"scb: contents {bad or want!r} are not {metric} codes of table "
                f"{meta.table_id} ({sel[metric]})."
            )
        sel[metric] = want
    age_var = optional_variable(meta, ROLES["age"])
    if age is not None:
        if age_var is None:
            raise DataSourceError(
                f"scb: age={age!r}, but table {meta.table_id} has no {ROLES['age']} variable "
                f"({list(meta.variables)}); pass age=None."
            )
        sel[age_var] = [_find_value(meta, age_var, age)]
    return sel


# -- the tidy frame -----------------------------------------------------------------------
def _gender(meta: TableMetadata, var: str, code: str) -> str:
    if code in GENDER_CODES:
        return GENDER_CODES[code]
    label = fold(meta.value_labels.get(var, {}).get(code, code))
    if label in GENDER_LABELS:
        return GENDER_LABELS[label]
    raise DataSourceError(
        f"scb: {var} value {code!r} ({label!r}) of table {meta.table_id} is not a known sex "
        f"code; known codes {sorted(GENDER_CODES)} and labels {sorted(GENDER_LABELS)}."
    )


def _periods(codes: pd.Series, table_id: str) -> pd.Series:
    text = codes.astype(str)
    if text.str.match(_SCB_MONTH).all():
        labels = {c: month_label(int(parse_month(c) or 0)) for c in text.unique()}
        return text.map(labels)
    if text.str.match(_YEAR).all():
        return text.astype("int64")
    bad = text[~text.str.match(_SCB_MONTH) & ~text.str.match(_YEAR)].iloc[0]
    raise DataSourceError(
        f"scb: table {table_id} has the time code {bad!r}, neither a month (2014M01) nor a "
        "year; only monthly and annual tables are read."
    )


def tidy_scb(raw: pd.DataFrame, meta: TableMetadata, *, single_age: bool) -> pd.DataFrame:
    """Turn the long frame of a data answer into the tidy frame.

    Parameters
    ----------
    raw : pandas.DataFrame
        A column per variable code plus ``value`` and ``status`` (from
        :func:`~evalmodel.data.pxweb_parse.jsonstat2_frame` or ``csv_frame``).
    meta : TableMetadata
        The table's metadata.
    single_age : bool
        Whether one age group was selected (then it is not named in ``variable``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~evalmodel.data.kolada.TIDY_COLUMNS`: ``period`` as month labels
        ``"2021-01"`` (int years for an annual table), ``status`` the server's symbol, or
        ``".."`` where a value is missing without one.
    """
    region = optional_variable(meta, ROLES["region"])
    sex = optional_variable(meta, ROLES["sex"])
    age = optional_variable(meta, ROLES["age"])
    time_var = meta.time or meta.variable("Tid")
    metric = meta.metric or meta.variable("ContentsCode")
    skip = {region, sex, time_var, metric, *((age,) if single_age else ())}
    var = raw[metric].astype(str)
    for other in (v for v in meta.variables if v not in skip):
        var = var + f"[{other}=" + raw[other].astype(str) + "]"
    gender = (
        raw[sex].map(lambda c: _gender(meta, sex, str(c)))
        if sex is not None
        else pd.Series("T", index=raw.index)
    )
    status = raw["status"].astype(str)
    status = status.where(~(raw["value"].isna() & (status == "")), "..")
    out = pd.DataFrame(
        {
            "unit": raw[region].astype(str) if region else pd.Series("", index=raw.index),
            "period": _periods(raw[time_var], meta.table_id),
            "variable": var,
            "value": raw["value"].astype("float64"),
            "gender": gender.astype(str),
            "status": status,
        }
    )
    out = out[list(TIDY_COLUMNS)].sort_values(
        ["variable", "unit", "period", "gender"], kind="mergesort"
    )
    return out.reset_index(drop=True)
