"""The case registry: the municipal models evalmodel evaluates, read from ``data/cases.toml``.

>>> import evalmodel as em
>>> em.cases.names()
['boras', 'lindangen', 'linkoping', 'malmo', 'trelleborg']
>>> case = em.cases.get("trelleborg")
>>> case.treated, case.adoption
(('1287',), 2010)
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from evalmodel.coverage import (
    MIN_COVERAGE,
    MIN_DONORS,
    MIN_PRE,
    EstimationWindow,
    TreatedGaps,
    estimation_window,
)
from evalmodel.errors import DesignError, GapsFilledWarning, WindowWarning
from evalmodel.months import month_label, parse_month, period_label, period_span
from evalmodel.panel import Panel
from evalmodel.vocabulary import CaseLevel, CasePool, check_option, check_period

__all__ = ["Case", "Design", "Pool", "Source", "constructs", "get", "names", "registry",
           "resolve_outcome"]

#: The old name of :data:`~evalmodel.vocabulary.CasePool`.
Pool = CasePool
#: The old name of :data:`~evalmodel.vocabulary.CaseLevel`.
Level = CaseLevel


@dataclass(frozen=True)
class Source:
    """A fact from a source document."""

    fact: str
    document: str


@dataclass(frozen=True)
class Design:
    """A case made concrete on a panel: who is treated, who compares, and when.

    Attributes
    ----------
    case : Case
        The registry entry.
    treated, comparison, excluded : tuple of str
        Treated units; the comparison pool; units kept out (exposed to spill-over, or treated
        in another case).
    adoption : int
        First treated period used.
    pre_periods, post_periods : tuple of int
        Periods before and from adoption.
    outcomes : tuple of str
        The case's primary outcomes present in the panel.
    panel : Panel
        The panel restricted to treated and comparison units, with the cohort role set
        (treated units: ``adoption``; comparison units: 0).
    full_panel : Panel
        The panel the design was formed on (exposed and excluded units included).
    pool : str
        The pool rule used.
    notes : tuple of str
        What the design assumed or left out.
    """

    case: Case
    treated: tuple[str, ...]
    comparison: tuple[str, ...]
    excluded: tuple[str, ...]
    adoption: int
    pre_periods: tuple[int, ...]
    post_periods: tuple[int, ...]
    outcomes: tuple[str, ...]
    panel: Panel
    full_panel: Panel
    pool: str
    notes: tuple[str, ...] = ()
    window: EstimationWindow | None = None

    def estimation_window(
        self,
        outcome: str,
        *,
        min_coverage: float = MIN_COVERAGE,
        treated_gaps: TreatedGaps = "error",
        min_pre: int = MIN_PRE,
        min_donors: int = MIN_DONORS,
    ) -> EstimationWindow:
        """The periods and donors this design can use for ``outcome`` (see
        :func:`evalmodel.coverage.estimation_window`)."""
        return estimation_window(self.panel, outcome, treated=self.treated,
                                 pool=self.comparison, adoption=self.adoption,
                                 min_coverage=min_coverage, treated_gaps=treated_gaps,
                                 min_pre=min_pre, min_donors=min_donors)

    def restrict(self, window: EstimationWindow) -> Design:
        """This design on ``window``: its periods, its complete donors and its filled cells.

        Raises :class:`DesignError` with the window's reason when it is not testable. Warns
        :class:`WindowWarning` when donors are left out and :class:`GapsFilledWarning` when
        treated cells were filled; both are listed in the new design's ``notes``.
        """
        if not window.testable:
            raise DesignError(f"case {self.case.name!r}: not testable with these data: "
                              f"{window.reason}.")
        units = [*self.treated, *window.donors]
        panel = self.panel.select(units=units, periods=window.periods)
        if window.filled:
            panel = panel.with_values(window.outcome, {(u, p): v for u, p, v in window.filled},
                                      note=f"{len(window.filled)} treated cells of "
                                           f"{window.outcome} interpolated")
            said = next(d for d in window.decisions if "interpolation" in d)
            warnings.warn(f"case {self.case.name!r}: {said}.", GapsFilledWarning, stacklevel=2)
        if window.dropped:
            warnings.warn(f"case {self.case.name!r}: {len(window.dropped)} comparison units lack "
                          f"{window.outcome} in "
                          f"{period_span(window.periods[0], window.periods[-1], panel.frequency)}"
                          " and are "
                          "left out (listed in the design's notes).", WindowWarning, stacklevel=2)
        full = self.full_panel.select(periods=window.periods)
        return replace(self, comparison=window.donors, pre_periods=window.pre,
                       post_periods=window.post, outcomes=(window.outcome,), panel=panel,
                       full_panel=full, notes=(*self.notes, *window.decisions), window=window)

    def for_outcome(
        self,
        outcome: str,
        *,
        min_coverage: float = MIN_COVERAGE,
        treated_gaps: TreatedGaps = "error",
        min_pre: int = MIN_PRE,
        min_donors: int = MIN_DONORS,
    ) -> Design:
        """The design restricted to the estimation window of ``outcome``: the years with data
        around adoption, the donors complete over them (the policy of
        :mod:`evalmodel.coverage`). The estimators refuse missing cells; this is the option
        that turns on the package's stated policy for them.

        >>> import evalmodel as em
        >>> d = em.cases.get("trelleborg").design(em.datasets.simulated())
        >>> d.for_outcome("N31814").window.periods[:2]
        (1998, 1999)
        """
        return self.restrict(self.estimation_window(
            outcome, min_coverage=min_coverage, treated_gaps=treated_gaps, min_pre=min_pre,
            min_donors=min_donors))


@dataclass(frozen=True)
class Case:
    """One registry entry (see ``data/cases.toml`` for the meaning of each field)."""

    name: str
    title: str
    level: CaseLevel
    treated: tuple[str, ...]
    adoption: int
    adoption_range: tuple[int, int]
    adoption_note: str
    outcomes: tuple[str, ...]
    displacement_outcomes: tuple[str, ...]
    similar_group: tuple[str, ...]
    exclude: tuple[str, ...]
    exclude_note: str
    sources: tuple[Source, ...] = field(default_factory=tuple)
    #: First treated month as a code of :mod:`evalmodel.months` (``adoption_month`` of the
    #: registry; January of ``adoption`` when the sources give no month, said in the note).
    adoption_month: int | None = None
    adoption_month_note: str = ""
    #: Variables of a monthly file the case is estimated on, in order of preference.
    monthly_outcomes: tuple[str, ...] = ()

    def monthly_adoption(self) -> int:
        """The first treated month's code (January of ``adoption`` if the registry has none)."""
        return self.adoption_month if self.adoption_month is not None else 12 * self.adoption

    def design(
        self,
        panel: Panel,
        *,
        adoption: int | None = None,
        pool: CasePool = "never_treated",
        exclude_exposed: bool = True,
    ) -> Design:
        """Form the design of this case on ``panel``.

        Parameters
        ----------
        panel : Panel
            A panel at this case's level (municipalities, or districts for Lindängen).
        adoption : int, optional
            Override the registry's adoption period (the first treated period). On a monthly
            panel (``panel.frequency == "month"``) the registry's period is
            ``adoption_month`` and an override is a month (``"2021-01"`` or its code).
        pool : {"never_treated", "similar"}
            ``"never_treated"``: every unit not treated in any registry case;
            ``"similar"``: Kolada's similar-municipality group (2023 vintage: formed after most
            adoptions, so use with care).
        exclude_exposed : bool
            Keep the units flagged as exposed to spill-over out of the pool (default).

        Raises
        ------
        DesignError
            When a treated unit is not in the panel, the adoption period leaves no pre- or
            post-period, or the pool is empty.
        """
        check_option(f"case {self.name!r}", "pool", pool, CasePool, error=DesignError)
        units = set(panel.units)
        missing = [u for u in self.treated if u not in units]
        if missing:
            hint = ("em.datasets.simulated_districts()" if self.level == "district"
                    else "em.datasets.simulated() or em.data.kolada_panel(...)")
            raise DesignError(
                f"case {self.name!r}: treated unit {missing[0]!r} is not in the panel "
                f"({len(units)} units, e.g. {sorted(units)[:3]}); this is a {self.level}-level "
                f"case: use a panel such as {hint}."
            )
        notes: list[str] = [self.adoption_note]
        monthly = panel.frequency == "month"
        registered = self.monthly_adoption() if monthly else self.adoption
        if monthly:
            notes.append(f"monthly panel: first treated month {month_label(registered)} "
                         f"({self.adoption_month_note or 'January of the adoption year'})")
        if adoption is not None:  # np.int64 (a DataFrame cell) or 2011.0 are the period 2011
            adoption = check_period(f"case {self.name!r}", "adoption", adoption, panel.periods,
                                    error=DesignError, frequency=panel.frequency)
        first = registered if adoption is None else adoption

        def show(period: int) -> str:  # "2021-01" on a monthly panel, else the year
            return period_label(period, panel.frequency)

        if adoption is not None and adoption != registered:
            notes.append(f"adoption set to {show(adoption)} (registry: {show(registered)})")
        periods = [int(p) for p in panel.periods]
        if monthly and isinstance(first, int) and 1000 <= first <= 9999:
            raise DesignError(
                f"case {self.name!r}: adoption={first} is a year, and the panel is monthly "
                f"({show(periods[0])}-{show(periods[-1])}); pass the first treated month, "
                f"e.g. adoption='{first}-01'."
            )
        if not isinstance(first, int) or first not in periods or first == periods[0]:
            raise DesignError(
                f"case {self.name!r}: adoption={show(first) if monthly else first!r} must be "
                "a period of the panel "
                f"after its first ({show(periods[0])}-{show(periods[-1])}), so that there is a "
                "pre-period."
            )
        others = {u for c in registry().values() if c.name != self.name for u in c.treated}
        if panel.cohort is not None:
            coh = panel.cohorts()
            others |= set(coh.index[coh != 0]) - set(self.treated)
        exposed = set(self.exclude) if exclude_exposed else set()
        if pool == "similar":
            absent = [u for u in self.similar_group if u not in units]
            if absent:
                notes.append(f"similar-group members absent from the panel: {absent}")
            candidates = [u for u in self.similar_group if u in units]
        else:
            candidates = sorted(units)
        comparison = tuple(u for u in candidates
                           if u not in self.treated and u not in others and u not in exposed)
        excluded = tuple(sorted((others | exposed) & units))
        if not comparison:
            raise DesignError(
                f"case {self.name!r}: the comparison pool is empty (pool={pool!r}, "
                f"{len(excluded)} units excluded); use pool='never_treated' or a panel that "
                "holds the comparison units."
            )
        sub = panel.select(units=[*self.treated, *comparison])
        sub = sub.with_cohorts({u: first for u in self.treated})
        return Design(
            case=self,
            treated=self.treated,
            comparison=comparison,
            excluded=excluded,
            adoption=first,
            pre_periods=tuple(p for p in periods if p < first),
            post_periods=tuple(p for p in periods if p >= first),
            outcomes=tuple(o for o in (self.monthly_outcomes if monthly else self.outcomes)
                           if o in panel.outcomes),
            panel=sub,
            full_panel=panel,
            pool=pool,
            notes=tuple(notes),
        )


