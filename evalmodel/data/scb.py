"""Statistics Sweden (SCB): monthly series by municipality through PxWeb API v2.

:func:`scb_table` reads one SCB table by municipality and month into the tidy long frame of
:mod:`evalmodel.data.kolada` (``unit, period, variable, value, gender, status``);
:func:`scb_benefits` reads the ekonomiskt bistånd series of :data:`BENEFITS_TABLE`
("people aged 20-64 supported by benefits, by municipality and month from 2014M01", variables
Region, Kon, Aldersgrupp, ContentsCode, Tid). The ContentsCode of ekonomiskt bistånd is found
in the table's metadata by its label (case- and accent-insensitive), never written here.

Periods stay monthly: SCB's ``2021M01`` becomes the label ``"2021-01"`` (the encoding of
:mod:`evalmodel.months`); nothing is averaged to years here. Municipality codes are 4-digit
text, Kon becomes ``T``/``M``/``K``, and the age group is filtered to the 20-64 total by
default (``age=None`` keeps every group, named in the variable: ``code[Aldersgrupp=..]``).

Each result is written to the verifiable cache of :mod:`evalmodel.data.cache` (Parquet plus a
manifest with the sha256 of every answer); a second call reads the cache without a request, and
a cache file whose checksum does not match is refetched (online) or refused with
:class:`~evalmodel.data.cache.CacheCorruptError` (``offline=True``).
:func:`read_scb_benefits` reads the series from the cache only (what ``evalmodel data fetch
--source scb`` writes).

Notes
-----
This module speaks to PxWeb v2 with its own ``requests`` code (:mod:`evalmodel.data.pxweb`)
instead of the optional ``pxwebpy``. pxwebpy (0.6 and later) does target PxWeb v2 and batches
large queries, but it owns its transport: its retries and waits are not the policy of the
Kolada client (:mod:`evalmodel.data.retry`: one retry budget, ``Retry-After``, bodies cut short
retried), it does not expose the answers' bytes for the cache manifest's checksums, and it
returns its own parsed rows instead of the json-stat2 or csv body. The table id lives in one
place (:data:`BENEFITS_TABLE`); the selection, chunking (under SCB's 150,000 cells a request,
split over Region then Tid) and pacing (30 calls per 10 s) are in :mod:`evalmodel.data.pxweb`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalmodel.data.cache import Cache, CacheCorruptError, CacheMissError
from evalmodel.data.pxweb import SCB_BASE_URL, SCB_MAX_CELLS, PxWebClient
from evalmodel.data.pxweb_parse import TableMetadata, csv_frame, jsonstat2_frame, plan_chunks
from evalmodel.data.pxweb_select import (
    ROLES,
    build_selection,
    find_contents,
    optional_variable,
    scb_month,
    tidy_scb,
)
from evalmodel.errors import DataSourceError
from evalmodel.vocabulary import PxWebFormat, check_option

__all__ = [
    "BENEFITS_LABEL",
    "BENEFITS_TABLE",
    "DEFAULT_AGE",
    "SCB_BASE_URL",
    "benefits_entry",
    "find_contents",
    "read_scb_benefits",
    "scb_benefits",
    "scb_table",
    "search_tables",
    "tidy_scb",
]

#: SCB's table of people aged 20-64 supported by benefits, by municipality and month.
BENEFITS_TABLE = "TAB1386"
#: Label of the ContentsCode read by :func:`scb_benefits` (matched without case or accents).
BENEFITS_LABEL = "ekonomiskt bistånd"
#: The age group kept by default.
DEFAULT_AGE = "20-64"


def benefits_entry() -> str:
    """Cache entry of the default :func:`scb_benefits` series (every municipality and month)."""
    return f"scb/{BENEFITS_TABLE}/benefits"


# -- fetching -----------------------------------------------------------------------------
def fetch_raw(
    client: PxWebClient,
    meta: TableMetadata,
    selection: Mapping[str, Sequence[str]],
    *,
    output_format: str = "json-stat2",
    max_cells: int = SCB_MAX_CELLS,
) -> pd.DataFrame:
    """Ask for ``selection`` in requests of at most ``max_cells`` cells; one long frame.

    Raises
    ------
    DataSourceError
        If an answer misses cells it was asked for (or brings others).
    """
    region = optional_variable(meta, ROLES["region"]) or "Region"
    time_var = meta.time or "Tid"
    metric = meta.metric or "ContentsCode"
    frames = []
    for chunk in plan_chunks(selection, max_cells, (region, time_var)):
        if output_format == "csv":
            stub = [v for v in meta.variables if v != metric]
            resp = client.data(
                meta.table_id, chunk, output_format="csv", stub=stub, heading=[metric]
            )
            frame = csv_frame(resp.text, meta, stub, metric)
        else:
            resp = client.data(meta.table_id, chunk, output_format="json-stat2")
            frame = jsonstat2_frame(json.loads(resp.content))
        expected = int(np.prod([len(v) for v in chunk.values()]))
        if len(frame) != expected:
            raise DataSourceError(
                f"scb: table {meta.table_id} answered {len(frame)} cells for a request of "
                f"{expected}; the answer is incomplete: refetch (refresh=True)."
            )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _entry(table_id: str, kind: str, query: Mapping[str, Any], default: Mapping[str, Any]) -> str:
    if dict(query) == dict(default):
        return f"scb/{table_id}/{kind}"
    digest = hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()
    return f"scb/{table_id}/{kind}-{digest[:12]}"


def scb_table(
    table_id: str = BENEFITS_TABLE,
    *,
    contents: Sequence[str] | None = None,
    contents_label: str | None = None,
    regions: Sequence[str] | None = None,
    months: Iterable[Any] | None = None,
    age: str | None = DEFAULT_AGE,
    municipalities_only: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    refresh: bool = False,
    base_url: str | None = None,
    client: PxWebClient | None = None,
    output_format: PxWebFormat = "json-stat2",
    max_cells: int = SCB_MAX_CELLS,
    entry: str | None = None,
) -> pd.DataFrame:
    """Read an SCB table by municipality and month as a tidy long frame, through the cache.

    Parameters
    ----------
    table_id : str
        PxWeb table id (default :data:`BENEFITS_TABLE`).
    contents : sequence of str, optional
        ContentsCode values to read (default all).
    contents_label : str, optional
        Instead of ``contents``: the label of the one content to read, found in the metadata
        (case- and accent-insensitive), e.g. ``"ekonomiskt bistånd"``.
    regions : sequence of str, optional
        Region codes as text (``"0580"``); default every municipality (or every region with
        ``municipalities_only=False``).
    months : iterable, optional
        Months to read (``"2021-01"``, ``"2021M01"``, Period[M], month starts); default all.
    age : str or None
        Age group to keep, by code or label (default ``"20-64"``); None keeps every group.
    municipalities_only : bool
        With ``regions=None``, ask only for 4-digit region codes (municipalities).
    cache_dir : path-like, optional
        Cache folder (default ``$EVALMODEL_CACHE_DIR`` or the platform's cache folder).
    offline : bool
        Read only the cache; a missing or corrupt entry raises.
    refresh : bool
        Fetch even if cached.
    base_url : str, optional
        PxWeb v2 root (default :data:`SCB_BASE_URL`); ignored when ``client`` is given.
    client : PxWebClient, optional
        A configured client (retries, pacing, timeouts).
    output_format : {"json-stat2", "csv"}
        Format of the data answers.
    max_cells : int
        Largest request in cells (SCB serves 150,000).
    entry : str, optional
        Cache entry name (default derived from the table and the query).

    Returns
    -------
    pandas.DataFrame
        The tidy frame of :func:`tidy_scb`.

    Raises
    ------
    DataSourceError
        For a bad argument (naming it and the table's values), an API failure, or (offline)
        :class:`~evalmodel.data.cache.CacheMissError` / ``CacheCorruptError``.
    """
    check_option("scb_table", "output_format", output_format, PxWebFormat, error=DataSourceError)
    fmt = str(output_format)
    if contents is not None and contents_label is not None:
        raise DataSourceError("scb: pass contents= or contents_label=, not both.")
    month_codes = None if months is None else sorted({scb_month(m) for m in months})
    query: dict[str, Any] = {
        "contents": None if contents is None else sorted(contents),
        "contents_label": contents_label,
        "regions": None if regions is None else sorted(regions),
        "months": month_codes,
        "age": age,
        "municipalities_only": bool(municipalities_only) if regions is None else None,
    }
    default = {**dict.fromkeys(query), "age": DEFAULT_AGE, "municipalities_only": True}
    name = entry or _entry(table_id, "table", query, default)
    cache = Cache(cache_dir)
    status = cache.status(name)
    if status == "ok" and not refresh:
        return cache.read_table(name)
    if offline:
        cls = CacheCorruptError if status == "corrupt" else CacheMissError
        raise cls(
            f"scb (offline): the cache at {cache.root} has {name!r} {status}; fill it online "
            "with `evalmodel data fetch --source scb` (with --cache-dir if you use one), or "
            "call without offline=True."
        )
    client = client or PxWebClient(base_url)
    start = len(client.log)
    meta = client.metadata(table_id)
    if contents_label is not None:
        contents = [find_contents(meta, contents_label)]
    selection = build_selection(
        meta,
        contents=contents,
        regions=regions,
        months=month_codes,
        age=age,
        municipalities_only=municipalities_only,
    )
    raw = fetch_raw(client, meta, selection, output_format=fmt, max_cells=max_cells)
    tidy = tidy_scb(raw, meta, single_age=age is not None)
    metric = meta.metric or "ContentsCode"
    cache.write_table(
        name,
        tidy,
        source="scb",
        urls=client.log[start:],
        extra={
            "table_id": table_id,
            "table_label": meta.label,
            "base_url": client.base_url,
            "query": query,
            "contents": {c: meta.value_labels[metric].get(c, c) for c in selection[metric]},
            "months": [selection[meta.time or "Tid"][0], selection[meta.time or "Tid"][-1]],
            "replaced": status if status == "corrupt" else "",
            "output_format": fmt,
        },
    )
    return cache.read_table(name)


def scb_benefits(**kwargs: Any) -> pd.DataFrame:
    """The ekonomiskt bistånd series of :data:`BENEFITS_TABLE`, by municipality and month.

    The ContentsCode is the one labelled like :data:`BENEFITS_LABEL` in the table's metadata.
    Takes the keyword arguments of :func:`scb_table` except ``table_id``, ``contents`` and
    ``contents_label``; with the defaults the cache entry is :func:`benefits_entry`.

    Returns
    -------
    pandas.DataFrame
        The tidy frame: one row per municipality, month and sex (20-64 year olds).
    """
    for bad in ("table_id", "contents", "contents_label"):
        if bad in kwargs:
            raise DataSourceError(
                f"scb_benefits: {bad}= is fixed here; call scb_table(...) for other contents."
            )
    defaults = not any(k in kwargs for k in ("regions", "months", "age", "municipalities_only"))
    if defaults and "entry" not in kwargs:
        kwargs["entry"] = benefits_entry()
    return scb_table(BENEFITS_TABLE, contents_label=BENEFITS_LABEL, **kwargs)


def read_scb_benefits(cache_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The cached ekonomiskt bistånd series (every municipality and month), offline.

    Raises
    ------
    CacheMissError
        If the cache lacks it: fill it with ``evalmodel data fetch --source scb``.
    CacheCorruptError
        If its file does not match the manifest's checksum.
    """
    return scb_benefits(cache_dir=cache_dir, offline=True)


def search_tables(
    query: str, *, base_url: str | None = None, client: PxWebClient | None = None
) -> pd.DataFrame:
    """SCB tables matching ``query`` (every page of ``/tables?query=``), one row per table."""
    return (client or PxWebClient(base_url)).search_tables(query)
