"""One reader for the data researchers have: a file or a cache folder -> a municipality Panel.

:func:`read_panel` reads anything :func:`~evalmodel.data.files.read_export` reads (Kolada's
long extracts and web exports, Socialstyrelsen's downloads, wide files, the cache folder of
``evalmodel data fetch``) and applies the same stated, counted rules everywhere (the Python
API, ``evalmodel run --data PATH``, and :func:`~evalmodel.data.kolada_panel.kolada_panel`
behind ``evalmodel run --data kolada``, which hands its tidy frame to the same code):

1. **gender**: one gender is kept, the total ``T`` unless ``"K"`` (women) or ``"M"`` (men) is
   asked for; a file without a gender column is total. The rows of the other genders are
   counted in the notes.
2. **scope**: with ``scope="municipalities"`` (the default) Kolada's type-``L`` ids (the country
   ``0000`` and the regions ``0001``-``0025``) and group ids (``G...``) are set aside, counted,
   listed in the notes and in ``panel.source["set_aside"]``, and warned about once
   (:class:`~evalmodel.errors.UnitsSetAsideWarning`); ``include=`` keeps chosen ones of them,
   ``scope="all"`` keeps them all. Ids that are not in Kolada's municipality list (and not
   set aside) are kept and counted in the notes.
3. **flags**: Kolada's status flags and the files' missing markers are counted in the notes;
   rows repeating a (unit, year, variable) are an error; known series breaks
   (:data:`~evalmodel.breaks.SERIES_BREAKS`) are noted and warned about
   (:class:`~evalmodel.errors.SeriesBreakWarning`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd

from evalmodel.data.cache import Cache, missing_report
from evalmodel.data.files import GENDERS, read_export
from evalmodel.errors import DataSourceError, SeriesBreakWarning, UnitsSetAsideWarning
from evalmodel.known_breaks import SERIES_BREAKS, SeriesBreak, series_break_notes
from evalmodel.names import MUNICIPALITY_ENTRY, _from_kolada, municipalities
from evalmodel.panel import Panel
from evalmodel.vocabulary import KoladaGender, KoladaScope, check_option

__all__ = ["Gender", "Scope", "read_panel"]

#: The old name of :data:`~evalmodel.vocabulary.KoladaGender`.
Gender = KoladaGender
#: The old name of :data:`~evalmodel.vocabulary.KoladaScope`.
Scope = KoladaScope
_GENDER_NAMES = {"T": "total", "K": "women", "M": "men"}


def _gender(gender: object) -> KoladaGender:
    """Kolada's gender code of ``gender`` (also accepted: the names of ``GENDERS``)."""
    g = GENDERS.get(str(gender).strip().lower()) if isinstance(gender, str) else None
    check_option("read_panel", "gender", gender if g is None else g, KoladaGender,
                 error=DataSourceError)
    return cast(KoladaGender, g)


def _municipality_table(path: Path) -> tuple[pd.DataFrame, str]:
    """Kolada's list for ``path``: the cache folder's own list, else :func:`municipalities`."""
    if path.is_dir():
        cache = Cache(path)
        if cache.status(MUNICIPALITY_ENTRY) == "ok":
            own = _from_kolada(cache.read_table(MUNICIPALITY_ENTRY))
            if own is not None:
                return own, f"cache {MUNICIPALITY_ENTRY}"
    df = municipalities()
    return df, f"evalmodel.names ({df.attrs.get('source', 'shipped')} list)"


def _outside(units: pd.Series, table: pd.DataFrame) -> pd.Series:
    """Which ids are out of the municipality scope: Kolada type L, groups, or 00xx."""
    types = dict(zip(table["id"], table["type"], strict=True))
    kind = units.map(types)
    return (
        (kind == "L")
        | units.str.startswith("G")
        | (kind.isna() & units.str.fullmatch(r"00\d\d"))
    )


def _flag_notes(tidy: pd.DataFrame) -> list[str]:
    notes = []
    flagged = tidy[tidy["status"] != ""]
    missing = flagged["value"].isna()
    for flag in sorted(flagged["status"].unique().tolist()):
        this = flagged["status"] == flag
        n_missing, n_kept = int((this & missing).sum()), int((this & ~missing).sum())
        if n_missing:
            notes.append(f"{n_missing} missing values (NaN) marked {flag!r}")
        if n_kept:
            notes.append(f"{n_kept} values carry the status flag {flag!r}")
    return notes


def _include(include: Sequence[str] | str, known: set[str], where: str) -> list[str]:
    """The ids of ``include`` as text; each must be in Kolada's list or in the data."""
    ids = [include] if isinstance(include, str) else list(include)
    out = sorted({str(i).strip() for i in ids})
    unknown = [i for i in out if i not in known]
    if unknown:
        raise DataSourceError(
            f"{where}: include={unknown[:5]} are not Kolada municipality ids nor ids in the "
            "data; known ids are 4-digit strings such as '0000' (the country) or '1280' "
            "(Malmö)."
        )
    return out


