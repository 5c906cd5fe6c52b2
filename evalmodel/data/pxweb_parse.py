"""PxWeb API v2 answers -> pandas: table metadata, json-stat2 and csv data, request chunks.

Pure functions, no I/O. :func:`table_metadata` reads the json-stat2 metadata of
``/tables/{id}/metadata`` into a :class:`TableMetadata` (variable codes in order, each one's
value codes and labels, the time and metric roles). :func:`jsonstat2_frame` and
:func:`csv_frame` turn a data answer into one long frame with a column per variable code plus
``value`` and ``status``. :func:`plan_chunks` splits a selection so that each request asks for
at most ``max_cells`` cells (the product of the selected value counts).

Facts used, from the PxWebApi 2 specification and SCB's installation: json-stat2 ``id``,
``size``, ``dimension[v].category.index``/``label``, ``value`` in row-major order (last
variable fastest) and ``status`` keyed by the value's index; the csv output (``UseCodes``,
comma-separated) has one row per combination of the ``stub`` variables and one column per
``heading`` value. The exact csv header text (variable code or label; the content's code or
label) could not be checked against the live service, so :func:`csv_frame` accepts either.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.errors import DataSourceError

__all__ = [
    "TableMetadata",
    "cell_count",
    "csv_frame",
    "fold",
    "jsonstat2_frame",
    "plan_chunks",
    "table_metadata",
]


def fold(text: str) -> str:
    """Text folded for matching: lower case, no diacritics, dashes unified, spaces squeezed.

    >>> fold("Ekonomiskt  BISTÅND"), fold("20–64 år")
    ('ekonomiskt bistand', '20-64 ar')
    """
    t = unicodedata.normalize("NFKD", str(text))
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-")
    return " ".join(t.casefold().split())


@dataclass(frozen=True)
class TableMetadata:
    """The variables of one PxWeb table, from its json-stat2 metadata.

    Attributes
    ----------
    table_id : str
        The table's id.
    label : str
        Its title.
    variables : tuple of str
        Variable codes in the table's order (``Region``, ``Kon``, ..., ``Tid``).
    labels : dict
        Variable code -> its label (``"region"``, ``"kön"``).
    codes : dict
        Variable code -> its value codes in order.
    value_labels : dict
        Variable code -> {value code: label}.
    time : str or None
        The variable with the time role (``Tid``).
    metric : str or None
        The variable with the metric role (``ContentsCode``).
    elimination : dict
        Variable code -> whether it may be left out of a selection.
    """

    table_id: str
    label: str
    variables: tuple[str, ...]
    labels: dict[str, str]
    codes: dict[str, list[str]]
    value_labels: dict[str, dict[str, str]]
    time: str | None = None
    metric: str | None = None
    elimination: dict[str, bool] = field(default_factory=dict)

    def variable(self, name: str) -> str:
        """The code of a variable given by code or label (case- and accent-insensitive)."""
        for v in self.variables:
            if fold(v) == fold(name) or fold(self.labels.get(v, "")) == fold(name):
                return v
        raise DataSourceError(
            f"PxWeb table {self.table_id}: no variable {name!r}; the table has "
            f"{', '.join(f'{v} ({self.labels.get(v, v)})' for v in self.variables)}."
        )


def _category_codes(dim: Mapping[str, Any]) -> list[str]:
    index = (dim.get("category") or {}).get("index")
    if isinstance(index, Mapping):
        return [str(k) for k, _ in sorted(index.items(), key=lambda kv: int(kv[1]))]
    if isinstance(index, list):
        return [str(k) for k in index]
    labels = (dim.get("category") or {}).get("label") or {}
    return [str(k) for k in labels]  # a single category may come with labels only


def table_metadata(payload: Mapping[str, Any], table_id: str = "") -> TableMetadata:
    """Read the json-stat2 metadata of a PxWeb v2 table.

    Parameters
    ----------
    payload : mapping
        The JSON of ``GET /tables/{id}/metadata`` (a json-stat2 dataset without values).
    table_id : str
        The table's id, for messages.

    Returns
    -------
    TableMetadata

    Raises
    ------
    DataSourceError
        If the answer is not json-stat2 (no ``id`` list or ``dimension`` mapping).
    """
    ids = payload.get("id")
    dims = payload.get("dimension")
    if not isinstance(ids, list) or not isinstance(dims, Mapping):
        raise DataSourceError(
            f"PxWeb table {table_id}: the metadata is not json-stat2 (keys "
            f"{sorted(payload)[:8]}); check base_url points at a PxWeb API v2 root."
        )
    role = payload.get("role") or {}
    codes, labels, value_labels, elim = {}, {}, {}, {}
    for v in ids:
        dim = dims.get(v) or {}
        codes[str(v)] = _category_codes(dim)
        labels[str(v)] = str(dim.get("label", v))
        cat_labels = (dim.get("category") or {}).get("label") or {}
        value_labels[str(v)] = {c: str(cat_labels.get(c, c)) for c in codes[str(v)]}
        elim[str(v)] = bool((dim.get("extension") or {}).get("elimination", False))
    time_role = role.get("time") or []
    metric_role = role.get("metric") or []
    return TableMetadata(
        table_id=table_id or str((payload.get("extension") or {}).get("px", {}).get("tableid", "")),
        label=str(payload.get("label", "")),
        variables=tuple(str(v) for v in ids),
        labels=labels,
        codes=codes,
        value_labels=value_labels,
        time=str(time_role[0]) if time_role else None,
        metric=str(metric_role[0]) if metric_role else None,
        elimination=elim,
    )


def cell_count(selection: Mapping[str, Sequence[str]]) -> int:
    """Cells a selection asks for: the product of its value counts."""
    return math.prod(len(v) for v in selection.values())


def plan_chunks(
    selection: Mapping[str, Sequence[str]],
    max_cells: int,
    split: Sequence[str] = ("Region", "Tid"),
) -> list[dict[str, list[str]]]:
    """Split a selection into requests of at most ``max_cells`` cells each.

    The first variable of ``split`` is cut into consecutive blocks first; only if one of its
    values alone is too big is the next one cut as well (and so on).

    Parameters
    ----------
    selection : mapping
        Variable code -> value codes (every variable of the request).
    max_cells : int
        Largest number of cells one request may ask for.
    split : sequence of str
        Variables that may be cut, in order (default Region, then Tid).

    Returns
    -------
    list of dict
        The selections of the requests, in order; together they ask for exactly the cells
        of ``selection``.

    Raises
    ------
    DataSourceError
        If the selection cannot be cut under ``max_cells`` along ``split``.

    Examples
    --------
    >>> sel = {"Region": ["a", "b", "c"], "Kon": ["1", "2"], "Tid": ["t1", "t2"]}
    >>> [c["Region"] for c in plan_chunks(sel, 8)]
    [['a', 'b'], ['c']]
    >>> [(c["Region"], c["Tid"]) for c in plan_chunks(sel, 2)][:2]
    [(['a'], ['t1']), (['a'], ['t2'])]
    """
    sel = {k: list(v) for k, v in selection.items()}
    if int(max_cells) < 1:
        raise DataSourceError(f"PxWeb: max_cells={max_cells!r} must be a positive integer.")
    if cell_count(sel) <= max_cells:
        return [sel]
    cut = [v for v in split if v in sel and len(sel[v]) > 1]
    if cut:
        var = cut[0]
        rest = cell_count({k: v for k, v in sel.items() if k != var})
        if rest <= max_cells:
            size = int(max_cells) // rest
            return [{**sel, var: sel[var][j : j + size]} for j in range(0, len(sel[var]), size)]
        if len(cut) > 1:  # one value of `var` alone is too big: cut the next variable too
            return [
                chunk
                for value in sel[var]
                for chunk in plan_chunks({**sel, var: [value]}, max_cells, cut[1:])
            ]
    raise DataSourceError(
        f"PxWeb: a request for {cell_count(sel)} cells cannot be cut under max_cells="
        f"{max_cells} along {list(split)} (value counts "
        f"{ {k: len(v) for k, v in sel.items()} }); select fewer values of the other variables."
    )


def jsonstat2_frame(payload: Mapping[str, Any]) -> pd.DataFrame:
    """One row per cell of a json-stat2 data answer.

    Returns
    -------
    pandas.DataFrame
        A column per variable code (value codes as text), ``value`` (float, NaN where the
        cell is null) and ``status`` (the cell's symbol, ``""`` when none).

    Raises
    ------
    DataSourceError
        If the answer is not json-stat2 or its ``value`` length does not match ``size``.
    """
    ids = payload.get("id")
    dims = payload.get("dimension")
    if not isinstance(ids, list) or not isinstance(dims, Mapping):
        raise DataSourceError(
            f"PxWeb: the data answer is not json-stat2 (keys {sorted(payload)[:8]}); ask for "
            "outputFormat=json-stat2."
        )
    axes = [_category_codes(dims.get(v) or {}) for v in ids]
    n = math.prod(len(a) for a in axes)
    raw = payload.get("value")
    values = np.full(n, np.nan)
    if isinstance(raw, list):
        if len(raw) != n:
            raise DataSourceError(
                f"PxWeb: json-stat2 answer has {len(raw)} values for {n} cells (size "
                f"{[len(a) for a in axes]}); the body may be cut short: refetch."
            )
        values = np.array([np.nan if x is None else float(x) for x in raw], dtype="float64")
    elif isinstance(raw, Mapping):  # sparse form: index -> value
        for k, x in raw.items():
            values[int(k)] = np.nan if x is None else float(x)
    status = np.full(n, "", dtype=object)
    raw_status = payload.get("status")
    if isinstance(raw_status, Mapping):
        for k, s in raw_status.items():
            status[int(k)] = str(s)
    elif isinstance(raw_status, list):
        status[:] = ["" if s is None else str(s) for s in raw_status]
    elif isinstance(raw_status, str):
        status[:] = raw_status
    grid = list(product(*axes))  # row-major: the last variable varies fastest
    out = pd.DataFrame.from_records(grid, columns=[str(v) for v in ids])
    out["value"] = values
    out["status"] = status.astype(str)
    return out


def _column_match(header: str, options: Mapping[str, str], meta_codes: Sequence[str]) -> str:
    """The code among ``meta_codes`` that a csv header names (by code or by label)."""
    h = fold(header)
    for c in meta_codes:
        if h == fold(c) or h == fold(options.get(c, c)):
            return c
    for c in meta_codes:  # a content column may be headed "label period" or "code label"
        lab = fold(options.get(c, c))
        if h.startswith(lab) or h.startswith(fold(c) + " "):
            return c
    return ""


def csv_frame(
    text: str,
    meta: TableMetadata,
    stub: Sequence[str],
    heading: str,
) -> pd.DataFrame:
    """One row per cell of a PxWeb csv data answer (``UseCodes``, comma-separated).

    Parameters
    ----------
    text : str
        The decoded body.
    meta : TableMetadata
        The table's metadata (to recognise the headers).
    stub : sequence of str
        Variable codes placed in the rows (``placement.stub`` of the request).
    heading : str
        The one variable placed in the columns (``placement.heading``), e.g. ``ContentsCode``.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`jsonstat2_frame`. A cell that is not a number (SCB writes
        ``..`` for missing) has ``value`` NaN and the text as ``status``.

    Raises
    ------
    DataSourceError
        If a header names no variable or value of the table.
    """
    raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False)
    headers = [str(c) for c in raw.columns]
    if len(headers) < len(stub) + 1:
        raise DataSourceError(
            f"PxWeb table {meta.table_id}: the csv answer has columns {headers}; expected "
            f"{list(stub)} and one column per {heading} value."
        )
    var_of: dict[str, str] = {}
    for h in headers[: len(stub)]:
        code = _column_match(h, meta.labels, list(stub))
        if not code:
            raise DataSourceError(
                f"PxWeb table {meta.table_id}: csv column {h!r} is none of the variables "
                f"{list(stub)} (labels {[meta.labels.get(v, v) for v in stub]})."
            )
        var_of[h] = code
    value_of: dict[str, str] = {}
    for h in headers[len(stub) :]:
        code = _column_match(h, meta.value_labels.get(heading, {}), meta.codes.get(heading, []))
        if not code:
            raise DataSourceError(
                f"PxWeb table {meta.table_id}: csv column {h!r} is no {heading} value "
                f"(codes {meta.codes.get(heading, [])[:10]})."
            )
        value_of[h] = code
    long = raw.melt(id_vars=list(var_of), var_name=heading, value_name="cell")
    long = long.rename(columns=var_of)
    long[heading] = long[heading].map(value_of)
    number = pd.to_numeric(long["cell"].str.strip(), errors="coerce")
    long["value"] = number.astype("float64")
    long["status"] = np.where(number.isna(), long["cell"].str.strip(), "")
    cols = [v for v in meta.variables if v in (*stub, heading)]
    return long[[*cols, "value", "status"]].reset_index(drop=True)