def _registry_text() -> str:
    packaged = resources.files("evalmodel").joinpath("_data/cases.toml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parents[1] / "data" / "cases.toml"
    return source_tree.read_text(encoding="utf-8")


def _case(name: str, entry: Mapping[str, Any]) -> Case:
    check_option(f"case {name!r}", "level", entry["level"], CaseLevel, error=DesignError)
    return Case(
        name=name,
        title=entry["title"],
        level=entry["level"],
        treated=tuple(str(u) for u in entry["treated"]),
        adoption=int(entry["adoption"]),
        adoption_range=(int(entry["adoption_range"][0]), int(entry["adoption_range"][1])),
        adoption_note=entry["adoption_note"],
        outcomes=tuple(entry["outcomes"]),
        displacement_outcomes=tuple(entry.get("displacement_outcomes", ())),
        similar_group=tuple(str(u) for u in entry.get("similar_group", ())),
        exclude=tuple(str(u) for u in entry.get("exclude", ())),
        exclude_note=entry.get("exclude_note", ""),
        sources=tuple(Source(**s) for s in entry.get("sources", ())),
        adoption_month=_month(name, entry.get("adoption_month")),
        adoption_month_note=entry.get("adoption_month_note", ""),
        monthly_outcomes=tuple(entry.get("monthly_outcomes", ())),
    )


def _month(name: str, text: str | None) -> int | None:
    """The code of a registry month ``"YYYY-MM"``; :class:`DesignError` if it is not one."""
    if text is None:
        return None
    code = parse_month(text)
    if code is None:
        raise DesignError(f"case {name!r}: adoption_month={text!r} is not a month; write it "
                          "as 'YYYY-MM', e.g. '2021-01'.")
    return code


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    return tomllib.loads(_registry_text())


@lru_cache(maxsize=1)
def registry() -> dict[str, Case]:
    """All cases of ``data/cases.toml`` by name."""
    return {name: _case(name, entry) for name, entry in sorted(_raw().items())
            if name != "constructs"}


def constructs() -> dict[str, tuple[str, ...]]:
    """The registry's constructs: name -> the KPIs that measure it, in order of preference.

    >>> constructs()["youth_unemployment"]
    ('N03939', 'N03921')
    """
    return {k: tuple(v) for k, v in _raw().get("constructs", {}).items()}


def resolve_outcome(
    design: Design,
    name: str,
    *,
    min_coverage: float = MIN_COVERAGE,
    min_pre: int = MIN_PRE,
    min_donors: int = MIN_DONORS,
) -> tuple[EstimationWindow | None, tuple[str, ...]]:
    """The first KPI measuring ``name`` (a construct or a KPI id) that ``design``'s data can
    test, as its estimation window (treated gaps trimmed), and why each KPI before it could
    not be used. ``(None, reasons)`` when none can.
    """
    kpis = constructs().get(name, (name,))
    reasons: list[str] = []
    for kpi in kpis:
        if kpi not in design.panel.outcomes:
            reasons.append(f"{kpi} is not in the data")
            continue
        w = design.estimation_window(kpi, min_coverage=min_coverage, treated_gaps="trim",
                                     min_pre=min_pre, min_donors=min_donors)
        if w.testable:
            return w, tuple(reasons)
        reasons.append(w.reason)
    return None, tuple(reasons)


def names() -> list[str]:
    """The names of the registered cases."""
    return list(registry())


def get(name: str) -> Case:
    """The case called ``name``; raises :class:`DesignError` naming the known cases."""
    cases = registry()
    if name not in cases:
        raise DesignError(f"unknown case {name!r}; known cases are {list(cases)}.")
    return cases[name]
