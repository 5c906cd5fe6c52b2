"""From Kolada to a :class:`~evalmodel.Panel` in one call, through the verifiable cache.

:func:`fetch_kolada` fills the cache (one entry per KPI, holding every municipality and region
for the years asked, plus the municipality list) and returns the tidy long frame;
:func:`kolada_panel` turns it into a Panel by the rules of
:func:`~evalmodel.data.read.read_panel` (one code for both): total (``gender == "T"``) values
of the municipalities, Kolada's country and regions set aside (and warned about once as
:class:`~evalmodel.errors.UnitsSetAsideWarning`) unless asked for with ``include``, status
flags counted and known series breaks flagged in the notes and as
:class:`~evalmodel.errors.SeriesBreakWarning`.

With ``offline=True`` nothing is fetched: the cache must hold every KPI for every year asked,
and the error names what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd

from evalmodel.data.cache import Cache, CacheCorruptError, CacheMissError, missing_report
from evalmodel.data.files import VALUES_PREFIX
from evalmodel.data.kolada import KoladaClient, _ids, empty_tidy
from evalmodel.data.read import _municipality_table, _panel_from_tidy
from evalmodel.errors import DataSourceError
from evalmodel.known_breaks import SERIES_BREAKS, SeriesBreak, series_break_notes
from evalmodel.names import MUNICIPALITY_ENTRY
from evalmodel.panel import Panel

__all__ = [
    "CASE_KPIS",
    "MUNICIPALITY_ENTRY",
    "SERIES_BREAKS",
    "SeriesBreak",
    "fetch_kolada",
    "kolada_panel",
    "series_break_notes",
    "values_entry",
]

#: The Kolada KPIs the case studies use (see the project's CONTEXT notes).
CASE_KPIS: tuple[str, ...] = (
    "N31807",
    "N31825",
    "U31804",
    "U31803",
    "N31814",
    "N31816",
    "U31801",
    "U31001",
    "N31004",
    "N31910",
    "N31848",
    "N01951",
    "N03937",
    "N03939",
    "N03935",
    "N02267",
)
#: Default years of :func:`kolada_panel`.
DEFAULT_YEARS = range(1998, 2025)


def values_entry(kpi: str) -> str:
    """Cache entry name of one KPI's values."""
    return f"{VALUES_PREFIX}{kpi}"


def _years(years: Iterable[int]) -> list[int]:
    try:
        out = sorted({int(y) for y in years})
    except (TypeError, ValueError):
        raise DataSourceError(
            f"kolada: years must be integers such as range(1998, 2025); got {years!r}."
        ) from None
    if not out:
        raise DataSourceError("kolada: years is empty; pass e.g. range(1998, 2025).")
    return out


def _cached_years(cache: Cache, name: str) -> set[int]:
    m = cache.manifest(name)
    return set() if m is None else {int(y) for y in m.extra.get("years", [])}


def _plan(cache: Cache, kpis: Sequence[str], years: list[int]) -> tuple[list[str], dict[str, str]]:
    """KPIs (and the municipality list) that need fetching, with the reason for each."""
    todo: dict[str, str] = {}
    for name in [MUNICIPALITY_ENTRY, *(values_entry(k) for k in kpis)]:
        st = cache.status(name)
        if st != "ok":
            todo[name] = st
            continue
        if name == MUNICIPALITY_ENTRY:
            continue
        lacking = sorted(set(years) - _cached_years(cache, name))
        if lacking:
            todo[name] = f"years {lacking[0]}-{lacking[-1]} not cached"
    return list(todo), todo


def fetch_kolada(
    kpis: Sequence[str] = CASE_KPIS,
    years: Iterable[int] = DEFAULT_YEARS,
    *,
    offline: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    client: KoladaClient | None = None,
    progress: Callable[[int], None] | None = None,
    refresh: bool = False,
) -> pd.DataFrame:
    """Return Kolada values for every municipality and region, from the cache or the API.

    Each KPI is fetched (for the union of the years asked and the years already cached) and
    written to the cache as one entry as soon as it is complete, so an interrupted fetch keeps
    what it finished. A cache file whose checksum does not match is refetched (online) or
    reported (offline).

    Parameters
    ----------
    kpis : sequence of str
        KPI ids; default :data:`CASE_KPIS`.
    years : iterable of int
        Years; default 1998-2024.
    offline : bool
        Read only the cache; raise :class:`~evalmodel.data.cache.CacheMissError` naming what is
        missing.
    cache_dir : path-like, optional
        Cache folder (default: ``$EVALMODEL_CACHE_DIR`` or the platform's cache folder).
    base_url : str, optional
        Kolada API root (default the public v3 service; a local server in tests).
    client : KoladaClient, optional
        A configured client (timeouts, retries); ``base_url`` is then ignored.
    progress : callable, optional
        Called with 1 after each KPI (and the municipality list) is in the cache.
    refresh : bool
        Refetch everything even if cached.

    Returns
    -------
    pandas.DataFrame
        Tidy long frame (unit, period, variable, value, gender, status) for the years asked.
    """
    kpi_list = _ids("kpis", kpis)
    year_list = _years(years)
    cache = Cache(cache_dir)
    todo, why = _plan(cache, kpi_list, year_list)
    if refresh and not offline:
        todo = [MUNICIPALITY_ENTRY, *(values_entry(k) for k in kpi_list)]
    if offline and todo:
        corrupt = [n for n in todo if why[n] == "corrupt"]
        detail = missing_report(f"{n} ({why[n]})" for n in todo)
        cls = CacheCorruptError if corrupt else CacheMissError
        raise cls(
            f"kolada (offline): the cache at {cache.root} lacks {len(todo)} entries: {detail}; "
            "run `evalmodel data fetch` online (with --cache-dir if you use one) first."
        )
    if todo:
        client = client or KoladaClient(base_url)
        for name in todo:
            _fetch_entry(cache, client, name, year_list)
            if progress is not None:
                progress(1)
    frames = [cache.read_table(values_entry(k)) for k in kpi_list]
    tidy = pd.concat(frames, ignore_index=True) if frames else empty_tidy()
    return tidy[tidy["period"].isin(year_list)].reset_index(drop=True)


