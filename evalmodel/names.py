"""Municipality names and codes: Kolada's list, shipped with the package.

The table ``evalmodel/_data/municipalities.csv`` (made by ``data/make_municipalities.py`` from
Kolada's ``municipality`` endpoint, or a local copy of it) lists Kolada's 312 ids: the 290
municipalities (type ``K``), the 21 regions and the whole country ``0000`` (type ``L``). Its
first lines (``#``) name the source and the date of the list. When the cache
(:mod:`evalmodel.data.cache`, filled by ``evalmodel data fetch``) holds a ``kolada/municipality``
entry fetched after that date, that fresher list is used instead.

Examples
--------
>>> from evalmodel.names import unit_label, unit_name, is_municipality
>>> unit_label("1287"), unit_label("Lindängen")
('Trelleborg (1287)', 'Lindängen')
>>> unit_name("0580"), is_municipality("0000")
('Linköping', False)
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from functools import cache
from importlib import resources

import pandas as pd

from evalmodel.errors import DataSourceError

__all__ = [
    "COLUMNS",
    "MUNICIPALITY_ENTRY",
    "is_municipality",
    "municipalities",
    "shipped_as_of",
    "unit_label",
    "unit_name",
]

#: Columns of :func:`municipalities`.
COLUMNS = ("id", "name", "type")
#: Cache entry of Kolada's municipality list (written by ``evalmodel data fetch``).
MUNICIPALITY_ENTRY = "kolada/municipality"
_SHIPPED = "_data/municipalities.csv"
_AS_OF = "as of:"


@cache
def _shipped() -> tuple[pd.DataFrame, datetime | None]:
    """The shipped table and the date of its list (from its ``# as of: ...`` line)."""
    text = resources.files("evalmodel").joinpath(_SHIPPED).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    comments = [ln for ln in lines if ln.startswith("#")]
    as_of = None
    for ln in comments:
        body = ln.lstrip("#").strip()
        if body.lower().startswith(_AS_OF):
            as_of = _when(body[len(_AS_OF) :].strip())
    table = pd.read_csv(
        io.StringIO("".join(ln for ln in lines if not ln.startswith("#"))),
        dtype=str,
        keep_default_na=False,
    )
    return table[list(COLUMNS)], as_of


def _when(text: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def shipped_as_of() -> datetime | None:
    """The date of the shipped list (``None`` if the file does not say)."""
    return _shipped()[1]


_CACHED: dict[tuple[str, str], pd.DataFrame] = {}


def _from_kolada(df: pd.DataFrame) -> pd.DataFrame | None:
    """Kolada's ``municipality`` table (``id, title, type``) as :data:`COLUMNS`, as text; None
    when it lacks those columns."""
    if not {"id", "title", "type"} <= set(df.columns):
        return None
    return df.rename(columns={"title": "name"})[list(COLUMNS)].astype(str)


def _cached(cache_dir: str | os.PathLike[str] | None) -> pd.DataFrame | None:
    """The cache's municipality list if it is fresher than the shipped one, else None."""
    from evalmodel.data.cache import Cache  # lazily: evalmodel.data imports names

    store = Cache(cache_dir)
    try:
        m = store.manifest(MUNICIPALITY_ENTRY)
    except DataSourceError:
        return None
    as_of = shipped_as_of()
    fetched = _when(m.fetched_at) if m is not None else None
    if m is None or fetched is None or (as_of is not None and fetched <= as_of):
        return None
    key = (str(store.root), m.sha256)
    if key not in _CACHED:
        try:
            df = store.read_table(MUNICIPALITY_ENTRY)
        except DataSourceError:  # corrupt or half-written: names are labels, use the shipped
            return None
        table = _from_kolada(df)
        if table is None:
            return None
        _CACHED[key] = table.sort_values("id", kind="mergesort").reset_index(drop=True)
    return _CACHED[key]


def municipalities(*, cache_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Kolada's municipality list: the shipped table, or a fresher one from the cache.

    Parameters
    ----------
    cache_dir : path-like, optional
        Cache folder to look in (default ``$EVALMODEL_CACHE_DIR`` or the platform's cache).

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (4-digit text), ``name``, ``type`` (``"K"`` municipality, ``"L"``
        region or the country), sorted by id. ``df.attrs["source"]`` says which list it is.
    """
    df = _cached(cache_dir)
    if df is not None:
        out = df.copy()
        out.attrs["source"] = "cache"
        return out
    out = _shipped()[0].copy()
    out.attrs["source"] = "shipped"
    return out


def _key(unit: object) -> str:
    if isinstance(unit, int) and not isinstance(unit, bool):
        return str(unit).zfill(4)
    return str(unit).strip()


_LOOKUPS: dict[tuple[str, int | None], dict[str, tuple[str, str]]] = {}


def _lookup() -> dict[str, tuple[str, str]]:
    """``{id: (name, type)}`` of :func:`municipalities`, built once per state of the cache.

    The state is the cache root and the modification time of its municipality manifest (one
    ``stat``), so a list fetched later is still picked up, while a report's thousands of unit
    labels no longer re-read the manifest and rebuild the table each time.
    """
    from evalmodel.data.cache import Cache  # lazily: evalmodel.data imports names

    store = Cache(None)
    try:
        stamp: int | None = store.manifest_path(MUNICIPALITY_ENTRY).stat().st_mtime_ns
    except (OSError, DataSourceError):
        stamp = None
    key = (str(store.root), stamp)
    if key not in _LOOKUPS:
        df = municipalities()
        _LOOKUPS[key] = dict(zip(df["id"], zip(df["name"], df["type"], strict=True),
                                 strict=True))
    return _LOOKUPS[key]


def unit_name(unit: object) -> str | None:
    """The name of a Kolada id (``"1287"`` -> ``"Trelleborg"``), or None when unknown.

    Parameters
    ----------
    unit : str or int
        A Kolada id; an integer gets its leading zeros back (``580`` -> ``"0580"``).
    """
    hit = _lookup().get(_key(unit))
    return None if hit is None else hit[0]


def unit_label(unit: object) -> str:
    """``"Trelleborg (1287)"`` for a Kolada id; the id alone when it is not Kolada's.

    Simulated ids, district names and group ids come back as they are (``"Lindängen"``).

    Parameters
    ----------
    unit : str or int
        The unit id.
    """
    key = _key(unit)
    name = unit_name(key)
    return key if name is None else f"{name} ({key})"


def is_municipality(unit: object) -> bool:
    """Whether ``unit`` is one of Kolada's municipalities (type ``K``, not a region,
    the country or a group)."""
    hit = _lookup().get(_key(unit))
    return hit is not None and hit[1] == "K"