def _panel_from_tidy(
    tidy: pd.DataFrame,
    *,
    kolada_list: pd.DataFrame,
    source: Mapping[str, Any],
    where: str,
    gender: KoladaGender = "T",
    scope: KoladaScope = "municipalities",
    include: Sequence[str] = (),
    notes: Sequence[str] = (),
    expect: Sequence[str] = (),
    breaks: Sequence[SeriesBreak] = SERIES_BREAKS,
    offered: Collection[str] = ("gender", "scope", "include"),
) -> Panel:
    """The rules after reading, one code for :func:`read_panel` and ``kolada_panel``.

    Parameters
    ----------
    tidy : pandas.DataFrame
        Tidy long frame (``unit, period, variable, value, gender, status``; ids as text,
        ``status`` ``""`` where there is no flag).
    kolada_list : pandas.DataFrame
        Kolada's municipality list (columns ``id`` and ``type``): the ids a panel may hold
        (``Panel(ids=...)``), type ``L`` is set aside.
    source : mapping
        Provenance; the panel's source is a copy with ``gender``, ``scope``, ``include`` and
        ``set_aside`` added.
    where : str
        The caller, first in every note of a warning and every error message.
    gender, scope, include
        As in :func:`read_panel` (validated by the caller, except ``include``).
    notes : sequence of str
        Notes of the reading, put before the notes of these rules.
    expect : sequence of str
        Variables that must have values once gender and scope are applied
        (``kolada_panel``'s kpis); any without is an error naming it (this also covers a
        gender absent from the data).
    breaks : sequence of SeriesBreak
        Known series breaks to note and warn about.
    offered : collection of str
        The caller's parameters among ``gender``, ``scope`` and ``include``, the only ones the
        notes and messages suggest.
    """
    table = kolada_list
    name = _GENDER_NAMES[gender]
    extra = _include(include, set(table["id"]) | set(tidy["unit"]), where)
    out_notes = list(notes)
    out_source: dict[str, Any] = {**source, "gender": gender, "scope": scope, "include": extra}
    have = sorted(tidy["gender"].unique().tolist())
    if gender not in have and not expect:
        hint = " (the file has no gender column, so it holds totals)" if have == ["T"] else ""
        ask = ": pass gender= one of them" if "gender" in offered else ""
        raise DataSourceError(
            f"{where} has no values of gender {gender!r} ({name}); the genders in it "
            f"are {have}{hint}{ask}."
        )
    other = tidy["gender"] != gender
    if other.any():
        others = ", ".join(x for x in have if x != gender)
        ask = " (gender= selects another)" if "gender" in offered else ""
        out_notes.append(
            f"gender {gender} ({name}) kept: {int(other.sum())} rows of gender {others} "
            f"left out{ask}"
        )
        tidy = tidy[~other]
    set_aside: list[str] = []
    if scope == "municipalities":
        outside = _outside(tidy["unit"], table)
        kept = outside & tidy["unit"].isin(extra)
        if kept.any():
            ids = sorted(tidy.loc[kept, "unit"].unique().tolist())
            out_notes.append(
                f"{len(ids)} ids outside the municipalities kept as include= asks "
                f"({missing_report(ids)})"
            )
        out = outside & ~kept
        if out.any():
            set_aside = sorted(tidy.loc[out, "unit"].unique().tolist())
            groups = [u for u in set_aside if u.startswith("G")]
            keep = [
                *(["scope='all' keeps them"] if "scope" in offered else []),
                *(["include=[...] keeps chosen ones"] if "include" in offered else []),
            ]
            msg = (
                f"{len(set_aside)} ids outside the municipalities set aside ({int(out.sum())} "
                f"rows): {len(set_aside) - len(groups)} of Kolada's country and regions "
                f"(type L) and {len(groups)} groups ({missing_report(set_aside)})"
                + "".join(f"; {k}" for k in keep)
            )
            out_notes.append(msg)
            warnings.warn(f"{where}: {msg}.", UnitsSetAsideWarning, stacklevel=3)
            tidy = tidy[~out]
    out_source["set_aside"] = set_aside
    among = "the municipalities" if scope == "municipalities" else "the ids"
    lacking = [v for v in expect if v not in set(tidy["variable"])]
    if lacking:
        raise DataSourceError(
            f"{where}: no {name} (gender {gender}) values for kpis {lacking[:5]} in the years "
            f"asked among {among}; check the KPI ids and years, or leave them out of kpis."
        )
    if tidy.empty:
        keep = [
            *(["pass scope='all' to keep them"] if "scope" in offered else []),
            *(["pass include=[...] to keep chosen ones"] if "include" in offered else []),
        ]
        raise DataSourceError(
            f"{where} holds no municipalities once Kolada's country, regions and groups "
            f"are set aside ({missing_report(set_aside)})"
            + (f"; {' or '.join(keep)}." if keep else ".")
        )
    unknown = sorted(set(tidy["unit"]) - set(table["id"]))
    if unknown:
        out_notes.append(
            f"{len(unknown)} ids are not in Kolada's municipality list "
            f"({missing_report(unknown)}); kept"
        )
    dup = tidy.duplicated(["unit", "period", "variable"], keep=False)
    if dup.any():
        row = tidy.loc[dup].iloc[0]
        first = [str(row["unit"]), int(row["period"]), str(row["variable"])]
        raise DataSourceError(
            f"{where} has {int(dup.sum())} rows repeating a (unit, year, variable) of gender "
            f"{gender} (e.g. {first}); keep one value for each, e.g. remove the repeated rows "
            "or give the repeated variables their own names."
        )
    out_notes.extend(_flag_notes(tidy))
    panel = Panel(
        tidy[["unit", "period", "variable", "value"]],
        unit="unit",
        time="period",
        variable="variable",
        value="value",
        ids=table["id"].tolist(),
        source=out_source,
    )
    hit = series_break_notes(panel.outcomes, panel.periods.tolist(), breaks)
    for note in hit:
        warnings.warn(f"{where}: {note}.", SeriesBreakWarning, stacklevel=3)
    return panel.with_notes([*out_notes, *hit])