def _fetch_entry(cache: Cache, client: KoladaClient, name: str, years: list[int]) -> None:
    start = len(client.log)
    base = {"base_url": client.endpoints.base_url}
    if name == MUNICIPALITY_ENTRY:
        df = client.municipalities()
        cache.write_table(name, df, source="kolada", urls=client.log[start:], extra=base)
        return
    kpi = name.rsplit("/", 1)[1]
    want = sorted(set(years) | _cached_years(cache, name)) if cache.status(name) == "ok" else years
    df = client.values([kpi], None, want)
    cache.write_table(
        name,
        df,
        source="kolada",
        urls=client.log[start:],
        extra={**base, "kpi": kpi, "years": want},
    )


def kolada_panel(
    kpis: Sequence[str] = CASE_KPIS,
    years: Iterable[int] = DEFAULT_YEARS,
    *,
    offline: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    include: Sequence[str] = (),
    client: KoladaClient | None = None,
    breaks: Sequence[SeriesBreak] = SERIES_BREAKS,
) -> Panel:
    """A Panel of Kolada KPIs for Sweden's 290 municipalities, ready for the cases.

    Parameters
    ----------
    kpis : sequence of str
        KPI ids (the panel's variables); default :data:`CASE_KPIS`.
    years : iterable of int
        Years; default 1998-2024.
    offline : bool
        Use only the cache (see :func:`fetch_kolada`).
    cache_dir : path-like, optional
        Cache folder.
    base_url : str, optional
        Kolada API root.
    include : sequence of str
        Ids to keep besides the municipalities, e.g. ``["0000"]`` for the whole country; each
        must be in Kolada's municipality list (or in the data).
    client : KoladaClient, optional
        A configured client.
    breaks : sequence of SeriesBreak
        Known series breaks to flag (default :data:`~evalmodel.breaks.SERIES_BREAKS`).

    Returns
    -------
    Panel
        Unit ``"unit"`` (municipality id, a string with its leading zero), time ``"period"``,
        one variable per KPI (gender T), by the rules of
        :func:`~evalmodel.data.read.read_panel` (``gender="T"``,
        ``scope="municipalities"``). ``panel.source`` holds the provenance (base URL and each
        cache entry's sha256 and fetch time) with ``gender``, ``scope``, ``include`` and
        ``set_aside`` (the ids set aside); ``panel.notes`` the rows of genders K and M left
        out, the ids set aside or kept by ``include``, ids not in Kolada's list (kept),
        Kolada's status flags and the series breaks.

    Warns
    -----
    UnitsSetAsideWarning
        Once, when Kolada's country or regions are set aside (ids not in ``include``).
    SeriesBreakWarning
        Once per known break inside the panel's KPIs and years.
    MissingValueWarning, GapWarning
        From :class:`~evalmodel.Panel` when Kolada has nulls or absent years.

    Raises
    ------
    DataSourceError
        If the API fails, an id in ``include`` is unknown, a KPI has no total values among
        the municipalities in the years asked, or (offline) the cache lacks data.
    """
    kpi_list = _ids("kpis", kpis)
    tidy = fetch_kolada(
        kpi_list, years, offline=offline, cache_dir=cache_dir, base_url=base_url, client=client
    )
    cache = Cache(cache_dir)
    table, table_source = _municipality_table(cache.root)
    source: dict[str, Any] = {"name": "kolada", "entries": {}}
    for name in [MUNICIPALITY_ENTRY, *(values_entry(k) for k in kpi_list)]:
        m = cache.manifest(name)
        if m is not None:
            source["entries"][name] = {"sha256": m.sha256, "fetched_at": m.fetched_at}
            source.setdefault("base_url", m.extra.get("base_url"))
    source["municipality_list"] = table_source
    return _panel_from_tidy(
        tidy,
        kolada_list=table,
        source=source,
        where="kolada_panel",
        include=include,
        expect=kpi_list,
        breaks=breaks,
        offered=("include",),
    )
