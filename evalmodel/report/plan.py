"""What a case's report can estimate on the data at hand, decided in the open.

For each outcome a case names (a KPI or a construct of the registry) the plan holds the KPI
used, its estimation window (years with data around adoption, donors complete over it, treated
gaps trimmed), the design restricted to that window, the series breaks inside it, and, when
nothing can be estimated, the reason. Every section of the report works from the plan, so the
report says the same thing everywhere about what the data forced.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from evalmodel.breaks import BreakFinding, series_breaks
from evalmodel.cases import Design, resolve_outcome
from evalmodel.coverage import EstimationWindow
from evalmodel.errors import EvalModelError, SeriesBreakWarning, WindowWarning

__all__ = ["OutcomePlan", "plan_outcome", "plan_outcomes"]


@dataclass(frozen=True)
class OutcomePlan:
    """One outcome of a case, as the data allow it.

    Attributes
    ----------
    name : str
        The name the case uses (a KPI id or a construct such as ``"youth_unemployment"``).
    kpi : str or None
        The KPI used, ``None`` when none can be.
    window : EstimationWindow or None
        Its estimation window.
    design : Design or None
        The case's design restricted to the window.
    reasons : tuple of str
        Why KPIs preferred to ``kpi`` (or every KPI) could not be used.
    breaks : tuple of BreakFinding
        Series breaks inside the window (detected in the comparison pool, or announced).
    """

    name: str
    kpi: str | None
    window: EstimationWindow | None
    design: Design | None
    reasons: tuple[str, ...] = ()
    breaks: tuple[BreakFinding, ...] = ()

    @property
    def testable(self) -> bool:
        """Whether an estimate is possible."""
        return self.design is not None

    @property
    def reason(self) -> str:
        """Why nothing is estimated (empty when testable)."""
        if self.testable:
            return ""
        prefix = f"{self.name}: "  # a KPI's own reason need not repeat its name
        said = [r.removeprefix(prefix) for r in self.reasons]
        return "not testable with these data: " + "; ".join(said)

    @property
    def choice(self) -> str:
        """A sentence naming the KPI used and why earlier choices were passed over."""
        if self.kpi is None:
            return f"{self.name}: {self.reason}."
        if self.kpi == self.name and not self.reasons:
            return ""
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        return f"{self.name}: measured by {self.kpi}{why}."


def plan_outcome(design: Design, name: str) -> OutcomePlan:
    """The plan of one outcome (a KPI id or a construct) of ``design``."""
    window, reasons = resolve_outcome(design, name)
    if window is None:
        return OutcomePlan(name, None, None, None, reasons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WindowWarning)  # its decisions are in the notes
        sub = design.restrict(window)
    try:
        # Kolada's announced revisions concern the official series, not simulated ones.
        simulated = design.panel.source.get("kind") == "simulated"
        found = series_breaks(design.panel, window.outcome, units=sub.comparison,
                              periods=window.periods,
                              **({"known": ()} if simulated else {}))  # type: ignore[arg-type]
    except EvalModelError:
        found = ()
    for b in found:
        warnings.warn(f"case {design.case.name!r}: series break in {b.outcome} at {b.period} "
                      f"({b.kind}) inside the window {window.periods[0]}-{window.periods[-1]}: "
                      f"{b.note}.", SeriesBreakWarning, stacklevel=2)
    return OutcomePlan(name, window.outcome, window, sub, reasons, tuple(found))


def plan_outcomes(design: Design, names: Sequence[str]) -> list[OutcomePlan]:
    """The plans of several outcomes, in order."""
    return [plan_outcome(design, n) for n in names]