def read_panel(
    path: str | os.PathLike[str],
    *,
    gender: KoladaGender = "T",
    scope: KoladaScope = "municipalities",
    include: Sequence[str] = (),
    variable: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
) -> Panel:
    """Read a file or a cache folder into a Panel of municipalities, by stated rules.

    Parameters
    ----------
    path : path-like
        A Kolada or Socialstyrelsen download, a long or wide CSV/Excel file, or a cache folder
        filled by ``evalmodel data fetch`` (see :func:`~evalmodel.data.files.read_export`).
    gender : {"T", "K", "M"}
        The gender kept: ``"T"`` total (default), ``"K"`` women, ``"M"`` men. A file without a
        gender column holds totals.
    scope : {"municipalities", "all"}
        ``"municipalities"`` (default) sets aside Kolada's country and regions (type ``L``)
        and group ids (``G...``); ``"all"`` keeps every id.
    include : sequence of str
        Ids to keep although ``scope="municipalities"`` would set them aside, e.g.
        ``["0000"]`` for the whole country (as in
        :func:`~evalmodel.data.kolada_panel.kolada_panel`). Each must be in Kolada's
        municipality list or in the data.
    variable : str, optional
        Variable name for a file without a variable column (default: the file's stem).
    sheet : str or int, optional
        Excel sheet (default the first).
    sep : str, optional
        Field separator of a text file (default: semicolon, tab and comma are tried).

    Returns
    -------
    Panel
        Unit ``"unit"`` (Kolada id, text), time ``"period"``, one variable per KPI or column.
        ``panel.notes`` lists the repairs, the rows of other genders left out, the ids set
        aside or kept by ``include``, status flags, missing markers and series breaks;
        ``panel.source`` holds the file (name, sha256, encoding, separator, layout) or the
        cache entries, with ``gender``, ``scope``, ``include`` and ``set_aside`` (the ids set
        aside).

    Raises
    ------
    DataSourceError
        For a file that cannot be read (see :func:`~evalmodel.data.files.read_export`), a
        gender that is not T/K/M or is not in the file (the message lists those present), an
        unknown scope, an id in ``include`` that is neither Kolada's nor in the data, rows
        repeated for one unit, year and variable, or nothing left in scope.

    Warns
    -----
    UnitsSetAsideWarning
        Once, when ids outside the municipalities are set aside.
    SeriesBreakWarning
        Once per known Kolada series break inside the panel's variables and years.
    GapWarning, MissingValueWarning
        From :class:`~evalmodel.Panel`, for absent years and missing values.

    Examples
    --------
    >>> import pathlib, tempfile, warnings
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "extract.csv"
    >>> _ = p.write_text("kpi,municipality_id,year,gender,value\\n"
    ...                  "N31807,0000,2012,T,4.4\\nN31807,1287,2012,T,4.0\\n"
    ...                  "N31807,1287,2012,K,3.9\\n", encoding="utf-8")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     panel = read_panel(p)
    >>> [type(w.message).__name__ for w in caught]
    ['UnitsSetAsideWarning']
    >>> panel.units, panel.source["set_aside"]
    (['1287'], ['0000'])
    >>> read_panel(p, include=["0000"]).units
    ['0000', '1287']
    """
    g = _gender(gender)
    check_option("read_panel", "scope", scope, KoladaScope, error=DataSourceError)
    p = Path(path)
    tidy = read_export(p, variable=variable, sheet=sheet, sep=sep)
    table, table_source = _municipality_table(p)
    return _panel_from_tidy(
        tidy,
        kolada_list=table,
        source={
            "kind": "cache" if p.is_dir() else "file",
            "name": p.name,
            **tidy.attrs.get("source", {}),
            "municipality_list": table_source,
        },
        where=f"read_panel: {p.name or p}",
        gender=g,
        scope=scope,
        include=include,
        notes=[f"{p.name}: {n}" for n in tidy.attrs.get("notes", [])],
    )
