"""Kolada's announced series breaks: revisions its own KPI definitions announce.

A change of definition, method or precision shifts a series' whole cross-section at once.
:data:`KNOWN_BREAKS` lists the revisions that Kolada's KPI definitions announce, plus the
2009/2010 seam of N31814 seen in the real extract; :data:`SERIES_BREAKS` is the subset that
:func:`~evalmodel.data.kolada_panel` warns about. The detector of breaks that nobody announced
is :func:`evalmodel.breaks.detect_breaks`; :func:`evalmodel.breaks.series_breaks` reads both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["KNOWN_BREAKS", "SERIES_BREAKS", "SeriesBreak", "series_break_notes"]


@dataclass(frozen=True)
class SeriesBreak:
    """A known change of definition in Kolada series.

    Attributes
    ----------
    kpis : tuple of str
        The KPIs concerned.
    period : int
        First period on the new definition; the break is flagged when a panel holds one of
        ``kpis`` with periods both before and from ``period``.
    note : str
        What changed, shown in the panel's notes and in the warning.
    source : str
        Where the revision is announced or documented.
    together : bool
        If True the note concerns the KPIs side by side and is flagged when all of them are in
        the panel, whatever the periods.
    """

    kpis: tuple[str, ...]
    period: int
    note: str
    source: str = ""
    together: bool = False


_KOLADA_DEF = "Kolada's KPI definition ({kpi}, v2 /kpi, text as of 2024-2025)"

_N31814_2017 = SeriesBreak(
    ("N31814", "N31816"),
    2017,
    "long-term assistance (10-12 months in the year) was recomputed with a new method in "
    "Kolada's 2021 revision, applied back to 2017: values before 2017 use the old method, "
    "so a change between 2016 and 2017 may be an artefact",
    source=_KOLADA_DEF.format(kpi="N31814, N31816")
    + ": 'Reviderad metod ... från 2021 men data har reviderats från år 2017'",
)

#: Revisions that Kolada's own KPI definitions announce, and the N31814 seam at 2010 seen in the
#: real extract; :func:`series_breaks` reports those that fall inside a window.
KNOWN_BREAKS: tuple[SeriesBreak, ...] = (
    SeriesBreak(
        ("N31814",),
        2010,
        "the series changes precision at 2010 (one decimal before, more after) and the "
        "municipal median jumps from 21.3 % in 2009 to 27.5 % in 2010: treat 2009/2010 as a "
        "seam",
        source="the real Kolada extract (open-numbers ddf--kolada--dump, scraped 2024; "
        "SOURCES.md: 'changes precision at 2010')",
    ),
    _N31814_2017,
    SeriesBreak(
        ("N00914",),
        2019,
        "from 2019 SCB counts the employed from the monthly employer declarations (AGI) "
        "instead of the annual statements (KU); compare with earlier years with care",
        source=_KOLADA_DEF.format(kpi="N00914")
        + ": 'Sedan 2019 använder sig SCB av ... (AGI) som datakälla'",
    ),
    SeriesBreak(
        ("U31004",),
        2020,
        "the model behind the model-based net cost was updated from 2020 (new structural "
        "variables); values before 2020 come from the old model",
        source=_KOLADA_DEF.format(kpi="U31004")
        + ": 'Observera att modellen har uppdaterats from 2020'",
    ),
    SeriesBreak(
        ("N03920", "N03926"),
        2023,
        "the age group widened after 2022 (N03920: 18-64 to 18-65; N03926: 25-64 to 25-65)",
        source=_KOLADA_DEF.format(kpi="N03920, N03926")
        + ": 'Till och med 2022 avsåg nyckeltalet åldersgruppen 18-64 (25-64) år'",
    ),
)

#: Breaks flagged by :func:`~evalmodel.data.kolada_panel`; edit a copy and pass ``breaks=`` to
#: change them.
SERIES_BREAKS: tuple[SeriesBreak, ...] = (
    _N31814_2017,
    SeriesBreak(
        ("N31004",),
        2024,
        "N31004 (paid assistance excluding refugee households, kr per inhabitant) ends with "
        "2023; its successor U31001 includes refugee households and is not the same series: "
        "do not splice them",
        source=_KOLADA_DEF.format(kpi="N31004, U31001"),
    ),
    SeriesBreak(
        ("N31004", "U31001"),
        2024,
        "N31004 excludes and U31001 includes assistance to refugee households; the two differ "
        "in level where refugee reception is large, so compare them only side by side",
        source=_KOLADA_DEF.format(kpi="N31004, U31001"),
        together=True,
    ),
)


def series_break_notes(
    variables: Iterable[str], periods: Iterable[int], breaks: Sequence[SeriesBreak] = SERIES_BREAKS
) -> list[str]:
    """The notes of the breaks that touch a panel with these variables and periods."""
    have = set(variables)
    ps = sorted({int(p) for p in periods})
    notes = []
    for b in breaks:
        present = [k for k in b.kpis if k in have]
        if b.together:
            hit = len(present) == len(b.kpis)
        else:
            hit = bool(present) and bool(ps) and ps[0] < b.period <= ps[-1]
        if hit:
            notes.append(f"series break in {', '.join(present)}: {b.note}")
    return notes


# Documented (and pickled) under :mod:`evalmodel.breaks`, their public home, which re-exports
# them: the reference then describes each once, as before this module was split from it.
SeriesBreak.__module__ = "evalmodel.breaks"
series_break_notes.__module__ = "evalmodel.breaks"
